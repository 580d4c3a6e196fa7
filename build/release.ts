/**
 * `npm run release`: every platform's binary in dist/release/ (mazemaker-linux-x64, -linux-arm64,
 * -darwin-x64, -darwin-arm64, -windows-x64.exe) with SHA256SUMS beside them, the npm packages
 * (dist/release/npm/, each also packed as a .tgz) and server.json at the repository root.
 *
 *   bun build/release.ts [--targets=linux-x64,linux-arm64] [--no-pack]
 *
 * --targets builds only those binaries (and writes no npm packages, which need all of them);
 * --no-pack writes the npm package directories without their tarballs.
 */
import { createHash } from 'node:crypto'
import { createReadStream, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildCommit, compile, ROOT } from './bun-compile'
import { adhocSign, verifyMachoSignature } from './macho-signature'
import { writeNpmPackages } from './npm-packages'
import { packNpmDir } from './npm-tarball'
import { serverJson } from './server-json'
import { releaseFileName, RELEASE_TARGETS, type ReleaseTarget } from './targets'

export const RELEASE_DIR = join(ROOT, 'dist', 'release')
/** Written last: what was built. Its absence means the release in dist/release is incomplete. */
export const RELEASE_STAMP = 'release.json'
/** Two compiles at once: the machine's cores, and Bun's compile is mostly single-threaded. */
const CONCURRENCY = 2

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** Runs `jobs` with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, job: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items]
  await Promise.all(
    Array.from({ length: Math.min(limit, queue.length) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await job(item)
    }),
  )
}

async function compileAsync(t: ReleaseTarget, commit: string): Promise<number> {
  // compile() blocks its thread; a worker process per target lets two run at once.
  const started = performance.now()
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, 'release.ts'), `--compile-one=${t.name}`, `--commit=${commit}`], {
    cwd: ROOT,
    stdout: 'inherit',
    stderr: 'inherit',
  })
  if ((await proc.exited) !== 0) throw new Error(`building ${t.name} failed`)
  return performance.now() - started
}

/** A darwin binary whose signature does not match its pages is re-signed ad hoc (see macho-signature.ts). */
function ensureSigned(path: string): void {
  const file = readFileSync(path)
  try {
    verifyMachoSignature(file)
  } catch (err) {
    const signed = adhocSign(file, 'mazemaker')
    verifyMachoSignature(signed)
    writeFileSync(path, signed)
    console.log(`re-signed ${path} ad hoc (${(err as Error).message})`)
  }
}

async function main(args: string[]): Promise<void> {
  const opt = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
  const one = opt('compile-one')
  if (one) {
    const t = RELEASE_TARGETS.find((x) => x.name === one)!
    const outfile = join(RELEASE_DIR, releaseFileName(t))
    compile({ outfile, bunTarget: t.bunTarget, targetName: t.name, commit: opt('commit')! })
    // The source map beside it is for debugging here, not a release artifact.
    for (const map of [`mazemaker-${t.name}.map`, `${releaseFileName(t)}.map`]) rmSync(join(RELEASE_DIR, map), { force: true })
    if (t.os === 'darwin') ensureSigned(outfile)
    return
  }
  const wanted = opt('targets')?.split(',')
  const targets = wanted ? RELEASE_TARGETS.filter((t) => wanted.includes(t.name)) : RELEASE_TARGETS
  if (wanted && targets.length !== wanted.length)
    throw new Error(`unknown target in ${wanted.join(',')}; known: ${RELEASE_TARGETS.map((t) => t.name).join(', ')}`)
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version
  const commit = buildCommit()

  const started = performance.now()
  rmSync(RELEASE_DIR, { recursive: true, force: true })
  mkdirSync(RELEASE_DIR, { recursive: true })
  await pool(targets, CONCURRENCY, async (t) => {
    const ms = await compileAsync(t, commit)
    const mb = (statSync(join(RELEASE_DIR, releaseFileName(t))).size / 1024 / 1024).toFixed(1)
    console.log(`built ${releaseFileName(t)} (${mb} MB) in ${Math.round(ms)} ms`)
  })
  const sums: string[] = []
  for (const t of targets) sums.push(`${await sha256File(join(RELEASE_DIR, releaseFileName(t)))}  ${releaseFileName(t)}`)
  writeFileSync(join(RELEASE_DIR, 'SHA256SUMS'), `${sums.join('\n')}\n`)

  if (!wanted) {
    const packages = writeNpmPackages(RELEASE_DIR, version)
    if (!args.includes('--no-pack')) {
      const packStarted = performance.now()
      for (const p of packages) packNpmDir(p.dir, p.files, join(RELEASE_DIR, 'npm'))
      console.log(`packed ${packages.length} npm packages in ${Math.round(performance.now() - packStarted)} ms`)
    }
    writeFileSync(join(ROOT, 'server.json'), `${JSON.stringify(serverJson(version), null, 2)}\n`)
  }
  const stamp = { version, commit, targets: targets.map((t) => t.name), npm: !wanted }
  writeFileSync(join(RELEASE_DIR, RELEASE_STAMP), `${JSON.stringify(stamp, null, 2)}\n`)
  console.log(`release ${version} (commit ${commit}) in ${RELEASE_DIR}: ${targets.length} binaries, ${Math.round(performance.now() - started)} ms`)
}

if (import.meta.main) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error((err as Error).message)
    process.exit(1)
  })
}
