/**
 * One `bun build --compile` of src/main.ts (and everything it imports: panel assets, migrations)
 * into a self-contained executable. The commit and the target are baked in as constants
 * (src/version.ts reads them), so `mazemaker --version` says exactly what a binary is.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'

export const ROOT = join(import.meta.dir, '..')

export interface CompileOptions {
  outfile: string
  /** Bun's --target (`bun-linux-arm64` …); omitted: this machine. */
  bunTarget?: string
  /** What `--version` names as the target, e.g. `linux-arm64`. */
  targetName: string
  commit: string
  /** Defaults: minified, with bytecode and a source map, as released. */
  minify?: boolean
  bytecode?: boolean
  sourcemap?: boolean
}

/** The commit a build comes from: short hash, `-dirty` when the work tree has changes; `unknown` outside git. */
export function buildCommit(root = ROOT): string {
  try {
    const hash = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim()
    return dirty ? `${hash}-dirty` : hash
  } catch {
    return 'unknown'
  }
}

/** The argv of the compile (exported for the size bench, which varies minify/bytecode). */
export function compileArgv(opts: CompileOptions): string[] {
  const argv = [process.execPath, 'build', '--compile']
  if (opts.minify ?? true) argv.push('--minify')
  if (opts.sourcemap ?? true) argv.push('--sourcemap')
  if (opts.bytecode ?? true) argv.push('--bytecode')
  if (opts.bunTarget) argv.push(`--target=${opts.bunTarget}`)
  argv.push('--define', `MAZEMAKER_BUILD_COMMIT=${JSON.stringify(opts.commit)}`)
  argv.push('--define', `MAZEMAKER_BUILD_TARGET=${JSON.stringify(opts.targetName)}`)
  argv.push(join(ROOT, 'src/main.ts'), '--outfile', opts.outfile)
  return argv
}

/** Runs the compile; throws with Bun's output when it fails. Returns the wall time in ms. */
export function compile(opts: CompileOptions): number {
  const started = performance.now()
  const proc = Bun.spawnSync(compileArgv(opts), { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' })
  if (proc.exitCode !== 0) {
    throw new Error(`bun build --compile ${opts.bunTarget ?? ''} failed (exit ${proc.exitCode}):\n${proc.stdout}${proc.stderr}`)
  }
  return performance.now() - started
}
