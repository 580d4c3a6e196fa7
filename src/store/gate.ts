/**
 * Which labels are public, and the sharing gate of POST /peer/sync (contract): a memory is
 * served only if its label starts with a public prefix, its content is not vault ciphertext,
 * its label is not a peer copy's, it is ours (not pulled from a peer), and it is not held (its
 * content looked like a credential when written: secret-scan.ts; the operator may release it).
 */
import { VAULT_PREFIX } from './vault'

/** Labels of copies pulled from peers: `peer:<peer-id>:<origin label>`. Reserved for those. */
export const PEER_LABEL_PREFIX = 'peer:'

export function isPublicLabel(label: string, prefixes: readonly string[]): boolean {
  for (const p of prefixes) if (label.startsWith(p)) return true
  return false
}

export function copyLabel(peerId: string, originLabel: string): string {
  return `${PEER_LABEL_PREFIX}${peerId}:${originLabel}`
}

export function isGateEligible(row: { label: string; content: string; origin_peer: string | null; held?: number }, prefixes: readonly string[]): boolean {
  return (
    row.origin_peer === null &&
    !row.held &&
    !row.label.startsWith(PEER_LABEL_PREFIX) &&
    !row.content.startsWith(VAULT_PREFIX) &&
    isPublicLabel(row.label, prefixes)
  )
}
