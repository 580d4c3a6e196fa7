/**
 * `mazemaker watch` (a real CLI process) on a running pod process: it prints the memories the
 * pod commits, its own and those pulled live from a peer, escaped in text mode and as one JSON
 * object per line with --json.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Subprocess } from 'bun'
import { addPeer, identityOf } from '../helpers/federation'
import { cleanup, mainCommand, ROOT, spawnPod, testEnv, type PodProcess } from '../helpers/pod-process'

const HOSTILE = 'x\x1b]52;c;aGk=\x07y\u202ez'
const LIVE = { MAZEMAKER_LIVE_WAIT: '50' }

let a: PodProcess
let b: PodProcess
beforeAll(async () => {
  ;[a, b] = await Promise.all([spawnPod({ env: LIVE }), spawnPod({ env: LIVE })])
  await addPeer(a, b, { sync: false }) // A serves B …
  await addPeer(b, a) // … and B pulls A, live
})
afterAll(() => cleanup([a, b]))

/** Starts `watch` on `pod`'s home and collects stdout lines. */
function watch(pod: PodProcess, args: string[]) {
  const proc: Subprocess<'ignore', 'pipe', 'pipe'> = Bun.spawn([...mainCommand(), 'watch', '--home', pod.home, ...args], {
    cwd: ROOT,
    env: testEnv(),
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const lines: string[] = []
  let started = false
  void (async () => {
    const dec = new TextDecoder()
    let buf = ''
    for await (const chunk of proc.stdout) {
      buf += dec.decode(chunk, { stream: true })
      const parts = buf.split('\n')
      buf = parts.pop()!
      lines.push(...parts)
    }
  })()
  void (async () => {
    for await (const chunk of proc.stderr) if (new TextDecoder().decode(chunk).includes('watching')) started = true
  })()
  return { proc, lines, started: () => started }
}

async function until(cond: () => boolean, what: string, ms = 20_000) {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(5)
  }
}

test('watch --json follows local writes and copies arriving live from a peer', async () => {
  const w = watch(b, ['--json'])
  try {
    // The stream subscribes shortly after start: write until a local write shows up.
    let i = 0
    while (!w.lines.some((l) => l.includes('note:mine'))) {
      if (i > 100) throw new Error('watch never showed a local write')
      await b.api('POST', '/memories', { label: 'note:mine', content: `private ${i++}` })
      await Bun.sleep(50)
    }
    const aId = (await identityOf(a)).pod_id
    await a.api('POST', '/memories', { label: 'public:from-a', content: 'arrived live' })
    await until(() => w.lines.some((l) => l.includes('public:from-a')), 'the copy from A')
    const copy = w.lines.map((l) => JSON.parse(l)).find((e) => e.label === `peer:${aId}:public:from-a`)
    expect(copy).toMatchObject({ op: 'insert', peer: aId, content: 'arrived live', encrypted: false })
    const mine = w.lines.map((l) => JSON.parse(l)).find((e) => e.label === 'note:mine')
    expect(mine).toMatchObject({ op: 'insert', peer: null, encrypted: true })
  } finally {
    w.proc.kill('SIGTERM')
    await w.proc.exited
  }
}, 60_000)

test('watch prints hostile labels and content escaped, never raw', async () => {
  const w = watch(b, [])
  try {
    await until(w.started, 'watch started')
    let n = 0
    while (!w.lines.some((l) => l.includes('public:evil'))) {
      await b.api('POST', '/memories', { label: `public:evil${n++}\u202e`, content: HOSTILE })
      await Bun.sleep(50)
      if (n > 100) throw new Error('watch never showed the write')
    }
    const line = w.lines.find((l) => l.includes('public:evil'))!
    expect(line).toContain('\\x1b]52')
    expect(line).toContain('\\u202e')
    expect(line).not.toMatch(/[\x1b\u202e\x07]/)
  } finally {
    w.proc.kill('SIGTERM')
    await w.proc.exited
  }
}, 60_000)
