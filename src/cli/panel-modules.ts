/**
 * The panel's display helpers (format.js: status words, short ids, "2 min ago") and its reader of
 * the event stream (sse.js), run in the CLI from the very text the panel serves, so `peer list`,
 * `watch` and the panel share one source. Bun's bundler embeds a file as text or as code, never
 * both: the text is already embedded for the panel, so the CLI evaluates it as a module from a
 * data: URL (both modules import nothing). Types come from the files themselves.
 */
import { PANEL_ASSETS } from '../http/panel/assets'
import type * as Format from '../http/panel/format.js'
import type * as Sse from '../http/panel/sse.js'

export type PanelFormat = typeof Format
export type PanelSse = typeof Sse

async function load<T>(name: string): Promise<T> {
  const text = PANEL_ASSETS[name]?.[0]
  if (typeof text !== 'string') throw new Error(`panel module ${name} was not embedded as text; build with bun`)
  // Base64: Bun reads a long percent-encoded data: URL as text, not as a module. The runtime keeps
  // one module per URL, so a second load is the same module, not a second copy.
  return (await import(`data:text/javascript;base64,${Buffer.from(text, 'utf8').toString('base64')}`)) as T
}

export const panelFormat = (): Promise<PanelFormat> => load<PanelFormat>('format.js')
export const panelSse = (): Promise<PanelSse> => load<PanelSse>('sse.js')
