#!/usr/bin/env bun
/**
 * The `mazemaker` CLI (citty). `mazemaker` alone = `mazemaker serve`. Global flags --home,
 * --port, --host are accepted anywhere on the line. Errors print one line saying what to fix.
 */
// First: citty decides about colour when it loads.
import './cli/no-color'
import { existsSync, statSync } from 'node:fs'
import { defineCommand, runCommand, runMain } from 'citty'
import { PodError } from './lib/errors'
import { VERSION, versionLine } from './lib/version'
import { extractGlobalFlags, homeRoot, type GlobalFlags } from './cli/context'
import { usagePrinter } from './cli/help'
import { serveCommand } from './cli/cmd-serve'
import { memoryCommands } from './cli/cmd-memory'
import { peerCommands } from './cli/cmd-peer'
import { identityCommands } from './cli/cmd-identity'
import { doctorCommand } from './cli/cmd-doctor'
import { rendezvousCommand } from './cli/cmd-rendezvous'
import { advertiseCommand } from './cli/cmd-advertise'
import { serviceCommand } from './cli/cmd-service'
import { mcpCommand } from './cli/cmd-mcp'
import { contextCommand } from './cli/cmd-context'
import { backupCommands } from './cli/cmd-backup'
import { exportCommands } from './cli/cmd-export'
import { watchCommand } from './cli/cmd-watch'
import { visible } from './lib/visible'

export { startPod } from './pod'

function rootCommand(flags: GlobalFlags) {
  const { remember, recall, memory } = memoryCommands(flags)
  const { peer, sync } = peerCommands(flags)
  const { identity, open } = identityCommands(flags)
  const { backup, restore } = backupCommands(flags)
  const { exportCmd, importCmd } = exportCommands(flags)
  return defineCommand({
    meta: {
      name: 'mazemaker',
      version: VERSION,
      description: "An AI agent's memories on your own machine, federated pod to pod. Global flags: --home DIR, --port N, --host H",
    },
    default: 'serve',
    subCommands: {
      serve: serveCommand(flags),
      identity,
      peer,
      sync,
      remember,
      recall,
      memory,
      open,
      doctor: doctorCommand(flags),
      rendezvous: rendezvousCommand(flags),
      advertise: advertiseCommand(flags),
      service: serviceCommand(flags),
      mcp: mcpCommand(flags),
      context: contextCommand(flags),
      backup,
      restore,
      export: exportCmd,
      import: importCmd,
      watch: watchCommand(flags),
    },
  })
}

/** Our own errors print one clean line (no stack) and exit 1; usage mistakes exit 2. */
function exitOnError(err: unknown): never {
  if (err instanceof PodError) {
    // The message may quote a peer's answer or a hand-edited file: escaped, never raw.
    process.stderr.write(`error: ${visible(err.message)}\n`)
    process.exit(err.code === 'usage' ? 2 : 1)
  }
  if (err instanceof Error && err.name === 'CLIError') {
    // citty may paint the command name; the escapes themselves are noise in an error line.
    process.stderr.write(`error: ${visible(err.message.replace(/\x1b\[[0-9;]*m/g, ''))}\nrun with --help for usage\n`)
    process.exit(2)
  }
  // A path that cannot be read or written (ENOENT, EACCES, EISDIR …): Node's message names the
  // call and the path, one line, no stack.
  const sys = err as { code?: unknown; message?: unknown }
  if (err instanceof Error && typeof sys.code === 'string' && /^E[A-Z]+$/.test(sys.code)) {
    process.stderr.write(`error: ${visible(err.message)}\n`)
    process.exit(1)
  }
  throw err
}

/** Commands that may run before a pod exists: they create one, run something else, or only print. */
const WITHOUT_HOME: ReadonlySet<string> = new Set(['serve', 'restore', 'rendezvous', 'service'])

/** Every other command refuses a home that does not exist, rather than creating one by surprise. */
function requireHome(flags: GlobalFlags, command: string | undefined, known: Record<string, unknown>): void {
  if (command === undefined || WITHOUT_HOME.has(command) || !(command in known)) return
  const root = homeRoot(flags)
  if (!existsSync(root)) throw new PodError('no_pod', `no pod at ${root}; run \`mazemaker serve --home ${root}\` first`)
  if (!statSync(root).isDirectory()) throw new PodError('bad_home', `${root} is not a directory; --home names the pod's home directory`)
}

async function main(argv: string[]) {
  try {
    const { flags, rest } = extractGlobalFlags(argv)
    const root = rootCommand(flags)
    if (rest.length === 1 && (rest[0] === '--version' || rest[0] === '-v')) {
      process.stdout.write(`${versionLine()}\n`)
      return
    }
    const wantsHelp = rest.some((a) => a === '--help' || a === '-h')
    if (wantsHelp) return await runMain(root, { rawArgs: rest, showUsage: usagePrinter(root) })
    requireHome(
      flags,
      rest.find((a) => !a.startsWith('-')),
      (root.subCommands ?? {}) as Record<string, unknown>,
    )
    await runCommand(root, { rawArgs: rest })
  } catch (err) {
    exitOnError(err)
  }
}

if (import.meta.main) void main(process.argv.slice(2))
