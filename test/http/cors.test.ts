/** CORS + Private Network Access: only origins listed in allowed_origins get any CORS header. */
import { describe, expect, test } from 'bun:test'
import { Hono } from 'hono'
import { CORS_MAX_AGE_S, corsMiddleware, normaliseOrigin } from '../../src/http/cors'
import { createErrorHandler } from '../../src/http/errors'
import { memoryLogger } from '../../src/lib/log'
import { AuthError } from '../../src/lib/errors'

const DASH = 'https://dash.example.com'

function appWith(origins: string[]) {
  const app = new Hono()
  app.onError(createErrorHandler(memoryLogger()))
  app.use(corsMiddleware(() => origins))
  app.get('/peer/peers', (c) => c.json({ peers: [] }))
  app.get('/secret', () => {
    throw new AuthError('unauthorized', 'admin token required')
  })
  return app
}

const preflight = (origin: string, extra: Record<string, string> = {}) => ({
  method: 'OPTIONS',
  headers: { Origin: origin, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization', ...extra },
})

const corsHeaders = (res: Response) => [...res.headers.keys()].filter((k) => k.startsWith('access-control-'))

describe('corsMiddleware', () => {
  test('preflight from an allowed origin: 204 echoing the exact origin', async () => {
    const res = await appWith([DASH]).request('/peer/peers', preflight(DASH))
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe(DASH)
    expect(res.headers.get('access-control-allow-methods')).toContain('PATCH')
    expect(res.headers.get('access-control-allow-headers')).toBe('Authorization, Content-Type')
    expect(res.headers.get('access-control-max-age')).toBe(String(CORS_MAX_AGE_S))
    expect(res.headers.get('vary')).toContain('Origin')
    expect(res.headers.get('access-control-allow-private-network')).toBeNull()
    expect(res.headers.get('access-control-allow-credentials')).toBeNull()
  })

  test('Private Network Access preflight gets Allow-Private-Network', async () => {
    const res = await appWith([DASH]).request('/peer/peers', preflight(DASH, { 'Access-Control-Request-Private-Network': 'true' }))
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-private-network')).toBe('true')
  })

  test('preflight from another origin: 403 and no CORS header at all', async () => {
    const res = await appWith([DASH]).request('/peer/peers', preflight('https://evil.example', { 'Access-Control-Request-Private-Network': 'true' }))
    expect(res.status).toBe(403)
    expect(corsHeaders(res)).toEqual([])
    expect(((await res.json()) as { error: string }).error).toBe('forbidden')
  })

  test('none allowed by default', async () => {
    const res = await appWith([]).request('/peer/peers', preflight(DASH))
    expect(res.status).toBe(403)
    expect(corsHeaders(res)).toEqual([])
  })

  test('actual request from an allowed origin: ACAO + Vary, also on an error answer', async () => {
    const app = appWith([DASH])
    const ok = await app.request('/peer/peers', { headers: { Origin: DASH } })
    expect(ok.status).toBe(200)
    expect(ok.headers.get('access-control-allow-origin')).toBe(DASH)
    expect(ok.headers.get('vary')).toContain('Origin')
    const denied = await app.request('/secret', { headers: { Origin: DASH } })
    expect(denied.status).toBe(401)
    expect(denied.headers.get('access-control-allow-origin')).toBe(DASH)
  })

  test('actual request from another origin: answered, but with no CORS header', async () => {
    const res = await appWith([DASH]).request('/peer/peers', { headers: { Origin: 'https://evil.example' } })
    expect(res.status).toBe(200)
    expect(corsHeaders(res)).toEqual([])
  })

  test('no Origin header (curl, the CLI): untouched', async () => {
    const app = appWith([DASH])
    const res = await app.request('/peer/peers')
    expect(corsHeaders(res)).toEqual([])
    // A non-CORS OPTIONS passes through to routing.
    expect((await app.request('/peer/peers', { method: 'OPTIONS' })).status).toBe(404)
  })

  test('the list is read per request (pod.toml reload applies at once)', async () => {
    const origins: string[] = []
    const app = new Hono().use(corsMiddleware(() => origins)).get('/', (c) => c.text('ok'))
    expect((await app.request('/', { headers: { Origin: DASH } })).headers.get('access-control-allow-origin')).toBeNull()
    origins.push(DASH)
    expect((await app.request('/', { headers: { Origin: DASH } })).headers.get('access-control-allow-origin')).toBe(DASH)
  })

  test('configured origins are compared case-insensitively and without a trailing slash', async () => {
    const res = await appWith(['HTTPS://Dash.Example.com/']).request('/peer/peers', preflight(DASH))
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe(DASH)
  })

  test('"null" and wildcards are never allowed, even when listed', async () => {
    const app = appWith(['null', '*', 'https://*.example.com'])
    expect((await app.request('/peer/peers', preflight('null'))).status).toBe(403)
    expect((await app.request('/peer/peers', preflight('https://a.example.com'))).status).toBe(403)
  })
})

describe('normaliseOrigin', () => {
  test.each([
    ['https://dash.example.com', 'https://dash.example.com'],
    ['http://LOCALHOST:3000/', 'http://localhost:3000'],
    ['https://x.example/path', null],
    ['null', null],
    ['*', null],
    ['', null],
    ['dash.example.com', null],
  ])('%p → %p', (input, want) => {
    expect(normaliseOrigin(input)).toBe(want)
  })
})
