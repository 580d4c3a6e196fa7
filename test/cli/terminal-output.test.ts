/**
 * A paired peer's text (labels, content, error answers) printed by the real CLI
 * (a subprocess) shows escapes as text, never raw ESC, C1 CSI or bidi overrides — text and --json.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { runCli, tempHome } from '../helpers/pod-process'

/** OSC 52 clipboard write, C1 CSI clear screen, a right-to-left override and an isolate. */
const HOSTILE = 'a\x1b]52;c;aGk=\x07b\u009b2Jc\u202egpj.exe\u2066d'
const RAW = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/

function expectInert(out: string) {
  expect(out).not.toMatch(RAW)
  // The same as bytes: no ESC, and no C1 CSI in its UTF-8 form (C2 9B).
  const bytes = Buffer.from(out, 'utf8')
  expect(bytes.includes(0x1b)).toBe(false)
  expect(bytes.includes(Buffer.from([0xc2, 0x9b]))).toBe(false)
}

describe('hostile text from memories and peers', () => {
  let home: string
  let other: string
  let peer: ReturnType<typeof Bun.serve>

  beforeAll(async () => {
    home = tempHome()
    other = tempHome()
    // A "paired peer" that fails every pull with an error code of its choosing (a 500: a 401
    // before any answer would read as "they have not added this pod yet").
    peer = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => Response.json({ error: HOSTILE, message: HOSTILE }, { status: 500 }) })
    const hs = JSON.parse((await runCli(['identity', '--json', '--home', other])).stdout)
    const add = await runCli(['peer', 'add', hs.handshake_url, '--url', `http://127.0.0.1:${peer.port}`, '--name', 'hostile', '--home', home])
    expect(add.stderr).toBe('')
    const r = await runCli(['remember', `public:\u202eevil\u2066`, `${HOSTILE}\nsecond line`, '--home', home])
    expect(r.code).toBe(0)
  })
  afterAll(async () => {
    await peer.stop(true)
    rmSync(home, { recursive: true, force: true })
    rmSync(other, { recursive: true, force: true })
  })

  test('recall prints labels and content with visible escapes, line breaks kept', async () => {
    const r = await runCli(['recall', 'gpj', '--home', home])
    expect(r.code).toBe(0)
    expectInert(r.stdout)
    expect(r.stdout).toContain('public:\\u202eevil\\u2066')
    expect(r.stdout).toContain('a\\x1b]52;c;aGk=\\x07b\\x9b2Jc\\u202egpj.exe\\u2066d\n        second line')
    const j = await runCli(['recall', 'gpj', '--json', '--home', home])
    expectInert(j.stdout)
    expect(JSON.parse(j.stdout).results[0].content).toBe(`${HOSTILE}\nsecond line`)
  })

  test("sync shows the peer's error answer escaped", async () => {
    const r = await runCli(['sync', '--home', home])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('ERR')
    expectInert(r.stdout)
    expectInert(r.stderr)
    const j = await runCli(['sync', '--json', '--home', home])
    expectInert(j.stdout)
    expect(JSON.parse(j.stdout).results[0].ok).toBe(false)
  })

  test("peer list shows the peer's last error escaped", async () => {
    const r = await runCli(['peer', 'list', '--home', home])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('hostile')
    expect(r.stdout).toContain('last pull failed')
    expectInert(r.stdout)
    expectInert((await runCli(['peer', 'list', '--json', '--home', home])).stdout)
  })
})
