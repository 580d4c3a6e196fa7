/**
 * Scope matching: which labels a peer's scope (up to 16 globs of `*` and `?`) covers, in linear
 * time whatever the globs. The pod owns one ScopeMatchers (its caches and their byte budget);
 * the wire's limits on a scope are src/protocol/scope.ts.
 */
export { compileGlob, matchesCompiled, matchesGlob, type CompiledGlob } from './glob'
export { scopeDfa, type ScopeDfa } from './glob-dfa'
export { scopeNarrows } from './narrows'
export { directMatcher, ScopeMatchers, SCOPE_MATCHERS_BUDGET_BYTES, type HeldScope } from './scope-matchers'
