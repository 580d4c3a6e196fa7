/**
 * Whether a pull may go on: the relationship it started under against the one peers.toml and
 * the key files say now. A pull stops when the peer is removed, paused or loses its key file
 * (pulled again an interval later, if at all), and when what the pull asks with changes: the
 * key, scope, URLs or `live` (pulled again at once, under the new settings).
 */
import { type PeerRecord, peerUrls } from '../identity'
import type { SkipReason } from '../lib/codes'
import { scopeNarrows } from '../scope'

/** null while a pull that started with `started` may go on, else why it stops (`now`: the peer now, null when removed). */
export function stopReason(started: PeerRecord, now: PeerRecord | null): SkipReason | null {
  if (!now) return 'removed'
  if (!now.key) return 'revoked'
  if (now.key !== started.key) return 'key_changed'
  if (!now.sync) return 'paused'
  if (!sameList(now.scope, started.scope)) return 'scope_changed'
  if (!sameList(peerUrls(now), peerUrls(started))) return 'url_changed'
  if ((now.live !== false) !== (started.live !== false)) return 'live_changed'
  return null
}

/**
 * After a stop for `why`, the next pull goes on from the same cursor: a narrowed scope keeps it
 * (the store's resetScope), so a live peer is held again at once, with no catch-up pull first.
 */
export function keepsCursor(why: string, started: PeerRecord, now: PeerRecord | null): boolean {
  return why === 'scope_changed' && now !== null && scopeNarrows(started.scope, now.scope)
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}
