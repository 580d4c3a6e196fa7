/**
 * The tunnel topology, shared by the tunnel tests: a pod reachable only through an "edge" host
 * running Caddy, the way a Cloudflare Tunnel fronts it: TLS terminated at the edge with a test CA,
 * the pod mounted under /mzm with only /peer/sync and /healthz exposed, requests without the
 * Access service-token headers refused (403), every body the edge relays logged in the clear by
 * a proxy behind Caddy, and every answer the edge gives logged by Caddy (access.log, JSON lines,
 * the Access secret header dropped from it as docs/deploy/cloudflare-tunnel.md advises).
 *
 *   puller (10.21.0.2) ──TLS──▶ edge: Caddy 10.21.0.1:443 ─▶ body-log proxy 127.0.0.1:9080
 *                                                            ─▶ pod (10.20.0.2:8765, "home")
 *
 * `edgeIdleLimit` makes the edge give up on an upstream that sends nothing for that long (Caddy
 * `response_header_timeout`, answering 504), as a real tunnel does after its idle limit
 * (Cloudflare: 100 s, error 524), scaled down so a test sees several limits in a few seconds.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cleanup, ROOT, type PodProcess } from '../helpers/pod-process'
import { hostPod, paste, spawnUntil } from './hosts'
import { createTopology, type Topology } from './netns'
import { makeTestCa } from './test-ca'

export const HOST = 'pod.tunnel.test'
export const ACCESS_ID = 'a1b2c3d4e5f6.access'
export const ACCESS_SECRET = 'tunnel-test-secret-7f3c9e1a5b'

export interface TunnelOptions {
  /** Prefix of the namespace roles, so two topologies in one process do not collide. */
  tag: string
  /** Caddy duration (e.g. "3s"): the edge answers 504 to a request whose upstream sent no headers for this long. */
  edgeIdleLimit?: string
  /** Environment of the home pod (e.g. MAZEMAKER_LIVE_WAIT). */
  homeEnv?: Record<string, string>
}

export interface Tunnel {
  topo: Topology
  dir: string
  home: PodProcess
  /** The namespace pullers run in (10.21.0.2; pods there listen on their own ports). */
  pullNs: string
  caCert: string
  /** Every body the edge relayed, byte for byte (body-log-proxy.ts). */
  bodyLog: string
  /** Caddy's access log: one JSON line per answer the edge gave. */
  accessLog: string
  /** Starts a pulling pod in the puller namespace that trusts the test CA. */
  puller(name: string, port: number, env?: Record<string, string>): Promise<PodProcess>
  /** Pairs `puller` with home both ways and gives it the Access headers before its first pull; returns home's peer id. */
  pair(puller: PodProcess): Promise<string>
  /** Statuses of the edge's answers to /mzm/peer/sync so far. */
  edgeStatuses(): number[]
  stop(): Promise<void>
}

/** The Caddyfile of the edge: the same shape docs/deploy/cloudflare-tunnel.md describes. */
function caddyfile(cert: string, key: string, dataDir: string, accessLog: string, idleLimit?: string): string {
  const transport = idleLimit ? ` {\n\t\t\t\ttransport http {\n\t\t\t\t\tresponse_header_timeout ${idleLimit}\n\t\t\t\t}\n\t\t\t}` : ''
  return `{
\tadmin off
\tauto_https disable_redirects
\tstorage file_system ${dataDir}
}

https://${HOST}:443 {
\tbind 10.21.0.1
\ttls ${cert} ${key}
\tlog {
\t\toutput file ${accessLog}
\t\tformat filter {
\t\t\twrap json
\t\t\tfields {
\t\t\t\trequest>headers>Cf-Access-Client-Secret delete
\t\t\t}
\t\t}
\t}
\t@noaccess not {
\t\theader CF-Access-Client-Id ${ACCESS_ID}
\t\theader CF-Access-Client-Secret ${ACCESS_SECRET}
\t}
\t@pod path /mzm/peer/sync /mzm/healthz
\troute {
\t\trespond @noaccess "Forbidden: an Access service token is required" 403
\t\thandle @pod {
\t\t\turi strip_prefix /mzm
\t\t\treverse_proxy 127.0.0.1:9080${transport}
\t\t}
\t\trespond 404
\t}
}
`
}

