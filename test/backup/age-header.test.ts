/**
 * The scrypt cost cap (src/backup/age-header.ts): a file whose age header asks for a higher
 * work factor than mazemaker writes is refused by restore and import before any key is derived
 * (so before any directory is made), binary and armored; a header that never ends is refused
 * after a bounded read. Files here are sealed at a low factor, then their header is edited: no
 * test derives a key at the factor it names.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { armor, Encrypter } from 'age-encryption'
import { restoreBackup } from '../../src/backup'
import { AGE_HEADER_MAX } from '../../src/backup/age-header'
import { PodError } from '../../src/lib/errors'
import { runCli } from '../helpers/pod-process'

const PASS = 'hostile file passphrase'
const ENV = { MAZEMAKER_BACKUP_PASSPHRASE: PASS }
let dir: string
/** A small age file sealed under PASS at factor 10 (its content does not matter: no test gets that far). */
let sealed: Buffer

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mzm-agecap-'))
  const enc = new Encrypter()
  enc.setPassphrase(PASS)
  enc.setScryptWorkFactor(10)
  sealed = Buffer.from(await enc.encrypt('{"label":"note:x","content":"y"}\n'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** `sealed` with its scrypt stanza's work factor replaced by `factor` (age's MAC no longer matches, which age checks only after the key derivation). */
function withFactor(factor: string): Buffer {
  const text = sealed.toString('latin1')
  const stanza = /^-> scrypt \S+ 10$/m.exec(text)
  if (!stanza) throw new Error('no scrypt stanza at factor 10')
  return Buffer.concat([
    sealed.subarray(0, stanza.index),
    Buffer.from(stanza[0].replace(/ 10$/, ` ${factor}`), 'latin1'),
    sealed.subarray(stanza.index + stanza[0].length),
  ])
}

function write(name: string, bytes: Uint8Array | string): string {
  const file = join(dir, name)
  writeFileSync(file, bytes)
  return file
}

/** The error `p` rejects with, which must be one of ours. */
async function refusal(p: Promise<unknown>): Promise<PodError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(PodError)
  return err as PodError
}

const MEMORY = { '19': '~512 MiB', '20': '~1 GiB' } as const

describe('a file asking for more scrypt work than mazemaker writes', () => {
  test.each(['19', '20'] as const)(
    'factor %s: restore and import refuse it (binary and armored) before making any directory',
    async (factor) => {
      const binary = write(`f${factor}.age`, withFactor(factor))
      const armored = write(`f${factor}.age.txt`, armor.encode(withFactor(factor)))
      const home = (what: string) => join(dir, `home-${what}-${factor}`)
      // import wants an existing home (it fills an empty one with a pod); restore a new one.
      for (const what of ['import', 'import-armored']) mkdirSync(home(what), { mode: 0o700 })
      const before = readdirSync(dir).sort()
      const [restored, importedBinary, importedArmored] = await Promise.all([
        runCli(['restore', binary, '--home', home('restore')], ENV),
        runCli(['import', binary, '--home', home('import')], ENV),
        runCli(['import', armored, '--home', home('import-armored')], ENV),
      ])
      const says = (file: string) =>
        `${file} asks for scrypt work factor ${factor}, more than mazemaker ever writes (18): refusing to spend ${MEMORY[factor]} of memory on it;`
      expect(restored.code).toBe(1)
      expect(restored.stderr).toBe(`error: ${says(binary)} make the backup again with \`mazemaker backup\`\n`)
      for (const [out, file] of [
        [importedBinary, binary],
        [importedArmored, armored],
      ] as const) {
        expect(out.code).toBe(1)
        expect(out.stderr).toBe(`error: ${says(file)} re-export it with \`mazemaker export\`\n`)
      }
      // No home, no staging directory beside it, no pod in the empty homes: the refusal came
      // before anything was made.
      expect(readdirSync(dir).sort()).toEqual(before)
      expect(readdirSync(home('import'))).toEqual([])
      expect(readdirSync(home('import-armored'))).toEqual([])
    },
    60_000,
  )

  test('factors age itself refuses (21, absurd) get the same refusal from restore', async () => {
    for (const factor of ['21', '99999999999999999999']) {
      const file = write(`f${factor.slice(0, 4)}.age`, withFactor(factor))
      const err = await refusal(restoreBackup({ file, home: join(dir, 'home-absurd'), passphrase: PASS }))
      expect(err.code).toBe('bad_backup')
      expect(err.message).toContain(`asks for scrypt work factor ${factor.slice(0, 6)}`)
      expect(err.message).toContain('more than mazemaker ever writes (18)')
      expect(existsSync(join(dir, 'home-absurd'))).toBe(false)
    }
  })

  test(`a header that does not end within ${AGE_HEADER_MAX / 1024} KiB is refused without reading on`, async () => {
    const text = sealed.toString('latin1')
    const stanzaEnd = text.indexOf('\n', text.indexOf('-> scrypt ')) + 1
    // A plausible stanza line, then a body line that never ends: age would buffer it all.
    const endless = Buffer.concat([sealed.subarray(0, stanzaEnd), Buffer.alloc(AGE_HEADER_MAX * 2, 'A')])
    const file = write('endless.age', endless)
    const err = await refusal(restoreBackup({ file, home: join(dir, 'home-endless'), passphrase: PASS }))
    expect(err.code).toBe('bad_backup')
    expect(err.message).toBe(`${file} has an age header longer than 64 KiB: not a file mazemaker wrote; make the backup again with \`mazemaker backup\``)
    expect(existsSync(join(dir, 'home-endless'))).toBe(false)
  })
})
