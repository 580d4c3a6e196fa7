/**
 * A small Prometheus registry: counters and histograms with labels, plus gauges computed at
 * scrape time. Text exposition format 0.0.4.
 */
type Labels = Record<string, string>

const DEFAULT_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** Characters a label value escapes; most values (ids, routes, codes) have none. */
const NEEDS_ESCAPE = /[\\\n"]/

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) =>
    NEEDS_ESCAPE.test(v) ? `${k}="${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"` : `${k}="${v}"`,
  )
  return parts.length ? `{${parts.join(',')}}` : ''
}

/**
 * One key per label set, whatever order its names come in. Called on every request (a hub
 * answers thousands a second): names are sorted only when they are not in order already, and no
 * intermediate arrays or JSON are built. Label values are our own (routes, ids, codes); the
 * separators are control characters none of them holds.
 */
function keyOf(labels: Labels): string {
  const names = Object.keys(labels)
  for (let i = 1; i < names.length; i++) {
    if (names[i - 1]! > names[i]!) {
      names.sort()
      break
    }
  }
  let key = ''
  for (const name of names) key += `${name}\u0000${labels[name]}\u0001`
  return key
}

export class Counter {
  #values = new Map<string, { labels: Labels; value: number }>()
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    this.#entry(labels).value += by
  }
  /** The series of `labels` (made now, at 0, if new), for a caller that adds to it on every request. */
  series(labels: Labels): { inc(by?: number): void } {
    const entry = this.#entry(labels)
    return {
      inc(by = 1) {
        entry.value += by
      },
    }
  }
  #entry(labels: Labels): { labels: Labels; value: number } {
    const k = keyOf(labels)
    let cur = this.#values.get(k)
    if (!cur) this.#values.set(k, (cur = { labels, value: 0 }))
    return cur
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`]
    for (const { labels, value } of this.#values.values()) lines.push(`${this.name}${labelText(labels)} ${value}`)
    return lines.join('\n')
  }
}

export class Histogram {
  #series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>()
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: number[] = DEFAULT_BUCKETS_S,
  ) {}
  observe(labels: Labels, value: number): void {
    this.#observeIn(this.#entry(labels), value)
  }
  /** The series of `labels` (made now, empty, if new), for a caller that observes into it on every request. */
  series(labels: Labels): { observe(value: number): void } {
    const entry = this.#entry(labels)
    return { observe: (value) => this.#observeIn(entry, value) }
  }
  #entry(labels: Labels): { labels: Labels; counts: number[]; sum: number; count: number } {
    const k = keyOf(labels)
    let s = this.#series.get(k)
    if (!s) this.#series.set(k, (s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 }))
    return s
  }
  #observeIn(s: { counts: number[]; sum: number; count: number }, value: number): void {
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++
    s.sum += value
    s.count++
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`]
    for (const s of this.#series.values()) {
      this.buckets.forEach((b, i) => lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: String(b) })} ${s.counts[i]}`))
      lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}`)
      lines.push(`${this.name}_sum${labelText(s.labels)} ${s.sum}`)
      lines.push(`${this.name}_count${labelText(s.labels)} ${s.count}`)
    }
    return lines.join('\n')
  }
}

/** A gauge whose samples are read when scraped. */
export function renderGauge(name: string, help: string, samples: { labels?: Labels; value: number }[]): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`]
  for (const s of samples) lines.push(`${name}${labelText(s.labels ?? {})} ${s.value}`)
  return lines.join('\n')
}
