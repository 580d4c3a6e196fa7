/**
 * Tunnel: a pod reachable only through an "edge" host running Caddy, the way a Cloudflare Tunnel
 * fronts it: TLS terminated at the edge with a test CA, the pod mounted under /mzm with only
 * /peer/sync and /healthz exposed, requests without the Access service-token headers refused
 * (403), and every body the edge relays logged in the clear by a proxy behind Caddy.
 *
 *   puller (10.21.0.2) ──TLS──▶ edge: Caddy 10.21.0.1:443 ─▶ body-log proxy 127.0.0.1:9080
 *                                                            ─▶ pod (10.20.0.2:8765, "home")
 *
 * Asserts: the pull fails without the headers and works once `mazemaker peer headers set` gave
 * them; the edge's logged bodies hold no label or content of the memories pulled (sealed bodies).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cleanup, mainCommand, ROOT, runCli, testEnv, type PodProcess } from '../helpers/pod-process'
import { createTopology, type Topology } from './netns'
import { copyOf, hostPod, paste, remember, spawnUntil, syncNow } from './hosts'
import { makeTestCa } from './test-ca'

const HOST = 'pod.tunnel.test'
const ACCESS_ID = 'a1b2c3d4e5f6.access'
const ACCESS_SECRET = 'tunnel-test-secret-7f3c9e1a5b'
const LABEL = 'public:harbour-code'
const CONTENT = 'the harbour gate code is 4417-swordfish'

let topo: Topology | null = null
let dir = ''
const pods: PodProcess[] = []
const helpers: { stop(): Promise<void> }[] = []
let home: PodProcess
let puller: PodProcess
let bodyLog = ''

/** The Caddyfile of the edge: the same shape docs/deploy/cloudflare-tunnel.md describes. */
function caddyfile(cert: string, key: string, dataDir: string): string {
  return `{
\tadmin off
\tauto_https disable_redirects
\tstorage file_system ${dataDir}
}

https://${HOST}:443 {
\tbind 10.21.0.1
\ttls ${cert} ${key}
\t@noaccess not {
\t\theader CF-Access-Client-Id ${ACCESS_ID}
\t\theader CF-Access-Client-Secret ${ACCESS_SECRET}
\t}
\t@pod path /mzm/peer/sync /mzm/healthz
\troute {
\t\trespond @noaccess "Forbidden: an Access service token is required" 403
\t\thandle @pod {
\t\t\turi strip_prefix /mzm
\t\t\treverse_proxy 127.0.0.1:9080
\t\t}
\t\trespond 404
\t}
}
`
}

beforeAll(async () => {
  topo = createTopology()
  const podNs = topo.ns('thome')
  const edgeNs = topo.ns('tedge')
  const pullNs = topo.ns('tpull')
  topo.link(podNs, '10.20.0.2/24', edgeNs, '10.20.0.1/24')
  topo.link(edgeNs, '10.21.0.1/24', pullNs, '10.21.0.2/24')
  topo.hosts(pullNs, { [HOST]: '10.21.0.1' })

  dir = mkdtempSync(join(tmpdir(), 'mzm-tunnel-'))
  const ca = makeTestCa(dir, HOST)
  bodyLog = join(dir, 'bodies.log')
  writeFileSync(join(dir, 'Caddyfile'), caddyfile(ca.cert, ca.key, join(dir, 'caddy-data')))

  home = await hostPod({ netns: podNs, name: 'home', listen: '10.20.0.2:8765', advertise: [`https://${HOST}/mzm`] })
  pods.push(home)
  puller = await hostPod({
    netns: pullNs,
    name: 'laptop',
    listen: '10.21.0.2:8765',
    advertise: ['http://10.21.0.2:8765'],
    env: { NODE_EXTRA_CA_CERTS: ca.caCert, DENO_CERT: ca.caCert },
  })
  pods.push(puller)
  helpers.push(
    await spawnUntil(
      [...topo.wrap(edgeNs), process.execPath, join(ROOT, 'test/net/body-log-proxy.ts'), '127.0.0.1:9080', 'http://10.20.0.2:8765', bodyLog],
      /op=listen/,
    ),
  )
  helpers.push(
    await spawnUntil([...topo.wrap(edgeNs), 'caddy', 'run', '--adapter', 'caddyfile', '--config', join(dir, 'Caddyfile')], /serving initial configuration/, {
      env: { XDG_DATA_HOME: join(dir, 'xdg-data'), XDG_CONFIG_HOME: join(dir, 'xdg-config'), HOME: dir },
    }),
  )
}, 60_000)

afterAll(async () => {
  await Promise.all(helpers.map((h) => h.stop()))
  await cleanup(pods)
  topo?.destroy()
  if (dir) rmSync(dir, { recursive: true, force: true })
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
  // Nor did the puller's logs see the Access secret.
  expect(puller.logs()).not.toContain(ACCESS_SECRET)
}, 60_000)
