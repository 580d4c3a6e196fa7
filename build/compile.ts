/**
 * `npm run build`: compiles src/main.ts into one self-contained executable for this machine,
 * dist/mazemaker (the binary the tests run). `npm run release` builds every platform.
 */
import { mkdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { buildCommit, compile, ROOT } from './bun-compile'
import { hostTarget } from './targets'

const outfile = join(ROOT, 'dist', 'mazemaker')
mkdirSync(join(ROOT, 'dist'), { recursive: true })

try {
  const ms = compile({ outfile, targetName: hostTarget()?.name ?? `${process.platform}-${process.arch}`, commit: buildCommit() })
  const mb = (statSync(outfile).size / 1024 / 1024).toFixed(1)
  console.log(`built ${outfile} (${mb} MB) in ${Math.round(ms)} ms`)
} catch (err) {
  console.error((err as Error).message)
  process.exit(1)
}
