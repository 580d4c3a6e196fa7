// @ts-check
/**
 * The Memories card: the newest first (paged), a search (recall), a filter by origin (this pod
 * or one peer), each memory tagged with where it came from and whether it is private; editing,
 * holds and who receives what come from sharing.js.
 */
/** @import { Api } from './api.js' */
/** @import { MemoryAnswer, PeerAnswer, RecallAnswer } from '../answers.ts' */
/** @import { Sharing } from './sharing.js' */
import { $, el, messageOf, say } from './dom.js'
import { plural, shortId, timeAgo } from './format.js'
import { peerLabel } from './peer-card.js'

const MEMORY_PAGE = 20
const CONTENT_PREVIEW_CHARS = 400
const RECALL_K = 50
/** Past this many peers the origin menu lists none (a hub's 2,000 names are no menu): a card's Memories button picks one. */
const MAX_ORIGIN_PEERS = 100

/** @typedef {MemoryAnswer | RecallAnswer['results'][number]} ListedMemory */

/**
 * @param {{ api: Api, sharing: () => Sharing, peers: () => readonly PeerAnswer[], shorts: () => Map<string, string> }} deps
 */
export function createMemories({ api, sharing, peers, shorts }) {
  let cursor = /** @type {string | null} */ (null)
  let query = ''
  let pages = 1
  /** What the list shows now: a refresh that would show the same leaves the nodes (and a selection) alone. */
  let shownKey = ''
  let seq = 0
  let timer = 0

  /** @param {string | null} peerId */
  function originName(peerId) {
    if (!peerId) return 'local'
    const peer = peers().find((p) => p.id === peerId)
    return peer ? peerLabel(peer) : shortId(peerId)
  }

  /** @param {ListedMemory} m */
  function memoryItem(m) {
    const origin = ('origin_peer' in m ? m.origin_peer : null) ?? ('peer' in m ? m.peer : null) ?? null
    const li = el('li', 'memory')
    const head = el('div', 'memory-head')
    // A pulled copy is stored as peer:<id>:<label>; the origin tag already says which peer.
    const prefix = origin ? `peer:${origin}:` : ''
    const label = el('code', 'memory-label', prefix && m.label.startsWith(prefix) ? m.label.slice(prefix.length) : m.label)
    label.title = m.label
    head.append(label, el('span', origin ? 'tag tag-peer' : 'tag tag-local', origin ? `from ${originName(origin)}` : 'local'))
    if ('encrypted' in m && m.encrypted) {
      const priv = el('span', 'tag tag-private', 'private')
      priv.title = 'Encrypted at rest under vault.key; never served to peers'
      head.append(priv)
    }
    const when = ('updated_at' in m ? m.updated_at : null) ?? ('created_at' in m ? m.created_at : null)
    if (when) {
      const time = el('time', 'memory-time', timeAgo(when, Date.now()))
      time.dateTime = when
      time.title = new Date(when).toLocaleString()
      head.append(time)
    }
    const content = String(m.content ?? '')
    li.append(head, el('p', 'memory-content', content.length > CONTENT_PREVIEW_CHARS ? `${content.slice(0, CONTENT_PREVIEW_CHARS)}…` : content))
    sharing().decorateMemory(li, m)
    return li
  }

  /** Keeps the origin filter's options in step with the peers (rebuilt only when they change). */
  function updateOrigins() {
    const select = $('memory-origin', HTMLSelectElement)
    const current = select.value
    const names = shorts()
    const all = peers()
    const listed = all.length <= MAX_ORIGIN_PEERS ? all : all.filter((p) => p.id === current)
    const wanted = [['', 'All origins'], ['local', 'Local'], ...listed.map((p) => [p.id, `${p.name || names.get(p.id)} (${names.get(p.id)})`])]
    const same = select.options.length === wanted.length && wanted.every(([v, t], i) => select.options[i]?.value === v && select.options[i]?.text === t)
    if (same) return
    select.replaceChildren(...wanted.map(([v, t]) => new Option(t, v)))
    select.value = wanted.some(([v]) => v === current) ? current : ''
  }

  async function load({ append = false } = {}) {
    const list = $('memory-list')
    const status = $('memory-status')
    const origin = $('memory-origin', HTMLSelectElement).value
    const mine = ++seq
    try {
      /** @type {ListedMemory[]} */
      let items
      if (query) {
        const { results } = await api.recall(query, RECALL_K)
        items = results.filter((r) => origin === '' || (origin === 'local' ? !r.peer : r.peer === origin))
        cursor = null
      } else {
        const params = new URLSearchParams({ limit: String(MEMORY_PAGE) })
        if (origin) params.set('origin', origin)
        if (append && cursor) params.set('cursor', cursor)
        const page = await api.memories(params)
        if (mine !== seq) return
        items = page.memories
        cursor = page.cursor ?? null
      }
      if (mine !== seq) return
      // Re-read every few seconds: rebuild only when something (or the minute) changed.
      const key = `${origin}|${query}|${Math.floor(Date.now() / 60_000)}|${JSON.stringify(items)}`
      if (append) list.append(...items.map(memoryItem))
      else if (key !== shownKey) list.replaceChildren(...items.map(memoryItem))
      shownKey = append ? '' : key
      void sharing().afterMemories()
      $('memory-more').hidden = !cursor
      const count = list.children.length
      say(
        status,
        query
          ? `${plural(count, 'match', 'matches')} for “${query}”.`
          : count === 0
            ? 'No memories yet.'
            : `${count} most recent${origin ? ` from ${origin === 'local' ? 'this pod' : originName(origin)}` : ''}.`,
      )
    } catch (err) {
      if (mine === seq) say(status, messageOf(err), true)
    }
  }

  $('memory-search').addEventListener('submit', (event) => {
    event.preventDefault()
    query = $('memory-q', HTMLInputElement).value.trim()
    pages = 1
    void load()
  })
  $('memory-origin').addEventListener('change', () => {
    pages = 1
    void load()
  })
  $('memory-more').addEventListener('click', () => {
    pages++
    void load({ append: true })
  })

  return {
    /** Shows the memories that came from one peer (its card's Memories button). @param {string} peerId */
    async showOrigin(peerId) {
      const select = $('memory-origin', HTMLSelectElement)
      select.value = peerId
      if (select.value !== peerId) {
        select.value = ''
        updateOrigins()
        select.add(new Option(originName(peerId), peerId))
        select.value = peerId
      }
      query = ''
      $('memory-q', HTMLInputElement).value = ''
      pages = 1
      $('memories').scrollIntoView({ block: 'start' })
      await load()
    },
    /** The plain first page follows the pod; a search or a longer list stays put unless `always`. */
    async refresh(always = false) {
      updateOrigins()
      if (always || (!query && pages === 1)) await load()
    },
    /** Memories arrived (event stream): re-read the first page soon; a burst is one re-read. */
    changed() {
      if (query || pages !== 1) return
      clearTimeout(timer)
      timer = window.setTimeout(() => void load(), 50)
    },
  }
}
