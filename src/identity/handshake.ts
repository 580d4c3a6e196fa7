/**
 * Handshake URLs: `mzm-handshake://<pod-id>?key=<43-char public key>[&name=…][&url=…]…`.
 * Sent out of band by one operator to the other; it carries only public material, so leaking
 * one lets nobody in. `url` may repeat (at most 4, in preference order): the pod's advertised
 * base URLs, so one paste each way is the whole pairing. Parsing is strict and every error
 * names the part that is wrong; unknown parameters are ignored so later versions can add some.
 */
import { BadInput } from '../lib/errors'
import { HANDSHAKE_MAX_URLS } from '../protocol'
import { httpUrlProblem, nameProblem, quote } from '../lib/text-checks'
import { isPodId } from './pod-id'
import { keyTextProblem } from './keys'
import type { PodId, PublicKey } from './types'

export const HANDSHAKE_SCHEME = 'mzm-handshake://'
const HANDSHAKE_MAX_CHARS = 4096
export { HANDSHAKE_MAX_URLS }
/** Parameters that may appear once only (`url` may repeat). */
const SINGLE_PARAMS = ['key', 'name'] as const

export interface Handshake {
  podId: PodId
  key: PublicKey
  /** Display only, never trusted for anything. */
  name?: string
  /** The pod's advertised base URLs, in preference order (absent when it advertises none). */
  urls?: string[]
}

export function formatHandshakeUrl(hs: { podId: PodId; key: PublicKey; name?: string; urls?: readonly string[] }): string {
  let out = `${HANDSHAKE_SCHEME}${hs.podId}?key=${encodeURIComponent(hs.key)}`
  if (hs.name) out += `&name=${encodeURIComponent(hs.name)}`
  // Never more than a parser accepts: a longer list would make our own URL unpasteable.
  for (const url of (hs.urls ?? []).slice(0, HANDSHAKE_MAX_URLS)) out += `&url=${encodeURIComponent(url)}`
  return out
}

function bad(message: string): never {
  throw new BadInput(message)
}

/**
 * Parses a pasted handshake URL. `selfId` rejects our own URL (pasted into the wrong pod).
 * Unknown query parameters are ignored so later versions can add some.
 */
export function parseHandshakeUrl(text: string, selfId?: PodId): Handshake {
  const input = text.trim()
  if (input.length > HANDSHAKE_MAX_CHARS) bad(`handshake URL is longer than ${HANDSHAKE_MAX_CHARS} characters`)
  if (input.slice(0, HANDSHAKE_SCHEME.length).toLowerCase() !== HANDSHAKE_SCHEME) {
    bad(`handshake URL must start with ${HANDSHAKE_SCHEME}, got ${quote(input, 40)}`)
  }
  const rest = input.slice(HANDSHAKE_SCHEME.length)
  if (rest.includes('#')) bad('handshake URL must not contain a # fragment')

  // The authority is parsed by hand: `new URL` would normalise `../` and case away.
  const q = rest.indexOf('?')
  const idPart = (q === -1 ? rest : rest.slice(0, q)).replace(/\/$/, '')
  if (!isPodId(idPart)) {
    const hint = isPodId(idPart.toLowerCase()) ? ' (it must be lowercase)' : ''
    bad(`handshake URL pod id must be a lowercase UUID, got ${quote(idPart, 60)}${hint}`)
  }
  if (selfId !== undefined && idPart === selfId) {
    bad("this is our own handshake URL; paste the other pod's handshake URL here")
  }

  const params = new URLSearchParams(q === -1 ? '' : rest.slice(q + 1))
  for (const name of SINGLE_PARAMS) {
    if (params.getAll(name).length > 1) bad(`handshake URL has more than one ${name}= parameter`)
  }
  const key = params.get('key')
  if (key === null || key === '') bad('handshake URL has no key= parameter (the peer public key)')
  const keyProblem = keyTextProblem(key, { canonical: true })
  if (keyProblem) bad(`handshake URL key ${keyProblem}`)

  const out: Handshake = { podId: idPart, key: key as PublicKey }
  const name = params.get('name')
  if (name !== null && name !== '') {
    const problem = nameProblem(name)
    if (problem) bad(`handshake URL name ${problem}`)
    out.name = name
  }
  const urls = params.getAll('url').filter((u) => u !== '')
  if (urls.length > HANDSHAKE_MAX_URLS) bad(`handshake URL has ${urls.length} url= parameters (at most ${HANDSHAKE_MAX_URLS})`)
  for (const [i, url] of urls.entries()) {
    const problem = httpUrlProblem(url)
    if (problem) bad(`handshake URL url${urls.length > 1 ? ` #${i + 1}` : ''} ${problem}`)
  }
  const unique = [...new Set(urls)]
  if (unique.length > 0) out.urls = unique
  return out
}
