import { expect, test } from 'bun:test'
import { tmpdir } from 'node:os'
import { asDiskFull, DiskFull, diskSpace, isDiskFullError } from '../../src/lib/disk-space'
import { formatBytes } from '../../src/lib/format-bytes'
import { PodError } from '../../src/lib/errors'

test('SQLite (bun:sqlite and node:sqlite) and filesystem errors for a full disk are recognised; others are not', () => {
  const bun = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL', errno: 13 })
  const node = Object.assign(new Error('database or disk is full'), { code: 'ERR_SQLITE_ERROR' })
  const fs = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
  for (const e of [bun, node, fs]) expect(isDiskFullError(e)).toBe(true)
  for (const e of [new Error('database is locked'), Object.assign(new Error('x'), { code: 'SQLITE_BUSY' }), null, 'full'])
    expect(isDiskFullError(e)).toBe(false)
})

test('asDiskFull names the filesystem and its free space; other errors pass through unchanged', () => {
  const dir = tmpdir()
  const full = asDiskFull(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }), dir) as DiskFull
  expect(full).toBeInstanceOf(DiskFull)
  expect(full).toBeInstanceOf(PodError)
  expect(full.code).toBe('disk_full')
  expect(full.message).toContain(dir)
  expect(full.message).toContain(`${formatBytes(full.space.free_bytes)} free`)
  const other = new Error('database is locked')
  expect(asDiskFull(other, dir)).toBe(other)
})

test('diskSpace: the mount point holding a directory, free and total bytes', () => {
  const s = diskSpace(tmpdir())
  expect(s.free_bytes).toBeGreaterThan(0)
  expect(s.total_bytes).toBeGreaterThanOrEqual(s.free_bytes)
  expect(tmpdir().startsWith(s.path)).toBe(true)
  expect(formatBytes(512)).toBe('512 B')
  expect(formatBytes(3 * 1024 * 1024)).toBe('3.0 MiB')
})
