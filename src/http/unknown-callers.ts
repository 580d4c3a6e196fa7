/**
 * Pods that tried to pull from us without being a peer: what `peer list`, `/peer/peers` and the
 * panel show as "pods that tried to pull from you", so an operator whose peer pasted first sees
 * that one side of the pairing is missing. The caller id comes from an unauthenticated Bearer,
 * so it is attacker-controlled: the list is bounded (least recently seen evicted), log lines
 * are bounded per id (once an hour) and overall, and it is display data only — nothing here
 * can make a caller a peer; that takes a pasted handshake URL.
 */
import { HOUR_MS } from '../lib/clock'
import { isPodId, shortId } from '../identity'

/** Distinct callers remembered; older ones are forgotten first. */
export const UNKNOWN_CALLERS_MAX = 32
/** One log line per caller per this long. */
export const UNKNOWN_CALLER_LOG_EVERY_MS = HOUR_MS
/** Log lines about unknown callers per hour in all, whatever the number of ids (a flood of random ids). */
export const UNKNOWN_CALLER_LOGS_PER_HOUR = 20

export interface UnknownCaller {
  /** Short form (8 hex digits) of the id the caller claimed. */
  id: string
  first_seen: string
  last_seen: string
  count: number
}

interface Entry {
  first: number
  last: number
  count: number
  loggedAt: number | null
}

export class UnknownCallers {
  #entries = new Map<string, Entry>()
  #logWindowStart = 0
  #logsInWindow = 0

  /**
   * Records a refused request from `callerId` at `nowMs`. Returns true when this one should be
   * logged (first time this hour for that id, within the overall budget). Ids that are not
   * well-formed pod ids are not recorded.
   */
  note(callerId: string, nowMs: number): boolean {
    if (!isPodId(callerId)) return false
    let e = this.#entries.get(callerId)
    if (e)
      this.#entries.delete(callerId) // re-inserted below: Map order = least recently seen first
    else {
      e = { first: nowMs, last: nowMs, count: 0, loggedAt: null }
      while (this.#entries.size >= UNKNOWN_CALLERS_MAX) this.#entries.delete(this.#entries.keys().next().value!)
    }
    e.last = nowMs
    e.count++
    this.#entries.set(callerId, e)
    if (e.loggedAt !== null && nowMs - e.loggedAt < UNKNOWN_CALLER_LOG_EVERY_MS) return false
    if (nowMs - this.#logWindowStart >= HOUR_MS) {
      this.#logWindowStart = nowMs
      this.#logsInWindow = 0
    }
    if (this.#logsInWindow >= UNKNOWN_CALLER_LOGS_PER_HOUR) return false
    this.#logsInWindow++
    e.loggedAt = nowMs
    return true
  }

  /** Most recently seen first; `skip(id)` leaves out ids that are peers by now. */
  list(skip: (id: string) => boolean = () => false): UnknownCaller[] {
    const out: UnknownCaller[] = []
    for (const [id, e] of this.#entries) {
      if (skip(id)) continue
      out.push({ id: shortId(id), first_seen: new Date(e.first).toISOString(), last_seen: new Date(e.last).toISOString(), count: e.count })
    }
    return out.reverse()
  }
}
