/**
 * The matchers of one pod's scopes, and every byte they hold: the pod creates one ScopeMatchers
 * and hands it to the store (feed pages, the share preview, scope changes) and to the long-poll
 * registry (waking held requests), so two pods in one process share nothing.
 *
 * Compiled scopes are kept in an LRU under one byte budget (contract Part 1c: held requests with
 * distinct scopes share bounded matcher memory). A scope's compiled globs are small and fixed;
 * its DFA (glob-dfa.ts) grows while labels teach it states, and asks the budget before every
 * allocation: past it, the least recently used scopes are dropped (a held one keeps its globs and
 * loses only its DFA), and a DFA that still finds no room stops growing and leaves the rest to
 * the globs. What a held request pins is therefore only its globs: the long-poll cap per peer
 * bounds those.
 *
 * Two ways to match:
 * - matcher(globs): for a loop over many labels (a feed page): the DFA first, then the globs.
 * - hold(globs): for waking held requests on a commit: the globs only, never growing anything,
 *   so a commit's wake work is a few linear matches per held scope and no compilation.
 */
import { scopeDfa, type ScopeDfa } from './glob-dfa'
import { compileGlob, matchesCompiled, type CompiledGlob } from './glob'
import { LabelIndex } from './label-index'

/** Default budget for all compiled scopes of a pod (their DFAs mostly). */
export const SCOPE_MATCHERS_BUDGET_BYTES = 32 * 1024 * 1024
/** Map entry, key and object overhead of one compiled scope, besides its globs. */
const ENTRY_OVERHEAD_BYTES = 256

interface CompiledScope {
  key: string
  /** Unique globs, cheapest first. */
  globs: CompiledGlob[]
  /** A glob of stars alone: every label matches. */
  all: boolean
  /** Bytes charged for the globs (and the entry) while it is in the LRU. */
  fixedBytes: number
  dfa: ScopeDfa | null
  /** Held requests using it: their globs stay however full the budget is. */
  pins: number
  /** Dropped from the LRU; a matcher made before keeps working on the globs alone. */
  evicted: boolean
}

/** A held request's matcher: release() it when the request is answered. */
export interface HeldScope {
  matches(label: string): boolean
  release(): void
}

export class ScopeMatchers {
  /** Insertion order is recency: used entries are moved to the end. */
  private readonly entries = new Map<string, CompiledScope>()
  /** Shared by every scope: matching is synchronous, and a label is indexed once for all of them. */
  private readonly index = new LabelIndex()
  private used = 0

  constructor(readonly budgetBytes = SCOPE_MATCHERS_BUDGET_BYTES) {}

  /** Bytes charged now (compiled globs of kept scopes and every DFA table). */
  get bytes(): number {
    return this.used
  }

  /** Compiled scopes kept now. */
  get size(): number {
    return this.entries.size
  }

  /** Is this scope kept compiled now? */
  has(globs: readonly string[]): boolean {
    return this.entries.has(JSON.stringify(globs))
  }

  /**
   * A matcher for one scope over many labels, built once and kept for the next pages. Identical
   * globs count once and a glob of stars alone matches everything. Labels go through the
   * scope's lazy DFA (one table lookup per character for all globs); when that cannot answer (a
   * non-ASCII label, a full table or budget), the globs are tried one by one, cheapest first,
   * each in linear time.
   */
  matcher(globs: readonly string[]): (label: string) => boolean {
    const e = this.entry(globs)
    if (e.all) return () => true
    // One DFA per matcher at most: if the budget refuses it, or takes it back for another
    // scope, this matcher goes on with the globs (no rebuilding per label under pressure).
    let tried = e.dfa !== null
    return (label) => {
      if (!tried && !e.evicted) {
        tried = true
        e.dfa = scopeDfa(
          e.globs.map((g) => g.source),
          (n) => this.charge(n, e),
        )
      }
      const answer = e.dfa?.match(label)
      return answer ?? this.direct(e, label)
    }
  }

  /** A scope's matcher for a held request: the globs only (no DFA, nothing grows); pinned until released. */
  hold(globs: readonly string[]): HeldScope {
    const e = this.entry(globs)
    e.pins++
    let released = false
    return {
      matches: (label) => e.all || this.direct(e, label),
      release: () => {
        if (released) return
        released = true
        e.pins--
      },
    }
  }

  /** Does any glob of `globs` match `label`? (One label: no DFA is built.) */
  matchesAny(label: string, globs: readonly string[]): boolean {
    const e = this.entry(globs)
    return e.all || this.direct(e, label)
  }

  private direct(e: CompiledScope, label: string): boolean {
    const ix = this.index
    ix.reset(label)
    for (const g of e.globs) if (matchesCompiled(label, g, ix)) return true
    return false
  }

  private entry(globs: readonly string[]): CompiledScope {
    const key = JSON.stringify(globs)
    let e = this.entries.get(key)
    if (e) {
      this.entries.delete(key) // most recently used last
      this.entries.set(key, e)
      return e
    }
    const list = [...new Set(globs)].map(compileGlob).sort((a, b) => a.cost - b.cost)
    const fixedBytes = ENTRY_OVERHEAD_BYTES + 2 * key.length + list.reduce((sum, g) => sum + g.bytes, 0)
    e = { key, globs: list, all: list.some((g) => g.matchesAll), fixedBytes, dfa: null, pins: 0, evicted: false }
    // The globs are needed whatever the budget says; room is made for them if it can be.
    this.makeRoom(fixedBytes, e)
    this.used += fixedBytes
    this.entries.set(key, e)
    return e
  }

  /** Grants `n` more bytes to `owner`'s DFA if they fit, after dropping what is least recently used. */
  private charge(n: number, owner: CompiledScope): boolean {
    if (owner.evicted) return false
    if (!this.makeRoom(n, owner)) return false
    this.used += n
    return true
  }

  /** Drops least recently used scopes (DFAs only, of held ones) until `n` more bytes fit; false if they don't. */
  private makeRoom(n: number, keep: CompiledScope): boolean {
    if (this.used + n <= this.budgetBytes) return true
    for (const e of this.entries.values()) {
      if (e === keep) continue
      if (e.dfa) {
        this.used -= e.dfa.bytes
        e.dfa = null
      }
      if (e.pins === 0) {
        this.entries.delete(e.key)
        this.used -= e.fixedBytes
        e.evicted = true
      }
      if (this.used + n <= this.budgetBytes) return true
    }
    return false
  }
}

/** A scope's globs one by one, without the DFA or any cache (tests compare the two paths). */
export function directMatcher(globs: readonly string[]): (label: string) => boolean {
  const list = [...new Set(globs)].map(compileGlob).sort((a, b) => a.cost - b.cost)
  const ix = new LabelIndex()
  return (label) => {
    ix.reset(label)
    for (const g of list) if (matchesCompiled(label, g, ix)) return true
    return false
  }
}
