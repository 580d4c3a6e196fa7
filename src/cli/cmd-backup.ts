/**
 * `mazemaker backup <file>` and `mazemaker restore <file> --home DIR` (src/backup). The
 * passphrase comes from MAZEMAKER_BACKUP_PASSPHRASE or is asked on the terminal.
 */
import { defineCommand } from 'citty'
import { shortId } from '../identity'
import { PodError } from '../lib/errors'
import { checkPassphrase, createBackup, restoreBackup } from '../backup'
import { homeRoot, type GlobalFlags } from './context'
import { backupPassphrase } from './prompt-secret'
import { printJson } from './with-pod'
import { cliByteProgress } from './progress'

export function backupCommands(flags: GlobalFlags) {
  const backup = defineCommand({
    meta: { name: 'backup', description: 'Write an encrypted backup (database snapshot + keys + config); safe while the pod runs' },
    args: {
      file: { type: 'positional', description: 'where to write it, e.g. pod-2026-05-26.age (created 0600)', required: true },
      json: { type: 'boolean', description: 'print JSON' },
    },
    async run({ args }) {
      const passphrase = checkPassphrase(await backupPassphrase(true))
      const progress = cliByteProgress('backup')
      const out = await createBackup({ home: homeRoot(flags), out: args.file, passphrase, onProgress: progress.onProgress }).finally(progress.finish)
      if (args.json) return printJson(out)
      console.log(`backup of pod ${shortId(out.pod_id)} (${out.files.length} files, ${Math.ceil(out.bytes / 1024)} KiB) written to ${out.file}`)
      console.log('keep the passphrase safe: without it the backup cannot be opened')
    },
  })

  const restore = defineCommand({
    meta: { name: 'restore', description: 'Recreate a pod (same identity, same peers) from a backup into a new, empty home' },
    args: {
      file: { type: 'positional', description: 'the backup file', required: true },
      json: { type: 'boolean', description: 'print JSON' },
    },
    async run({ args }) {
      // Only an explicit --home: restoring into ~/.mazemaker or $MAZEMAKER_HOME by default would surprise.
      if (!flags.home) throw new PodError('usage', 'restore needs --home DIR: the new (empty) home to recreate the pod in')
      const passphrase = await backupPassphrase(false)
      const progress = cliByteProgress('restore')
      const out = await restoreBackup({ file: args.file, home: flags.home, passphrase, onProgress: progress.onProgress }).finally(progress.finish)
      if (args.json) return printJson(out)
      console.log(`restored pod ${out.pod_id} into ${out.home}`)
      console.log(`start it with: mazemaker serve --home ${out.home}`)
      console.log('stop any other pod with this identity first: two pods with one identity confuse their peers')
    },
  })
  return { backup, restore }
}
