/**
 * Multi-row INSERTs: one statement writes many rows. A page of a pull writes a thousand copies
 * and their full-text rows; one statement per row spent more in the call into SQLite (binding,
 * stepping, resetting: in one of the runtime's SQLite bindings about twice the other's) than
 * SQLite spent storing the row.
 */

/**
 * Rows per statement, largest first. A batch is cut into runs of these sizes, so a connection
 * caches at most one statement per size and shape, whatever the batch's length. 64 rows of 9
 * values stay far below any SQLite build's limit on bound parameters (32,766 at the least).
 */
const RUN_SIZES = [64, 16, 4, 1] as const

/** `rows` cut into consecutive runs whose lengths are RUN_SIZES, largest first. */
export function* runsOf<T>(rows: readonly T[]): Generator<T[]> {
  let at = 0
  for (const size of RUN_SIZES) {
    while (rows.length - at >= size) {
      yield rows.slice(at, at + size)
      at += size
    }
  }
}

/** `tuple` (e.g. `(?, ?, 0)`) repeated `n` times, comma-separated: the VALUES of an n-row INSERT. */
export function valuesOf(tuple: string, n: number): string {
  return Array.from({ length: n }, () => tuple).join(', ')
}
