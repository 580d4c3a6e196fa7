/**
 * `--help` for any command, with the usage line naming the program and the whole command path
 * (`mazemaker peer add [OPTIONS] <HANDSHAKE>`): citty names only the immediate parent.
 */
import { renderUsage, type CommandDef } from 'citty'

// biome-ignore lint/suspicious/noExplicitAny: citty's commands each have their own args type; this walks any of them
type AnyCommand = CommandDef<any>

/** showUsage for citty's runMain: each command's parent is given its full path as its name. */
export function usagePrinter(root: AnyCommand): (cmd: AnyCommand, parent?: AnyCommand) => Promise<void> {
  const paths = new Map<AnyCommand, string>()
  const walk = (cmd: AnyCommand, path: string) => {
    paths.set(cmd, path)
    const subs = (cmd.subCommands ?? {}) as Record<string, unknown>
    for (const [name, sub] of Object.entries(subs)) {
      // Our sub-commands are plain objects; a lazy one keeps citty's own naming.
      if (sub && typeof sub === 'object' && !('then' in sub)) walk(sub as AnyCommand, `${path} ${name}`)
    }
  }
  const rootName = (root.meta as { name?: string } | undefined)?.name ?? 'mazemaker'
  walk(root, rootName)
  return async function showUsage(cmd, parent) {
    const parentPath = parent ? paths.get(parent) : undefined
    const usage = await renderUsage(cmd, parentPath ? ({ meta: { name: parentPath } } as AnyCommand) : parent)
    process.stdout.write(usage + '\n')
  }
}
