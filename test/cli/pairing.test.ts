/**
 * Pairing with one paste each way, on real pod processes over loopback: each pod
 * advertises its URL (`mazemaker advertise add`), its handshake URL carries it, and `peer add`
 * with no --url pairs. Until the other side pastes, the peer is `awaiting-peer` (not `error`),
 * and the refusing pod lists and logs (once) the pod that tried to pull from it.
 */
import { expect, test } from 'bun:test'
import { runCli, spawnPod, type PodProcess } from '../helpers/pod-process'
import { remember } from '../helpers/federation'

async function cli(pod: PodProcess, ...args: string[]) {
  const res = await runCli([...args, '--home', pod.home])
  return res
}

const AWAITING = 'they have not added this pod yet: send them your handshake URL (mazemaker identity)'

async function handshakeOf(pod: PodProcess): Promise<string> {
  return (await pod.api('GET', '/peer/identity')).body.handshake_url as string
}

test('one paste each way pairs two pods with no --url; one-sided is awaiting-peer and the other side sees who tried', async () => {
  await using a = await spawnPod()
  await using b = await spawnPod()
  const idA = (await a.api('GET', '/peer/identity')).body.pod_id as string
  const idB = (await b.api('GET', '/peer/identity')).body.pod_id as string

  // Each operator advertises where their pod is reached (here: its loopback URL).
  for (const p of [a, b]) {
    const res = await cli(p, 'advertise', 'add', p.url)
    expect(res.code).toBe(0)
    expect(res.stdout).toContain(`1. ${p.url}`)
  }
  const hsA = await handshakeOf(a)
  expect(hsA).toContain(`&url=${encodeURIComponent(a.url)}`)
  await remember(a, 'public:paste', 'from a')

  // Only b pastes a's URL, as a chat app pastes it (&amp;): b pulls, a refuses (a has not added b).
  // Every surface says awaiting-peer from the first second, before any pull.
  const added = await cli(b, 'peer', 'add', hsA.replaceAll('&', '&amp;'), '--json')
  expect(added.code).toBe(0)
  expect(JSON.parse(added.stdout).peer).toMatchObject({ id: idA, url: a.url, urls: [a.url], status: 'awaiting-peer', hint: AWAITING })
  expect(JSON.parse(added.stdout).peer.name).toBe((await a.api('GET', '/peer/identity')).body.name)
  const firstList = (await b.api('GET', '/peer/peers')).body
  expect(firstList.peers[0]).toMatchObject({ status: 'awaiting-peer', hint: AWAITING })
  expect(firstList.summary).toContain('1 awaiting-peer')
  // sync says what is going on, never a raw 401, and it is not a failure.
  const first = await cli(b, 'sync')
  expect(first.code).toBe(0)
  expect(first.stdout).toContain(`${idA.slice(0, 8)}  wait  awaiting-peer: they have not added this pod yet`)
  expect(first.stdout).not.toMatch(/unauthorized|401|ERR/)
  const listB = await b.api('GET', '/peer/peers')
  expect(listB.body.peers[0]).toMatchObject({
    id: idA,
    status: 'awaiting-peer',
    last_error: expect.stringContaining('they have not added this pod yet: send them your handshake URL'),
  })
  expect(listB.body.summary).toContain('1 awaiting-peer')
  const text = await cli(b, 'peer', 'list')
  expect(text.stdout).toContain('awaiting-peer')

  // a lists (short id, count) and logged the unknown caller once, however many times it tried.
  await cli(b, 'sync')
  await cli(b, 'sync')
  const listA = await a.api('GET', '/peer/peers')
  // Three syncs, and b's own loop may have pulled once on its own after the add.
  expect(listA.body.unknown_callers).toEqual([
    { id: idB.slice(0, 8), first_seen: expect.any(String), last_seen: expect.any(String), count: expect.any(Number) },
  ])
  expect(listA.body.unknown_callers[0].count).toBeGreaterThanOrEqual(3)
  expect(a.logs().match(/err=unknown_caller/g)).toHaveLength(1)
  expect(a.logs()).toContain(`peer=${idB.slice(0, 8)}`)
  const textA = await cli(a, 'peer', 'list')
  expect(textA.stdout).toContain('pods that tried to pull from you')
  expect(textA.stdout).toContain(idB.slice(0, 8))

  // a pastes b's URL, no --url: the handshake's URL is used, and b's next pull is ready.
  const back = await cli(a, 'peer', 'add', await handshakeOf(b), '--json')
  expect(back.code).toBe(0)
  expect(JSON.parse(back.stdout).peer.urls).toEqual([b.url])
  const ok = await cli(b, 'sync')
  expect(ok.code).toBe(0)
  expect(ok.stdout).toMatch(/ok +fetched=1 stored=1/)
  expect((await b.api('GET', '/peer/peers')).body.peers[0].status).toBe('ready')
  // Now a peer, it is no longer listed as an unknown caller.
  expect((await a.api('GET', '/peer/peers')).body.unknown_callers).toEqual([])

  // a removes b: b's next pull is refused, and b says the relationship is gone from a's side.
  expect((await cli(a, 'peer', 'remove', idB.slice(0, 8))).code).toBe(0)
  const gone = await cli(b, 'sync')
  expect(gone.code).toBe(1)
  expect(gone.stdout).toContain(`${idA.slice(0, 8)}  ERR   error: removed by peer? it answered until`)
  expect(gone.stdout).not.toContain('err=unauthorized')
  const after = (await b.api('GET', '/peer/peers')).body.peers[0]
  expect(after).toMatchObject({ status: 'error', hint: expect.stringContaining('removed by peer?') })
  expect((await cli(b, 'peer', 'list')).stdout).toContain('removed by peer? it answered until')
}, 60_000)

