// @ts-check
/**
 * The panel's memory editing and "sharing you can see": add, edit (label and content), forget
 * (asks first), the secret holds (badge, Held back card, Release), which peers receive each memory
 * (POST peer/audience, the feed's own decision), and a peer's share preview and access log.
 *
 * panel.js owns the page and calls in through the few hooks createSharing() returns; every
 * string from the server arrives already made visible by api.js and is inserted as text.
 */
/** @import { Api } from './api.js' */
/** @import { MemoryAnswer, PeerAnswer, RecallAnswer } from '../answers.ts' */
import { $, el, messageOf, say } from './dom.js'
import { shortId } from './format.js'

const PREVIEW_LIMIT = 20
const LOG_LIMIT = 50

/** @typedef {MemoryAnswer | RecallAnswer['results'][number]} ListedMemory */
/** @typedef {ReturnType<typeof createSharing>} Sharing */

/**
 * @param {{ api: Api, peers: () => readonly PeerAnswer[], reload: () => Promise<void> }} deps
 */
export function createSharing({ api, peers, reload }) {
  /** @param {string} id */
  const peerName = (id) => {
    const p = peers().find((x) => x.id === id)
    return p?.name || shortId(id)
  }
  /** @type {Map<string, HTMLElement>} memory id → its list item's audience line, filled once POST peer/audience answers */
  const audienceSlots = new Map()

  // ---- one memory in the list -----------------------------------------------------------------

  /**
   * Adds the held badge, the audience line and (own memories) Edit / Forget / Release buttons.
   * @param {HTMLElement} li
   * @param {ListedMemory} m
   */
  function decorateMemory(li, m) {
    const own = !(('origin_peer' in m ? m.origin_peer : null) ?? ('peer' in m ? m.peer : null))
    const held = 'held' in m && Boolean(m.held)
    const encrypted = 'encrypted' in m && Boolean(m.encrypted)
    li.dataset.memoryId = m.id
    const head = li.querySelector('.memory-head')
    if (held) {
      const tag = el('span', 'tag tag-held', 'held')
      tag.title = 'Looks like a credential: held back from every peer until you release it'
      head?.append(tag)
    }
    if (!own) return
    if (!encrypted) {
      const line = el('p', 'memory-audience hint', held ? 'Held back from every peer.' : '…')
      li.append(line)
      if (!held) audienceSlots.set(m.id, line)
    }
    const actions = el('div', 'memory-actions')
    const edit = el('button', '', 'Edit')
    edit.type = 'button'
    edit.dataset.memoryAction = 'edit'
    edit.addEventListener('click', () => openMemoryDialog(m, edit))
    const forget = el('button', 'danger-quiet', 'Forget')
    forget.type = 'button'
    forget.dataset.memoryAction = 'forget'
    forget.addEventListener('click', () => openForget(m, forget))
    actions.append(edit, forget)
    if (held) {
      const release = el('button', '', 'Release')
      release.type = 'button'
      release.dataset.memoryAction = 'release'
      release.addEventListener('click', () => releaseMemory(m.id, release))
      actions.append(release)
    }
    for (const b of actions.querySelectorAll('button')) b.append(el('span', 'sr-only', ` ${m.label}`))
    li.append(actions)
  }

  /** After a page of memories is on screen: ask which peers receive each shared one. */
  async function afterMemories() {
    const slots = new Map(audienceSlots)
    audienceSlots.clear()
    if (slots.size === 0) return
    try {
      const { audience } = await api.audience([...slots.keys()])
      for (const [id, line] of slots) {
        const who = audience[id] ?? []
        line.textContent = who.length === 0 ? 'No peer receives this now.' : `Received by: ${who.map(peerName).join(', ')}`
        line.classList.toggle('shared', who.length > 0)
      }
    } catch {
      for (const line of slots.values()) line.textContent = ''
    }
  }

  // ---- add / edit dialog ------------------------------------------------------------------------

  /** @type {{ memory: ListedMemory | null, opener: HTMLElement } | null} */
  let editing = null

  /** @param {ListedMemory | null} memory null: a new one @param {HTMLElement} opener */
  function openMemoryDialog(memory, opener) {
    editing = { memory, opener }
    $('memory-dialog-title').textContent = memory ? 'Edit memory' : 'Add a memory'
    $('memory-edit-label', HTMLInputElement).value = memory?.label ?? ''
    $('memory-edit-content', HTMLTextAreaElement).value = memory?.content ?? ''
    $('memory-dialog-status').textContent = ''
    $('memory-dialog', HTMLDialogElement).showModal()
    $('memory-edit-label').focus()
  }

  /** @param {SubmitEvent} event */
  async function saveMemory(event) {
    event.preventDefault()
    if (!editing) return
    const label = $('memory-edit-label', HTMLInputElement).value.trim()
    const content = $('memory-edit-content', HTMLTextAreaElement).value
    if (!label || !content) {
      $('memory-dialog-status').textContent = 'Give a label and some content.'
      return
    }
    const save = $('memory-save', HTMLButtonElement)
    save.disabled = true
    try {
      const { memory } = editing
      /** @type {{ warning?: string | null }} */
      let out = {}
      if (memory) {
        /** @type {{ label?: string, content?: string }} */
        const patch = {}
        if (label !== memory.label) patch.label = label
        if (content !== memory.content) patch.content = content
        if (Object.keys(patch).length > 0) out = await api.updateMemory(memory.id, patch)
      } else {
        out = await api.remember({ label, content })
      }
      editing.opener = $('memories-heading')
      $('memory-dialog', HTMLDialogElement).close()
      const warning = 'warning' in out ? out.warning : null
      say($('memory-action-status'), warning ? `Saved, but ${warning}` : memory ? 'Saved.' : `Added ${label}.`, Boolean(warning))
      await reload()
    } catch (err) {
      $('memory-dialog-status').textContent = messageOf(err)
    } finally {
      save.disabled = false
    }
  }

  // ---- forget (asks first) ------------------------------------------------------------------------

  /** @type {{ memory: ListedMemory, opener: HTMLElement } | null} */
  let forgetting = null

  /** @param {ListedMemory} memory @param {HTMLElement} opener */
  function openForget(memory, opener) {
    forgetting = { memory, opener }
    $('forget-text').textContent = `Forget “${memory.label}”? This cannot be undone; peers holding a copy drop it at their next pull.`
    $('forget-status').textContent = ''
    $('forget-dialog', HTMLDialogElement).showModal()
    $('forget-cancel').focus() // the safe choice has focus
  }

  /** @param {SubmitEvent} event */
  async function confirmForget(event) {
    event.preventDefault()
    if (!forgetting) return
    const btn = $('forget-confirm', HTMLButtonElement)
    btn.disabled = true
    try {
      await api.forget(forgetting.memory.id)
      const label = forgetting.memory.label
      forgetting.opener = $('memories-heading')
      $('forget-dialog', HTMLDialogElement).close()
      say($('memory-action-status'), `Forgot ${label}.`)
      await reload()
    } catch (err) {
      $('forget-status').textContent = messageOf(err)
    } finally {
      btn.disabled = false
    }
  }

  // ---- held ---------------------------------------------------------------------------------------

  /** @param {string} id @param {HTMLButtonElement} btn */
  async function releaseMemory(id, btn) {
    btn.disabled = true
    try {
      const m = await api.release(id)
      say($('memory-action-status'), `Released ${m.label}: peers receive it from their next pull.`)
      await reload()
    } catch (err) {
      say($('memory-action-status'), messageOf(err), true)
      btn.disabled = false
    }
  }

  let heldKey = ''
  async function refreshHeld() {
    const { memories } = await api.held(100)
    const key = JSON.stringify(memories.map((m) => [m.id, m.label]))
    if (key === heldKey) return
    heldKey = key
    $('held').hidden = memories.length === 0
    $('held-list').replaceChildren(
      ...memories.map((m) => {
        const li = el('li', 'held-item')
        li.append(el('code', 'held-label', m.label), ' ')
        const btn = el('button', '', 'Release')
        btn.type = 'button'
        btn.append(el('span', 'sr-only', ` ${m.label}`))
        btn.addEventListener('click', () => releaseMemory(m.id, btn))
        li.append(btn)
        return li
      }),
    )
  }

  // ---- a peer's preview and access log ----------------------------------------------------------

  /** @type {{ opener: HTMLElement } | null} */
  let viewing = null

  /** @param {PeerAnswer} peer @param {'preview' | 'log'} kind @param {HTMLElement} opener */
  async function openPeerView(peer, kind, opener) {
    viewing = { opener }
    const who = peer.name || shortId(peer.id)
    $('peer-view-title').textContent = kind === 'preview' ? `What ${who} receives` : `What ${who} has pulled`
    const summary = $('peer-view-summary')
    const list = $('peer-view-list')
    summary.textContent = 'Loading…'
    $('peer-view-left-out').hidden = true
    list.replaceChildren()
    $('peer-view-dialog', HTMLDialogElement).showModal()
    try {
      if (kind === 'preview') {
        const p = await api.preview(peer.id, PREVIEW_LIMIT)
        const from = p.scope_source === 'last_request' ? 'the scope it pulls with' : 'everything the gate allows (it has not pulled yet)'
        const counts = Object.entries(p.by_prefix)
          .map(([prefix, n]) => `${prefix} ${n}`)
          .join(', ')
        summary.textContent =
          `${p.total} memor${p.total === 1 ? 'y' : 'ies'} if it pulled everything now (scope ${p.scope.join(', ')}, ${from})` +
          `${counts ? ` — by prefix: ${counts}` : ''}.` +
          `${p.held ? ` ${p.held} held back (look like credentials).` : ''}` +
          `${p.can_pull ? '' : ' It cannot pull now (no key file).'}`
        // What its scope leaves out: shared here (the gate allows it) but not asked for.
        const leftOut = Object.entries(p.left_out)
          .sort((x, y) => y[1] - x[1])
          .map(([prefix, n]) => `${n} ${prefix} memor${n === 1 ? 'y' : 'ies'} not in scope`)
        const out = $('peer-view-left-out')
        out.hidden = leftOut.length === 0
        out.textContent = leftOut.length > 0 ? `Its scope leaves out: ${leftOut.join(', ')}. Edit scope to share them.` : ''
        list.replaceChildren(
          ...p.memories.map((m) => {
            const li = el('li')
            li.append(el('code', 'preview-label', m.label), ' ', el('span', 'hint', m.content.slice(0, 120)))
            return li
          }),
        )
      } else {
        const log = await api.accessLog(peer.id, LOG_LIMIT)
        summary.textContent =
          log.entries.length === 0
            ? 'Nothing served in the last 30 days (empty polls are not logged).'
            : `Last ${log.entries.length} pulls that received something, newest first:`
        list.replaceChildren(
          ...log.entries.map((e) => {
            const li = el('li')
            const time = el('time', '', new Date(e.at).toLocaleString())
            time.dateTime = e.at
            li.append(time, ` ${e.count} entr${e.count === 1 ? 'y' : 'ies'}${e.deleted ? ` (${e.deleted} deletions)` : ''} `)
            li.append(el('code', 'hint', `${shortId(e.first_id)} … ${shortId(e.last_id)}`))
            return li
          }),
        )
      }
    } catch (err) {
      summary.textContent = messageOf(err)
    }
  }

  // ---- wiring -------------------------------------------------------------------------------------

  const addButton = $('memory-add', HTMLButtonElement)
  addButton.addEventListener('click', () => openMemoryDialog(null, addButton))
  $('memory-form').addEventListener('submit', saveMemory)
  $('memory-cancel').addEventListener('click', () => $('memory-dialog', HTMLDialogElement).close())
  $('memory-dialog').addEventListener('close', () => {
    if (editing?.opener?.isConnected) editing.opener.focus()
    editing = null
  })
  $('forget-form').addEventListener('submit', confirmForget)
  $('forget-cancel').addEventListener('click', () => $('forget-dialog', HTMLDialogElement).close())
  $('forget-dialog').addEventListener('close', () => {
    if (forgetting?.opener?.isConnected) forgetting.opener.focus()
    forgetting = null
  })
  $('peer-view-close').addEventListener('click', () => $('peer-view-dialog', HTMLDialogElement).close())
  $('peer-view-dialog').addEventListener('close', () => {
    if (viewing?.opener?.isConnected) viewing.opener.focus()
    viewing = null
  })

  return { decorateMemory, afterMemories, refreshHeld, openPeerView }
}
