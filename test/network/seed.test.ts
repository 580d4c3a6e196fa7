/**
 * The product page and the README, typed as an operator types them, each inside a network
 * namespace of its own (its own loopback: 127.0.0.1:8765 and the README's ports clash with
 * nothing else on the machine):
 * - the page's curl lines against a pod on 127.0.0.1:8765 started with no arguments, and its
 *   `systemctl --user start mazemaker-peer-sync.service` (the unit `service install` writes, run
 *   as systemd would run it);
 * - the README's two-pod example, verbatim, with /tmp private to it;
 * - the page's Tailscale topology: two hosts on tailnet-like addresses and names, one paste each
 *   way with no scope or URL typed, an `auto:` memory each way arrives live, both say `• ready`
 *   (CLI, and each panel in Chromium run on its own host).
 * docs/seed.md lists the page's claims these re-check.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { chromium } from 'playwright-core'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freshBinary, ROOT } from '../helpers/binary'
import { cleanup, runCli, spawnListening, spawnPod, type PodProcess } from '../helpers/pod-process'
import { createTopology, type Topology } from './netns'
import { copyOf, hostPod } from './hosts'

let topo: Topology
const pods: PodProcess[] = []
const procs: { kill(): void; exited: Promise<number> }[] = []
const dirs: string[] = []

/** The operator's environment: no test switches (live pulls on, as shipped). */
function operatorEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('MAZEMAKER_') && k !== 'MZM_TEST_RUNTIME') env[k] = v
  return { ...env, ...extra }
}

function tmp(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix))
  dirs.push(d)
  return d
}

/** Runs one shell line inside `ns` as the operator would type it. */
function sh(ns: string, line: string, env: Record<string, string>): { code: number; stdout: string; stderr: string } {
  const r = Bun.spawnSync([...topo.wrap(ns), 'sh', '-c', line], { cwd: ROOT, env: operatorEnv(env), stdout: 'pipe', stderr: 'pipe' })
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() }
}

beforeAll(() => {
  freshBinary()
  topo = createTopology()
})

