/**
 * A first boot that fails (a taken port, say) leaves no home behind: the operator's next try,
 * maybe with another --port, is a first boot again, and no half-made home with keys nobody
 * uses lies around. Only what this boot created is removed, never a file that was there before.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { homePaths } from '../identity'

export interface FirstBoot {
  /** Removes what this boot created, if it was a first boot; a no-op otherwise. */
  undo(): void
}

export function noteFirstBoot(root: string): FirstBoot {
  const paths = homePaths(root)
  // pod.toml is the mark of a home: without it, this boot creates the identity.
  if (existsSync(paths.podToml)) return { undo() {} }
  const dirExisted = existsSync(paths.root)
  const before = new Set(dirExisted ? readdirSync(paths.root) : [])
  return {
    undo() {
      if (!dirExisted) return rmSync(paths.root, { recursive: true, force: true })
      for (const name of readdirSync(paths.root)) if (!before.has(name)) rmSync(join(paths.root, name), { recursive: true, force: true })
    },
  }
}
