/**
 * Protocol versions (contract Part 1c): what this release speaks, how a request names the version
 * it wants, and how two sides settle on one. A release speaks its own version and the previous
 * one; version 2 is the first deployed, so for now that is the whole list.
 */

/** The version this release speaks natively; /healthz names it. */
export const PROTOCOL_VERSION = 2
/** Every version this release answers and can pull with, highest first. */
export const SUPPORTED_PROTOCOLS: readonly number[] = [PROTOCOL_VERSION]
/** A request without the header asks for this version. */
export const DEFAULT_PROTOCOL = 2

/**
 * The version a request asks for from its Mzm-Protocol header: DEFAULT_PROTOCOL when absent, null
 * when the value is not a version we speak (anything but a plain decimal in SUPPORTED_PROTOCOLS).
 */
export function requestedProtocol(header: string | null | undefined, supported: readonly number[] = SUPPORTED_PROTOCOLS): number | null {
  if (header === null || header === undefined) return supported.includes(DEFAULT_PROTOCOL) ? DEFAULT_PROTOCOL : null
  if (!/^\s*\d{1,6}\s*$/.test(header)) return null
  const n = Number(header)
  return supported.includes(n) ? n : null
}

/** The highest version both sides speak, or null when they share none. */
export function commonProtocol(ours: readonly number[], theirs: readonly number[]): number | null {
  let best: number | null = null
  for (const v of ours) if (theirs.includes(v) && (best === null || v > best)) best = v
  return best
}

/**
 * What to tell the operator when two pods share no version: both lists, and which side should
 * upgrade (the one whose newest version is older).
 */
export function protocolMismatch(ours: readonly number[], theirs: readonly number[]): string {
  const fmt = (list: readonly number[]) => (list.length === 1 ? `version ${list[0]}` : `versions ${list.join(', ')}`)
  const upgrade = Math.max(...theirs) > Math.max(...ours) ? 'upgrade this pod' : 'the peer should upgrade'
  return `the peer speaks protocol ${fmt(theirs)}, this pod ${fmt(ours)}: ${upgrade}`
}