afterAll(async () => {
  await cleanup(pods)
  for (const p of procs) p.kill()
  await Promise.all(procs.map((p) => p.exited))
  topo?.destroy()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

test("the page's curl lines, verbatim, against a pod on 127.0.0.1:8765; its systemctl line's unit pulls", async () => {
  const ns = topo.ns('seed')
  // `mazemaker` with no arguments, as the page's operator starts it: ~/.mazemaker, 127.0.0.1:8765.
  const home = tmp('mzm-seed-home-')
  const bin = freshBinary()
  const started = await spawnListening([bin], { HOME: home, MAZEMAKER_LIVE_WAIT: '50' }, { netns: ns })
  procs.push(started.proc)
  expect(started.url).toBe('http://127.0.0.1:8765')
  const peer = await spawnPod({ netns: ns, args: ['--port', '8766'] })
  pods.push(peer)

  // "curl -s http://127.0.0.1:8765/peer/identity | jq -r .handshake_url"
  const id = sh(ns, 'curl -s http://127.0.0.1:8765/peer/identity | jq -r .handshake_url', { HOME: home })
  expect(id.stdout).toMatch(/^mzm-handshake:\/\/[0-9a-f-]{36}\?key=[A-Za-z0-9_-]{43}&name=[^&\s]+\n$/)

  // The page's POST /peer/add, with the peer's handshake and URL in its placeholders. As the
  // page types it (no token), the pod refuses and says what it needs: adding a peer changes
  // whom this pod trusts, and 127.0.0.1 is also where tunnels and proxies connect from.
  const hs = (await peer.api('GET', '/peer/identity')).body.handshake_url as string
  const body = `{
    "handshake_url": "${hs}",
    "direct_url": "http://127.0.0.1:8766",
    "sync": true,
    "scope": "public:*"
  }`
  const asWritten = sh(ns, `curl -s -X POST http://127.0.0.1:8765/peer/add -H 'Content-Type: application/json' -d '${body}'`, { HOME: home })
  expect(JSON.parse(asWritten.stdout)).toMatchObject({ error: 'unauthorized', message: expect.stringContaining('admin token required') })
  // With the one header docs/seed.md adds: 201, and from the first second it says awaiting-peer.
  const added = sh(
    ns,
    `curl -s -X POST http://127.0.0.1:8765/peer/add -H "Authorization: Bearer $(cat ~/.mazemaker/admin.token)" -H 'Content-Type: application/json' -d '${body}'`,
    { HOME: home },
  )
  expect(JSON.parse(added.stdout).peer).toMatchObject({ status: 'awaiting-peer', hint: expect.stringContaining('they have not added this pod yet') })

  // "systemctl --user start mazemaker-peer-sync.service": the unit `service install` writes,
  // its ExecStart run as systemd runs it (no shell, the operator's HOME).
  const config = tmp('mzm-seed-config-')
  const installed = sh(ns, `${bin} service install`, { HOME: home, XDG_CONFIG_HOME: config })
  expect(installed.stdout).toContain('systemctl --user start mazemaker-peer-sync.service')
  const unit = readFileSync(join(config, 'systemd', 'user', 'mazemaker-peer-sync.service'), 'utf8')
  const execStart = /^ExecStart=(.*)$/m.exec(unit)![1]!.split(' ')
  expect(unit).toContain('Type=oneshot')
  const peerShort = hs.slice('mzm-handshake://'.length, 'mzm-handshake://'.length + 8)
  const waiting = Bun.spawnSync([...topo.wrap(ns), ...execStart], { env: operatorEnv({ HOME: home }), stdout: 'pipe', stderr: 'pipe' })
  expect({ code: waiting.exitCode, out: waiting.stdout.toString() }).toEqual({ code: 0, out: expect.stringContaining(`${peerShort}  wait  awaiting-peer`) })
  // The other side pastes back; the unit's pull now brings what it shares.
  expect((await peer.api('POST', '/peer/add', { handshake_url: id.stdout.trim(), direct_url: 'http://127.0.0.1:8765' })).status).toBe(201)
  expect((await peer.api('POST', '/memories', { label: 'public:from-peer', content: 'pulled by the oneshot' })).status).toBe(201)
  const pulled = Bun.spawnSync([...topo.wrap(ns), ...execStart], { env: operatorEnv({ HOME: home }), stdout: 'pipe', stderr: 'pipe' })
  expect(pulled.exitCode).toBe(0)
  expect(pulled.stdout.toString()).toMatch(new RegExp(`${peerShort}  ok  `))
  const recalled = sh(ns, `${bin} recall pulled`, { HOME: home })
  expect(recalled.stdout).toContain('pulled by the oneshot')
}, 120_000)

test("the README's two-pod example, verbatim: bob ends up with alice's public memory and not her private one", () => {
  const ns = topo.ns('readme')
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const block = /### Two pods on one machine[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)![1]!
  freshBinary()
  // /tmp private to this run (a tmpfs in a mount namespace of its own), so /tmp/alice and
  // /tmp/bob are the example's own even while another run of this test goes on. The shell is in
  // the checkout before the mount: a checkout under /tmp stays its working directory.
  const script = `cd ${JSON.stringify(ROOT)} && mount -t tmpfs none /tmp && bash -e <<'EXAMPLE'\n${block}EXAMPLE\n`
  const r = Bun.spawnSync([...topo.wrap(ns), 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', script], {
    env: operatorEnv({}),
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const out = r.stdout.toString()
  expect({ code: r.exitCode, stderr: r.stderr.toString().replace(/^.*level=(info|debug).*\n/gm, '') }).toMatchObject({ code: 0 })
  // peer preview bob: public:hello only.
  expect(out).toMatch(/would receive 1 memory/)
  expect(out).toContain('public:hello')
  expect(out).not.toMatch(/^\s+\S+\s+note:diary/m)
  // sync: ok (fetched=0 when the live pull already brought it, as its comment says).
  expect(out).toMatch(/^[0-9a-f]{8} {2}ok {4}fetched=[01] /m)
  // recall on bob: peer:<alice's id>:public:hello.
  expect(out).toMatch(/peer:[0-9a-f-]{36}:public:hello/)
  expect(out).toContain('hi from alice')
  expect(out).not.toContain("alice's private note")
}, 120_000)

test('the Tailscale topology as the page writes it: one paste each way, auto: memories flow both directions live, both • ready', async () => {
  const TAILNET = { 'alice-tpad.tail-foo.ts.net': '100.64.0.1', 'bob-mbp.tail-foo.ts.net': '100.64.0.2' }
  const nsA = topo.ns('alice')
  const nsB = topo.ns('bob')
  topo.link(nsA, '100.64.0.1/24', nsB, '100.64.0.2/24')
  topo.hosts(nsA, TAILNET)
  topo.hosts(nsB, TAILNET)
  // "Each runs the pod with wonderland exposed on :8765 over Tailscale": live pulls as shipped.
  const live = { MAZEMAKER_LIVE_WAIT: '50' }
  const alice = await hostPod({ netns: nsA, name: 'alca', listen: '100.64.0.1:8765', advertise: ['http://alice-tpad.tail-foo.ts.net:8765'], env: live })
  pods.push(alice)
  const bob = await hostPod({ netns: nsB, name: 'tpad', listen: '100.64.0.2:8765', advertise: ['http://bob-mbp.tail-foo.ts.net:8765'], env: live })
  pods.push(bob)
  const cli = (pod: PodProcess, ...args: string[]) => runCli([...args, '--home', pod.home])
  const handshake = async (pod: PodProcess) => (await cli(pod, 'identity')).stdout.trim().split('\n').at(-1)!

  // "Paste-handshake both ways": nothing but the handshake URL (no --url, no --scope).
  const [hsA, hsB] = [await handshake(alice), await handshake(bob)]
  expect((await cli(alice, 'peer', 'add', hsB)).code).toBe(0)
  expect((await cli(bob, 'peer', 'add', hsA)).code).toBe(0)
  const idA = (await alice.api('GET', '/peer/identity')).body.pod_id
  const idB = (await bob.api('GET', '/peer/identity')).body.pod_id

  // Once each side pulled once (no sync typed), "auto:* memories flow both directions", live.
  const ready = async (pod: PodProcess) => {
    for (let i = 0; i < 600; i++) {
      if ((await pod.api('GET', '/peer/peers')).body.summary === '1 ready · 0 handshake-pending') return
      await Bun.sleep(50)
    }
    throw new Error(`not ready: ${JSON.stringify((await pod.api('GET', '/peer/peers')).body)}`)
  }
  await Promise.all([ready(alice), ready(bob)])
  await alice.api('POST', '/memories', { label: 'auto:alice-session', content: 'alice worked on the tide tables' })
  await bob.api('POST', '/memories', { label: 'auto:bob-session', content: 'bob fixed the bus times' })
  const arrives = async (pod: PodProcess, from: string, label: string) => {
    for (let i = 0; i < 600; i++) {
      const got = await copyOf(pod, from, label)
      if (got !== null) return got
      await Bun.sleep(50)
    }
    return null
  }
  expect(await arrives(bob, idA, 'auto:alice-session')).toBe('alice worked on the tide tables')
  expect(await arrives(alice, idB, 'auto:bob-session')).toBe('bob fixed the bus times')

  // "M06 PEERS on both pods shows • ready", with the badge's count.
  for (const pod of [alice, bob]) {
    const list = (await cli(pod, 'peer', 'list')).stdout
    expect(list).toContain('• ready')
    expect(list.split('\n')[0]).toBe('1 ready · 0 handshake-pending')
  }
  // The pulls went to the tailnet names from the handshakes, nothing the test typed.
  expect(alice.logs() + bob.logs()).not.toContain('127.0.0.1')

  // Each operator's panel, in Chromium on that operator's own host: the peer says • ready and
  // the summary (the page's badge) counts it. Matched by the words shown, not by markup.
  for (const [pod, ns] of [
    [alice, nsA],
    [bob, nsB],
  ] as const) {
    const browser = await chromium.launch({ executablePath: chromiumIn(ns), args: CHROMIUM_ARGS })
    try {
      const page = await browser.newPage()
      await page.goto(`${pod.url}/#token=${pod.token()}`)
      await page.getByText('• ready', { exact: false }).first().waitFor({ timeout: 30_000 })
      await page.getByText('1 ready · 0 handshake-pending', { exact: false }).first().waitFor({ timeout: 30_000 })
    } finally {
      await browser.close()
    }
  }
}, 180_000)

const CHROMIUM = '/usr/bin/chromium'
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]

/** A Chromium that runs inside `ns` (Playwright talks to it over inherited pipes, which `ip netns exec` keeps). */
function chromiumIn(ns: string): string {
  const script = join(tmp('mzm-seed-chromium-'), 'chromium')
  writeFileSync(script, `#!/bin/sh\nexec ${topo.wrap(ns).join(' ')} ${CHROMIUM} "$@"\n`, { mode: 0o700 })
  return script
}
