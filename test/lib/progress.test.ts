/** The progress reporter: one updating line on a terminal, periodic plain lines otherwise, log lines; time injected. */
import { describe, expect, test } from 'bun:test'
import { memoryLogger } from '../../src/lib/log'
import { createProgress, duration } from '../../src/lib/progress'

function sink(isTTY: boolean) {
  const writes: string[] = []
  return { writes, out: { isTTY, write: (s: string) => writes.push(s) } }
}

describe('progress', () => {
  test('a terminal gets one line redrawn in place with count, rate and time left, cleared at the end', () => {
    let t = 0
    const { writes, out } = sink(true)
    const p = createProgress({ what: 'import', unit: 'memories', total: 10_000, out, now: () => t })
    for (let i = 0; i < 5000; i++) {
      t += 1 // 1,000 a second
      p.add()
    }
    expect(writes.length).toBeGreaterThan(5)
    // Never more often than the redraw period: 4 s of work after the 1 s quiet start, one per 200 ms.
    expect(writes.length).toBeLessThanOrEqual(21)
    for (const w of writes) expect(w.startsWith('\r\x1b[Kimport: ')).toBe(true)
    expect(writes.at(-1)).toContain('/10,000 memories')
    expect(p.line()).toBe('5,000/10,000 memories (50 %), 1,000 memories/s, ~5 s left')
    p.finish()
    expect(writes.at(-1)).toBe('\r\x1b[K')
  })

  test('not a terminal: a plain line every 10 s, never a carriage return', () => {
    let t = 0
    const { writes, out } = sink(false)
    const p = createProgress({ what: 'export', unit: 'memories', out, now: () => t })
    for (let i = 0; i < 35; i++) {
      t += 1000
      p.add(100)
    }
    // The clock starts at the first step (t = 1 s): lines at 11, 21 and 31 s.
    expect(writes).toEqual(['export: 1,100 memories, 100 memories/s\n', 'export: 2,100 memories, 100 memories/s\n', 'export: 3,100 memories, 100 memories/s\n'])
    p.finish()
    expect(writes.length).toBe(3)
  })

  test('work that ends within the quiet second shows nothing', () => {
    let t = 0
    const { writes, out } = sink(true)
    const p = createProgress({ what: 'import', unit: 'memories', total: 3, out, now: () => t })
    for (let i = 0; i < 3; i++) {
      t += 10
      p.add()
    }
    p.finish()
    expect(writes).toEqual([])
  })

  test('the log gets a periodic info line with count, total, rate and seconds left', () => {
    let t = 0
    const log = memoryLogger('info')
    const p = createProgress({ what: 'pull', unit: 'memories', total: 100_000, log, now: () => t })
    for (let i = 0; i < 25; i++) {
      t += 1000
      p.add(2000)
    }
    expect(log.lines.length).toBe(2)
    expect(log.lines[0]).toContain('op=pull count=22000 total=100000 rate=2000 left_s=39')
  })

  test('the rate follows the last few seconds, so time left follows a run that slows down', () => {
    let t = 0
    const p = createProgress({ what: 'backup', unit: 'bytes', total: 100 * 1024 * 1024, now: () => t })
    for (let i = 0; i < 10; i++) {
      t += 1000
      p.add(8 * 1024 * 1024)
    }
    for (let i = 0; i < 10; i++) {
      t += 1000
      p.add(1024 * 1024)
    }
    expect(p.line()).toBe('90 MiB/100 MiB (90 %), 1.0 MiB/s, ~10 s left')
  })

  test('time before the first step (a key derivation, a pod starting) is not counted as slow work', () => {
    let t = 0
    const { writes, out } = sink(false)
    const p = createProgress({ what: 'backup', unit: 'bytes', total: 10 * 1024 * 1024, out, now: () => t })
    t += 40_000 // scrypt on a loaded machine
    for (let i = 0; i < 11; i++) {
      p.add(512 * 1024)
      t += 1000
    }
    // One plain line 10 s after the first step, at the rate of the work, not of the wait before it.
    expect(writes).toEqual(['backup: 5.5 MiB/10 MiB (55 %), 512 KiB/s, ~9 s left\n'])
  })

  test('durations read as a person says them', () => {
    expect(duration(0.2)).toBe('1 s')
    expect(duration(200)).toBe('3 min 20 s')
    expect(duration(7500)).toBe('2 h 5 min')
  })
})
