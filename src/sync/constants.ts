/** Every timing and limit of the sync engine, with its unit in the name; the wire's own are in src/protocol. */
import { HOUR_MS, MINUTE_MS, SECOND_MS } from '../lib/clock'
import { PAGE_LIMIT_MAX } from '../protocol'

// The pull interval's default is pod.toml's (DEFAULT_SYNC_INTERVAL_S in src/config/pod-config.ts).
/** Each peer's next pull is brought forward by up to this fraction of the interval, so pods spread out. */
export const SYNC_JITTER_FRACTION = 0.1
/** Peers pulled at the same time. */
export const MAX_CONCURRENT_PULLS = 8
/**
 * Entries asked for per /peer/sync page: the contract's maximum. Half the round trips and page
 * transactions of its default (500): a 100k pull took about a quarter less CPU on both pods. A
 * peer whose page would be too big sends fewer entries itself.
 */
export const PAGE_LIMIT = PAGE_LIMIT_MAX
/** Pages pulled from one peer in one go before yielding to the next tick (2M memories at 1,000/page). */
export const MAX_PAGES_PER_PULL = 2000
/**
 * One URL attempt until the response headers arrive (plus any long-poll `wait`): short, so a
 * black-holed first URL leaves the next ones most of the pull budget.
 */
export const CONNECT_TIMEOUT_MS = 5 * SECOND_MS
/** One /peer/sync round trip, including reading the body. */
export const REQUEST_TIMEOUT_MS = 30 * SECOND_MS
/** First retry after a failure; doubles per consecutive failure, capped at the sync interval. */
export const BACKOFF_BASE_MS = 5 * SECOND_MS
/**
 * A peer that answered 429 (its door busy: at most 64 unauthenticated requests per address, and
 * behind a tunnel every puller arrives from 127.0.0.1) is asked again within about this long, at
 * random, BUSY_RETRIES times in a row before the ordinary backoff: a live peer is not 5 s late.
 */
export const BUSY_RETRY_MS = SECOND_MS
export const BUSY_RETRIES = 3
/** A peer with no URL yet (rendezvous not answering for it) is looked up again this soon. */
export const PENDING_RETRY_MS = MINUTE_MS
/** Our rendezvous registration is refreshed this often (records expire 300 s after the last one). */
export const RENDEZVOUS_HEARTBEAT_MS = MINUTE_MS
/** A rendezvous lookup is reused this long before asking again. */
export const RENDEZVOUS_CACHE_MS = 4 * MINUTE_MS
/** One rendezvous register or lookup round trip. */
export const RENDEZVOUS_TIMEOUT_MS = 10 * SECOND_MS
/** Largest rendezvous response we read (a valid one is about 2.2 KiB). */
export const RENDEZVOUS_MAX_RESPONSE_BYTES = 64 * 1024
/** One pull from one peer, all pages included; past it the pull stops (err=timeout) and backs off. */
export const PULL_BUDGET_MS = 120 * SECOND_MS
/** While a pull is in flight, its relationship (table, key file, sync = true) is re-read this often. */
export const RELATIONSHIP_CHECK_MS = SECOND_MS
/** Long-poll (contract "Long-poll: wait"): seconds a live peer may hold our empty pull; under tunnels' 100 s idle limits. */
export const LIVE_WAIT_S = 50
/** A live pull answered empty sooner than this was not held (peer shutting down, or it does not hold): back off. */
export const LIVE_MIN_HOLD_MS = SECOND_MS
/** A held long-poll may answer this much after its wait (a hub answering thousands at once, a busy machine). */
export const LONG_POLL_SLACK_MS = 15 * SECOND_MS
/**
 * Live pulls ask for a wait up to this much shorter, at random (45–50 s at the 50 s cap), so
 * held requests do not all expire together. Narrow on purpose: each peer's later re-asks drift
 * apart by its own draws, and every second off the wait is re-asks an idle hub pays for.
 */
export const LIVE_WAIT_JITTER_S = 6
/** After a proxy cut lowered a peer's long-poll wait, one long-poll tries the full wait again this often (the proxy may have been fixed). */
export const PROXY_REPROBE_MS = HOUR_MS
/** Routine pulls are logged at debug; what arrived from a peer is summed up at info at most this often. */
export const PULL_SUMMARY_MS = 5 * MINUTE_MS
