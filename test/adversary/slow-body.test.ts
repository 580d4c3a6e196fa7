/** Slow senders against the pod as the binary: see _slow-flood.ts. */
import { slowFloodScenario } from './_slow-flood'

slowFloodScenario('binary')
