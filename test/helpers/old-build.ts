/**
 * A compiled binary of an earlier commit of this repository, for upgrade tests: checked out in a
 * git worktree, compiled there with today's Bun, and kept in node_modules/.cache/mazemaker-old/
 * <commit>/mazemaker so later runs (and CI runs on this machine until `npm ci` clears
 * node_modules) reuse it. The old tree resolves its packages from this checkout's node_modules
 * when every package of its lockfile is installed here at the same version (no install at all);
 * otherwise it gets its own `npm ci`.
 */
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { acquireLock, ROOT } from './binary'

const CACHE = join(ROOT, 'node_modules', '.cache', 'mazemaker-old')
const BUILD_TIMEOUT_MS = 600_000

const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()

type Lock = { packages: Record<string, { version?: string }> }

/** Whether every package the old lockfile installs is installed here at the same version. */
function nodeModulesFit(commit: string): boolean {
  const old = JSON.parse(git('show', `${commit}:package-lock.json`)) as Lock
  const here = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as Lock
  return Object.entries(old.packages).every(([path, p]) => path === '' || here.packages[path]?.version === p.version)
}

/**
 * The full id of `commit`. A shallow clone (git clone --depth) lacks it: that fails here with the
 * fix (scripts/test.sh fetches the history before the tests when it can), never a silent skip.
 */
function fullId(commit: string): string {
  try {
    return git('rev-parse', '--verify', '--quiet', `${commit}^{commit}`)
  } catch {
    const shallow = git('rev-parse', '--is-shallow-repository') === 'true'
    throw new Error(
      shallow
        ? `commit ${commit} is not in this clone: it is shallow; the upgrade test builds ${commit} from history: run 'git fetch --unshallow' (or clone without --depth)`
        : `commit ${commit} is not in this repository's history`,
    )
  }
}

/** The path of the compiled binary of `commit` (building and caching it on first use). */
export function oldBinary(commit: string): string {
  const full = fullId(commit)
  const dir = join(CACHE, full)
  const binary = join(dir, 'mazemaker')
  if (existsSync(binary)) return binary
  mkdirSync(CACHE, { recursive: true })
  const lock = join(CACHE, `.${full}.lock`)
  if (!acquireLock(lock, BUILD_TIMEOUT_MS, BUILD_TIMEOUT_MS)) throw new Error(`timed out waiting for ${lock}`)
  const tree = join(CACHE, `tree-${full}`)
  try {
    if (existsSync(binary)) return binary
    rmSync(tree, { recursive: true, force: true })
    git('worktree', 'prune')
    git('worktree', 'add', '--detach', tree, full)
    if (nodeModulesFit(full)) symlinkSync(join(ROOT, 'node_modules'), join(tree, 'node_modules'))
    else execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: tree, stdio: 'pipe', timeout: BUILD_TIMEOUT_MS })
    // The old commit's own build script, run by today's Bun.
    execFileSync(process.execPath, [join(tree, 'build', 'compile.ts')], { cwd: tree, stdio: 'pipe', timeout: BUILD_TIMEOUT_MS })
    mkdirSync(dir, { recursive: true })
    copyFileSync(join(tree, 'dist', 'mazemaker'), `${binary}.tmp`)
    execFileSync('mv', [`${binary}.tmp`, binary])
    execFileSync('chmod', ['755', binary])
    return binary
  } finally {
    try {
      git('worktree', 'remove', '--force', tree)
    } catch {
      rmSync(tree, { recursive: true, force: true })
      git('worktree', 'prune')
    }
    rmdirSync(lock)
  }
}
