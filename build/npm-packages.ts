/**
 * The npm packages of a release, shaped like esbuild's and Biome's: a tiny launcher package
 * `mazemaker` (bin: mazemaker) whose optionalDependencies name one package per platform
 * (`@mazemaker/linux-x64` …, with `os`/`cpu` set) carrying that platform's binary. npm installs
 * only the one that matches the machine, so `npx -y mazemaker mcp` downloads one binary.
 */
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from './bun-compile'
import { releaseFileName, RELEASE_TARGETS, type ReleaseTarget } from './targets'

/** The launcher's name on npm, and the scope of the platform packages. */
export const LAUNCHER_NAME = 'mazemaker'
export const PLATFORM_SCOPE = '@mazemaker'
/** The MCP Registry name (reverse DNS of mazemaker.dev); server.json's `name` is the same. */
export const MCP_NAME = 'dev.mazemaker/mazemaker'
export const DESCRIPTION = "An AI agent's memories on your own machine, federated pod to pod."
export const HOMEPAGE = 'https://mazemaker.dev'

export function platformPackageName(t: ReleaseTarget): string {
  return `${PLATFORM_SCOPE}/${t.name}`
}

/** package.json of the launcher for `version`. */
export function launcherManifest(version: string): Record<string, unknown> {
  return {
    name: LAUNCHER_NAME,
    version,
    description: DESCRIPTION,
    homepage: HOMEPAGE,
    mcpName: MCP_NAME,
    bin: { mazemaker: 'bin/mazemaker.js' },
    files: ['bin/mazemaker.js'],
    engines: { node: '>=18' },
    optionalDependencies: Object.fromEntries(RELEASE_TARGETS.map((t) => [platformPackageName(t), version])),
  }
}

/** package.json of one platform package. Linux builds link glibc, so npm skips them on musl. */
export function platformManifest(t: ReleaseTarget, version: string): Record<string, unknown> {
  return {
    name: platformPackageName(t),
    version,
    description: `The ${t.name} binary of mazemaker (installed by the mazemaker package)`,
    homepage: HOMEPAGE,
    os: [t.os],
    cpu: [t.cpu],
    ...(t.os === 'linux' ? { libc: ['glibc'] } : {}),
    files: [`bin/mazemaker${t.exe}`],
    preferUnplugged: true,
  }
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`

/**
 * Writes dist/release/npm/<package>/ for the launcher and every platform, the binaries copied
 * from `releaseDir`. Returns each package's directory and files (launcher last).
 */
export function writeNpmPackages(releaseDir: string, version: string): { dir: string; files: string[] }[] {
  const npmDir = join(releaseDir, 'npm')
  const dirs: { dir: string; files: string[] }[] = []
  for (const t of RELEASE_TARGETS) {
    const dir = join(npmDir, `mazemaker-${t.name}`)
    mkdirSync(join(dir, 'bin'), { recursive: true })
    const binary = join(dir, 'bin', `mazemaker${t.exe}`)
    copyFileSync(join(releaseDir, releaseFileName(t)), binary)
    chmodSync(binary, 0o755)
    writeFileSync(join(dir, 'package.json'), json(platformManifest(t, version)))
    writeFileSync(
      join(dir, 'README.md'),
      `# ${platformPackageName(t)}\n\nThe ${t.name} binary of [mazemaker](${HOMEPAGE}). Install \`mazemaker\` instead: it picks the right one.\n`,
    )
    dirs.push({ dir, files: ['README.md', `bin/mazemaker${t.exe}`] })
  }
  const launcher = join(npmDir, LAUNCHER_NAME)
  mkdirSync(join(launcher, 'bin'), { recursive: true })
  copyFileSync(join(ROOT, 'build', 'npm-launcher.cjs'), join(launcher, 'bin', 'mazemaker.js'))
  chmodSync(join(launcher, 'bin', 'mazemaker.js'), 0o755)
  writeFileSync(join(launcher, 'package.json'), json(launcherManifest(version)))
  writeFileSync(
    join(launcher, 'README.md'),
    [
      '# mazemaker',
      '',
      DESCRIPTION,
      '',
      '```sh',
      'npx -y mazemaker serve        # run a pod on 127.0.0.1:8765 (first run creates ~/.mazemaker)',
      'npx -y mazemaker mcp          # MCP server on stdio, for an MCP client configuration',
      '```',
      '',
      'npm installs the binary for this platform only (linux, macOS, Windows; x64 and arm64).',
      '',
    ].join('\n'),
  )
  dirs.push({ dir: launcher, files: ['README.md', 'bin/mazemaker.js'] })
  return dirs
}
