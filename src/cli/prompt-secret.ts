/**
 * Secrets for the CLI: from an environment variable, else asked on the terminal without echo.
 * Never from an argument (it would land in shell history and `ps`).
 */
import { PodError } from '../lib/errors'

export const PASSPHRASE_ENV = 'MAZEMAKER_BACKUP_PASSPHRASE'

/** Reads one line from the TTY with echo off. */
export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin
  if (!stdin.isTTY) return Promise.reject(new PodError('usage', `no terminal to ask for the passphrase: set ${PASSPHRASE_ENV}`))
  process.stderr.write(question)
  stdin.setRawMode(true)
  stdin.resume()
  return new Promise((resolve, reject) => {
    let line = ''
    const finish = () => {
      stdin.off('data', onData)
      stdin.setRawMode(false)
      stdin.pause()
      process.stderr.write('\n')
    }
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          finish()
          return resolve(line)
        }
        if (ch === '\u0003' || ch === '\u0004') {
          finish()
          return reject(new PodError('usage', 'cancelled'))
        }
        if (ch === '\u007f' || ch === '\b') line = line.slice(0, -1)
        else line += ch
      }
    }
    stdin.on('data', onData)
  })
}

/** The backup passphrase: $MAZEMAKER_BACKUP_PASSPHRASE, else asked (twice when `confirm`). */
export async function backupPassphrase(confirm: boolean): Promise<string> {
  const fromEnv = process.env[PASSPHRASE_ENV]
  if (fromEnv) return fromEnv
  const first = await promptHidden('backup passphrase: ')
  if (confirm && (await promptHidden('again: ')) !== first) throw new PodError('usage', 'the two passphrases differ; nothing written')
  return first
}
