import { describe, expect, test } from 'bun:test'
import { FakeClock } from '../../src/lib/clock'
import { createWaiterRegistry, type WaitOutcome } from '../../src/live'
import { ScopeMatchers } from '../../src/scope'
import type { CommitListener, CommittedChange } from '../../src/store'

function setup() {
  const clock = new FakeClock()
  const listeners = new Set<CommitListener>()
  const scopes = new ScopeMatchers()
  const reg = createWaiterRegistry({ clock, scopes, onCommit: (l) => (listeners.add(l), () => void listeners.delete(l)) })
  const commit = (...changes: Partial<CommittedChange>[]) => {
    const full = changes.map(
      (c) => ({ op: 'insert', id: 'x', origin_peer: null, label: '', deleted: false, encrypted: false, feed: null, ...c }) as CommittedChange,
    )
    for (const l of listeners) l(full)
  }
  return { clock, reg, commit, listeners, scopes }
}

/** The outcome if settled by now, else 'held'. */
async function state(p: Promise<WaitOutcome>): Promise<WaitOutcome | 'held'> {
  return Promise.race([p, new Promise<'held'>((r) => setTimeout(() => r('held'), 0))])
}

describe('waiter registry', () => {
  test('wait expires exactly at its deadline on the injected clock', async () => {
    const { clock, reg } = setup()
    const p = reg.wait(['public:*'], 30_000)
    clock.advance(29_999)
    expect(await state(p)).toBe('held')
    clock.advance(1)
    expect(await p).toBe('timeout')
    expect(reg.held).toBe(0)
  })

  test('a change served under a matching label wakes; private, out-of-scope and copy changes do not', async () => {
    const { reg, commit } = setup()
    const p = reg.wait(['public:team*'], 50_000)
    commit({ label: 'secret:x' }) // private: no feed entry
    commit({ label: 'public:other', feed: { served: 'public:other', was: null } }) // out of scope
    commit({ label: 'peer:abc:public:team1', origin_peer: 'abc' }) // a pulled copy
    expect(await state(p)).toBe('held')
    commit({ label: 'public:team1', feed: { served: 'public:team1', was: null } })
    expect(await p).toBe('changed')
  })

  test('holds are grouped by what their scope says: a frozen array once, an array changed between holds anew', async () => {
    const { reg, commit } = setup()
    const frozen = Object.freeze(['public:a*'])
    const first = reg.wait(frozen, 50_000)
    const second = reg.wait(frozen, 50_000)
    const mutable = ['public:a*']
    const before = reg.wait(mutable, 50_000)
    mutable[0] = 'public:b*'
    const after = reg.wait(mutable, 50_000)
    commit({ label: 'public:b1', feed: { served: 'public:b1', was: null } })
    expect(await after).toBe('changed')
    expect(await state(before)).toBe('held')
    expect(await state(first)).toBe('held')
    commit({ label: 'public:a1', feed: { served: 'public:a1', was: null } })
    expect([await first, await second, await before]).toEqual(['changed', 'changed', 'changed'])
  })

  test('a tombstone wakes the scopes that matched the label it was served under', async () => {
    const { reg, commit } = setup()
    const inScope = reg.wait(['public:a*'], 50_000)
    const outOfScope = reg.wait(['public:z*'], 50_000)
    commit({ op: 'update', deleted: true, feed: { served: null, was: 'public:a1' } })
    expect(await inScope).toBe('changed')
    expect(await state(outOfScope)).toBe('held')
    expect(reg.held).toBe(1)
  })

  test('one timer for many waiters: deadlines in any order settle in order, aborted ones leave the heap', async () => {
    const { clock, reg } = setup()
    const order: number[] = []
    const waits = [5000, 1000, 3000, 2000, 4000].map((ms) => reg.wait(['*'], ms).then((o) => (order.push(ms), o)))
    const ac = new AbortController()
    const aborted = reg.wait(['*'], 2500, { signal: ac.signal })
    expect(clock.sleeping).toBe(1)
    ac.abort()
    expect(await aborted).toBe('aborted')
    for (let t = 0; t < 5; t++) {
      clock.advance(1000)
      await Bun.sleep(0)
    }
    expect(await Promise.all(waits)).toEqual(['timeout', 'timeout', 'timeout', 'timeout', 'timeout'])
    expect(order).toEqual([1000, 2000, 3000, 4000, 5000])
    expect(reg.held).toBe(0)
  })

  test('expiries are answered in batches: deadlines up to 1 s after the firing one go with it, none more than 1/20 of its wait early', async () => {
    const { clock, reg } = setup()
    const t0 = clock.now()
    const settledAt = new Map<string, number>()
    const hold = (name: string, ms: number) => void reg.wait(['*'], ms).then(() => settledAt.set(name, clock.now() - t0))
    hold('first', 45_000) // deadline 45,000: the timer fires here
    clock.advance(800)
    hold('0.8 s later', 45_000) // deadline 45,800: within 1 s of the firing one
    clock.advance(300)
    hold('1.1 s later', 45_000) // deadline 46,100: over 1 s after it
    clock.advance(44_400 - 1100)
    hold('short wait', 1500) // deadline 45,900, within 1 s too, but a 1.5 s wait may lose 75 ms at most
    expect(clock.sleeping).toBe(1)
    clock.advance(45_000 - 44_400)
    await Bun.sleep(0)
    expect(Object.fromEntries(settledAt)).toEqual({ first: 45_000, '0.8 s later': 45_000 })
    clock.advance(900) // the short wait's own deadline: it fires, and the 46,100 one (1 s slack) goes with it
    await Bun.sleep(0)
    expect(Object.fromEntries(settledAt)).toEqual({ first: 45_000, '0.8 s later': 45_000, 'short wait': 45_900, '1.1 s later': 45_900 })
    expect(reg.held).toBe(0)
  })

  test('close answers every held request at once and holds no new one; no timer is left', async () => {
    const { clock, reg, listeners } = setup()
    const held = [reg.wait(['*'], 50_000), reg.wait(['public:*'], 50_000)]
    reg.close()
    expect(await Promise.all(held)).toEqual(['closed', 'closed'])
    expect(await reg.wait(['*'], 50_000)).toBe('closed')
    await Bun.sleep(0)
    expect(clock.sleeping).toBe(0)
    expect(listeners.size).toBe(0)
  })

  test('2,000 held requests: one armed sleep, and a commit matching one scope settles only that group', async () => {
    const { clock, reg, commit } = setup()
    const a = Array.from({ length: 1000 }, () => reg.wait(['public:a*'], 50_000))
    const b = Array.from({ length: 1000 }, () => reg.wait(['public:b*'], 50_000))
    expect(reg.held).toBe(2000)
    expect(clock.sleeping).toBe(1)
    commit({ feed: { served: 'public:a1', was: null } })
    expect(new Set(await Promise.all(a))).toEqual(new Set(['changed']))
    expect(reg.held).toBe(1000)
    clock.advance(50_000)
    expect(new Set(await Promise.all(b))).toEqual(new Set(['timeout']))
  })
})

