/**
 * CLI commands talk to the pod over its local API. When no pod is running for this home, the
 * command starts one in-process on an ephemeral loopback port (no pull loop) for its own
 * duration, so `remember`, `recall`, `peer …` and `sync` work with or without a running pod and
 * go through exactly the same code paths.
 */
import { createLogger } from '../lib/log'
import { startPod } from '../pod'
import { podClient, homeRoot, type GlobalFlags, type PodClient } from './context'

export async function withPod<T>(flags: GlobalFlags, fn: (client: PodClient, local: boolean) => Promise<T>): Promise<T> {
  const root = homeRoot(flags)
  // First use of a home: create it (identity files) before looking for a running pod.
  let client: PodClient | null = null
  try {
    client = podClient(flags)
  } catch {
    client = null
  }
  if (client && (await client.running())) return fn(client, false)

  const pod = await startPod({ home: root, port: 0, host: '127.0.0.1', autoSync: false, log: createLogger({ level: 'warn' }) })
  try {
    return await fn(podClient({ ...flags, home: root, port: Number(new URL(pod.url).port), host: '127.0.0.1' }), true)
  } finally {
    await pod.close()
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n')
}
