import { expect, test } from 'bun:test'
import { localHttpUrl } from '../../src/lib/http-url'

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
