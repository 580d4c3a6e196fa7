#!/usr/bin/env bun
/**
 * The `mazemaker` CLI (citty). `mazemaker` alone = `mazemaker serve`. Global flags --home,
 * --port, --host are accepted anywhere on the line. Errors print one line saying what to fix.
 */
import { defineCommand, runCommand, runMain } from 'citty'
import { PodError } from './lib/errors'
import { VERSION } from './version'
import { extractGlobalFlags, type GlobalFlags } from './cli/context'
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
    process.stderr.write(`error: ${visible(err.message)}\nrun with --help for usage\n`)
    process.exit(2)
  }
  throw err
}

async function main(argv: string[]) {
  try {
    const { flags, rest } = extractGlobalFlags(argv)
    const root = rootCommand(flags)
    const wantsHelp = rest.some((a) => a === '--help' || a === '-h') || (rest.length === 1 && (rest[0] === '--version' || rest[0] === '-v'))
    if (wantsHelp) return await runMain(root, { rawArgs: rest })
    await runCommand(root, { rawArgs: rest })
  } catch (err) {
    exitOnError(err)
  }
}

if (import.meta.main) void main(process.argv.slice(2))
