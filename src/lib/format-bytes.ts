const UNITS = ['KiB', 'MiB', 'GiB', 'TiB']

/**
 * `512 B`, `3.0 MiB`. `short` drops the decimal from 10 units up (`12 MiB`), for progress lines
 * that update in place.
 */
export function formatBytes(n: number, opts: { short?: boolean } = {}): string {
  if (n < 1024) return `${n} B`
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024
    i++
  }
  return `${v.toFixed(opts.short && v >= 10 ? 0 : 1)} ${UNITS[i]}`
}
