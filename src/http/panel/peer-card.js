// @ts-check
/**
 * One peer's card: made from the page's <template id="peer-template"> and filled from a
 * `GET /peer/peers` entry, in place (a refresh never replaces the nodes, so focus stays put).
 * Every button names its peer for screen readers ("Pause alca-7G", not "Pause" six times over).
 */
/** @import { PeerAnswer } from '../answers.ts' */
import { $, find } from './dom.js'
import { scopeText, shortId, statusText, timeAgo, urlList } from './format.js'

/** The buttons a card has, by their `data-action`. */
export const PEER_ACTIONS = /** @type {const} */ (['sync', 'pause', 'url', 'scope', 'headers', 'preview', 'log', 'memories', 'accept-deletes', 'remove'])
/** @typedef {(typeof PEER_ACTIONS)[number]} PeerAction */

/**
 * @typedef {{
 *   li: HTMLLIElement, name: HTMLElement, id: HTMLElement, badge: HTMLElement, problem: HTMLElement, hint: HTMLElement,
 *   url: HTMLElement, scope: HTMLElement, last: HTMLElement, copies: HTMLElement, headers: HTMLElement,
 *   result: HTMLElement, buttons: Record<PeerAction, HTMLButtonElement>,
 * }} Card
 */

/** @param {PeerAnswer} peer @returns {string} its name, else its short id */
export function peerLabel(peer) {
  return peer.name || shortId(peer.id)
}

/**
 * @param {string} peerId
 * @param {(action: PeerAction, peerId: string, button: HTMLButtonElement) => void} onAction
 * @returns {Card}
 */
export function createCard(peerId, onAction) {
  const template = $('peer-template', HTMLTemplateElement)
  const li = /** @type {HTMLLIElement} */ (/** @type {Element} */ (template.content.firstElementChild).cloneNode(true))
  li.dataset.peerId = peerId
  const name = find(li, '.peer-name')
  name.id = `peer-${peerId}`
  /** @type {Partial<Record<PeerAction, HTMLButtonElement>>} */
  const buttons = {}
  for (const action of PEER_ACTIONS) {
    const btn = find(li, `button[data-action="${action}"]`, HTMLButtonElement)
    buttons[action] = btn
    const who = document.createElement('span')
    who.className = 'sr-only peer-who'
    btn.append(who)
    btn.addEventListener('click', () => onAction(action, peerId, btn))
  }
  return {
    li,
    name,
    id: find(li, '.peer-id'),
    badge: find(li, '.badge'),
    problem: find(li, '.peer-error'),
    hint: find(li, '.peer-hint'),
    url: find(li, '.peer-url'),
    scope: find(li, '.peer-scope'),
    last: find(li, '.peer-last'),
    copies: find(li, '.peer-copies'),
    headers: find(li, '.peer-headers'),
    result: find(li, '.peer-result'),
    buttons: /** @type {Record<PeerAction, HTMLButtonElement>} */ (buttons),
  }
}

/** What the card says is wrong, or what the peer waits for ('' when nothing). @param {PeerAnswer} peer */
function problemText(peer) {
  if (peer.status === 'revoked') return 'Its key file is gone, so it is refused. Remove it, or pair again with its handshake URL.'
  if (peer.status === 'held') return `Mass delete ${peer.last_error ?? 'held'}`
  if (peer.status === 'awaiting-peer') return `Waiting for them: ${peer.last_error}`
  if (peer.last_error) return `Last pull failed: ${peer.last_error}`
  return ''
}

/**
 * @param {Card} card
 * @param {PeerAnswer} peer
 * @param {string} short its id as short as tells it apart
 * @param {number} nowMs
 */
export function updateCard(card, peer, short, nowMs) {
  const label = peerLabel(peer)
  setText(card.name, peer.name || '(no name)')
  setText(card.id, short)
  card.id.title = peer.id
  const badge = `badge status-${peer.status}`
  if (card.badge.className !== badge) card.badge.className = badge
  setText(card.badge, statusText(peer.status))
  const problem = problemText(peer)
  card.problem.hidden = problem === ''
  setText(card.problem, problem)
  // Every state but ready names its cause and the next step (the pod's own words, as `peer list` shows them).
  const hint = peer.hint && !problem.includes(peer.hint) ? peer.hint : ''
  card.hint.hidden = hint === ''
  setText(card.hint, hint ? `Next: ${hint}` : '')
  // Several URLs are tried in order; the list reads left to right.
  const urls = urlList(peer)
  setText(card.url, urls.length > 0 ? urls.join(' → ') : 'not set yet')
  card.url.title = urls.length > 1 ? 'tried in this order; the one that last worked goes first' : ''
  card.url.classList.toggle('muted', urls.length === 0)
  setText(card.scope, scopeText(peer.scope))
  setText(card.last, timeAgo(peer.last_sync_at, nowMs))
  card.last.title = peer.last_sync_at ? new Date(peer.last_sync_at).toLocaleString() : ''
  setText(card.copies, String(peer.memories ?? 0))
  const headers = 'headers' in peer && Array.isArray(peer.headers) ? /** @type {string[]} */ (peer.headers) : null
  card.headers.parentElement?.toggleAttribute('hidden', headers === null)
  if (headers) {
    setText(card.headers, headers.length > 0 ? headers.join(', ') : 'none')
    card.headers.classList.toggle('muted', headers.length === 0)
  }
  for (const who of card.li.querySelectorAll('.peer-who')) setText(/** @type {HTMLElement} */ (who), ` ${label}`)
  setText(find(card.buttons.pause, '.label'), peer.sync ? 'Pause' : 'Resume')
  const revoked = peer.status === 'revoked'
  card.buttons.pause.disabled = revoked
  card.buttons.url.disabled = revoked
  card.buttons.scope.disabled = revoked
  card.buttons['accept-deletes'].hidden = peer.status !== 'held'
  if (!card.buttons.sync.classList.contains('busy')) card.buttons.sync.disabled = revoked || urls.length === 0
}

/** Writes only when the text changed: no needless mutation (or screen reader re-read). @param {HTMLElement} node @param {string} text */
function setText(node, text) {
  if (node.textContent !== text) node.textContent = text
}
