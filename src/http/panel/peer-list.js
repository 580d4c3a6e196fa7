// @ts-check
/**
 * The peer list at hub scale. The pod sends peers problems first (error, held, revoked,
 * awaiting-peer, handshake-pending, then ready and paused); the operator narrows them by name or
 * id (search) and by status (the count buttons, one per status present). Only the cards that
 * fit in the list's scroll box, plus a few either side, are in the page: the rest is padding of
 * their measured height (an average of the measured ones until a card has been seen), so 2,000
 * peers cost a screenful of cards, not 2,000.
 */
/** @import { PeerAnswer } from '../answers.ts' */
/** @import { Card, PeerAction } from './peer-card.js' */
import { filterPeers, plural, shortIds, STATUS_LOOK, statusCounts, statusText } from './format.js'
import { createCard, updateCard } from './peer-card.js'

/** Cards rendered beyond each edge of the scroll box, so a short scroll shows no gap. */
const OVERSCAN_PX = 600
/** Height of a card not measured yet, before any is. */
const FIRST_ESTIMATE_PX = 190

/**
 * @param {{
 *   list: HTMLUListElement,
 *   scroller: HTMLElement,
 *   search: HTMLInputElement,
 *   filters: HTMLElement,
 *   count: HTMLElement,
 *   empty: HTMLElement,
 *   selfId: () => string | null,
 *   onAction: (action: PeerAction, peerId: string, button: HTMLButtonElement) => void,
 * }} ui
 */
