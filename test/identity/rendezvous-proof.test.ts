import { describe, expect, test } from 'bun:test'
import { createHmac, createPrivateKey, createPublicKey, diffieHellman, hkdfSync, randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deriveRendezvousProofKey, loadOrCreateX25519KeyPair, signRendezvousProof, verifyRendezvousProof, type PublicKey } from '../../src/identity'
import { importPrivateKey, publicKeyFromPrivate } from '../../src/identity/keys'
import { ID_A, ID_B, testIdentity } from './_keypair'

async function keyPair() {
  const bytes = new Uint8Array(randomBytes(32))
  const publicKey = publicKeyFromPrivate(bytes)
  return { bytes, publicKey, privateKey: await importPrivateKey(bytes, publicKey) }
}

/** The contract's formula written out with node:crypto alone, independently of src/identity. */
function contractProof(podPrivate: Uint8Array, rdvPublic: string, peerId: string, url: string, ts: number): string {
  const priv = createPrivateKey({
    key: { kty: 'OKP', crv: 'X25519', d: Buffer.from(podPrivate).toString('base64url'), x: publicKeyFromPrivate(podPrivate) },
    format: 'jwk',
  })
  const pub = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: rdvPublic }, format: 'jwk' })
  const shared = diffieHellman({ privateKey: priv, publicKey: pub })
  const k = Buffer.from(hkdfSync('sha256', shared, 'mzm-rdv-v1', `${peerId}|${rdvPublic}`, 32))
  return createHmac('sha256', k).update(`mzm-rdv1\n${peerId}\n${url}\n${ts}`).digest('base64url')
}

describe('rendezvous proof of key possession', () => {
  test('the pod (its private key + rendezvous key) and the rendezvous (its private key + pod key) derive the same K; the proof is the contract formula', async () => {
    const pod = await keyPair()
    const rdv = await keyPair()
    const podSide = await deriveRendezvousProofKey(pod.privateKey, rdv.publicKey, ID_A, rdv.publicKey)
    const rdvSide = await deriveRendezvousProofKey(rdv.privateKey, pod.publicKey, ID_A, rdv.publicKey)
    const proof = signRendezvousProof(podSide, ID_A, 'https://pod.example/mzm', 1_780_000_000)
    expect(proof).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(proof).toBe(contractProof(pod.bytes, rdv.publicKey, ID_A, 'https://pod.example/mzm', 1_780_000_000))
    expect(verifyRendezvousProof(rdvSide, ID_A, 'https://pod.example/mzm', 1_780_000_000, proof)).toBe(true)
  })

  test('the proof binds id, url, ts, the pod key and the rendezvous key', async () => {
    const pod = await keyPair()
    const other = await keyPair()
    const rdv = await keyPair()
    const k = await deriveRendezvousProofKey(rdv.privateKey, pod.publicKey, ID_A, rdv.publicKey)
    const proof = signRendezvousProof(await deriveRendezvousProofKey(pod.privateKey, rdv.publicKey, ID_A, rdv.publicKey), ID_A, 'https://a.example', 100)
    expect(verifyRendezvousProof(k, ID_A, 'https://a.example', 100, proof)).toBe(true)
    expect(verifyRendezvousProof(k, ID_A, 'https://b.example', 100, proof)).toBe(false)
    expect(verifyRendezvousProof(k, ID_A, 'https://a.example', 101, proof)).toBe(false)
    expect(
      verifyRendezvousProof(await deriveRendezvousProofKey(rdv.privateKey, pod.publicKey, ID_B, rdv.publicKey), ID_B, 'https://a.example', 100, proof),
    ).toBe(false)
    // Someone who knows the pod's public key but holds another private key cannot make it.
    const forged = signRendezvousProof(await deriveRendezvousProofKey(other.privateKey, rdv.publicKey, ID_A, rdv.publicKey), ID_A, 'https://a.example', 100)
    expect(verifyRendezvousProof(k, ID_A, 'https://a.example', 100, forged)).toBe(false)
    // Malformed proofs are false, never a throw.
    for (const bad of ['', 'short', proof + 'A', '!'.repeat(43)]) expect(verifyRendezvousProof(k, ID_A, 'https://a.example', 100, bad)).toBe(false)
  })

  test('Identity.rendezvousProofKey is the pod side, cached per rendezvous key', async () => {
    const pod = await testIdentity(ID_A)
    const rdv = await keyPair()
    const rdv2 = await keyPair()
    const k = await pod.rendezvousProofKey(rdv.publicKey)
    expect(await pod.rendezvousProofKey(rdv.publicKey)).toBe(k)
    const rdvSide = await deriveRendezvousProofKey(rdv.privateKey, pod.publicKey, ID_A, rdv.publicKey)
    expect(verifyRendezvousProof(rdvSide, ID_A, 'https://x.example', 5, signRendezvousProof(k, ID_A, 'https://x.example', 5))).toBe(true)
    expect(await pod.rendezvousProofKey(rdv2.publicKey)).not.toBe(k)
    await expect(pod.rendezvousProofKey(Buffer.alloc(32).toString('base64url') as PublicKey)).rejects.toThrow(/not a usable X25519 key/)
  })
})

describe('loadOrCreateX25519KeyPair', () => {
  test('creates the private key once (0600 under umask 0, 43 chars + newline) and reads it back after', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mzm-keyfile-'))
    const old = process.umask(0)
    try {
      const path = join(dir, 'rendezvous.key')
      const first = await loadOrCreateX25519KeyPair(path, 'rendezvous.key', 'fix it')
      expect(first.created).toBe(true)
      expect(statSync(path).mode & 0o777).toBe(0o600)
      const text = readFileSync(path, 'utf8')
      expect(text).toMatch(/^[A-Za-z0-9_-]{43}\n$/)
      expect(publicKeyFromPrivate(new Uint8Array(Buffer.from(text.trim(), 'base64url')))).toBe(first.publicKey)
      const again = await loadOrCreateX25519KeyPair(path, 'rendezvous.key', 'fix it')
      expect(again).toMatchObject({ created: false, publicKey: first.publicKey })
      expect(readFileSync(path, 'utf8')).toBe(text)
    } finally {
      process.umask(old)
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
