/**
 * errnoName: the same errno name whatever runtime and OS reported the failure. Deno reports the
 * OS's errno number in a message, so the name depends on that OS's table; Bun reports a name,
 * or in older versions its own word for it. The Deno half runs for real in deno-adapter.test.ts.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { constants as osConstants, tmpdir } from 'node:os'
import { join } from 'node:path'
import { errnoName, serve, unixFetch } from '../../src/runtime'

// Errno numbers as each OS defines them (Linux asm-generic/errno.h; macOS and FreeBSD sys/errno.h).
const LINUX = { 2: 'ENOENT', 88: 'ENOTSOCK', 104: 'ECONNRESET', 110: 'ETIMEDOUT', 111: 'ECONNREFUSED' }
const MACOS = { 2: 'ENOENT', 38: 'ENOTSOCK', 54: 'ECONNRESET', 60: 'ETIMEDOUT', 61: 'ECONNREFUSED' }

/** What Deno's fetch throws when connect() fails: a TypeError whose cause's message ends in the OS's errno. */
const denoFetchError = (text: string, errno: number) =>
  new TypeError('fetch failed', { cause: new Error(`error sending request for url (http://localhost/): client error (Connect): ${text} (os error ${errno})`) })

describe('Deno: the errno number is read with the table of the OS it ran on', () => {
  const cases = [
    ['Linux', LINUX, 111, 'ECONNREFUSED'],
    ['macOS', MACOS, 61, 'ECONNREFUSED'],
    ['Linux', LINUX, 2, 'ENOENT'],
    ['macOS', MACOS, 2, 'ENOENT'],
    ['Linux', LINUX, 88, 'ENOTSOCK'],
    ['macOS', MACOS, 38, 'ENOTSOCK'],
    ['macOS', MACOS, 54, 'ECONNRESET'],
  ] as const
  for (const [os, table, errno, name] of cases) {
    test(`${os}, os error ${errno} → ${name}`, () => {
      expect(errnoName(denoFetchError('refused or missing', errno), table)).toBe(name)
    })
  }

  test('the macOS number for ECONNREFUSED is not mistaken for a Linux one', () => {
    // 61 is ENODATA on Linux: read with the wrong table it would be a different error.
    expect(errnoName(denoFetchError('Connection refused', 61), MACOS)).toBe('ECONNREFUSED')
    expect(errnoName(denoFetchError('Connection refused', 61), LINUX)).toBeUndefined()
  })

  test("this machine's own table (node:os) names this OS's numbers", () => {
    const errno = osConstants.errno as Record<string, number>
    expect(errnoName(denoFetchError('Connection refused', errno.ECONNREFUSED!))).toBe('ECONNREFUSED')
    expect(errnoName(denoFetchError('No such file or directory', errno.ENOENT!))).toBe('ENOENT')
  })
})

describe('Bun: names pass through, its own words become errno names', () => {
  for (const [code, name] of [
    ['ECONNREFUSED', 'ECONNREFUSED'],
    ['ENOENT', 'ENOENT'],
    ['ConnectionRefused', 'ECONNREFUSED'],
    ['FailedToOpenSocket', 'ENOENT'],
    ['ConnectionClosed', 'ECONNRESET'],
  ] as const) {
    test(`code ${code} → ${name}`, () => {
      expect(errnoName(Object.assign(new TypeError('fetch failed'), { code }))).toBe(name)
    })
  }

  test('a code on a cause is found; errors without one have no errno name', () => {
    expect(errnoName(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }) }))).toBe('ECONNRESET')
    expect(errnoName(new DOMException('The operation timed out.', 'TimeoutError'))).toBeUndefined()
    expect(errnoName(Object.assign(new Error('bad'), { code: 'bad_signature' }))).toBeUndefined()
    expect(errnoName('a string')).toBeUndefined()
    expect(errnoName(null)).toBeUndefined()
  })
})

describe('on this runtime, for real', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mzm-errno-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const reason = (p: Promise<unknown>) =>
    p.then(
      () => 'connected',
      (err: unknown) => errnoName(err) ?? String(err),
    )

  test('a TCP port nothing listens on is ECONNREFUSED', async () => {
    const closed = await serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response(''), onError: () => new Response('', { status: 500 }) })
    await closed.stop()
    expect(await reason(fetch(`http://127.0.0.1:${closed.port}/`))).toBe('ECONNREFUSED')
  })

  test('a Unix socket that does not exist is ENOENT, a file that is no socket is not delivered either', async () => {
    expect(await reason(unixFetch(join(dir, 'missing.sock'))('/'))).toBe('ENOENT')
    writeFileSync(join(dir, 'plain'), 'x')
    expect(['ECONNREFUSED', 'ENOTSOCK']).toContain(await reason(unixFetch(join(dir, 'plain'))('/')))
  })
})