test('peer add with no pod running: awaiting-peer, and no claim that anything is live', async () => {
  const { tempHome } = await import('../helpers/pod-process')
  const [home, other] = [tempHome(), tempHome()]
  try {
    const hs = JSON.parse((await runCli(['identity', '--json', '--home', other])).stdout).handshake_url as string
    const add = await runCli(['peer', 'add', hs, '--url', 'http://127.0.0.1:9', '--home', home])
    expect(add.code).toBe(0)
    expect(add.stdout).toContain('awaiting-peer: they have not added this pod yet')
    expect(add.stdout).toContain('no pod runs for this home')
    expect(add.stdout).not.toContain('live now')
    expect((await runCli(['peer', 'list', '--home', home])).stdout).toContain('◖ awaiting-peer')
  } finally {
    const { rmSync } = await import('node:fs')
    for (const h of [home, other]) rmSync(h, { recursive: true, force: true })
  }
}, 30_000)

test('advertise: list, add --first, remove, refusals; the handshake carries the list in order', async () => {
  await using a = await spawnPod()
  expect((await cli(a, 'advertise', 'add', 'https://alca.tail-foo.ts.net/')).code).toBe(0)
  expect((await cli(a, 'advertise', 'add', 'http://192.168.1.5:8765')).code).toBe(0)
  expect((await cli(a, 'advertise', 'add', 'https://alca.example.org/mzm', '--first')).code).toBe(0)
  const listed = JSON.parse((await cli(a, 'advertise', 'list', '--json')).stdout)
  expect(listed.advertise).toEqual(['https://alca.example.org/mzm', 'https://alca.tail-foo.ts.net', 'http://192.168.1.5:8765'])
  const hs = (await a.api('GET', '/peer/identity')).body.handshake_url as string
  expect([...new URLSearchParams(hs.slice(hs.indexOf('?') + 1)).getAll('url')]).toEqual(listed.advertise)

  const bad = await cli(a, 'advertise', 'add', 'https://x.example/?q=1')
  expect(bad.code).toBe(1)
  expect(bad.stderr).toMatch(/must not have a query/)
  expect((await cli(a, 'advertise', 'add', 'http://d.example')).code).toBe(0)
  const fifth = await cli(a, 'advertise', 'add', 'http://e.example')
  expect(fifth.code).toBe(1)
  expect(fifth.stderr).toMatch(/at most 4/)
  expect((await cli(a, 'advertise', 'remove', 'http://192.168.1.5:8765')).code).toBe(0)
  const missing = await cli(a, 'advertise', 'remove', 'http://nowhere.example')
  expect(missing.code).toBe(1)
  // Written to pod.toml (0600), so it survives a restart.
  const toml = await Bun.file(`${a.home}/pod.toml`).text()
  expect(toml).toContain('advertise = [ "https://alca.example.org/mzm", "https://alca.tail-foo.ts.net", "http://d.example" ]')
}, 60_000)

