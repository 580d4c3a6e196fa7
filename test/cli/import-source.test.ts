/** The lines of an encrypted export, read twice (checked, then imported) with one key derivation. */
import { afterEach, beforeEach, describe, expect, spyOn, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { armor, Decrypter, Encrypter } from 'age-encryption'
import { openImportSource } from '../../src/cli/import-source'

const PASSPHRASE = 'import source passphrase'
const LINES = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ label: `note:n${i}`, content: `line ${i} ${'é'.repeat(i % 7)}` }))

async function sealed(text: string, passphrase = PASSPHRASE): Promise<Uint8Array> {
  const e = new Encrypter()
  e.setScryptWorkFactor(10) // cheap here; the cost a file may ask for is age-header.test.ts's
  e.setPassphrase(passphrase)
  return e.encrypt(text)
}

async function read(source: { lines(): AsyncGenerator<{ n: number; text: string }> }): Promise<string[]> {
  const out: string[] = []
  for await (const { text } of source.lines()) out.push(text)
  return out
}

describe('openImportSource on an age-encrypted export', () => {
  let dir: string
  const env = process.env.MAZEMAKER_BACKUP_PASSPHRASE
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mzm-import-source-'))
    process.env.MAZEMAKER_BACKUP_PASSPHRASE = PASSPHRASE
  })
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true })
    if (env === undefined) delete process.env.MAZEMAKER_BACKUP_PASSPHRASE
    else process.env.MAZEMAKER_BACKUP_PASSPHRASE = env
  })

  test.each(['binary', 'armored'])('%s: both reads give every line, and the passphrase key is derived once', async (form) => {
    const bytes = await sealed(`${LINES.join('\n')}\n`)
    const file = join(dir, 'export.age')
    writeFileSync(file, form === 'armored' ? armor.encode(bytes) : bytes)
    const derivations = spyOn(Decrypter.prototype, 'addPassphrase')
    try {
      const source = await openImportSource(file)
      expect(await read(source)).toEqual(LINES)
      expect(await read(source)).toEqual(LINES)
      source.close()
      // Each passphrase identity is one scrypt run (256 MiB at the factor exports use): one, not one per read.
      expect(derivations).toHaveBeenCalledTimes(1)
    } finally {
      derivations.mockRestore()
    }
  })

  test('a wrong passphrase, or a file changed between the reads, is refused as a bad backup', async () => {
    const file = join(dir, 'export.age')
    writeFileSync(file, await sealed(`${LINES.join('\n')}\n`, 'another passphrase'))
    const wrong = await openImportSource(file)
    await expect(read(wrong)).rejects.toThrow('cannot decrypt the export: wrong passphrase or a damaged file')
    wrong.close()

    writeFileSync(file, await sealed(`${LINES.join('\n')}\n`))
    const source = await openImportSource(file)
    expect(await read(source)).toEqual(LINES)
    // Sealed again under the same passphrase: another file key, so the key of the first read fails the header's MAC.
    writeFileSync(file, await sealed('{"label":"note:x","content":"swapped"}\n'))
    await expect(read(source)).rejects.toThrow('cannot decrypt the export')
    source.close()
  })
})
