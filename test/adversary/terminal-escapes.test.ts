/**
 * A paired peer puts terminal escapes (OSC 52 clipboard write, screen clear,
 * colours) and bidi overrides in what it serves. Whatever reaches the operator's terminal
 * through `recall`, `sync` and `peer list` must show those characters visibly, never raw.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { runCli, type PodProcess } from '../helpers/pod-process'
import { entry, handshakeUrl, page, servePeer, type ServedPeer } from './_contract'
import { podTarget, spawn, stopPods } from './_fixture'

/** C0 and C1 controls (except \n), DEL, and the bidi overrides/isolates and marks that reorder text. */
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u
const HOSTILE_CONTENT = 'escapes before\u001b]52;c;ZXZpbA==\u0007after \u001b[2J\u001b[31mred\u001b[0m \u202eevil\u2066 tail\u009b31m'
const HOSTILE_LABEL = 'public:invoice\u202egpj.exe'
const HOSTILE_NAME = 'evil\u202etxt'

let pod: PodProcess
let peer: ServedPeer
/** Answers with escapes where a validator would quote them back in its error message. */
let liar: ServedPeer
let nameAccepted = false

beforeAll(async () => {
  pod = await spawn()
  peer = servePeer((req) =>
    req.answer(page(peer.self.podId, [entry(HOSTILE_LABEL, HOSTILE_CONTENT), entry('public:plain', `escapes in a plain label ${HOSTILE_CONTENT}`)])),
  )
  peer.pod = await podTarget(pod)
  // A display name with a bidi override: refusing it is fine, accepting it means rendering it visibly.
  const add = await pod.api('POST', '/peer/add', { handshake_url: handshakeUrl(peer.self, { name: HOSTILE_NAME }), direct_url: peer.url, sync: true })
  expect([201, 400]).toContain(add.status)
  nameAccepted = add.status === 201
  if (!nameAccepted) expect((await pod.api('POST', '/peer/add', { handshake_url: handshakeUrl(peer.self), direct_url: peer.url, sync: true })).status).toBe(201)
  liar = servePeer((req) =>
    req.answer({ pod_id: HOSTILE_CONTENT, cursor: HOSTILE_CONTENT, more: false, memories: [{ id: HOSTILE_CONTENT, deleted: HOSTILE_CONTENT }] }),
  )
  liar.pod = peer.pod
  expect((await pod.api('POST', '/peer/add', { handshake_url: handshakeUrl(liar.self), direct_url: liar.url, sync: true })).status).toBe(201)
})
afterAll(async () => {
  await peer.stop()
  await liar.stop()
  await stopPods([pod])
})

function rawIn(text: string): string[] {
  return [...text].filter((c) => RAW.test(c)).map((c) => `U+${c.codePointAt(0)!.toString(16).padStart(4, '0')}`)
}

test('`mazemaker sync` pulls the hostile copies and prints nothing raw, errors quoting hostile text included', async () => {
  const out = await runCli(['sync', '--home', pod.home])
  expect(rawIn(out.stdout + out.stderr)).toEqual([])
  expect(out.stdout).toContain(peer.self.podId.slice(0, 8))
  expect(out.stdout).toContain(liar.self.podId.slice(0, 8))
})

test('`mazemaker recall` shows the escapes visibly, never raw', async () => {
  const out = await runCli(['recall', 'escapes', '--home', pod.home])
  expect(out.code).toBe(0)
  expect(rawIn(out.stdout + out.stderr)).toEqual([])
  // The text is still there, with the escapes made visible.
  expect(out.stdout).toContain('before')
  expect(out.stdout).toContain('tail')
  expect(out.stdout).toContain('\\x1b')
  expect(out.stdout).toContain('\\u202e')
})

test('`mazemaker peer list` renders the name (and everything else) without raw characters', async () => {
  const out = await runCli(['peer', 'list', '--home', pod.home])
  expect(out.code).toBe(0)
  expect(rawIn(out.stdout + out.stderr)).toEqual([])
  if (nameAccepted) expect(out.stdout).toContain('\\u202e')
})
