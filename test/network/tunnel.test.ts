/**
 * Tunnel: a pod reachable only through an "edge" host running Caddy, the way a Cloudflare Tunnel
 * fronts it: TLS terminated at the edge with a test CA, the pod mounted under /mzm with only
 * /peer/sync and /healthz exposed, requests without the Access service-token headers refused
 * (403), and every body the edge relays logged in the clear by a proxy behind Caddy.
 *
 *   puller (10.21.0.2) ──TLS──▶ edge: Caddy 10.21.0.1:443 ─▶ body-log proxy 127.0.0.1:9080
 *                                                            ─▶ pod (10.20.0.2:8765, "home")
 *
 * The topology is tunnel-topology.ts (shared with tunnel-live.test.ts).
 *
 * Asserts: the pull fails without the headers and works once `mazemaker peer headers set` gave
 * them; the edge's logged bodies hold no label or content of the memories pulled (sealed bodies).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { mainCommand, runCli, testEnv, type PodProcess } from '../helpers/pod-process'
import { copyOf, paste, remember, syncNow } from './hosts'
import { ACCESS_ID, ACCESS_SECRET, HOST, startTunnel, type Tunnel } from './tunnel-topology'

const LABEL = 'public:harbour-code'
const CONTENT = 'the harbour gate code is 4417-swordfish'

let tunnel: Tunnel | null = null
let home: PodProcess
let puller: PodProcess
let bodyLog = ''

beforeAll(async () => {
  tunnel = await startTunnel({ tag: 't' })
  ;({ home, bodyLog } = tunnel)
  puller = await tunnel.puller('laptop', 8765)
}, 60_000)

afterAll(async () => {
  await tunnel?.stop()
})

test('tunnel: the edge refuses a pull without the Access headers; with `peer headers set` it works, and the edge learns no label or content', async () => {
  await remember(home, LABEL, CONTENT)
  const peerHome = await paste(puller, home)
  await paste(home, puller)
  expect(JSON.stringify(peerHome.url)).toContain(`https://${HOST}/mzm`)

  const refused = await syncNow(puller, peerHome.id)
  expect(refused.ok).toBe(false)
  expect(refused.error ?? '').toContain('403')
  expect(await copyOf(puller, peerHome.id, LABEL)).toBeNull()

  // As docs/deploy/cloudflare-tunnel.md says: the id as an argument, the secret on stdin.
  expect((await runCli(['--home', puller.home, 'peer', 'headers', 'set', peerHome.id, 'CF-Access-Client-Id', ACCESS_ID])).code).toBe(0)
  const secret = Bun.spawn([...mainCommand(), '--home', puller.home, 'peer', 'headers', 'set', peerHome.id, 'CF-Access-Client-Secret', '-'], {
    env: testEnv(),
    stdin: Buffer.from(ACCESS_SECRET),
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [secretCode, secretOut] = await Promise.all([secret.exited, new Response(secret.stdout).text()])
  expect(secretCode).toBe(0)
  expect(secretOut).not.toContain(ACCESS_SECRET) // shown back masked, never in full

  // `peer test` walks the same path (resolve, TLS through the test CA, signed round trip).
  const check = await runCli(['--home', puller.home, 'peer', 'test', peerHome.id])
  expect(check.code, check.stdout + check.stderr).toBe(0)

  const ok = await syncNow(puller, peerHome.id)
  expect(ok).toMatchObject({ ok: true, stored: 1 })
  expect(await copyOf(puller, peerHome.id, LABEL)).toBe(CONTENT)

  // The edge saw the sync bodies (the log is live) but none of what they carry.
  const logged = readFileSync(bodyLog)
  expect(logged.toString('latin1')).toContain('response 200 /peer/sync')
  for (const secret of [LABEL, 'harbour', CONTENT, '4417']) expect(logged.includes(Buffer.from(secret))).toBe(false)
  // Nor did the puller's logs see the Access secret, nor the edge's access log (filtered as the docs say).
  expect(puller.logs()).not.toContain(ACCESS_SECRET)
  expect(readFileSync(tunnel!.accessLog, 'utf8')).toContain('"uri":"/mzm/peer/sync"')
  expect(readFileSync(tunnel!.accessLog, 'utf8')).not.toContain(ACCESS_SECRET)
}, 60_000)
