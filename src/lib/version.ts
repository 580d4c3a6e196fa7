/**
 * The pod's version, from package.json (embedded in the compiled binary), and what the build
 * says about itself: `bun build --compile` (build/bun-compile.ts) defines the commit and the
 * target; run from source, neither is defined.
 */
import pkg from '../../package.json' with { type: 'json' }

declare const MAZEMAKER_BUILD_COMMIT: string | undefined
declare const MAZEMAKER_BUILD_TARGET: string | undefined

export const VERSION: string = pkg.version

/** The commit a compiled binary was built from (`-dirty` if the tree had changes), or null from source. */
export const BUILD_COMMIT: string | null = typeof MAZEMAKER_BUILD_COMMIT === 'string' ? MAZEMAKER_BUILD_COMMIT : null
/** The release target a compiled binary was built for (`linux-arm64` …), or null from source. */
export const BUILD_TARGET: string | null = typeof MAZEMAKER_BUILD_TARGET === 'string' ? MAZEMAKER_BUILD_TARGET : null

/** What `mazemaker --version` prints: `mazemaker 0.1.0 (commit 5b9fa68abc12, linux-x64)`. */
export function versionLine(runtime: string = runtimeName()): string {
  if (BUILD_COMMIT !== null) return `mazemaker ${VERSION} (commit ${BUILD_COMMIT}, ${BUILD_TARGET ?? 'unknown target'})`
  return `mazemaker ${VERSION} (from source, ${runtime}, ${process.platform}-${process.arch})`
}

function runtimeName(): string {
  const versions = process.versions as Record<string, string | undefined>
  if (versions.bun) return `bun ${versions.bun}`
  if (versions.deno) return `deno ${versions.deno}`
  return `node ${process.versions.node}`
}
