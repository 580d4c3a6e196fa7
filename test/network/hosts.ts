/**
 * Pods on the multi-host topologies: a temp home whose pod.toml says where the pod listens and
 * what it advertises (what an operator writes on that host), the pod started inside its
 * namespace, and the pastes and pulls the tests make through the pod's admin API.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawnPod, tempHome, type PodProcess } from '../helpers/pod-process'

export interface HostPodOptions {
  netns: string
  /** pod.toml `listen`, e.g. "100.64.0.1:8765". */
  listen: string
  /** pod.toml `advertise`: the URLs put in our handshake URL (in order); the first goes to a rendezvous. */
  advertise?: string[]
  name: string
  /** Extra pod.toml lines (e.g. a [rendezvous] table). */
  toml?: string
  env?: Record<string, string>
}

/** Starts a pod inside a namespace with the pod.toml an operator of that host would write. */
export async function hostPod(opts: HostPodOptions): Promise<PodProcess> {
  const home = tempHome('mzm-net-')
  const lines = [
    `pod_id = "${crypto.randomUUID()}"`,
    `name = "${opts.name}"`,
    `listen = "${opts.listen}"`,
    ...(opts.advertise ? [`advertise = ${JSON.stringify(opts.advertise)}`] : []),
    opts.toml ?? '',
  ]
  writeFileSync(join(home, 'pod.toml'), lines.join('\n') + '\n', { mode: 0o600 })
  const [host, port] = [opts.listen.slice(0, opts.listen.lastIndexOf(':')), opts.listen.slice(opts.listen.lastIndexOf(':') + 1)]
  return await spawnPod({ home, netns: opts.netns, env: opts.env, args: ['--host', host, '--port', port] })
}

/** The handshake URL `pod` shows its operator (what gets pasted to the other side). */
export async function handshakeOf(pod: PodProcess): Promise<{ pod_id: string; handshake_url: string }> {
  const res = await pod.api('GET', '/peer/identity')
  if (res.status !== 200) throw new Error(`GET /peer/identity: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body
}

/** One paste: `into` adds the handshake URL `from` shows, with no URL of our own (like `peer add <url>`). */
export async function paste(into: PodProcess, from: PodProcess, extra: Record<string, unknown> = {}): Promise<{ id: string; url: unknown; status: string }> {
  const res = await into.api('POST', '/peer/add', { handshake_url: (await handshakeOf(from)).handshake_url, ...extra })
  if (res.status !== 201) throw new Error(`peer add: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body.peer
}

export async function remember(pod: PodProcess, label: string, content: string): Promise<void> {
  const res = await pod.api('POST', '/memories', { label, content })
  if (res.status !== 201) throw new Error(`remember: ${res.status} ${JSON.stringify(res.body)}`)
}

export async function syncNow(pod: PodProcess, peer: string) {
  const res = await pod.api('POST', '/peer/sync-now', { peer })
  if (res.status !== 200) throw new Error(`sync-now: ${res.status} ${JSON.stringify(res.body)}`)
  return (res.body.results as { peer: string; ok: boolean; fetched: number; stored: number; error?: string }[])[0]!
}

/** Content of the copy `pod` holds of `label` from `peerId`, or null. */
export async function copyOf(pod: PodProcess, peerId: string, label: string): Promise<string | null> {
  const res = await pod.api('GET', `/memories?prefix=${encodeURIComponent(`peer:${peerId}:`)}&limit=500`)
  if (res.status !== 200) throw new Error(`list: ${res.status}`)
  const m = (res.body.memories as { label: string; content?: string }[]).find((x) => x.label === `peer:${peerId}:${label}`)
  return m ? (m.content ?? '') : null
}

/** Spawns a helper process (Caddy, a proxy) and resolves once its stderr matches `ready`. */
export async function spawnUntil(cmd: string[], ready: RegExp, opts: { env?: Record<string, string> } = {}) {
  const proc = Bun.spawn(cmd, { env: { ...process.env, ...opts.env } as Record<string, string>, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe' })
  let stderr = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd.join(' ')} not ready within 15 s:\n${stderr}`)), 15_000)
    void (async () => {
      const decoder = new TextDecoder()
      for await (const chunk of proc.stderr) {
        stderr += decoder.decode(chunk)
        if (ready.test(stderr)) {
          clearTimeout(timer)
          resolve()
        }
      }
      clearTimeout(timer)
      reject(new Error(`${cmd[0]} exited (${proc.exitCode}) before ready:\n${stderr}`))
    })()
  })
  return {
    proc,
    logs: () => stderr,
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM')
      await proc.exited
    },
  }
}
