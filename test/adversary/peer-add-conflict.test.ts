/**
 * `peer add` with the id of an existing peer and another key used to replace
 * its key, URL, scope and name silently. Whoever gets a handshake URL pasted (a forged one in a
 * chat, say) must not take over an existing relationship: 409 `conflict` naming `peer set` and
 * `--replace` (code `peer_exists`), nothing changed (the old key still authenticates, the new one does not). With
 * `replace` (API) or `--replace` (CLI) the key changes, logged at warn.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { runCli, type PodProcess } from '../helpers/pod-process'
import { handshakeUrl, newKeyPair, syncCall, type KeyPair, type PodTarget } from './_contract'
import { addAdversary, peerRow, podTarget, spawn, stopPods } from './_fixture'

let pod: PodProcess
let target: PodTarget
let original: KeyPair

/** Same pod id, another key: what an impostor's handshake URL looks like. */
function impostorOf(kp: KeyPair): KeyPair {
  return { ...newKeyPair(), podId: kp.podId }
}

const keyFile = (id: string) => readFileSync(join(pod.home, 'peer-keys', 'peers', `${id}.key`), 'utf8').trim()
const ask = (kp: KeyPair) => syncCall(kp, target, { since: null, scope: ['public:*'], limit: 10 })

beforeAll(async () => {
  pod = await spawn()
  target = await podTarget(pod)
  original = newKeyPair()
  await addAdversary(pod, original, { url: 'http://127.0.0.1:9/first', sync: false, scope: 'public:*', name: 'first' })
})
afterAll(async () => {
  await stopPods([pod])
})

test('API: another key for an existing id is 409 peer_exists naming `peer set` and --replace; nothing changes', async () => {
  const before = await peerRow(pod, original.podId)
  const impostor = impostorOf(original)
  const res = await pod.api('POST', '/peer/add', {
    handshake_url: handshakeUrl(impostor, { name: 'evil' }),
    direct_url: 'http://127.0.0.1:9/evil',
    scope: '*',
    sync: true,
  })
  expect(res.status).toBe(409)
  expect(res.body.error).toBe('peer_exists')
  expect(res.body.message).toContain('peer set')
  expect(res.body.message).toContain('--replace')

  expect(await peerRow(pod, original.podId)).toEqual(before)
  expect(keyFile(original.podId)).toBe(original.publicKey)
  expect((await ask(original)).status).toBe(200)
  expect(await ask(impostor)).toMatchObject({ status: 401, error: 'unauthorized' })
})

test('CLI: `peer add` of another key for an existing id exits non-zero and changes nothing', async () => {
  const impostor = impostorOf(original)
  const out = await runCli(['peer', 'add', handshakeUrl(impostor), '--url', 'http://127.0.0.1:9/cli', '--home', pod.home])
  expect(out.code).not.toBe(0)
  expect(out.stderr + out.stdout).toContain('--replace')
  expect(keyFile(original.podId)).toBe(original.publicKey)
  expect((await ask(original)).status).toBe(200)
})

test('with replace the key changes (old key refused, new key served) and the change is logged at warn', async () => {
  const successor = impostorOf(original)
  const res = await pod.api('POST', '/peer/add', {
    handshake_url: handshakeUrl(successor),
    direct_url: 'http://127.0.0.1:9/second',
    sync: false,
    replace: true,
  })
  expect([200, 201]).toContain(res.status)
  expect(keyFile(original.podId)).toBe(successor.publicKey)
  expect((await ask(successor)).status).toBe(200)
  expect(await ask(original)).toMatchObject({ status: 401, error: 'unauthorized' })
  const short = original.podId.slice(0, 8)
  expect(
    pod
      .logs()
      .split('\n')
      .some((l) => l.includes('level=warn') && l.includes(short)),
  ).toBe(true)
  // Never the key itself in the log.
  expect(pod.logs()).not.toContain(successor.publicKey)

  const third = impostorOf(original)
  const cli = await runCli(['peer', 'add', handshakeUrl(third), '--url', 'http://127.0.0.1:9/third', '--replace', '--home', pod.home])
  expect(cli.code).toBe(0)
  expect(keyFile(original.podId)).toBe(third.publicKey)
})
