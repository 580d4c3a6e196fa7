/**
 * Rendezvous replays and squatting (contract Part 1c): a registration's ts must be newer than the
 * last accepted one for its id, under any token (409 `stale`), so a captured registration cannot
 * move the record back or rebind it to another token; the binding ends only when its key's holder
 * releases it (DELETE with a proof over "release") or after 30 days without a heartbeat.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { runCli } from '../helpers/pod-process'
import { newKeyPair, registerBody, rendezvousProof, type KeyPair } from './_contract'
import { startRendezvous, type RendezvousProcess } from './_fixture'

let rv: RendezvousProcess
const tokens = { a: { id: '', token: '' }, b: { id: '', token: '' } }
let rvKey: string
const victim = newKeyPair()
const attacker = newKeyPair()
const nowS = () => Math.floor(Date.now() / 1000)

beforeAll(async () => {
  rv = await startRendezvous('mzm-rv-')
  const home = rv.home
  for (const name of ['a', 'b'] as const) {
    const t = await runCli(['rendezvous', 'token', 'create', `replay-${name}`, '--json', '--home', home])
    expect(t.code).toBe(0)
    tokens[name] = JSON.parse(t.stdout)
  }
  rvKey = ((await (await fetch(`${rv.url}/api/rendezvous`)).json()) as { key: string }).key
})
afterAll(async () => {
  await rv?.stop()
})

const register = (token: string, body: unknown) =>
  fetch(`${rv.url}/api/peers/register`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
const release = (token: string, id: string, body: unknown) =>
  fetch(`${rv.url}/api/peers/register/${id}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
const lookup = async (kp: KeyPair) => {
  const res = await fetch(`${rv.url}/api/peers/lookup/${kp.podId}`, { headers: { 'mzm-peer-key': kp.publicKey } })
  return res.status === 200 ? ((await res.json()) as { url: string }).url : res.status
}
async function idsHeld(tokenId: string): Promise<number> {
  const list = await runCli(['rendezvous', 'token', 'list', '--json', '--home', rv.home])
  return (JSON.parse(list.stdout) as { tokens: { id: string; registrations: number }[] }).tokens.find((t) => t.id === tokenId)!.registrations
}

// One timeline: the victim registers at t0, moves at t0+1; everything an attacker captured on the way is replayed.
const t0 = nowS()
type Registration = ReturnType<typeof registerBody>
let captured: { atUrl1: Registration; atUrl2: Registration }

test('the victim registers and moves; both registrations are captured', async () => {
  captured = {
    atUrl1: registerBody(victim, rvKey, 'http://127.0.0.1:9/one', { tsS: t0 }),
    atUrl2: registerBody(victim, rvKey, 'http://127.0.0.1:9/two', { tsS: t0 + 1 }),
  }
  expect((await register(tokens.a.token, captured.atUrl1)).status).toBe(200)
  expect((await register(tokens.a.token, captured.atUrl2)).status).toBe(200)
  expect(await lookup(victim)).toBe('http://127.0.0.1:9/two')
})

test('the older registration replayed, under its own token or another: 409 stale, the record stays', async () => {
  for (const token of [tokens.a.token, tokens.b.token]) {
    const res = await register(token, captured.atUrl1)
    expect(res.status).toBe(409)
    expect(((await res.json()) as { error: string }).error).toBe('stale')
  }
  expect(await lookup(victim)).toBe('http://127.0.0.1:9/two')
})

test('the latest registration replayed under a second token: 409 stale, not rebound to that token', async () => {
  const res = await register(tokens.b.token, captured.atUrl2)
  expect(res.status).toBe(409)
  expect(await idsHeld(tokens.b.id)).toBe(0)
  expect(await idsHeld(tokens.a.id)).toBe(1)
})

test('a release needs the key holder’s proof over "release" and a newer ts; then the id is free', async () => {
  const ts = t0 + 2
  // The attacker signs with its own key, or replays the victim's proof over a URL: refused.
  expect(
    (await release(tokens.b.token, victim.podId, { key: victim.publicKey, ts, proof: rendezvousProof(attacker, rvKey, 'release', ts, victim.podId) })).status,
  ).toBe(401)
  expect((await release(tokens.b.token, victim.podId, { key: victim.publicKey, ts: t0 + 1, proof: captured.atUrl2.proof })).status).toBe(401)
  expect((await register(tokens.b.token, registerBody(attacker, rvKey, 'http://127.0.0.1:9/evil', { as: victim.podId }))).status).toBe(409)
  // The victim releases: a replay of that release is stale, and the id binds anew.
  const proof = rendezvousProof(victim, rvKey, 'release', ts)
  const ok = await release(tokens.a.token, victim.podId, { key: victim.publicKey, ts, proof })
  expect(ok.status).toBe(200)
  expect(await ok.json()).toEqual({ peer_id: victim.podId, released: true })
  expect(await lookup(victim)).toBe(404)
  expect((await release(tokens.a.token, victim.podId, { key: victim.publicKey, ts, proof })).status).toBe(404)
  const other = newKeyPair()
  expect((await register(tokens.b.token, registerBody(other, rvKey, 'http://127.0.0.1:9/new', { as: victim.podId }))).status).toBe(200)
})
