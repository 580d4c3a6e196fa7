/**
 * Fixture for the hostile-peer tests: a real pod process (test/helpers/pod-process.ts) paired
 * with adversaries that speak the contract from test/adversary/_contract.ts. Pairing goes
 * through the pod's admin API, exactly as an operator pasting a handshake URL would.
 */
import { expect } from 'bun:test'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cleanup, mainCommand, spawnListening, spawnPod, tempHome, type PodProcess, type SpawnOptions, type TestRuntime } from '../helpers/pod-process'
import { handshakeUrl, newKeyPair, servePeer, type KeyPair, type PodTarget, type PullHandler, type ServedPeer } from './_contract'

export interface PeerRow {
  id: string
  name: string
  status: string
  last_error: string | null
  memories: number
  sync: boolean
}

export async function podTarget(pod: PodProcess): Promise<PodTarget> {
  const res = await pod.api('GET', '/peer/identity')
  expect(res.status).toBe(200)
  return { url: pod.url, podId: res.body.pod_id, key: res.body.key }
}

/** The pod adds `kp` as a peer; `url` is where the pod would pull from ("" = pending). */
export async function addAdversary(pod: PodProcess, kp: KeyPair, opts: { url?: string; sync?: boolean; scope?: string | string[]; name?: string } = {}) {
  const res = await pod.api('POST', '/peer/add', {
    handshake_url: handshakeUrl(kp, opts.name === undefined ? {} : { name: opts.name }),
    ...(opts.url ? { direct_url: opts.url } : {}),
    sync: opts.sync ?? false,
    ...(opts.scope ? { scope: opts.scope } : {}),
  })
  expect(res.status).toBe(201)
  return res.body.peer
}

/** An adversary that only calls the pod (the pod never pulls from it). */
export async function pairedCaller(pod: PodProcess): Promise<{ self: KeyPair; target: PodTarget }> {
  const self = newKeyPair()
  await addAdversary(pod, self, { url: 'http://127.0.0.1:9', sync: false })
  return { self, target: await podTarget(pod) }
}

/** A served pod the real pod pulls from (sync = true), answering with `handler`. */
export async function pairedServer(pod: PodProcess, handler: PullHandler, opts: { scope?: string | string[]; name?: string } = {}): Promise<ServedPeer> {
  const peer = servePeer(handler)
  peer.pod = await podTarget(pod)
  await addAdversary(pod, peer.self, { url: peer.url, sync: true, ...opts })
  return peer
}

export async function peerRow(pod: PodProcess, id: string): Promise<PeerRow | undefined> {
  const res = await pod.api('GET', '/peer/peers')
  expect(res.status).toBe(200)
  return (res.body.peers as PeerRow[]).find((p) => p.id === id)
}

/** Every memory the pod holds under `peer:<id>:` (labels and content), via the admin API. */
export async function copiesOf(pod: PodProcess, id: string): Promise<{ id: string; label: string; content: string }[]> {
  const out: { id: string; label: string; content: string }[] = []
  let cursor: string | undefined
  for (;;) {
    const q = `/memories?prefix=${encodeURIComponent(`peer:${id}:`)}&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`
    const res = await pod.api('GET', q)
    expect(res.status).toBe(200)
    out.push(...res.body.memories)
    if (!res.body.cursor || res.body.memories.length === 0) return out
    cursor = res.body.cursor
  }
}

export async function syncNow(pod: PodProcess, peer?: string) {
  const res = await pod.api('POST', '/peer/sync-now', peer ? { peer } : {})
  return res
}

export function spawn(opts: SpawnOptions = {}): Promise<PodProcess> {
  return spawnPod(opts)
}

/** Polls `check` until it returns a value (not undefined/false) or `ms` pass. */
export async function until<T>(check: () => Promise<T | undefined | false> | T | undefined | false, ms = 15_000, stepMs = 50): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await check()
    if (v !== undefined && v !== false) return v as T
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`)
    await Bun.sleep(stepMs)
  }
}

/**
 * Stops our pods (SIGTERM, then SIGKILL after `graceMs`: a pod frozen by an attack that
 * succeeded cannot run its signal handler) and removes their homes.
 */
export async function stopPods(pods: (PodProcess | undefined)[], graceMs = 5_000): Promise<void> {
  const live = pods.filter((p): p is PodProcess => p !== undefined)
  await Promise.all(
    live.map(async (p) => {
      const timer = setTimeout(() => void p.kill9(), graceMs)
      await p.stop().catch(() => undefined)
      clearTimeout(timer)
    }),
  )
  await cleanup(live)
}

/** Sets `key = value` at the top level of a home's pod.toml (replacing the line if present), as an operator would. */
export function setPodToml(home: string, key: string, value: string): void {
  const path = join(home, 'pod.toml')
  const text = readFileSync(path, 'utf8')
  const line = `${key} = ${value}`
  const re = new RegExp(`^${key}\\s*=.*$`, 'm')
  writeFileSync(path, re.test(text) ? text.replace(re, line) : text.replace(/^(pod_id\s*=.*)$/m, `$1\n${line}`), { mode: 0o600 })
}

export interface RendezvousProcess {
  url: string
  home: string
  stop(): Promise<unknown>
}

/** A rendezvous service as its own process on 127.0.0.1, in a fresh home that stop() removes. */
export async function startRendezvous(homePrefix: string, runtime?: TestRuntime): Promise<RendezvousProcess> {
  const home = tempHome(homePrefix)
  const { proc, url } = await spawnListening([...mainCommand(runtime), 'rendezvous', '--home', home, '--port', '0', '--host', '127.0.0.1'])
  return {
    url,
    home,
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM')
      await proc.exited
      rmSync(home, { recursive: true, force: true })
    },
  }
}