describe('bounds per peer', () => {
  test('a third held request from one peer answers its oldest at once; other peers are not touched', async () => {
    const { reg } = setup()
    const first = reg.wait(['public:a*'], 50_000, { holder: 'p1' })
    const second = reg.wait(['public:b*'], 50_000, { holder: 'p1' })
    const other = reg.wait(['public:a*'], 50_000, { holder: 'p2' })
    expect(reg.held).toBe(3)
    const third = reg.wait(['public:c*'], 50_000, { holder: 'p1' })
    expect(await first).toBe('superseded')
    expect(await state(second)).toBe('held')
    expect(await state(third)).toBe('held')
    expect(await state(other)).toBe('held')
    expect(reg.held).toBe(3)
  })

  test('600 requests with distinct 16-glob scopes from one peer: at most 2 are held, every other one is answered', async () => {
    const { reg, scopes } = setup()
    const scope = (i: number) => Array.from({ length: 16 }, (_, g) => `*${(i + g) % 10}??${i}?${g}*`)
    const waits = Array.from({ length: 600 }, (_, i) => reg.wait(scope(i), 50_000, { holder: 'hostile' }))
    expect(reg.held).toBe(2)
    const outcomes = await Promise.all(waits.slice(0, -2))
    expect(new Set(outcomes)).toEqual(new Set(['superseded']))
    expect(scopes.bytes).toBeLessThan(scopes.budgetBytes)
  })

  test('an answered, aborted or expired request frees its place under the cap', async () => {
    const { clock, reg, commit } = setup()
    const ac = new AbortController()
    const a = reg.wait(['public:a*'], 10_000, { holder: 'p', signal: ac.signal })
    const b = reg.wait(['public:b*'], 50_000, { holder: 'p' })
    ac.abort()
    expect(await a).toBe('aborted')
    const c = reg.wait(['public:c*'], 50_000, { holder: 'p' })
    expect(await state(b)).toBe('held') // the aborted one left: b is not superseded
    commit({ feed: { served: 'public:b1', was: null } })
    expect(await b).toBe('changed')
    const d = reg.wait(['public:d*'], 5_000, { holder: 'p' })
    expect(await state(c)).toBe('held')
    clock.advance(5_000)
    expect(await d).toBe('timeout')
    reg.wait(['public:e*'], 50_000, { holder: 'p' })
    expect(await state(c)).toBe('held')
    expect(reg.held).toBe(2)
  })
})

