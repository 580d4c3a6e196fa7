/**
 * `npm run build`: compiles src/main.ts and everything it imports (panel assets, migrations)
 * into one self-contained executable, dist/mazemaker.
 */
import { mkdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const root = join(import.meta.dir, '..')
const outfile = join(root, 'dist', 'mazemaker')
mkdirSync(join(root, 'dist'), { recursive: true })

const started = performance.now()
const proc = Bun.spawnSync([process.execPath, 'build', '--compile', '--minify', '--sourcemap', '--bytecode', join(root, 'src/main.ts'), '--outfile', outfile], {
  cwd: root,
  stdout: 'inherit',
  stderr: 'inherit',
})
if (proc.exitCode !== 0) {
  console.error(`build failed (exit ${proc.exitCode})`)
  process.exit(proc.exitCode ?? 1)
}
const mb = (statSync(outfile).size / 1024 / 1024).toFixed(1)
console.log(`built ${outfile} (${mb} MB) in ${Math.round(performance.now() - started)} ms`)
