/**
 * The tunnel's eyes: a reverse proxy that runs behind the TLS-terminating edge (Caddy) and writes
 * every request and response body it relays to a file, byte for byte, as a TLS-terminating tunnel
 * or a curious operator of one could. Caddy cannot log bodies itself; this sees the same
 * plaintext bytes Caddy does.
 *
 * It must not cut held long-polls itself (that is the edge's job in the tests). Bun.serve's
 * `idleTimeout` (default 10 s) did not cut a pending 12 s handler on Bun 1.4.5 (checked), but
 * older Bun versions did, so it is off here explicitly. A request the edge gives up on is given
 * up upstream too (the pod then releases its held request). Each response line carries its ms.
 *
 * Usage: bun body-log-proxy.ts <listen host:port> <upstream base URL> <log file>
 * Logs `op=listen url=…` on stderr once listening (what spawnListening waits for).
 */
import { appendFileSync } from 'node:fs'

const [listen, upstream, logFile] = process.argv.slice(2)
if (!listen || !upstream || !logFile) throw new Error('usage: body-log-proxy.ts <host:port> <upstream> <log file>')
const host = listen.slice(0, listen.lastIndexOf(':'))
const port = Number(listen.slice(listen.lastIndexOf(':') + 1))

function record(what: string, bytes: Uint8Array): void {
  appendFileSync(logFile!, Buffer.concat([Buffer.from(`\n--- ${what} ${bytes.length} bytes\n`), bytes]))
}

const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'content-encoding', 'host'])

const server = Bun.serve({
  hostname: host,
  port,
  // 0 = no idle limit: a held long-poll (up to 50 s of silence) is the edge's to cut, not ours.
  idleTimeout: 0,
  async fetch(req) {
    const started = performance.now()
    const url = new URL(req.url)
    const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : new Uint8Array(await req.arrayBuffer())
    record(`request ${req.method} ${url.pathname}`, body ?? new Uint8Array())
    const headers = new Headers()
    for (const [k, v] of req.headers) if (!HOP.has(k)) headers.set(k, v)
    // fetch decompresses: the log holds the bytes an intermediary would read, not a gzip stream.
    const res = await fetch(upstream + url.pathname + url.search, { method: req.method, headers, body, signal: req.signal })
    const out = new Uint8Array(await res.arrayBuffer())
    record(`response ${res.status} ${url.pathname} ${Math.round(performance.now() - started)} ms`, out)
    const outHeaders = new Headers()
    for (const [k, v] of res.headers) if (!HOP.has(k)) outHeaders.set(k, v)
    return new Response(out, { status: res.status, headers: outHeaders })
  },
})
console.error(`op=listen url=http://${server.hostname}:${server.port}`)
process.on('SIGTERM', () => {
  server.stop(true)
  process.exit(0)
})