describe('a commit does not wait for the requests it wakes', () => {
  test("woken requests are answered after the commit's caller, in batches", async () => {
    const { reg, commit } = setup()
    const settled: number[] = []
    const waits = Array.from({ length: 200 }, (_, i) => reg.wait(['public:*'], 50_000).then((o) => (settled.push(i), o)))
    commit({ feed: { served: 'public:x', was: null } })
    expect(reg.held).toBe(0) // woken at once: a later commit cannot wake them twice
    for (let i = 0; i < 5; i++) await Promise.resolve()
    expect(settled).toEqual([]) // the committing caller's own continuation runs first
    await new Promise((r) => setImmediate(r))
    expect(settled.length).toBeGreaterThan(0)
    expect(settled.length).toBeLessThan(200) // one batch per turn of the event loop
    expect(new Set(await Promise.all(waits))).toEqual(new Set(['changed']))
  })
})

describe('shared pages', () => {
  const pageOf = (n: number, entries = 0) => ({ answer: new Uint8Array(8), memories: Array(entries).fill({}), n })

  test('callers share one computation until the next commit', () => {
    const { reg, commit } = setup()
    let computed = 0
    const make = () => pageOf(++computed)
    expect([reg.shared('k', make).n, reg.shared('k', make).n, reg.shared('other', make).n]).toEqual([1, 1, 2])
    commit({ label: 'secret:x' }) // any commit: the feed may have moved
    expect(reg.shared('k', make).n).toBe(3)
    expect(reg.shared('k', make).n).toBe(3)
  })

  test('a page with entries is kept while woken requests are answered, then dropped; empty pages stay', async () => {
    const { reg, commit } = setup()
    let computed = 0
    const waits = Array.from({ length: 200 }, () => reg.wait(['public:*'], 50_000))
    commit({ feed: { served: 'public:x', was: null } })
    const full = () => pageOf(++computed, 1)
    const empty = () => pageOf(++computed)
    expect(reg.shared('full', full).n).toBe(1)
    expect(reg.shared('empty', empty).n).toBe(2)
    await new Promise((r) => setImmediate(r)) // one batch answered, more to come
    expect(reg.shared('full', full).n).toBe(1)
    await Promise.all(waits)
    for (let i = 0; i < 6; i++) await new Promise((r) => setImmediate(r))
    expect(reg.shared('full', full).n).toBe(3) // dropped once the wake was answered
    expect(reg.shared('empty', empty).n).toBe(2)
  })
})
