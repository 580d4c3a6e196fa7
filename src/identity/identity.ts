/**
 * Who we are: pod id, name, X25519 key pair, vault key and admin token, plus the operations
 * that need the private key (pair keys). The private key never leaves this closure; secrets
 * are non-enumerable so logging or serialising an Identity does not print them.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { formatHandshakeUrl } from './handshake'
import { importPrivateKey, publicKeyFromPrivate } from './keys'
import { derivePairKeyBytes, importPairKey, type PairKey } from './pair-key'
import { deriveRendezvousProofKey, type RendezvousProofKey } from './rendezvous-proof'
import type { PodId, PublicKey } from './types'

/** Pair keys cached per identity; far more than any mesh, small enough to never matter. */
const PAIR_KEY_CACHE_MAX = 10_000

export interface Identity {
  podId: PodId
  name: string
  publicKey: PublicKey
  vaultKey: Uint8Array
  adminToken: string
  /** Our advertised base URLs now, in preference order (pod.toml `advertise`). */
  advertise(): readonly string[]
  /** Our handshake URL, carrying our advertised URLs; `urls` replaces them (e.g. a test's own port). */
  handshakeUrl(opts?: { urls?: readonly string[] }): string
  /** Constant-time check of a presented admin token (lengths do not leak either). */
  checkAdminToken(presented: string | undefined): boolean
  /** HMAC-SHA256 key of the pair key with this peer, cached per (peer id, peer key). */
  pairKey(peerId: PodId, peerKey: PublicKey): Promise<PairKey>
  /** K of the rendezvous proof for our id at the rendezvous with this public key (cached per key). */
  rendezvousProofKey(rendezvousKey: PublicKey): Promise<RendezvousProofKey>
}

export interface IdentityInit {
  podId: PodId
  name: string
  /** 32-byte X25519 private scalar. */
  privateKey: Uint8Array
  vaultKey: Uint8Array
  adminToken: string
  /** Our advertised URLs as they are now (pod.toml `advertise`; the pod may change them at run time). */
  advertise?: () => readonly string[]
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}

export async function createIdentity(init: IdentityInit): Promise<Identity> {
  const publicKey = publicKeyFromPrivate(init.privateKey)
  const privateKey = await importPrivateKey(init.privateKey, publicKey)
  // Digests have a fixed length, so timingSafeEqual never sees (or leaks) differing lengths.
  const tokenDigest = sha256(init.adminToken)
  const pairKeys = new Map<string, Promise<PairKey>>()
  // One rendezvous per pod, so one entry is enough; a new rendezvous key replaces it.
  let rdvKey: { key: PublicKey; k: Promise<RendezvousProofKey> } | null = null

  const identity = {
    podId: init.podId,
    name: init.name,
    publicKey,
    advertise: () => init.advertise?.() ?? [],
    handshakeUrl(opts: { urls?: readonly string[] } = {}): string {
      const urls = opts.urls ?? init.advertise?.() ?? []
      return formatHandshakeUrl({ podId: init.podId, key: publicKey, name: init.name, urls })
    },
    checkAdminToken(presented: string | undefined): boolean {
      if (typeof presented !== 'string' || presented === '') return false
      return timingSafeEqual(sha256(presented), tokenDigest)
    },
    pairKey(peerId: PodId, peerKey: PublicKey): Promise<PairKey> {
      const cacheKey = `${peerId}|${peerKey}`
      let key = pairKeys.get(cacheKey)
      if (!key) {
        key = derivePairKeyBytes(privateKey, peerKey, init.podId, peerId).then(importPairKey)
        // A failed derivation is not cached: the next call reports the error again.
        key.catch(() => {
          if (pairKeys.get(cacheKey) === key) pairKeys.delete(cacheKey)
        })
        if (pairKeys.size >= PAIR_KEY_CACHE_MAX) pairKeys.delete(pairKeys.keys().next().value!)
        pairKeys.set(cacheKey, key)
      }
      return key
    },
    rendezvousProofKey(rendezvousKey: PublicKey): Promise<RendezvousProofKey> {
      if (rdvKey?.key === rendezvousKey) return rdvKey.k
      const k = deriveRendezvousProofKey(privateKey, rendezvousKey, init.podId, rendezvousKey)
      const entry = { key: rendezvousKey, k }
      // A failed derivation (unusable key) is not cached: the next call reports it again.
      k.catch(() => {
        if (rdvKey === entry) rdvKey = null
      })
      rdvKey = entry
      return k
    },
  } as Identity
  // Getters, not values: console.log shows `[Getter]` and JSON.stringify skips them.
  const { vaultKey, adminToken } = init
  Object.defineProperty(identity, 'vaultKey', { get: () => vaultKey, enumerable: false })
  Object.defineProperty(identity, 'adminToken', { get: () => adminToken, enumerable: false })
  return identity
}
