/**
 * Which files of a home a backup carries, by name. Restore writes only names that match this
 * list, so an archive can never place a file anywhere else (no path from an archive is followed).
 */
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { UUID_PATTERN as UUID } from '../protocol'

/** The snapshot of pod.db travels under this name; it becomes pod.db on restore. */
export const DB_ENTRY = 'pod.db'
export const MANIFEST_ENTRY = 'mazemaker-backup.json'

const FIXED = ['pod.toml', 'peers.toml', 'vault.key', 'admin.token', 'peer-keys/self.key']
const PATTERNS = [new RegExp(`^peer-keys/peers/${UUID}\\.key$`), new RegExp(`^peer-keys/headers/${UUID}\\.toml$`)]

export function isBackupEntry(name: string): boolean {
  return name === MANIFEST_ENTRY || name === DB_ENTRY || FIXED.includes(name) || PATTERNS.some((p) => p.test(name))
}

/** Key and config files present in `root` (relative names), pod.db excluded: it is snapshotted. */
export function homeKeyFiles(root: string): string[] {
  const out = FIXED.filter((f) => existsSync(join(root, f)))
  for (const dir of ['peer-keys/peers', 'peer-keys/headers']) {
    let names: string[] = []
    try {
      names = readdirSync(join(root, dir))
    } catch {
      continue
    }
    for (const n of names.sort()) if (isBackupEntry(`${dir}/${n}`)) out.push(`${dir}/${n}`)
  }
  return out
}
