/**
 * Time, injected. Production uses `systemClock`; tests use `FakeClock` and `advance(ms)`
 * so a five-minute tick is tested without sleeping five minutes.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
  /** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve()
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        signal?.removeEventListener('abort', done)
        resolve()
      }
      signal?.addEventListener('abort', done, { once: true })
    })
  },
}

interface Sleeper {
  until: number
  resolve: () => void
}

/** A clock that only moves when told to. Sleepers wake in deadline order as time advances. */
export class FakeClock implements Clock {
  #now: number
  #sleepers: Sleeper[] = []

  constructor(start = Date.parse('2026-05-26T10:00:00.000Z')) {
    this.#now = start
  }

  now(): number {
    return this.#now
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve()
      const sleeper: Sleeper = { until: this.#now + ms, resolve: () => wake() }
      const wake = () => {
        this.#sleepers = this.#sleepers.filter((s) => s !== sleeper)
        signal?.removeEventListener('abort', wake)
        resolve()
      }
      signal?.addEventListener('abort', wake, { once: true })
      this.#sleepers.push(sleeper)
    })
  }

  /** Number of pending sleeps (lets a test wait until a loop has gone back to sleep). */
  get sleeping(): number {
    return this.#sleepers.length
  }

  /** Moves time forward, waking every sleeper whose deadline has passed. */
  advance(ms: number): void {
    this.#now += ms
    const due = this.#sleepers.filter((s) => s.until <= this.#now).sort((a, b) => a.until - b.until)
    for (const s of due) s.resolve()
  }

  set(ms: number): void {
    this.#now = ms
  }
}

export const SECOND_MS = 1000
export const MINUTE_MS = 60 * SECOND_MS
export const HOUR_MS = 60 * MINUTE_MS
