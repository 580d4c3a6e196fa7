/**
 * Text from memories, peers and errors reaches the operator's terminal (CLI output and log lines). A paired peer chooses
 * labels and content, names and error details, so anything that could drive the terminal (ESC/CSI
 * sequences: hidden text, OSC 52 clipboard writes, screen spoofing) or make text render other than
 * its bytes (bidi overrides and isolates, invisible characters) is printed as a visible escape
 * (`\x1b`, `\u202e`), never raw. Every CLI printer goes through `visible()`, log lines through
 * `jsonVisible()`.
 */

/**
 * Control characters (C0, DEL, C1), bidi marks/embeddings/overrides/isolates (ALM, LRM, RLM,
 * U+202A–202E, U+2066–2069), line/paragraph separators, invisible formatting (zero-width space,
 * word joiner, invisible operators, BOM, interlinear annotations) and Unicode tag characters
 * (invisible "ASCII smuggling"). ZWJ/ZWNJ stay: emoji and several scripts need them.
 */
const UNSAFE = /[\p{Cc}\u061c\u200b\u200e\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\u{e0000}-\u{e007f}]/gu

/** True when `text` has nothing visible() would escape. */
export function isVisible(text: string): boolean {
  UNSAFE.lastIndex = 0
  return !UNSAFE.test(text)
}

const NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' }

export interface VisibleOptions {
  /**
   * Keep line breaks and tabs (multi-line content printed as a block). Off (the default) for
   * one-line fields and table cells, where a newline would forge a row.
   */
  multiline?: boolean
}

/** One character as a visible escape: `\n`, `\x1b`, `\u202e`, `\u{e0041}`. */
function escapeChar(ch: string): string {
  const named = NAMED[ch]
  if (named) return named
  const cp = ch.codePointAt(0)!
  if (cp < 0x100) return `\\x${cp.toString(16).padStart(2, '0')}`
  if (cp <= 0xffff) return `\\u${cp.toString(16).padStart(4, '0')}`
  return `\\u{${cp.toString(16)}}`
}

/**
 * `text` safe to write to a terminal: every control, bidi and invisible character as an escape.
 * @example visible('a\x1b]52;c;…\x07b') === 'a\\x1b]52;c;…\\x07b'
 */
export function visible(text: string, opts: VisibleOptions = {}): string {
  return text.replace(UNSAFE, (ch) => (opts.multiline && (ch === '\n' || ch === '\t') ? ch : escapeChar(ch)))
}

/**
 * The same characters inside a JSON text, as `\uXXXX` (JSON.stringify already escapes C0 in
 * strings but leaves C1 and bidi raw). C0 is left alone: in stringify's output it is only the
 * pretty-printing whitespace. Outside strings JSON is ASCII, so the result parses to the same value.
 */
export function jsonVisible(json: string): string {
  return json.replace(UNSAFE, (ch) => {
    if (ch.charCodeAt(0) < 0x20) return ch
    let out = ''
    for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`
    return out
  })
}
