/**
 * `mazemaker doctor`: checks the home (files, modes, keys), the database's integrity, the port,
 * peers.toml, whether what the pod advertises is reachable from elsewhere, and the rendezvous heartbeat, and says what to fix. Exit 1 when something is wrong.
 */
import { defineCommand } from 'citty'
import { existsSync } from 'node:fs'
import { homePaths, openHome } from '../identity'
import { checkAdvertiseReach, isWildcardHost, parseListen, type PodConfig } from '../config'
import { localHttpUrl } from '../lib/http-url'
import { formatMode, looseDbFiles, unscannedCount } from '../store'
import { createLogger } from '../lib/log'
import { answer, configuredUrl, homeRoot, podClient, portOverride, type GlobalFlags } from './context'
import { printJson } from './with-pod'
import { openSqlite, serve } from '../runtime'
import { visible } from '../lib/visible'
import { diskSpace, type DiskSpace } from '../lib/disk-space'
import { formatBytes } from '../lib/format-bytes'

interface Check {
  name: string
  ok: boolean
  detail: string
}

export function doctorCommand(flags: GlobalFlags) {
  return defineCommand({
    meta: { name: 'doctor', description: 'Check home directory, keys, database, port and rendezvous' },
    args: { json: { type: 'boolean', description: 'print JSON' } },
    async run({ args }) {
      const checks = await runChecks(flags)
      if (args.json) printJson({ ok: checks.every((c) => c.ok), checks })
      // Details quote paths, peers.toml errors and the rendezvous' last error: escaped.
      else for (const c of checks) console.log(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(10)} ${visible(c.detail)}`)
      if (!checks.every((c) => c.ok)) process.exitCode = 1
    },
  })
}

async function runChecks(flags: GlobalFlags): Promise<Check[]> {
  const root = homeRoot(flags)
  const checks: Check[] = []
  if (!existsSync(root)) return [{ name: 'home', ok: false, detail: `${root} does not exist; run \`mazemaker\` once to create it` }]
  let home
  try {
    home = await openHome(root, { log: createLogger({ level: 'error' }) })
    checks.push({ name: 'home', ok: true, detail: `${root}: keys, vault key, admin token and pod.toml present with mode 0600` })
  } catch (err) {
    return [{ name: 'home', ok: false, detail: (err as Error).message }]
  }
  const paths = homePaths(root)
  checks.push(diskCheck(root))
  checks.push(dbModeCheck(paths.db))
  checks.push(dbCheck(paths.db))
  const peers = home.peers.list()
  checks.push(
    peers.error
      ? { name: 'peers', ok: false, detail: `${peers.error} (the pod keeps using the last good copy)` }
      : { name: 'peers', ok: true, detail: `${peers.peers.length} peer(s) in ${paths.peersToml}` },
  )

  // The running pod answers on the home's socket, whatever port it took.
  const client = podClient(flags)
  const running = await client.running()
  const status = running ? await answer(client.api.status.$get()) : null
  if (status) {
    checks.push({ name: 'pod', ok: true, detail: `running at ${status.url ?? client.target}` })
  } else {
    const url = new URL(configuredUrl(flags))
    checks.push(await portCheck(url.hostname.replace(/^\[|\]$/g, ''), Number(url.port)))
  }

  checks.push(scanCheck(paths.db, running))

  const rv = home.config.rendezvous
  checks.push(advertiseCheck(home.config, flags, rv ? status?.rendezvous?.advertised_url || null : null, rv !== null))
  if (!rv) checks.push({ name: 'rendezvous', ok: true, detail: 'not configured (peers need direct URLs)' })
  else if (!running) checks.push({ name: 'rendezvous', ok: true, detail: `configured (${rv.url}); pod not running, no heartbeat` })
  else {
    const hb = status!.rendezvous
    checks.push(
      // pod.toml gained [rendezvous] (`rendezvous join`) after this pod started: it runs without one.
      !hb
        ? { name: 'rendezvous', ok: false, detail: `configured (${rv.url}) but the running pod started without it; restart the pod to start heartbeats` }
        : hb.rendezvous_url !== rv.url
          ? {
              name: 'rendezvous',
              ok: false,
              detail: `pod.toml names ${rv.url} but the running pod heartbeats to ${hb.rendezvous_url}; restart the pod to switch`,
            }
          : hb.registered
            ? { name: 'rendezvous', ok: true, detail: `registered at ${rv.url} as ${hb.advertised_url}; last heartbeat ${hb.last_ok_at}` }
            : { name: 'rendezvous', ok: false, detail: `not registered at ${rv.url}: ${hb.last_error ?? 'no heartbeat yet'}` },
    )
  }
  return checks
}

/**
 * Whether what we advertise (to handshakes, or to a rendezvous) is reachable from another
 * machine: loopback only is a FAIL. With a rendezvous and nothing advertised, the pod registers
 * its listen address: the running pod's heartbeat says which, else pod.toml's listen.
 */
function advertiseCheck(config: PodConfig, flags: GlobalFlags, registered: string | null, rendezvous: boolean): Check {
  const listenAt = parseListen(config.listen)
  const listenHost = flags.host ?? listenAt.host
  const heartbeatUrl = !rendezvous ? null : (registered ?? (isWildcardHost(listenHost) ? null : localHttpUrl(listenHost, portOverride(flags) ?? listenAt.port)))
  const r = checkAdvertiseReach({ advertise: config.advertise, listenHost, heartbeatUrl })
  return { name: 'advertise', ok: r.ok, detail: r.detail }
}

function dbCheck(path: string): Check {
  if (!existsSync(path)) return { name: 'database', ok: true, detail: `${path} not created yet` }
  try {
    const db = openSqlite(path, { readonly: true })
    try {
      const rows = db.query('PRAGMA integrity_check').all() as { integrity_check: string }[]
      const verdict = rows.map((r) => r.integrity_check).join('; ')
      return verdict === 'ok'
        ? { name: 'database', ok: true, detail: `${path}: integrity ok` }
        : { name: 'database', ok: false, detail: `${path}: ${verdict}; stop the pod and restore from backup` }
    } finally {
      db.close()
    }
  } catch (err) {
    return { name: 'database', ok: false, detail: `${path}: ${(err as Error).message}` }
  }
}

/** Below this much free space (or 5 % of a small filesystem) writes are about to fail: a FAIL. */
const LOW_DISK_BYTES = 64 * 1024 * 1024

function diskCheck(root: string): Check {
  let space: DiskSpace
  try {
    space = diskSpace(root)
  } catch (err) {
    return { name: 'disk', ok: false, detail: `cannot read the free space of ${root}: ${(err as Error).message}` }
  }
  const where = space.path === root ? root : `${space.path} (holding ${root})`
  const low = Math.min(LOW_DISK_BYTES, space.total_bytes / 20)
  return space.free_bytes < low
    ? { name: 'disk', ok: false, detail: `${where}: only ${formatBytes(space.free_bytes)} free; writes will be refused (disk_full) until you free some space` }
    : { name: 'disk', ok: true, detail: `${where}: ${formatBytes(space.free_bytes)} free of ${formatBytes(space.total_bytes)}` }
}

/** Memories no credential scan has read yet: the pod scans them once, in the background. */
function scanCheck(path: string, running: boolean): Check {
  if (!existsSync(path)) return { name: 'scan', ok: true, detail: 'no memories yet' }
  let left: number
  try {
    const db = openSqlite(path, { readonly: true })
    try {
      left = unscannedCount(db)
    } finally {
      db.close()
    }
  } catch {
    return { name: 'scan', ok: true, detail: 'not known yet: the pod brings pod.db up to date at its next start, then scans' }
  }
  if (left === 0) return { name: 'scan', ok: true, detail: 'every public memory has been scanned for credentials' }
  const when = running ? 'the running pod is scanning them now (progress: op=secret_scan in its log)' : 'the pod scans them when it starts'
  return { name: 'scan', ok: true, detail: `${left} public memories not scanned for credentials yet; ${when}` }
}

function dbModeCheck(path: string): Check {
  const loose = looseDbFiles(path)
  if (loose.length === 0) return { name: 'db modes', ok: true, detail: `${path} (and -wal, -shm): 0600 or absent` }
  const list = loose.map((f) => `${f.path} is ${formatMode(f.mode)}`).join(', ')
  return { name: 'db modes', ok: false, detail: `${list}: others can read memories; chmod 600 them (the pod also does at its next start)` }
}

async function portCheck(host: string, port: number): Promise<Check> {
  try {
    // Bind the port the way the pod would, then let it go.
    const probe = await serve({ hostname: host, port, fetch: () => new Response(null, { status: 503 }), onError: () => new Response(null, { status: 500 }) })
    await probe.stop()
    return { name: 'port', ok: true, detail: `pod not running; ${host}:${port} is free` }
  } catch {
    return { name: 'port', ok: false, detail: `${host}:${port} is taken by another program; set --port or listen in pod.toml` }
  }
}
