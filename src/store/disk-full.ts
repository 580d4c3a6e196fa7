/**
 * Every Store method, with a full disk reported as the typed DiskFull (src/lib/disk-space.ts)
 * naming the filesystem under pod.db, instead of SQLite's "database or disk is full". The HTTP
 * layer answers it 507 `disk_full`; the sync loop pauses pulls on it. SQLite rolls the refused
 * transaction back, so nothing stored is lost and the next write succeeds once there is room.
 */
import { asDiskFull } from '../lib/disk-space'

export function reportingDiskFull<T extends object>(store: T, dir: string): T {
  const wrapped = { ...store }
  for (const [key, value] of Object.entries(store)) {
    if (typeof value !== 'function') continue
    const fn = value as (...args: unknown[]) => unknown
    ;(wrapped as Record<string, unknown>)[key] = (...args: unknown[]) => {
      let out: unknown
      try {
        out = fn.apply(store, args)
      } catch (err) {
        throw asDiskFull(err, dir)
      }
      return out instanceof Promise ? out.catch((err: unknown) => Promise.reject(asDiskFull(err, dir))) : out
    }
  }
  return wrapped
}
