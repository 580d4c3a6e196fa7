/** URLs for addresses we listen on. */

/**
 * `http://<host>:<port>` for reaching a local listener: IPv6 literals get brackets, and
 * wildcard binds (0.0.0.0, ::, empty) are reached through loopback.
 */
export function localHttpUrl(host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`
}
