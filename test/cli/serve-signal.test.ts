/**
 * A SIGTERM the moment `mazemaker serve` says it listens (a service manager stopping what it just
 * started) shuts the pod down cleanly: the handler is in place before the pod starts. Before, the
 * signal could land between the `op=listen` line and the handler and kill the process outright
 * (exit 143, home lock and socket left behind); a loaded machine hit that window.
 */
import { afterAll, expect, test } from 'bun:test'
import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { spawnPod, tempHome } from '../helpers/pod-process'

const homes: string[] = []
afterAll(() => {
  for (const h of homes) rmSync(h, { recursive: true, force: true })
})

test('SIGTERM right at op=listen: exit 0 after op=shutdown, nothing left in the home', async () => {
  const home = join(tempHome('mzm-sigterm-'), 'home')
  homes.push(join(home, '..'))
  for (let i = 0; i < 5; i++) {
    const pod = await spawnPod({ home })
    const code = await pod.stop()
    expect(`run ${i}: exit ${code}`).toBe(`run ${i}: exit 0`)
    expect(pod.logs()).toContain('op=shutdown')
    expect(existsSync(join(home, 'pod.sock'))).toBe(false)
  }
}, 120_000)