export async function startTunnel(opts: TunnelOptions): Promise<Tunnel> {
  const topo = createTopology()
  const dir = mkdtempSync(join(tmpdir(), `mzm-${opts.tag}-`))
  const pods: PodProcess[] = []
  const helpers: { stop(): Promise<void> }[] = []
  const stop = async () => {
    await Promise.all(helpers.map((h) => h.stop()))
    await cleanup(pods)
    topo.destroy()
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    const podNs = topo.ns(`${opts.tag}home`)
    const edgeNs = topo.ns(`${opts.tag}edge`)
    const pullNs = topo.ns(`${opts.tag}pull`)
    topo.link(podNs, '10.20.0.2/24', edgeNs, '10.20.0.1/24')
    topo.link(edgeNs, '10.21.0.1/24', pullNs, '10.21.0.2/24')
    topo.hosts(pullNs, { [HOST]: '10.21.0.1' })

    const ca = makeTestCa(dir, HOST)
    const bodyLog = join(dir, 'bodies.log')
    const accessLog = join(dir, 'access.log')
    writeFileSync(join(dir, 'Caddyfile'), caddyfile(ca.cert, ca.key, join(dir, 'caddy-data'), accessLog, opts.edgeIdleLimit))

    const home = await hostPod({ netns: podNs, name: 'home', listen: '10.20.0.2:8765', advertise: [`https://${HOST}/mzm`], env: opts.homeEnv })
    pods.push(home)
    const proxy = [process.execPath, join(ROOT, 'test/network/body-log-proxy.ts'), '127.0.0.1:9080', 'http://10.20.0.2:8765', bodyLog]
    helpers.push(await spawnUntil([...topo.wrap(edgeNs), ...proxy], /op=listen/))
    helpers.push(
      await spawnUntil([...topo.wrap(edgeNs), 'caddy', 'run', '--adapter', 'caddyfile', '--config', join(dir, 'Caddyfile')], /serving initial configuration/, {
        env: { XDG_DATA_HOME: join(dir, 'xdg-data'), XDG_CONFIG_HOME: join(dir, 'xdg-config'), HOME: dir },
      }),
    )
    return {
      topo,
      dir,
      home,
      pullNs,
      caCert: ca.caCert,
      bodyLog,
      accessLog,
      async puller(name, port, env = {}) {
        const pod = await hostPod({
          netns: pullNs,
          name,
          listen: `10.21.0.2:${port}`,
          advertise: [`http://10.21.0.2:${port}`],
          env: { NODE_EXTRA_CA_CERTS: ca.caCert, DENO_CERT: ca.caCert, ...env },
        })
        pods.push(pod)
        return pod
      },
      async pair(puller) {
        await paste(home, puller)
        // Paused until the headers are set: a first pull without them would only earn a 403 and a backoff.
        const peer = await paste(puller, home, { sync: false })
        for (const [name, value] of [
          ['CF-Access-Client-Id', ACCESS_ID],
          ['CF-Access-Client-Secret', ACCESS_SECRET],
        ] as const) {
          const res = await puller.api('PUT', `/peer/peers/${peer.id}/headers/${name}`, { value })
          if (res.status !== 200) throw new Error(`headers set: ${res.status} ${JSON.stringify(res.body)}`)
        }
        const res = await puller.api('PATCH', `/peer/peers/${peer.id}`, { sync: true })
        if (res.status !== 200) throw new Error(`peer set sync: ${res.status} ${JSON.stringify(res.body)}`)
        return peer.id
      },
      edgeStatuses() {
        let text = ''
        try {
          text = readFileSync(accessLog, 'utf8')
        } catch {
          return []
        }
        return text
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { status: number; request: { uri: string } })
          .filter((e) => e.request.uri === '/mzm/peer/sync')
          .map((e) => e.status)
      },
      stop,
    }
  } catch (err) {
    await stop()
    throw err
  }
}