export function createPeerList(ui) {
  /** @type {readonly PeerAnswer[]} */
  let all = []
  /** @type {PeerAnswer[]} */
  let visible = []
  /** @type {Map<string, string>} */
  let shorts = new Map()
  /** The status the list is narrowed to ('' = every status). */
  let status = ''
  /** @type {Map<string, Card>} cards in the page, by peer id */
  const cards = new Map()
  /** @type {Map<string, number>} measured height of each card seen, gap included */
  const heights = new Map()
  /** @type {Map<string, { text: string, failed: boolean }>} a card's result line outlives its card */
  const results = new Map()
  let measuredTotal = 0
  let frame = 0
  /** A peer to bring into view once the cards around it are measured (after Add). */
  let revealing = ''

  /** @type {Map<string, HTMLButtonElement>} one count button per status, made once (focus stays put) */
  const buttons = new Map()
  const allButton = filterButton('', 'All')
  for (const s of Object.keys(STATUS_LOOK)) filterButton(s, statusText(s))

  /** @param {string} value @param {string} text */
  function filterButton(value, text) {
    const btn = document.createElement('button')
    btn.type = 'button'
    btn.className = 'filter'
    btn.dataset.status = value
    btn.dataset.label = text
    btn.setAttribute('aria-pressed', value === '' ? 'true' : 'false')
    btn.addEventListener('click', () => setStatus(status === value ? '' : value))
    buttons.set(value, btn)
    ui.filters.append(btn)
    return btn
  }

  /** @param {string} value */
  function setStatus(value) {
    status = value
    for (const [s, btn] of buttons) btn.setAttribute('aria-pressed', String(s === status))
    ui.scroller.scrollTop = 0
    refilter()
  }

  function paintFilters() {
    const counts = statusCounts(all)
    allButton.textContent = `All ${all.length}`
    for (const [s, n] of counts) {
      const btn = /** @type {HTMLButtonElement} */ (buttons.get(s))
      const text = `${btn.dataset.label} ${n}`
      if (btn.textContent !== text) btn.textContent = text
      // A status nobody has is no filter, unless it is the one chosen (it may empty and fill again).
      btn.hidden = n === 0 && s !== status
    }
    ui.filters.hidden = all.length === 0
  }

  function refilter() {
    visible = filterPeers(all, { statuses: status ? new Set([status]) : undefined, query: ui.search.value })
    const narrowed = status !== '' || ui.search.value.trim() !== ''
    ui.count.textContent = narrowed
      ? `Showing ${visible.length} of ${plural(all.length, 'peer', 'peers')}${visible.length === 0 ? ': none matches.' : '.'}`
      : ''
    render()
  }

  function estimate() {
    return heights.size > 0 ? measuredTotal / heights.size : FIRST_ESTIMATE_PX
  }

  /** @param {string} id */
  const heightOf = (id) => heights.get(id) ?? estimate()

  /** Puts in the page the cards that fit the scroll box (and the overscan), and pads for the rest. */
  function render() {
    frame = 0
    if (revealing) centre(revealing)
    const top = ui.scroller.scrollTop - OVERSCAN_PX
    const bottom = ui.scroller.scrollTop + (ui.scroller.clientHeight || window.innerHeight) + OVERSCAN_PX
    let y = 0
    let first = visible.length
    let last = -1
    let padTop = 0
    for (let i = 0; i < visible.length; i++) {
      const h = heightOf(/** @type {PeerAnswer} */ (visible[i]).id)
      if (y + h > top && y < bottom) {
        if (first === visible.length) {
          first = i
          padTop = y
        }
        last = i
      }
      y += h
    }
    const slice = visible.slice(first, last + 1)
    let below = 0
    for (let i = last + 1; i < visible.length; i++) below += heightOf(/** @type {PeerAnswer} */ (visible[i]).id)
    ui.list.style.paddingTop = `${padTop}px`
    ui.list.style.paddingBottom = `${below}px`
    place(slice)
    if (measure(slice)) return schedule()
    // Measured and stable: nothing moves any more, so the page may scroll to the card now.
    const card = revealing ? cards.get(revealing) : undefined
    revealing = ''
    if (!card) return
    card.li.scrollIntoView({ block: 'nearest' })
    card.li.classList.add('just-added')
    setTimeout(() => card.li.classList.remove('just-added'), 4000)
  }

  /** Scrolls the list so that `id`'s card sits in the middle of the box (by the heights known now). @param {string} id */
  function centre(id) {
    let y = 0
    for (const p of visible) {
      if (p.id === id) break
      y += heightOf(p.id)
    }
    ui.scroller.scrollTop = Math.max(0, y - (ui.scroller.clientHeight - heightOf(id)) / 2)
  }

  /** @param {PeerAnswer[]} slice the peers to show, in order */
  function place(slice) {
    const keep = new Set(slice.map((p) => p.id))
    for (const [id, card] of cards) {
      if (keep.has(id)) continue
      card.li.remove()
      cards.delete(id)
    }
    const now = Date.now()
    /** @type {Element | null} */
    let prev = null
    for (const peer of slice) {
      let card = cards.get(peer.id)
      if (!card) {
        card = createCard(peer.id, ui.onAction)
        cards.set(peer.id, card)
        const result = results.get(peer.id)
        if (result) showResult(card, result)
      }
      updateCard(card, peer, shorts.get(peer.id) ?? peer.id, now)
      // Keep the order without moving nodes already in place (focus stays put).
      /** @type {Element | null} */
      const want = prev ? prev.nextElementSibling : ui.list.firstElementChild
      if (want !== card.li) ui.list.insertBefore(card.li, want)
      prev = card.li
    }
  }

  /** Records the height of each card in the page; true when one differs from what was assumed. @param {PeerAnswer[]} slice */
  function measure(slice) {
    const gap = parseFloat(getComputedStyle(ui.list).rowGap) || 0
    let changed = false
    for (const peer of slice) {
      const card = cards.get(peer.id)
      if (!card) continue
      const h = card.li.offsetHeight + gap
      const before = heights.get(peer.id)
      if (before === h) continue
      measuredTotal += h - (before ?? 0)
      heights.set(peer.id, h)
      if (Math.abs(h - (before ?? estimate())) > 1) changed = true
    }
    return changed
  }

  function schedule() {
    if (!frame) frame = requestAnimationFrame(render)
  }

  /** @param {Card} card @param {{ text: string, failed: boolean }} result */
  function showResult(card, result) {
    card.result.textContent = result.text
    card.result.classList.toggle('error-text', result.failed)
  }

  ui.scroller.addEventListener('scroll', schedule, { passive: true })
  ui.search.addEventListener('input', () => {
    ui.scroller.scrollTop = 0
    refilter()
  })
  // A new width re-flows every card: what was measured no longer holds. (Height changes are the
  // list's own doing and need nothing.)
  let width = 0
  new ResizeObserver(() => {
    if (ui.scroller.clientWidth === width) return
    width = ui.scroller.clientWidth
    heights.clear()
    measuredTotal = 0
    schedule()
  }).observe(ui.scroller)

  return {
    /** A new answer of GET /peer/peers (or a `peers` event), in the pod's order. @param {readonly PeerAnswer[]} peers */
    setPeers(peers) {
      all = peers
      const self = ui.selfId()
      shorts = shortIds([...peers.map((p) => p.id), ...(self ? [self] : [])])
      for (const id of results.keys()) if (!peers.some((p) => p.id === id)) results.delete(id)
      ui.empty.hidden = peers.length > 0
      paintFilters()
      refilter()
    },
    /** @param {string} id @returns {PeerAnswer | undefined} */
    peer: (id) => all.find((p) => p.id === id),
    peers: () => all,
    shorts: () => shorts,
    /** A result line under a peer's card ("Synced: …"), kept while the card scrolls out and back. @param {string} id @param {string} text @param {boolean} [failed] */
    setResult(id, text, failed = false) {
      const result = { text, failed }
      results.set(id, result)
      const card = cards.get(id)
      if (card) showResult(card, result)
    },
    /** @param {string} id @returns {Card | undefined} the card, when it is in the page */
    card: (id) => cards.get(id),
    /**
     * Brings a peer's card into view (after Add): clears a filter that hides it, scrolls the list
     * and the page to it, and marks it for a moment.
     * @param {string} id
     */
    reveal(id) {
      if (!visible.some((p) => p.id === id)) {
        ui.search.value = ''
        setStatus('')
      }
      revealing = id
      render()
    },
  }
}

/** @typedef {ReturnType<typeof createPeerList>} PeerList */
