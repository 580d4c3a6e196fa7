/**
 * An acknowledged write must survive a power cut, not only a killed process: the pod syncs it
 * to disk (fsync or fdatasync of the database's WAL, or of the file it wrote) before the answer
 * leaves. Seen from outside by tracing the running pod's syscalls (strace, attached by PID):
 * for remember, edit, forget and a peer change, a sync completes between the request and its
 * answer. Concurrent remembers share syncs (group commit). A pulled page may stay unsynced (it is
 * pulled again from its cursor after a power cut), so a pull syncs nothing of its own.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import type { PodProcess } from '../helpers/pod-process'
import { entry, handshakeUrl, newKeyPair, page, type ServedPeer } from './_contract'
import { pairedServer, spawn, stopPods, syncNow, until } from './_fixture'

let pod: PodProcess
let served: ServedPeer
let pulls = 0

beforeAll(async () => {
  pod = await spawn()
  // A peer that serves two new memories on every pull.
  served = await pairedServer(pod, (req) => {
    pulls++
    const n = req.json.since === null ? 0 : Number(req.json.since)
    return req.answer(page(served.self.podId, [entry(`public:pulled-${n}-a`, 'a'), entry(`public:pulled-${n}-b`, 'b')], { cursor: String(n + 1) }))
  })
  // The first pull also records the peer's scope (a durable write): done before tracing.
  expect((await syncNow(pod, served.self.podId)).body.results[0]).toMatchObject({ ok: true })
})
afterAll(async () => {
  await served?.stop()
  await stopPods([pod])
})

interface Trace {
  proc: Subprocess<'ignore', 'ignore', 'pipe'>
  file: string
}

/** Attaches strace to every thread of the pod; resolves once it is attached. */
async function traceSyscalls(pid: number): Promise<Trace> {
  const file = join(pod.home, 'syscalls.trace')
  const proc = Bun.spawn(['strace', '-f', '-y', '-s', '300', '-e', 'trace=fsync,fdatasync,write,writev,send,sendto,sendmsg', '-o', file, '-p', String(pid)], {
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
  })
  let err = ''
  const reader = (async () => {
    for await (const chunk of proc.stderr) err += new TextDecoder().decode(chunk)
  })()
  await until(() => /attached/.test(err) || proc.exitCode !== null, 15_000)
  if (proc.exitCode !== null) throw new Error(`strace did not attach (run scripts/ensure-strace.sh): ${err}`)
  void reader
  return { proc, file }
}

async function stopTrace(t: Trace): Promise<string[]> {
  t.proc.kill('SIGINT')
  await t.proc.exited
  return readFileSync(t.file, 'utf8').split('\n')
}

const isSync = (line: string) => /\b(fsync|fdatasync)\(/.test(line) && !/unfinished/.test(line)
const isWalSync = (line: string) => isSync(line) && /pod\.db-wal>/.test(line)
const isAnswer = (line: string) => /\b(write|writev|send|sendto|sendmsg)\(\d+<(socket|TCP)[^>]*>, .*HTTP\/1\.1 \d{3}/.test(line)

/** The trace cut into one segment per answer: the syscalls from the previous answer up to this one. */
function segments(lines: string[]): { answer: string; before: string[] }[] {
  const out: { answer: string; before: string[] }[] = []
  let before: string[] = []
  for (const line of lines) {
    if (isAnswer(line)) {
      out.push({ answer: line, before })
      before = []
    } else before.push(line)
  }
  return out
}

test('remember, edit, forget and a peer change are synced before they are answered; concurrent remembers share syncs; a pull syncs nothing', async () => {
  const { id } = (await pod.api('POST', '/memories', { label: 'public:warm', content: 'before tracing' })).body
  const trace = await traceSyscalls(pod.pid)
  // One at a time, so each answer's segment holds only its own request's work.
  expect((await pod.api('POST', '/memories', { label: 'public:traced', content: 'acknowledged means on disk' })).status).toBe(201)
  expect((await pod.api('PATCH', `/memories/${id}`, { content: 'edited, on disk before the answer' })).status).toBe(200)
  expect((await pod.api('DELETE', `/memories/${id}`)).status).toBe(204)
  const other = newKeyPair()
  expect((await pod.api('POST', '/peer/add', { handshake_url: handshakeUrl(other), direct_url: 'http://127.0.0.1:9', sync: false })).status).toBe(201)
  const before = pulls
  expect((await syncNow(pod, served.self.podId)).body.results[0]).toMatchObject({ ok: true, stored: 2 })
  expect(pulls).toBe(before + 1)
  const CONCURRENT = 32
  const answers = await Promise.all(
    Array.from({ length: CONCURRENT }, (_, i) => pod.api('POST', '/memories', { label: `public:together-${i}`, content: `one of ${CONCURRENT}` })),
  )
  expect(answers.every((a) => a.status === 201)).toBe(true)
  const lines = await stopTrace(trace)

  const [remember, edit, forget, peerAdd, pull, ...together] = segments(lines)
  expect(remember!.answer).toContain('HTTP/1.1 201')
  expect(remember!.answer).toContain('public:traced')
  expect(remember!.before.filter(isWalSync).length).toBeGreaterThanOrEqual(1)
  expect(edit!.answer).toContain('HTTP/1.1 200')
  expect(edit!.before.filter(isWalSync).length).toBeGreaterThanOrEqual(1)
  expect(forget!.answer).toContain('HTTP/1.1 204')
  expect(forget!.before.filter(isWalSync).length).toBeGreaterThanOrEqual(1)
  expect(peerAdd!.answer).toContain('HTTP/1.1 201')
  expect(peerAdd!.before.filter((l) => isSync(l) && l.includes(pod.home)).length).toBeGreaterThanOrEqual(1)
  // The pull: two copies stored and the cursor moved, with no sync of the WAL of its own.
  expect(pull!.answer).toContain('HTTP/1.1 200')
  expect(pull!.before.filter(isWalSync)).toEqual([])
  // 32 remembers in flight at once: every one answered after a sync, fewer syncs than answers.
  expect(together.filter((s) => s.answer.includes('HTTP/1.1 201'))).toHaveLength(CONCURRENT)
  expect(together[0]!.before.filter(isWalSync).length).toBeGreaterThanOrEqual(1)
  const syncs = together.flatMap((s) => s.before).filter(isWalSync).length
  expect(syncs).toBeGreaterThanOrEqual(1)
  expect(syncs).toBeLessThan(CONCURRENT)
}, 60_000)
