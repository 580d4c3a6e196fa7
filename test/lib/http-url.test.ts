import { describe, expect, test } from 'bun:test'
import * as v from 'valibot'
import { HttpUrlSchema, httpUrlProblem, isHttpUrl, localHttpUrl } from '../../src/lib/http-url'

describe('localHttpUrl', () => {
  test.each([
    ['127.0.0.1', 8765, 'http://127.0.0.1:8765'],
    ['0.0.0.0', 8765, 'http://127.0.0.1:8765'],
    ['', 1, 'http://127.0.0.1:1'],
    ['::', 8780, 'http://[::1]:8780'],
    ['::1', 80, 'http://[::1]:80'],
    ['fd7a::5', 9, 'http://[fd7a::5]:9'],
    ['pod.tail-foo.ts.net', 443, 'http://pod.tail-foo.ts.net:443'],
  ])('%s:%d → %s', (host, port, url) => {
    expect(localHttpUrl(host, port)).toBe(url)
  })
})

describe('httpUrlProblem: a base URL a route is appended to', () => {
  test.each([
    'http://127.0.0.1:8765',
    'https://alca.tail-foo.ts.net',
    'https://alca.example.org/mzm',
    'https://alca.example.org/mzm/',
    'http://[::1]:8765/base',
    'HTTPS://Pod.Example',
    'https://xn--mmoire-bva.example/p%C3%A9',
  ])('accepts %s', (url) => {
    expect(httpUrlProblem(url)).toBeNull()
    expect(isHttpUrl(url)).toBe(true)
    expect(v.is(HttpUrlSchema, url)).toBe(true)
  })

  test.each([
    ['http://127.0.0.1:8765/api/admin?', /must not have a query/], // the URL parser drops an empty query
    ['http://127.0.0.1:8765/memories?x=1', /must not have a query/],
    ['http://127.0.0.1:8765/x#', /must not have a fragment/],
    ['http://127.0.0.1:8765/x#frag', /must not have a fragment/],
    ['http://user:pw@pod.example', /credentials/],
    ['http://@pod.example', /credentials/],
    ['http://user@pod.example/x', /credentials/],
    ['ftp://pod.example', /must start with http/],
    ['file:///etc/passwd', /must start with http/],
    ['javascript:alert(1)', /must start with http/],
    ['mzm-rendezvous://6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f', /must start with http/],
    ['http:/pod.example', /must start with http/],
    ['/relative', /must start with http/],
    ['http://pod.example\\@evil.example', /backslash/],
    ['http://pod.example/a b', /whitespace/],
    ['http://pod.example/\t', /whitespace/],
    ['http://pod.example/\u202e', /ASCII/],
    ['https://mémoire.example', /ASCII/],
    ['http://', /not a valid URL|no host/],
    ['http://[::1', /not a valid URL/],
    ['https://pod.example/' + 'a'.repeat(2048), /longer than 2048/],
  ])('refuses %s', (url, message) => {
    expect(httpUrlProblem(url)).toMatch(message)
    expect(isHttpUrl(url)).toBe(false)
    const r = v.safeParse(HttpUrlSchema, url)
    expect(r.success).toBe(false)
    expect(r.issues?.[0]?.message).toMatch(message)
  })

  test('non-strings are refused by the schema', () => {
    expect(isHttpUrl(42)).toBe(false)
    expect(v.safeParse(HttpUrlSchema, 42).issues?.[0]?.message).toBe('must be a string')
  })
})
