/**
 * A proxy that cuts held long-polls: a tunnel or reverse proxy between us and a live peer whose
 * idle limit is shorter than our `wait` answers the held request with a gateway error (502, 504,
 * Cloudflare's 524, …) or drops the connection, always after about the same time. Left alone,
 * every long-poll would fail, back off and flip the peer to `error` (memories still arrive, but
 * only at the next backoff pull).
 *
 * The puller adapts instead: one cut is retried live at once (it may have been the peer
 * restarting); a second cut at about the same time is the proxy's limit, so long-polls to that
 * peer wait PROXY_CUT_MARGIN of it from then on, and the operator is told which timeout to raise.
 * Once the operator has, nothing would notice: so every PROXY_REPROBE_MS one long-poll asks for
 * the full wait again (a probe). Held as long as the proxy used to allow, the full wait is back;
 * cut again, the lowered wait stays until the next probe. Pure functions; sync-loop.ts holds the state.
 */
import { LIVE_MIN_HOLD_MS, PROXY_REPROBE_MS } from './constants'

/** What a proxy answers when it gives up on a slow upstream (524: Cloudflare's timeout), or a dropped connection. */
const CUT_CODES: ReadonlySet<string> = new Set(['http_502', 'http_503', 'http_504', 'http_524', 'request_failed'])
/** The adapted wait is this fraction of the limit observed, so it stays clear of it. */
export const PROXY_CUT_MARGIN = 0.8
/** Two cuts agree when this close (or within 20 % of the first): a proxy's limit, not chance. */
const AGREE_MS = 1000

/**
 * True when a live pull that failed with `code` after `elapsedMs` of a `waitS`-second hold looks
 * like a proxy giving up on it: a gateway error after a real hold, before our wait ran out.
 */
export function isProxyCut(code: string, elapsedMs: number, waitS: number): boolean {
  return CUT_CODES.has(code) && elapsedMs >= LIVE_MIN_HOLD_MS && elapsedMs < waitS * 1000
}

/** Whether two cuts happened after about the same hold. */
export function cutsAgree(firstMs: number, secondMs: number): boolean {
  return Math.abs(firstMs - secondMs) <= Math.max(AGREE_MS, 0.2 * firstMs)
}

/** The wait (whole seconds) that fits under a proxy observed to cut after `cutMs`; 0 = too short to hold at all. */
export function waitUnder(cutMs: number): number {
  const s = Math.floor((cutMs / 1000) * PROXY_CUT_MARGIN)
  // A hold of 1 s is what LIVE_MIN_HOLD_MS calls "not held": such a proxy leaves the interval alone.
  return s * 1000 > LIVE_MIN_HOLD_MS ? s : 0
}

/** A peer's lowered wait: `waitS` (0 = no long-polls) under a proxy seen cutting at `cutMs`; the full wait is tried again at `probeAt`. */
export interface LoweredWait {
  waitS: number
  cutMs: number
  probeAt: number
}

/** The state after two cuts at about `cutMs` agreed, at `now`. */
export function lowerWait(cutMs: number, now: number): LoweredWait {
  return { waitS: waitUnder(cutMs), cutMs, probeAt: now + PROXY_REPROBE_MS }
}

/** Whether the next long-poll to a peer with a lowered wait should try the full wait (a probe). */
export function probeDue(lowered: LoweredWait, now: number): boolean {
  return now >= lowered.probeAt
}

/**
 * Whether a probe answered after `heldMs` (a change, or its `waitS` ran out) shows the proxy no
 * longer cuts: held past the old limit. A change that arrived sooner says nothing either way.
 */
export function probeHeld(lowered: LoweredWait, heldMs: number, waitS: number): boolean {
  return heldMs >= Math.min(lowered.cutMs, waitS * 1000)
}

/** The line for a probe that was held: the proxy was fixed. */
export function proxyFixedMessage(p: { heldMs: number; cutMs: number; waitS: number }): string {
  return (
    `the proxy or tunnel in front of this peer answered a full ${Math.round(p.heldMs / 1000)} s hold ` +
    `(it cut at about ${Math.round(p.cutMs / 1000)} s before): long-polls wait ${p.waitS} s again`
  )
}

/** The operator's line: what happened and the two ways to fix it. */
export function proxyCutMessage(p: { url: string; code: string; cutMs: number; waitS: number; nowS: number }): string {
  const cutS = Math.round(p.cutMs / 1000)
  const what = p.code === 'request_failed' ? 'dropped the connection' : `answered ${p.code.replace('http_', '')}`
  const now =
    p.nowS > 0 ? `long-polls to this peer now wait ${p.nowS} s instead of ${p.waitS} s` : 'long-polls to this peer are off (it is pulled on the interval)'
  return (
    `a proxy or tunnel in front of ${p.url} cut held requests after about ${cutS} s (${what}, twice): ${now}. ` +
    `Fix: raise that proxy's read/idle timeout to ${p.waitS + 10} s or more (this pod tries the full wait again every hour and keeps it once it is held), ` +
    `or set MAZEMAKER_LIVE_WAIT below ${cutS} on this pod`
  )
}
