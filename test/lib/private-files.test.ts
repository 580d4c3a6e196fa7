import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { statOrNull } from '../../src/lib/private-files'

const dir = mkdtempSync(join(tmpdir(), 'mzm-private-files-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

test('statOrNull: a file, null for a missing one, and a path through a file still throws', () => {
  const file = join(dir, 'present')
  writeFileSync(file, 'x')
  expect(statOrNull(file)?.size).toBe(1)
  expect(statOrNull(join(dir, 'absent'))).toBeNull()
  expect(statOrNull(join(dir, 'absent-dir', 'absent'))).toBeNull()
  // Not "missing": something is in the way, and the caller must hear of it.
  expect(() => statOrNull(join(file, 'below'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }))
})
