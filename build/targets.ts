/**
 * The platforms a release ships for: one self-contained binary each, built by
 * `bun build --compile --target=…` (Bun fetches the runtime of a foreign target from the npm
 * registry once and keeps it in its install cache, ~/.bun/install/cache).
 */
export interface ReleaseTarget {
  /** The name users see: `mazemaker-<name>[.exe]`, `@mazemaker/<name>`. */
  name: string
  /** Bun's --target. x64 Linux and Windows use the baseline build, which runs on CPUs without AVX2 (older NAS boxes, Celerons). */
  bunTarget: string
  /** npm's `os` and `cpu` for the package that carries this binary. */
  os: 'linux' | 'darwin' | 'win32'
  cpu: 'x64' | 'arm64'
  exe: '' | '.exe'
}

export const RELEASE_TARGETS: readonly ReleaseTarget[] = [
  { name: 'linux-x64', bunTarget: 'bun-linux-x64-baseline', os: 'linux', cpu: 'x64', exe: '' },
  { name: 'linux-arm64', bunTarget: 'bun-linux-arm64', os: 'linux', cpu: 'arm64', exe: '' },
  { name: 'darwin-x64', bunTarget: 'bun-darwin-x64', os: 'darwin', cpu: 'x64', exe: '' },
  { name: 'darwin-arm64', bunTarget: 'bun-darwin-arm64', os: 'darwin', cpu: 'arm64', exe: '' },
  { name: 'windows-x64', bunTarget: 'bun-windows-x64-baseline', os: 'win32', cpu: 'x64', exe: '.exe' },
]

/** `mazemaker-linux-x64`, `mazemaker-windows-x64.exe`: the file name in dist/release/ and on the download page. */
export function releaseFileName(t: ReleaseTarget): string {
  return `mazemaker-${t.name}${t.exe}`
}

/** The release target this machine runs (for the local build's `--version`), or null on one we do not ship. */
export function hostTarget(platform: string = process.platform, arch: string = process.arch): ReleaseTarget | null {
  return RELEASE_TARGETS.find((t) => t.os === platform && t.cpu === arch) ?? null
}
