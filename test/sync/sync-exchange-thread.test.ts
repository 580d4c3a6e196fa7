/**
 * A pull's fetch thread does the whole sealed exchange for the pages it fetches (Deno, from the
 * pull's second page on): it seals and signs the request, and checks the answer's signature,
 * then its seal, before the main thread sees a byte. Run under both runtimes against a peer that
 * checks the request with the contract's own code (test/adversary/_contract.ts): a request it
 * could not verify and open would be answered 401.
 */
import { afterAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import { entry, newKeyPair, page, pairKey, servePeer, type ServedPeer } from '../adversary/_contract'
import { DENO, ROOT } from '../helpers/pod-process'

const probe = join(ROOT, 'test', 'sync', 'fixtures', 'sync-exchange-probe.ts')
const servers: ServedPeer[] = []
afterAll(async () => {
  for (const s of servers) await s.stop()
})

for (const [name, argv] of [
  ['bun', [process.execPath, probe]],
  ['deno', [DENO, 'run', '-A', probe]],
] as const) {
  test(`under ${name}: the thread's requests verify and open at the peer; a forged signature and a tampered seal are caught there`, async () => {
    const puller = newKeyPair()
    const good = page('', [entry('public:a', 'one')])
    const seen: (string | null)[] = []
    const peer = servePeer((req) => {
      seen.push(req.json.since)
      const answer = req.answer({ ...good, pod_id: peer.self.podId })
      if (req.json.since === 'bad-signature')
        return new Response(answer.body, { headers: { 'content-type': 'application/vnd.mzm.sealed', 'mzm-signature': 'A'.repeat(43) } })
      if (req.json.since === 'refused') return Response.json({ error: 'unauthorized' }, { status: 401 })
      if (req.json.since !== 'bad-seal') return answer
      return answer.arrayBuffer().then((b) => {
        const sealed = new Uint8Array(b)
        sealed[sealed.length - 20]! ^= 0x01
        return req.answerBytes(sealed) // a valid signature over bytes that do not open
      })
    })
    servers.push(peer)
    peer.pod = { url: '', podId: puller.podId, key: puller.publicKey }
    const key = pairKey(puller, peer.self.podId, peer.self.publicKey).toString('base64url')
    const proc = Bun.spawn([...argv, peer.url, key, puller.podId, peer.self.podId], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' })
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
    const out = JSON.parse(stdout)
    expect(out.ready).toBe(true)
    // Every request carried a Bearer the contract verifies and a body it opens: 4 pulls, no 401 of its own.
    expect(peer.pulls).toBe(4)
    expect(seen).toEqual(['good', 'bad-signature', 'bad-seal', 'refused'])
    expect(out.good.status).toBe(200)
    expect(JSON.parse(out.good.opened.text)).toEqual({ ...good, pod_id: peer.self.podId })
    expect(out.badSignature).toEqual({ status: 200, opened: { failure: 'signature' } })
    expect(out.badSeal).toEqual({ status: 200, opened: { failure: 'seal' } })
    expect(out.refused).toEqual({ status: 401, opened: null })
  }, 30_000)
}
