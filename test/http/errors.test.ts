/**
 * The one error mapper (src/http/errors.ts), as the pod and the rendezvous both mount it: PodError
 * codes to statuses, issues kept, HTTPException as JSON, anything else a logged 500 naming whose log.
 */
import { describe, expect, test } from 'bun:test'
import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { createErrorHandler, notFound } from '../../src/http/errors'
import { AuthError, BadInput, PodError, TooLarge } from '../../src/lib/errors'
import { memoryLogger } from '../../src/lib/log'

function appThrowing(err: Error, service?: string) {
  const log = memoryLogger()
  const app = new Hono()
  app.onError(createErrorHandler(log, service))
  app.notFound(notFound)
  app.get('/boom', () => {
    throw err
  })
  return { app, log }
}

async function answer(err: Error, service?: string) {
  const { app, log } = appThrowing(err, service)
  const res = await app.request('/boom')
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, log }
}

describe('createErrorHandler', () => {
  test.each([
    [
      new BadInput('invalid body: label: too long', ['label: too long']),
      400,
      { error: 'bad_input', message: 'invalid body: label: too long', issues: ['label: too long'] },
    ],
    [new BadInput('expected an application/json body'), 400, { error: 'bad_input', message: 'expected an application/json body' }],
    [new AuthError('clock_skew', 'ts is 400 s away'), 401, { error: 'clock_skew', message: 'ts is 400 s away' }],
    [new AuthError('bad_proof', 'proof does not verify'), 401, { error: 'bad_proof', message: 'proof does not verify' }],
    [new PodError('peer_exists', 'already paired'), 409, { error: 'peer_exists', message: 'already paired' }],
    [new TooLarge('over 1 MiB'), 413, { error: 'too_large', message: 'over 1 MiB' }],
    [new PodError('too_many_ids', 'token holds 1000 ids'), 429, { error: 'too_many_ids', message: 'token holds 1000 ids' }],
    [new PodError('full', 'rendezvous is full'), 503, { error: 'full', message: 'rendezvous is full' }],
    [new PodError('vault_error', 'unmapped'), 500, { error: 'vault_error', message: 'unmapped' }],
  ])('%s → %i', async (err, status, body) => {
    const got = await answer(err)
    expect(got.status).toBe(status)
    expect(got.body).toEqual(body)
  })

  test('an HTTPException becomes JSON with the code of its status; 413 is too_large', async () => {
    expect(await answer(new HTTPException(401, { message: 'no' }))).toMatchObject({ status: 401, body: { error: 'unauthorized', message: 'no' } })
    expect(await answer(new HTTPException(413))).toMatchObject({ status: 413, body: { error: 'too_large' } })
    expect(await answer(new HTTPException(418, { message: 'teapot' }))).toMatchObject({ status: 418, body: { error: 'http_418', message: 'teapot' } })
  })

  test('anything else is logged and answered 500 internal, pointing at the right log, without its message', async () => {
    for (const service of ['pod', 'rendezvous']) {
      const got = await answer(new Error('secret detail from deep inside'), service)
      expect(got.status).toBe(500)
      expect(got.body).toEqual({ error: 'internal', message: `internal error; see the ${service} log` })
      expect(got.log.lines.join('\n')).toContain('err=internal')
    }
  })

  test('an unknown route is 404 not_found naming it', async () => {
    const { app } = appThrowing(new Error('unused'))
    const res = await app.request('/nope', { method: 'DELETE' })
    expect(res.status).toBe(404)
    expect(await res.json()).toEqual({ error: 'not_found', message: 'no route DELETE /nope' })
  })
})
