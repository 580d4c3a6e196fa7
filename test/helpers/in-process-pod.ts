/**
 * A whole pod in this test process (startPod: real home, store, identity, keys, sync loop off),
 * driven through its app's own `request()`: no process to spawn, no socket in the way. The same
 * TestPod shape as a spawned pod (test/helpers/pod-process.ts), so 4xx matrices and round trips
 * run here and only the behaviour that needs a process (kill -9, stderr, signals) spawns one.
 */
import { readFileSync, rmSync } from 'node:fs'
import { memoryLogger } from '../../src/lib/log'
import { type Pod, type StartPodOptions, startPod } from '../../src/pod'
import { apiCall, type TestPod, tempHome } from './pod-process'

/** `await using pod = await inProcessPod()` closes it and removes its home when the scope ends. */
export interface InProcessPod extends TestPod, AsyncDisposable {
  pod: Pod
  /** A raw request to the app (any headers, any body, no token added). */
  request(path: string, init?: RequestInit): Promise<Response>
  /** Closes the pod and removes its home. */
  close(): Promise<void>
}

export async function inProcessPod(opts: Partial<StartPodOptions> = {}): Promise<InProcessPod> {
  const home = opts.home ?? tempHome()
  const log = memoryLogger()
  const pod = await startPod({ port: 0, host: '127.0.0.1', autoSync: false, heartbeat: false, log, ...opts, home })
  const token = () => readFileSync(pod.home.paths.adminToken, 'utf8').trim()
  const close = async () => {
    await pod.close()
    rmSync(home, { recursive: true, force: true })
  }
  return {
    pod,
    url: pod.url,
    home,
    logs: () => log.lines.join('\n'),
    token,
    request: (path, init) => pod.request(path, init),
    api: (method, path, body) => apiCall((p, init) => pod.request(p, init), token(), method, path, body),
    close,
    [Symbol.asyncDispose]: close,
  }
}

/**
 * startPod for a test, on 127.0.0.1 with any free port and a temp home unless `opts` says
 * otherwise: `await using pod = await disposablePod({ autoSync: false })` closes the pod when the
 * scope ends and removes the home it made (a home the caller gave is the caller's).
 */
export async function disposablePod(opts: Partial<StartPodOptions> = {}): Promise<Pod & AsyncDisposable> {
  const home = opts.home ?? tempHome()
  try {
    const pod = await startPod({ port: 0, host: '127.0.0.1', log: memoryLogger(), ...opts, home })
    return Object.assign(pod, {
      async [Symbol.asyncDispose]() {
        await pod.close()
        if (opts.home === undefined) rmSync(home, { recursive: true, force: true })
      },
    })
  } catch (err) {
    if (opts.home === undefined) rmSync(home, { recursive: true, force: true })
    throw err
  }
}
