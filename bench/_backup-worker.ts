/**
 * Child process for mcp.bench.ts: runs one part of a backup in a fresh process and announces
 * {ms, peakMb, bytes}, peak RSS being this process's own VmHWM (it includes the runtime itself).
 *   vacuum <home>        VACUUM INTO alone (the snapshot floor)
 *   scrypt               age's passphrase KDF alone (one scrypt at logN 18)
 *   backup <home> <out> <passphrase>   the whole `mazemaker backup`
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { Encrypter } from 'age-encryption'
import { createBackup } from '../src/backup'
import { snapshotDatabase } from '../src/store'
import { announce } from './_fed-util'
import { peakRssMb } from './_util'

const [mode, home, out, passphrase] = process.argv.slice(2)
const t = performance.now()
let bytes = 0
if (mode === 'vacuum') {
  const dir = mkdtempSync(join(home!, '.bench-'))
  snapshotDatabase(join(home!, 'pod.db'), join(dir, 'snap.db'))
  bytes = statSync(join(dir, 'snap.db')).size
  rmSync(dir, { recursive: true, force: true })
} else if (mode === 'scrypt') {
  const e = new Encrypter()
  e.setPassphrase('scrypt floor passphrase')
  bytes = (await e.encrypt('')).length
} else if (mode === 'backup') {
  bytes = (await createBackup({ home: home!, out: out!, passphrase: passphrase! })).bytes
} else {
  throw new Error(`unknown mode ${mode}`)
}
await announce({ ms: performance.now() - t, peakMb: peakRssMb(process.pid), bytes })
