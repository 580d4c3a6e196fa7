/** Pairing helpers for federation tests: paste handshakes between real pod processes. */
import { expect } from 'bun:test'
import type { TestPod } from './pod-process'

export async function identityOf(pod: TestPod): Promise<{ pod_id: string; handshake_url: string; key: string }> {
  const res = await pod.api('GET', '/peer/identity')
  expect(res.status).toBe(200)
  return res.body
}

/** `from` adds `to` as a peer (with `to`'s URL as direct URL). */
export async function addPeer(from: TestPod, to: TestPod, opts: { scope?: string | string[]; sync?: boolean } = {}) {
  const id = await identityOf(to)
  const res = await from.api('POST', '/peer/add', { handshake_url: id.handshake_url, direct_url: to.url, ...opts })
  expect(res.status).toBe(201)
  return res.body.peer as { id: string; status: string }
}

/** Pastes both ways. */
export async function pair(a: TestPod, b: TestPod, opts: { scope?: string | string[] } = {}) {
  await addPeer(a, b, opts)
  await addPeer(b, a, opts)
}

export async function remember(pod: TestPod, label: string, content: string): Promise<string> {
  const res = await pod.api('POST', '/memories', { label, content })
  expect(res.status).toBe(201)
  return res.body.id
}

export async function syncNow(pod: TestPod, peer?: string) {
  const res = await pod.api('POST', '/peer/sync-now', peer ? { peer } : {})
  expect(res.status).toBe(200)
  return res.body.results as { peer: string; ok: boolean; fetched: number; stored: number; deleted: number; error?: string }[]
}

/** Labels of every memory the pod holds under `peer:<peerId>:`. */
export async function copiesFrom(pod: TestPod, peerId: string): Promise<string[]> {
  const res = await pod.api('GET', `/memories?prefix=${encodeURIComponent(`peer:${peerId}:`)}&limit=500`)
  expect(res.status).toBe(200)
  return (res.body.memories as { label: string }[]).map((m) => m.label).sort()
}
