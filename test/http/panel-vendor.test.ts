/** The panel's vendored QR module is exactly the uqr package we depend on (no drift, no edits). */
import { expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

test('src/http/panel/uqr.mjs is node_modules/uqr/dist/index.mjs plus its header', () => {
  const root = join(import.meta.dir, '..', '..')
  const vendored = readFileSync(join(root, 'src/http/panel/uqr.mjs'), 'utf8')
  const upstream = readFileSync(join(root, 'node_modules/uqr/dist/index.mjs'), 'utf8')
  const version = JSON.parse(readFileSync(join(root, 'node_modules/uqr/package.json'), 'utf8')).version
  expect(vendored.split('\n')[0]).toContain(`uqr ${version}`)
  expect(vendored.endsWith(upstream)).toBe(true)
})
