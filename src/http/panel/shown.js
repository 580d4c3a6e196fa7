// @ts-check
/**
 * What the panel does to every string from the server before showing it: control characters,
 * bidi marks/embeddings/overrides/isolates and invisible formatting characters become visible
 * escapes (`\u202e`), as src/lib/visible.ts does for the terminal, so a peer's label
 * `public:\u202egpj.exe` cannot render as something else. Newline and tab stay (multi-line
 * memory content). A browser module with no imports, so tests can load it too.
 */

// Same set as src/lib/visible.ts; the tag characters U+E0000–E007F are written as surrogate pairs.
const UNSHOWN = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]|\udb40[\udc00-\udc7f]/g

/**
 * @param {string} text
 * @returns {string} `text` with each such character as `\xNN`, `\uNNNN` or `\u{NNNNN}`
 */
export function shown(text) {
  return text.replace(UNSHOWN, (ch) => {
    const cp = /** @type {number} */ (ch.codePointAt(0))
    if (cp < 0x100) return `\\x${cp.toString(16).padStart(2, '0')}`
    if (cp <= 0xffff) return `\\u${cp.toString(16).padStart(4, '0')}`
    return `\\u{${cp.toString(16)}}`
  })
}
