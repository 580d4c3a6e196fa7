/**
 * Handshake URLs: `mzm-handshake://<pod-id>?key=<43-char public key>[&name=…][&url=…]…`.
 * Sent out of band by one operator to the other; it carries only public material, so leaking
 * one lets nobody in. `url` may repeat (at most 4, in preference order): the pod's advertised
 * base URLs, so one paste each way is the whole pairing. Parsing is strict and every error
 * names the part that is wrong; unknown parameters are ignored so later versions can add some.
 * A paste whose `&` came HTML-escaped (`&amp;`) reads as if it had not been.
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

/** `&` as chat apps and mail paste it, HTML-escaped: read as `&` (contract Part 1c). */
const ESCAPED_AMPERSAND = /&(?:amp|#0*38|#x0*26);/gi
/** A parameter name as any version writes it; anything else is a mangled paste. */
const PARAM_NAME = /^[a-z][a-z0-9_-]{0,31}$/

/**
 * The query's parameters, in order. Every parameter must read cleanly (`name=value`, a plain name,
 * valid percent-encoding): one that does not is refused naming it, never skipped, so a paste
 * mangled on the way is not half-accepted without its name or URLs.
 */
function readParams(query: string): { getAll(name: string): string[]; get(name: string): string | null } {
  const all: [string, string][] = []
  for (const part of query.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    const name = eq === -1 ? part : part.slice(0, eq)
    if (!PARAM_NAME.test(name)) {
      bad(`handshake URL parameter ${quote(name, 40)} can't be read (was the URL changed on the way? copy it again from \`mazemaker identity\`)`)
    }
    if (eq === -1) bad(`handshake URL parameter ${name} has no value (expected ${name}=…)`)
    let value: string
    try {
      value = decodeURIComponent(part.slice(eq + 1).replace(/\+/g, ' '))
    } catch {
      bad(`handshake URL ${name}= can't be read: its percent-encoding is broken`)
    }
    all.push([name, value])
  }
  const getAll = (name: string) => all.filter(([n]) => n === name).map(([, v]) => v)
  return { getAll, get: (name) => getAll(name)[0] ?? null }
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
  // Before the fragment check: `&#38;` is an escaped `&`, not a fragment.
  const rest = input.slice(HANDSHAKE_SCHEME.length).replace(ESCAPED_AMPERSAND, '&')
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

  const params = readParams(q === -1 ? '' : rest.slice(q + 1))
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
