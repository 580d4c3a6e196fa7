/**
 * The panel's memory editing and "sharing you can see": add, edit (label and content), forget
 * (asks first), the secret holds (badge, Held back card, Release), which peers receive each memory
 * (POST peer/audience, the feed's own decision), and a peer's share preview and access log.
 *
 * panel.js owns the page and calls in through the few hooks createSharing() returns; every
 * string from the server arrives already made visible by panel.js's api() and is inserted as text.
 */

const SHORT_ID_CHARS = 8
const PREVIEW_LIMIT = 20
const LOG_LIMIT = 50

/**
 * @param {{
 *   api: (method: string, path: string, body?: unknown) => Promise<any>,
 *   $: (id: string) => any,
 *   peers: () => { id: string, name: string }[],
 *   reload: () => Promise<void>,
 * }} deps
 */
export function createSharing({ api, $, peers, reload }) {
  const el = (tag, className, text) => {
    const node = document.createElement(tag)
    if (className) node.className = className
    if (text !== undefined) node.textContent = text
    return node
  }
  const peerName = (id) => {
    const p = peers().find((x) => x.id === id)
    return p?.name || id.slice(0, SHORT_ID_CHARS)
  }
  /** memory id → its list item's audience line, filled once POST peer/audience answers. */
  const audienceSlots = new Map()

  // ---- one memory in the list -----------------------------------------------------------------

  /** Adds the held badge, the audience line and (own memories) Edit / Forget / Release buttons. */
  function decorateMemory(li, m) {
    const own = !(m.origin_peer ?? m.peer)
    li.dataset.memoryId = m.id
    const head = li.querySelector('.memory-head')
    if (m.held) {
      const tag = el('span', 'tag tag-held', 'held')
      tag.title = 'Looks like a credential: held back from every peer until you release it'
      head?.append(tag)
    }
    if (!own) return
    if (!m.encrypted) {
      const line = el('p', 'memory-audience hint', m.held ? 'Held back from every peer.' : '…')
      li.append(line)
      if (!m.held) audienceSlots.set(m.id, line)
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
    if (m.held) {
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
      const { audience } = await api('POST', 'peer/audience', { ids: [...slots.keys()] })
      for (const [id, line] of slots) {
        const who = audience[id] ?? []
        line.textContent = who.length === 0 ? 'No peer receives this now.' : `Received by: ${who.map(peerName).join(', ')}`
        line.classList.toggle('shared', who.length > 0)
      }
    } catch (err) {
      for (const line of slots.values()) line.textContent = ''
    }
  }

  // ---- add / edit dialog ------------------------------------------------------------------------

  let editing = null

  function openMemoryDialog(memory, opener) {
    editing = { memory, opener }
    $('memory-dialog-title').textContent = memory ? 'Edit memory' : 'Add a memory'
    $('memory-edit-label').value = memory?.label ?? ''
    $('memory-edit-content').value = memory?.content ?? ''
    $('memory-dialog-status').textContent = ''
    $('memory-dialog').showModal()
    $('memory-edit-label').focus()
  }

  async function saveMemory(event) {
    event.preventDefault()
    if (!editing) return
    const label = $('memory-edit-label').value.trim()
    const content = $('memory-edit-content').value
    if (!label || !content) {
      $('memory-dialog-status').textContent = 'Give a label and some content.'
      return
    }
    const save = $('memory-save')
    save.disabled = true
    try {
      const { memory } = editing
      let out
      if (memory) {
        const patch = {}
        if (label !== memory.label) patch.label = label
        if (content !== memory.content) patch.content = content
        out = Object.keys(patch).length === 0 ? memory : await api('PATCH', `memories/${memory.id}`, patch)
      } else {
        out = await api('POST', 'memories', { label, content })
      }
      editing.opener = $('memories-heading')
      $('memory-dialog').close()
      const status = $('memory-action-status')
      status.classList.toggle('error-text', Boolean(out.warning))
      status.textContent = out.warning ? `Saved, but ${out.warning}` : memory ? 'Saved.' : `Added ${label}.`
      await reload()
    } catch (err) {
      $('memory-dialog-status').textContent = err.message
    } finally {
      save.disabled = false
    }
  }

  // ---- forget (asks first) ------------------------------------------------------------------------

  let forgetting = null

  function openForget(memory, opener) {
    forgetting = { memory, opener }
    $('forget-text').textContent = `Forget “${memory.label}”? This cannot be undone; peers holding a copy drop it at their next pull.`
    $('forget-status').textContent = ''
    $('forget-dialog').showModal()
    $('forget-cancel').focus() // the safe choice has focus
  }

  async function confirmForget(event) {
    event.preventDefault()
    if (!forgetting) return
    const btn = $('forget-confirm')
    btn.disabled = true
    try {
      await api('DELETE', `memories/${forgetting.memory.id}`)
      const label = forgetting.memory.label
      forgetting.opener = $('memories-heading')
      $('forget-dialog').close()
      $('memory-action-status').classList.remove('error-text')
      $('memory-action-status').textContent = `Forgot ${label}.`
      await reload()
    } catch (err) {
      $('forget-status').textContent = err.message
    } finally {
      btn.disabled = false
    }
  }

  // ---- held ---------------------------------------------------------------------------------------

  async function releaseMemory(id, btn) {
    btn.disabled = true
    try {
      const m = await api('POST', `memories/${id}/release`)
      $('memory-action-status').classList.remove('error-text')
      $('memory-action-status').textContent = `Released ${m.label}: peers receive it from their next pull.`
      await reload()
    } catch (err) {
      $('memory-action-status').classList.add('error-text')
      $('memory-action-status').textContent = err.message
      btn.disabled = false
    }
  }

  let heldKey = ''
  async function refreshHeld() {
    const { memories } = await api('GET', 'memories/held?limit=100')
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

  let viewing = null

  async function openPeerView(peer, kind, opener) {
    viewing = { opener }
    const who = peer.name || peer.id.slice(0, SHORT_ID_CHARS)
    $('peer-view-title').textContent = kind === 'preview' ? `What ${who} receives` : `What ${who} has pulled`
    const summary = $('peer-view-summary')
    const list = $('peer-view-list')
    summary.textContent = 'Loading…'
    list.replaceChildren()
    $('peer-view-dialog').showModal()
    try {
      if (kind === 'preview') {
        const p = await api('GET', `peer/peers/${peer.id}/preview?limit=${PREVIEW_LIMIT}`)
        const from = p.scope_source === 'last_request' ? 'the scope it pulls with' : 'everything the gate allows (it has not pulled yet)'
        const counts = Object.entries(p.by_prefix).map(([prefix, n]) => `${prefix} ${n}`).join(', ')
        summary.textContent =
          `${p.total} memor${p.total === 1 ? 'y' : 'ies'} if it pulled everything now (scope ${p.scope.join(', ')}, ${from})` +
          `${counts ? ` — by prefix: ${counts}` : ''}.` +
          `${p.held ? ` ${p.held} held back (look like credentials).` : ''}` +
          `${p.can_pull ? '' : ' It cannot pull now (no key file).'}`
        list.replaceChildren(
          ...p.memories.map((m) => {
            const li = el('li')
            li.append(el('code', 'preview-label', m.label), ' ', el('span', 'hint', m.content.slice(0, 120)))
            return li
          }),
        )
      } else {
        const log = await api('GET', `peer/peers/${peer.id}/log?limit=${LOG_LIMIT}`)
        summary.textContent =
          log.entries.length === 0 ? 'Nothing served in the last 30 days (empty polls are not logged).' : `Last ${log.entries.length} pulls that received something, newest first:`
        list.replaceChildren(
          ...log.entries.map((e) => {
            const li = el('li')
            const time = el('time', '', new Date(e.at).toLocaleString())
            time.dateTime = e.at
            li.append(time, ` ${e.count} entr${e.count === 1 ? 'y' : 'ies'}${e.deleted ? ` (${e.deleted} deletions)` : ''} `)
            li.append(el('code', 'hint', `${e.first_id.slice(0, SHORT_ID_CHARS)} … ${e.last_id.slice(0, SHORT_ID_CHARS)}`))
            return li
          }),
        )
      }
    } catch (err) {
      summary.textContent = err.message
    }
  }

  // ---- wiring -------------------------------------------------------------------------------------

  $('memory-add').addEventListener('click', (event) => openMemoryDialog(null, event.currentTarget))
  $('memory-form').addEventListener('submit', saveMemory)
  $('memory-cancel').addEventListener('click', () => $('memory-dialog').close())
  $('memory-dialog').addEventListener('close', () => {
    if (editing?.opener?.isConnected) editing.opener.focus()
    editing = null
  })
  $('forget-form').addEventListener('submit', confirmForget)
  $('forget-cancel').addEventListener('click', () => $('forget-dialog').close())
  $('forget-dialog').addEventListener('close', () => {
    if (forgetting?.opener?.isConnected) forgetting.opener.focus()
    forgetting = null
  })
  $('peer-view-close').addEventListener('click', () => $('peer-view-dialog').close())
  $('peer-view-dialog').addEventListener('close', () => {
    if (viewing?.opener?.isConnected) viewing.opener.focus()
    viewing = null
  })

  return { decorateMemory, afterMemories, refreshHeld, openPeerView }
}
