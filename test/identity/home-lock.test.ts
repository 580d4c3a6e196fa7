import { expect, test } from 'bun:test'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { HomeError } from '../../src/lib/errors'
import { homePaths, lockHome } from '../../src/identity'
import { useTempDirs } from './_temp-home'

const tempDir = useTempDirs()
const paths = () => {
  const root = join(tempDir(), 'home')
  mkdirSync(root, { mode: 0o700 })
  return homePaths(root)
}

/** A pid that is not running: a child we started and waited for. */
async function deadPid(): Promise<number> {
  const child = Bun.spawn([process.execPath, '-e', ''], { stdout: 'ignore', stderr: 'ignore' })
  await child.exited
  return child.pid
}

test('takes the lock, holds our pid, releases it', () => {
  const p = paths()
  const lock = lockHome(p)
  expect(readFileSync(p.lock, 'utf8').split('\n')[0]).toBe(String(process.pid))
  lock.release()
  expect(existsSync(p.lock)).toBe(false)
  lock.release() // idempotent
  lockHome(p).release()
})

test('a live holder is refused with its pid', () => {
  const p = paths()
  const lock = lockHome(p)
  expect(() => lockHome(p)).toThrow(HomeError)
  expect(() => lockHome(p)).toThrow(`home ${p.root} is locked by pid ${process.pid}; is another pod running?`)
  lock.release()
})

test('a lock of a live process written without a start time is respected', () => {
  const p = paths()
  writeFileSync(p.lock, `${process.ppid}\n`)
  expect(() => lockHome(p)).toThrow(`locked by pid ${process.ppid}`)
})

test('a stale lock (dead pid) is replaced', async () => {
  const p = paths()
  writeFileSync(p.lock, `${await deadPid()}\n`)
  const lock = lockHome(p)
  expect(readFileSync(p.lock, 'utf8').split('\n')[0]).toBe(String(process.pid))
  lock.release()
})

/** The lock file now names this process (pid and start), and no stale copy was left beside it. */
function expectOurs(p: ReturnType<typeof paths>, stale: string) {
  const [pid, start] = readFileSync(p.lock, 'utf8').split('\n')
  expect(pid).toBe(String(process.pid))
  expect(start).not.toBe(stale.split('\n')[1])
  // The same start a lock taken on an empty home records for this process.
  const fresh = paths()
  const ours = lockHome(fresh)
  expect(start).toBe(readFileSync(fresh.lock, 'utf8').split('\n')[1])
  ours.release()
  expect(readdirSync(p.root).filter((f) => f.startsWith('pod.lock'))).toEqual(['pod.lock'])
}

test('a lock whose pid was reused by another process is stale', () => {
  const p = paths()
  // Our own pid but another process start: e.g. pid 1 of a restarted container.
  const stale = `${process.pid}\nsome-other-boot:12345\n`
  writeFileSync(p.lock, stale)
  const lock = lockHome(p)
  expectOurs(p, stale)
  lock.release()
  expect(existsSync(p.lock)).toBe(false)
})

test('empty or garbage lock files are stale', () => {
  const p = paths()
  for (const content of ['', 'not a pid\n']) {
    writeFileSync(p.lock, content)
    const lock = lockHome(p)
    expectOurs(p, content)
    lock.release()
    expect(existsSync(p.lock)).toBe(false)
  }
})

test('release does not remove a lock that is no longer ours', () => {
  const p = paths()
  const lock = lockHome(p)
  writeFileSync(p.lock, '1\n')
  lock.release()
  expect(readFileSync(p.lock, 'utf8')).toBe('1\n')
})
