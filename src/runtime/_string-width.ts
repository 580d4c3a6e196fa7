/**
 * Terminal width of a string where the runtime has no built-in (Bun has Bun.stringWidth, which
 * this matches on the text the CLI prints: names, labels, URLs). Per grapheme cluster: 0 for
 * controls, marks and invisible format characters, 2 for emoji and East Asian wide/fullwidth
 * characters, 1 otherwise. ANSI escape sequences (CSI and OSC) count 0.
 */

// CSI (colours, cursor) and OSC (hyperlinks, titles; ended by BEL or ESC \).
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/
const INVISIBLE = /^[\p{Cc}\p{Mn}\p{Mc}\p{Me}\p{Cf}\p{Default_Ignorable_Code_Point}]+$/u
const EMOJI_PRESENTATION = /^\p{Emoji_Presentation}/u
const EMOJI = /^\p{Emoji}/u
const REGIONAL_INDICATOR = /^\p{Regional_Indicator}{2}$/u
const VS16 = '\uFE0F'

/** East Asian Wide and Fullwidth blocks (Unicode 15), outside the emoji caught above. */
const WIDE: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f],
  [0x2329, 0x232a],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xa960, 0xa97f],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe10, 0xfe19],
  [0xfe30, 0xfe6f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x16fe0, 0x16fe4],
  [0x16ff0, 0x16ff1],
  [0x17000, 0x187f7],
  [0x18800, 0x18cd5],
  [0x18d00, 0x18d08],
  [0x1aff0, 0x1b2ff],
  [0x1f200, 0x1f202],
  [0x1f210, 0x1f23b],
  [0x1f240, 0x1f248],
  [0x1f250, 0x1f251],
  [0x1f260, 0x1f265],
  [0x20000, 0x2fffd],
  [0x30000, 0x3fffd],
]

let segmenter: Intl.Segmenter | undefined // built on first non-ASCII string

export function stringWidth(s: string): number {
  const text = s.replace(ANSI, '')
  if (PRINTABLE_ASCII.test(text)) return text.length
  let width = 0
  segmenter ??= new Intl.Segmenter()
  for (const { segment } of segmenter.segment(text)) width += clusterWidth(segment)
  return width
}

function clusterWidth(g: string): number {
  if (INVISIBLE.test(g)) return 0
  if (REGIONAL_INDICATOR.test(g)) return 2 // a flag; a lone indicator is narrow
  if (EMOJI_PRESENTATION.test(g) && !/^\p{Regional_Indicator}/u.test(g)) return 2
  if (g.includes(VS16) && EMOJI.test(g)) return 2 // text-default emoji asked to draw as emoji: ❤️ #️⃣
  return isWide(g.codePointAt(0)!) ? 2 : 1
}

function isWide(cp: number): boolean {
  let lo = 0
  let hi = WIDE.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const [a, b] = WIDE[mid]!
    if (cp < a) hi = mid - 1
    else if (cp > b) lo = mid + 1
    else return true
  }
  return false
}
