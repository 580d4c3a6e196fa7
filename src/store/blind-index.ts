/**
 * Tokenizer and blind index for recall. Every text is tokenized here, in JS, the same way for
 * indexing and for queries (NFKD, combining marks stripped, lowercase, split on anything that is
 * not a letter or digit). Private content is indexed as blind tokens, "x" + 20 hex digits of
 * HMAC-SHA256(blindKey, token), so the full-text index can match words without holding them.
 */
import { createHmac, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto'
import { hmacSha256Hex } from '../runtime'

const BLIND_SALT = 'mzm-blind-v1'
const BLIND_INFO = 'blind-index'
const BLIND_KEY_BYTES = 32
const BLIND_HEX_CHARS = 20

const COMBINING_MARKS = /\p{M}+/gu
const NON_WORD = /[^\p{L}\p{N}]+/u
const ASCII = /^[\x00-\x7f]*$/

/** Words of `text`, normalized: "Café, CAFE!" → ["cafe", "cafe"]. */
export function tokenize(text: string): string[] {
  // ASCII has nothing to decompose or strip: skip the two Unicode passes (most text, and hot on pulls).
  const folded = ASCII.test(text) ? text : text.normalize('NFKD').replace(COMBINING_MARKS, '')
  return folded
    .toLowerCase()
    .split(NON_WORD)
    .filter((t) => t !== '')
}

/**
 * `text` as a full-text row column gets it: its tokens joined by spaces, or ASCII text as it is.
 * The index's unicode61 tokenizer splits and folds ASCII exactly as tokenize() does (letters and
 * digits are token characters, everything else separates, A-Z folded to a-z), so a pull's
 * copies skip a split and a join each.
 */
export function ftsText(text: string): string {
  return indexedAsIs(text) ? text : tokenize(text).join(' ')
}

/** Whether ftsText(text) is `text` itself (ASCII): its full-text row can then be written from the stored text in SQL. */
export function indexedAsIs(text: string): boolean {
  return ASCII.test(text)
}

export interface BlindIndex {
  /** The blind form of one (already tokenized) word. */
  blind(token: string): string
  /**
   * Space-separated blind tokens of `text`, in order and with repeats (bm25 counts them).
   * `cache`: word → blind token, shared by the texts of one batch (words repeat across memories);
   * it holds private words, so it lives no longer than the batch.
   */
  blindText(text: string, cache?: Map<string, string>): string
}

export function createBlindIndex(vaultKey: Uint8Array): BlindIndex {
  // A key of its own, so blind tokens reveal nothing usable against the vault key.
  const raw = new Uint8Array(hkdfSync('sha256', vaultKey, BLIND_SALT, BLIND_INFO, BLIND_KEY_BYTES))
  const key: KeyObject = createSecretKey(raw)
  const hmacHex = hmacSha256Hex
  const blind = hmacHex
    ? (token: string) => 'x' + hmacHex(raw, token).slice(0, BLIND_HEX_CHARS)
    : (token: string) => 'x' + createHmac('sha256', key).update(token, 'utf8').digest('hex').slice(0, BLIND_HEX_CHARS)
  return {
    blind,
    blindText(text, cache) {
      // Texts repeat words; hash each distinct word once.
      const seen = cache ?? new Map<string, string>()
      const out: string[] = []
      for (const t of tokenize(text)) {
        let b = seen.get(t)
        if (b === undefined) seen.set(t, (b = blind(t)))
        out.push(b)
      }
      return out.join(' ')
    },
  }
}
