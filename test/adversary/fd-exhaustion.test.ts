/**
 * Running out of file descriptors (contract Part 1c: "logged and survived, never a crash"): a pod
 * started with a hard open-file limit of 256 meets 480 connections from eight addresses that
 * send nothing. It must stay up, say in its log which limit to raise, and answer again once they
 * are gone. Under Deno the listener used to end at the first EMFILE and the process exit.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { mainCommand, type PodProcess, type TestRuntime } from '../helpers/pod-process'
import { spawn, stopPods, until } from './_fixture'
import { openSilent } from '../helpers/raw-http'

const LIMIT = 256
const ADDRESSES = 8
const PER_ADDRESS = 60

async function flood(pod: PodProcess): Promise<{ destroy(): void }> {
  const socks = await Promise.all(Array.from({ length: ADDRESSES * PER_ADDRESS }, (_, i) => openSilent(pod.url, `127.0.2.${1 + (i % ADDRESSES)}`)))
  return { destroy: () => socks.forEach((s) => s.socket.destroy()) }
}

async function healthz(pod: PodProcess): Promise<number | null> {
  try {
    return (await fetch(`${pod.url}/healthz`, { signal: AbortSignal.timeout(2_000) })).status
  } catch {
    return null
  }
}

for (const runtime of ['binary', 'deno'] as TestRuntime[]) {
  describe(`out of file descriptors (${runtime})`, () => {
    let pod: PodProcess | undefined
    afterAll(async () => {
      await stopPods([pod])
    })

    test('survived, logged with the limit to raise, answering again once the flood is gone', async () => {
      // `ulimit -n` in sh sets the hard limit too, so the pod cannot raise its own soft one.
      pod = await spawn({ command: ['sh', '-c', `ulimit -n ${LIMIT} && exec "$@"`, 'sh', ...mainCommand(runtime)] })
      const attack = await flood(pod)
      try {
        const line = await until(() => pod!.logs().match(/^.*err=fd_exhausted.*$/m)?.[0], 30_000, 200)
        expect(line).toContain(`open-file limit (${LIMIT})`)
        expect(line).toContain('LimitNOFILE=')
      } finally {
        attack.destroy()
      }
      expect(await until(async () => (await healthz(pod!)) === 200, 20_000, 200)).toBe(true)
      expect(pod.proc.exitCode).toBeNull()
      expect(pod.logs()).not.toContain('Too many open files')
    }, 90_000)
  })
}