test('doctor: a pod that advertises only loopback fails loudly (it said ok before)', async () => {
  await using a = await spawnPod()
  const doctor = async () => {
    const res = await runCli(['doctor', '--json', '--home', a.home])
    return { code: res.code, check: (JSON.parse(res.stdout).checks as { name: string; ok: boolean; detail: string }[]).find((c) => c.name === 'advertise') }
  }
  // Nothing advertised, no rendezvous: fine, and it says what peers then need.
  expect((await doctor()).check).toMatchObject({ ok: true, detail: expect.stringContaining('advertises nothing') })
  await cli(a, 'advertise', 'add', a.url)
  const loop = await doctor()
  expect(loop.code).toBe(1)
  expect(loop.check).toMatchObject({ ok: false, detail: expect.stringContaining(`advertises only ${a.url}: loopback, no other machine can reach it`) })
  await cli(a, 'advertise', 'add', 'http://localhost:9')
  expect((await doctor()).check?.ok).toBe(false)
  await cli(a, 'advertise', 'add', 'https://alca.tail-foo.ts.net')
  const mixed = await doctor()
  expect(mixed.code).toBe(0)
  expect(mixed.check).toMatchObject({ ok: true, detail: expect.stringContaining('https://alca.tail-foo.ts.net') })
}, 60_000)

test('advertise suggest: nothing for a loopback listener (and says what to do), URLs from the interfaces for a wildcard one', async () => {
  const home = (await import('../helpers/pod-process')).tempHome()
  try {
    const loop = await runCli(['advertise', 'suggest', '--home', home])
    expect(loop.code).toBe(0)
    expect(loop.stdout).toContain('which only this machine reaches')
    expect(loop.stdout).toContain('tailscale serve')
    const wild = await runCli(['advertise', 'suggest', '--json', '--home', home, '--host', '0.0.0.0', '--port', '9999'])
    expect(wild.code).toBe(0)
    const out = JSON.parse(wild.stdout) as { listen: string; suggestions: { url: string; kind: string }[] }
    expect(out.listen).toBe('0.0.0.0:9999')
    for (const s of out.suggestions) {
      expect(s.url).toMatch(/^http:\/\/.+:9999$/)
      expect(s.url).not.toContain('127.0.0.1')
      expect(['tailnet-name', 'tailnet', 'lan', 'public']).toContain(s.kind)
    }
  } finally {
    ;(await import('node:fs')).rmSync(home, { recursive: true, force: true })
  }
}, 30_000)

test("advertise suggest speaks for the running pod's port; identity and GET /peer/advertise warn that the handshake carries no address", async () => {
  await using a = await spawnPod()
  const port = Number(new URL(a.url).port)
  const suggest = JSON.parse((await cli(a, 'advertise', 'suggest', '--json')).stdout) as { listen: string }
  expect(suggest.listen).toBe(`127.0.0.1:${port}`)
  expect((await cli(a, 'advertise', 'suggest')).stdout).toContain(`the pod listens on 127.0.0.1:${port}`)
  const id = await cli(a, 'identity')
  expect(id.stdout.trim().split('\n').at(-1)).toStartWith('mzm-handshake://')
  expect(id.stderr).toContain(`warning: the handshake URL carries no address, and the pod listens on 127.0.0.1:${port}, which only this machine reaches`)
  const advertised = (await a.api('GET', '/peer/advertise')).body
  expect(advertised.warning).toContain('the handshake URL carries no address')
  await cli(a, 'advertise', 'add', 'https://alca.tail-foo.ts.net')
  expect((await cli(a, 'identity')).stderr).toBe('')
  expect((await a.api('GET', '/peer/advertise')).body.warning).toBeNull()
}, 30_000)
