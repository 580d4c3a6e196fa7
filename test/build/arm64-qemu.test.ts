/**
 * The linux-arm64 release binary as a real pod (under qemu-user, with Debian's arm64 C library)
 * federating with an x64 pod: paired by handshake, a memory flows each way by an explicit pull,
 * then, after both restart with live pulls on, each way live (no sync call, and the five-minute
 * tick is far off). What a Raspberry Pi or an arm64 NAS pairing with a laptop does.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { copiesFrom, identityOf, pair, remember, syncNow } from '../helpers/federation'
import { spawnPod, tempDir, type PodProcess } from '../helpers/pod-process'
import { freshRelease, qemuArm64, releasePath, type ReleaseStamp } from '../helpers/release'

/** qemu-user runs the arm64 pod some 5-10x slower than native: start-up and pulls get room. */
const QEMU_TIMEOUT_MS = 300_000
/** How long a live copy may take to arrive (a long-poll answer and one pull under emulation). */
const LIVE_DEADLINE_MS = 60_000

let stamp: ReleaseStamp

beforeAll(() => {
  stamp = freshRelease()
}, 900_000)

/**
 * Both pods, homes under `root`, each stopped by `pods` when the test's scope ends (if it has
 * not stopped them itself); `ports` (from an earlier start) keeps their URLs, which the peers have stored.
 */
async function startBoth(
  pods: AsyncDisposableStack,
  root: string,
  live: boolean,
  ports?: { arm: number; x64: number },
): Promise<{ arm: PodProcess; x64: PodProcess }> {
  // testEnv turns live pulls off (MAZEMAKER_LIVE_WAIT=0); empty means the pod's default (on).
  const env: Record<string, string> = live ? { MAZEMAKER_LIVE_WAIT: '' } : {}
  const port = (p?: number) => (p === undefined ? [] : ['--port', String(p)])
  const arm = await spawnPod({
    home: join(root, 'arm'),
    command: qemuArm64(releasePath('mazemaker-linux-arm64')),
    env,
    args: port(ports?.arm),
    startupTimeoutMs: QEMU_TIMEOUT_MS,
  })
  pods.use(arm)
  const x64 = pods.use(await spawnPod({ home: join(root, 'x64'), command: [releasePath('mazemaker-linux-x64')], env, args: port(ports?.x64) }))
  return { arm, x64 }
}

const portOf = (pod: PodProcess) => Number(new URL(pod.url).port)

async function stop(...ps: PodProcess[]): Promise<void> {
  for (const p of ps) expect(await p.stop()).toBe(0)
}

/** Waits (bounded) until `pod` holds a peer's long-poll open (its /metrics gauge), so what comes next is live. */
async function waitForHeldPoll(pod: PodProcess): Promise<number> {
  const deadline = Date.now() + LIVE_DEADLINE_MS
  let held = 0
  while (Date.now() < deadline) {
    const res = await fetch(`${pod.url}/metrics`, { headers: { authorization: `Bearer ${pod.token()}` } })
    held = Number(/^mazemaker_live_held_requests (\d+)$/m.exec(await res.text())?.[1] ?? 0)
    if (held > 0) return held
    await Bun.sleep(100)
  }
  return held
}

/** Waits (bounded) until `pod` holds a copy of `label` from `peerId`; returns the labels seen last. */
async function waitForCopy(pod: PodProcess, peerId: string, label: string): Promise<string[]> {
  const deadline = Date.now() + LIVE_DEADLINE_MS
  let seen: string[] = []
  while (Date.now() < deadline) {
    seen = await copiesFrom(pod, peerId)
    if (seen.includes(`peer:${peerId}:${label}`)) return seen
    await Bun.sleep(100)
  }
  return seen
}

describe('an arm64 pod (qemu) and an x64 pod', () => {
  test('the arm64 binary says it is linux-arm64 and runs as an aarch64 process', () => {
    const out = Bun.spawnSync([...qemuArm64(releasePath('mazemaker-linux-arm64')), '--version'])
    expect(out.stdout.toString()).toBe(`mazemaker ${stamp.version} (commit ${stamp.commit}, linux-arm64)\n`)
    // The x64 kernel cannot exec it without qemu: it is no x64 binary in disguise.
    expect(() => Bun.spawnSync([releasePath('mazemaker-linux-arm64'), '--version'])).toThrow(/Exec format error|ENOEXEC/)
  })

  test(
    'paired, a memory flows each way by pull; restarted with live pulls, each way live',
    async () => {
      using root = tempDir('mzm-arm64-')
      await using pods = new AsyncDisposableStack()
      let { arm, x64 } = await startBoth(pods, root.path, false)
      const armId = (await identityOf(arm)).pod_id
      const x64Id = (await identityOf(x64)).pod_id
      await pair(arm, x64)

      await remember(arm, 'public:from-arm64', 'written on the arm64 pod')
      await remember(x64, 'public:from-x64', 'written on the x64 pod')
      expect((await syncNow(x64, armId))[0]).toMatchObject({ ok: true, stored: 1 })
      expect((await syncNow(arm, x64Id))[0]).toMatchObject({ ok: true, stored: 1 })
      expect(await copiesFrom(x64, armId)).toEqual([`peer:${armId}:public:from-arm64`])
      expect(await copiesFrom(arm, x64Id)).toEqual([`peer:${x64Id}:public:from-x64`])
      const pulled = await x64.api('GET', `/recall?q=${encodeURIComponent('arm64 pod')}`)
      expect(pulled.body.results[0].content).toBe('written on the arm64 pod')

      const ports = { arm: portOf(arm), x64: portOf(x64) }
      await stop(arm, x64)
      ;({ arm, x64 } = await startBoth(pods, root.path, true, ports))
      // Each side's first pull after the restart is done and its long-poll is held at the other:
      // a copy that arrives now came live (the interval tick is minutes away).
      expect(await waitForHeldPoll(arm)).toBe(1)
      expect(await waitForHeldPoll(x64)).toBe(1)
      await remember(arm, 'public:live-arm64', 'live from arm64')
      expect(await waitForCopy(x64, armId, 'public:live-arm64')).toContain(`peer:${armId}:public:live-arm64`)
      await remember(x64, 'public:live-x64', 'live from x64')
      expect(await waitForCopy(arm, x64Id, 'public:live-x64')).toContain(`peer:${x64Id}:public:live-x64`)
      await stop(arm, x64)
    },
    QEMU_TIMEOUT_MS * 2,
  )
})
