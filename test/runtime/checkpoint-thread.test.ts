/**
 * The checkpoint thread (src/runtime/checkpoint-thread.ts) under both runtimes and compiled: a WAL its writer
 * never checkpoints is copied back by the thread while the writer keeps its connection, so the
 * WAL starts over at the writer's next commit; nothing written is lost; a closed thread refuses.
 */
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DENO, ROOT } from '../helpers/pod-process'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})
const PROBE = join(ROOT, 'test', 'runtime', 'fixtures', 'checkpoint-probe.ts')

/** The probe compiled as the release compiles the pod (minified, bytecode): the thread's code has no file there. */
function compiledProbe(dir: string): string {
  const out = join(dir, 'probe')
  const built = Bun.spawnSync([process.execPath, 'build', '--compile', '--minify', '--bytecode', PROBE, '--outfile', out], { stdout: 'pipe', stderr: 'pipe' })
  if (built.exitCode !== 0) throw new Error(`compiling the probe failed: ${built.stderr}`)
  return out
}

for (const runtime of ['Bun', 'Deno', 'a compiled binary'] as const) {
  test(`under ${runtime}: the thread copies the whole WAL back while the writer stays open`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mzm-checkpoint-'))
    dirs.push(dir)
    const cmd = runtime === 'Bun' ? [process.execPath, PROBE, dir] : runtime === 'Deno' ? [DENO, 'run', '-A', PROBE, dir] : [compiledProbe(dir), dir]
    const proc = Bun.spawn(cmd, { cwd: dir, stdout: 'pipe', stderr: 'pipe' })
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
    const out = JSON.parse(stdout)
    expect(out.before.frames).toBeGreaterThan(300)
    expect(out.before.backfilled).toBe(0)
    expect(out.outcome).toEqual({ busy: 0, log: out.before.frames, checkpointed: out.before.frames })
    expect(out.after).toEqual({ frames: out.before.frames, backfilled: out.before.frames })
    expect(out.restarted.frames).toBeLessThan(10)
    expect(out.closed).toBe('the checkpoint thread is closed')
    expect(out.rows).toBe(301)
  })
}
