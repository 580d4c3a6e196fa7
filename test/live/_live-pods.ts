/** Real pods in this process, on loopback and the real clock, with their pull loops running (live). */
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { memoryLogger } from '../../src/lib/log'
import { startPod, type Pod, type StartPodOptions } from '../../src/pod'
import { tempHome } from '../helpers/pod-process'

export type LivePod = Pod & {
  log: ReturnType<typeof memoryLogger>
  api<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>
}

export function livePods() {
  const pods: LivePod[] = []
  const homes: string[] = []
  return {
    async start(opts: Partial<StartPodOptions> = {}): Promise<LivePod> {
      const home = opts.home ?? tempHome('mzm-live-')
      if (!homes.includes(home)) homes.push(home)
      const log = memoryLogger('debug')
      const pod = await startPod({ home, port: 0, host: '127.0.0.1', log, ...opts })
      const token = readFileSync(join(home, 'admin.token'), 'utf8').trim()
      const live: LivePod = Object.assign(pod, {
        log,
        async api(method: string, path: string, body?: unknown) {
          const res = await fetch(pod.url + path, {
            method,
            headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
            body: body === undefined ? undefined : JSON.stringify(body),
          })
          const text = await res.text()
          return { status: res.status, body: text ? JSON.parse(text) : null }
        },
      })
      pods.push(live)
      return live
    },
    async stop(pod: LivePod) {
      pods.splice(pods.indexOf(pod), 1)
      await pod.close()
    },
    async cleanup() {
      await Promise.all(pods.splice(0).map((p) => p.close()))
      for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true })
    },
  }
}

/** `from` adds `to` through the admin API (as `peer add` does), so its loop starts pulling at once. */
export async function addPeer(from: LivePod, to: LivePod, opts: { scope?: string | string[]; sync?: boolean; url?: string } = {}) {
  const id = (await to.api('GET', '/peer/identity')).body
  const res = await from.api('POST', '/peer/add', {
    handshake_url: id.handshake_url,
    direct_url: opts.url ?? to.url,
    ...(opts.scope ? { scope: opts.scope } : {}),
    ...(opts.sync === undefined ? {} : { sync: opts.sync }),
  })
  if (res.status !== 201) throw new Error(`peer add: ${res.status} ${JSON.stringify(res.body)}`)
}

/** Polls `cond` on the event loop (no fixed sleep decides anything); throws with `what` after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 2))
  }
}

/** Labels of the copies `pod` holds from `peerId`, in any order. */
export function copies(pod: Pod, peerId: string): string[] {
  const out: string[] = []
  let cursor: string | null = null
  do {
    const page = pod.store.list({ origin: peerId, limit: 500, cursor })
    out.push(...page.memories.map((m) => m.label))
    cursor = page.cursor
  } while (cursor)
  return out
}

/** B's completed pulls from `peerShort` as its log reports them (one line per pull, at debug; summaries left out). */
export function pullLines(pod: LivePod, peerShort: string): string[] {
  return pod.log.lines.filter((l) => l.includes(`peer=${peerShort}`) && l.includes('op=sync ') && /fetched=\d+/.test(l))
}
