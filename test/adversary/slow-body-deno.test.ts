/** Slow senders against the pod under Deno: see _slow-flood.ts. */
import { slowFloodScenario } from './_slow-flood'

slowFloodScenario('deno')
