/**
 * `mazemaker open` hands out the admin token in a link's fragment. With the pod stopped and
 * another program on its port, printing (or opening) that link gives the program the token. The
 * link comes only from a pod of this home that answered on its socket, with the URL it reports.
 */
import { afterAll, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Server } from 'bun'
import { cleanup, runCli, spawnPod, tempHome, type PodProcess } from '../helpers/pod-process'

const home = tempHome()
let pod: PodProcess | undefined
const seen: string[] = []
// The squatter: records every request that reaches it (a browser opening the link would be one).
const squatter: Server<undefined> = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  fetch(req) {
    seen.push(req.url)
    return new Response('<html>panel</html>', { headers: { 'content-type': 'text/html' } })
  },
})
afterAll(async () => {
  await squatter.stop(true)
  await cleanup(pod ? [pod] : [], [home])
})

test('the pod stopped, a squatter on its port: no link, no token anywhere, nothing sent to the squatter', async () => {
  // A home that has run before (its token exists), now stopped; its configured port is the squatter's.
  pod = await spawnPod({ home })
  await pod.stop()
  const token = readFileSync(join(home, 'admin.token'), 'utf8').trim()
  // A desktop session: the command would open the link in a browser if it printed one.
  const r = await runCli(['open', '--home', home, '--port', String(squatter.port)], { DISPLAY: ':99' })
  expect(r.code).not.toBe(0)
  expect(r.stdout + r.stderr).not.toContain(token)
  expect(r.stderr).toContain('not running')
  expect(seen).toEqual([])
})

test('the pod running elsewhere, the squatter still on the configured port: the link is the running pod’s', async () => {
  pod = await spawnPod({ home })
  const r = await runCli(['open', '--home', home, '--port', String(squatter.port)])
  expect(r.code).toBe(0)
  expect(r.stdout.trim()).toBe(`${pod.url}/#token=${pod.token()}`)
  expect(r.stdout).not.toContain(`:${squatter.port}/`)
  expect(seen).toEqual([])
})
