/**
 * `mazemaker peer list` as an aligned table: ID NAME STATUS URL SCOPE LAST SYNC COPIES, the status
 * coloured on a TTY and plain when piped, then for each peer not ready: its error, if a pull
 * failed, and its cause and next step (`hint`).
 * Status words, short ids and times read as in the panel (src/http/panel/format.js).
 * Widths are measured as the terminal shows them (wide characters, no escape codes). Every cell
 * from a peer or a hand-edited file goes through visible(): a crafted `name = "\e]…"` shows as
 * text and cannot drive the terminal or forge a row.
 */
import { stringWidth } from '../runtime'
import type { PeerStatus } from '../lib/codes'
import type { PanelFormat } from './panel-modules'
import { visible } from '../lib/visible'
import type { PeerAnswer } from '../http/answers'

/** What the table needs of a peer: fields of a `GET /peer/peers` entry, typed by the route. */
export type PeerRow = Pick<PeerAnswer, 'id' | 'name' | 'url' | 'scope' | 'status' | 'last_sync_at' | 'last_error' | 'memories'> & { hint?: string | null }

const GAP = '  '
/** Longest URL/scope/name cell before it is cut with "…", so one odd peer cannot wrap every row. */
const MAX_CELL_WIDTH = 48

const ANSI = {
  reset: '\x1b[0m',
  bold: '\x1b[1m',
  dim: '\x1b[2m',
  red: '\x1b[31m',
  green: '\x1b[32m',
  yellow: '\x1b[33m',
} as const

/** Colour of each status on a terminal; the words and icons are the panel's (format.js). */
const STATUS_COLOR: Record<PeerStatus, string> = {
  'disk-full': ANSI.red,
  error: ANSI.red,
  held: ANSI.red,
  revoked: ANSI.dim,
  'awaiting-peer': ANSI.yellow,
  'handshake-pending': ANSI.yellow,
  ready: ANSI.green,
  paused: ANSI.dim,
}

function width(s: string): number {
  return stringWidth(s)
}

function truncate(s: string, max: number): string {
  if (width(s) <= max) return s
  let out = ''
  for (const ch of s) {
    if (width(out + ch) > max - 1) break
    out += ch
  }
  return `${out}…`
}

/**
 * The table as one string (no trailing newline).
 * @example console.log(formatPeerTable(peers, { color: process.stdout.isTTY === true, format: await panelFormat() }))
 */
export function formatPeerTable(peers: PeerRow[], opts: { color: boolean; format: PanelFormat; nowMs?: number }): string {
  const { shortIds, statusText, timeAgo } = opts.format
  const now = opts.nowMs ?? Date.now()
  const shorts = shortIds(peers.map((p) => p.id))
  const header = ['ID', 'NAME', 'STATUS', 'URL', 'SCOPE', 'LAST SYNC', 'COPIES']
  const rows = peers.map((p) => [
    visible(shorts.get(p.id) ?? p.id),
    truncate(visible(p.name) || '-', MAX_CELL_WIDTH),
    visible(statusText(p.status)),
    truncate(visible(Array.isArray(p.url) ? `${p.url[0]} (+${p.url.length - 1})` : p.url) || '(none yet)', MAX_CELL_WIDTH),
    truncate(visible(Array.isArray(p.scope) ? p.scope.join(',') : p.scope), MAX_CELL_WIDTH),
    timeAgo(p.last_sync_at, now),
    String(p.memories),
  ])
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i]!))))
  const last = header.length - 1
  const paint = (text: string, code: string | undefined) => (opts.color && code ? `${code}${text}${ANSI.reset}` : text)

  const line = (cells: string[], colorOf: (col: number) => string | undefined) =>
    cells
      .map((cell, i) => {
        const pad = ' '.repeat(widths[i]! - width(cell))
        // COPIES is a number: right-aligned. Padding stays outside the colour codes.
        if (i === last) return pad + paint(cell, colorOf(i))
        return paint(cell, colorOf(i)) + pad
      })
      .join(GAP)
      .trimEnd()

  const out = [line(header, () => ANSI.bold)]
  peers.forEach((p, r) => {
    out.push(line(rows[r]!, (col) => (col === 2 ? STATUS_COLOR[p.status] : undefined)))
  })
  // Every peer not ready: what failed (if a pull did), then its cause and next step.
  const failed = (p: PeerRow) => p.last_error !== null && p.last_error !== p.hint
  const notReady = peers.filter((p) => failed(p) || p.hint)
  if (notReady.length > 0) out.push('')
  for (const p of notReady) {
    const who = paint(visible(shorts.get(p.id) ?? p.id), ANSI.bold)
    if (failed(p)) out.push(`${who}: ${paint('last pull failed', ANSI.red)}: ${visible(p.last_error!)}`)
    if (p.hint) out.push(`${who}: ${visible(p.status)}: ${visible(p.hint)}`)
  }
  return out.join('\n')
}
