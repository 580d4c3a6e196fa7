/** `mazemaker peer add|list|set|pause|resume|remove|accept-deletes|preview|log` and `mazemaker sync [peer]`. */
import type { PeerAnswer, SyncNowAnswer } from '../http/answers'
import { defineCommand } from 'citty'
import { shortId } from '../identity'
import { isPeerStatus, isSkipReason, PEER_STATUSES, type PeerStatus } from '../lib/codes'
import { panelFormat } from './panel-modules'
import { PodError } from '../lib/errors'
import { answer, type GlobalFlags, type PodApi } from './context'
import { formatPeerTable } from './table'
import type { InferRequestType } from 'hono/client'
import { printJson, withPod } from './with-pod'
import { visible } from '../lib/visible'
import { headersCommand } from './cmd-peer-headers'
import { findPeer } from './find-peer'

const json = { type: 'boolean', description: 'print JSON' } as const

type PatchInput = InferRequestType<PodApi['peer']['peers'][':id']['$patch']>['json']

/** `--status error,awaiting-peer` → that set; absent → undefined (every status). */
export function parseStatuses(raw: string | undefined): ReadonlySet<PeerStatus> | undefined {
  if (raw === undefined || raw.trim() === '') return undefined
  const out = new Set<PeerStatus>()
  for (const s of raw.split(',').map((x) => x.trim())) {
    if (!isPeerStatus(s)) throw new PodError('usage', `--status: unknown status "${visible(s)}"; one of ${PEER_STATUSES.join(', ')}`)
    out.add(s)
  }
  return out
}

/**
 * What `peer add` says after the peer's line: its state's cause and next step, and what is live
 * now, which depends on whether a pod runs for this home (it was added by a pod started for
 * this command alone otherwise).
 */
export function afterAdd(peer: Pick<PeerAnswer, 'status' | 'hint' | 'urls'>, local: boolean): string[] {
  const out: string[] = []
  if (peer.hint) out.push(`${peer.status}: ${peer.hint}`)
  if (local) {
    out.push('no pod runs for this home: nothing is served to it or pulled from it until you start one (`mazemaker serve`, or its service)')
  } else if (peer.urls.length > 0) {
    out.push('inbound from this peer is live now (it can pull from you); run `mazemaker sync` to pull from it at once')
  } else {
    out.push('inbound from this peer is live now (it can pull from you); nothing is pulled from it until it has a URL')
  }
  return out
}

function printPeer(peer: PeerAnswer, asJson: boolean | undefined) {
  if (asJson) return printJson({ peer })
  console.log(`${visible(shortId(peer.id))}  ${visible(peer.name) || '(no name)'}  ${visible(peer.status)}  ${visible(urlText(peer.url)) || '(no URL yet)'}`)
}

export function peerCommands(flags: GlobalFlags) {
  const add = defineCommand({
    meta: { name: 'add', description: 'Pair with a pod: paste its mzm-handshake:// URL' },
    args: {
      handshake: { type: 'positional', description: 'mzm-handshake://<pod-id>?key=…', required: true },
      url: { type: 'string', description: 'where to reach it (repeat for several, tried in order); default: the URLs in its handshake' },
      scope: { type: 'string', description: 'label glob(s) to pull, comma-separated (default *: all they share)' },
      name: { type: 'string', description: 'a name for it' },
      paused: { type: 'boolean', description: 'add without pulling (sync = false)' },
      replace: { type: 'boolean', description: 'replace a peer already paired under this id (its key too)' },
      json,
    },
    async run({ args, rawArgs }) {
      const urls = repeatedFlag(rawArgs, 'url')
      const body = {
        handshake_url: args.handshake,
        // None given: the URLs the handshake carries (the peer's advertised ones).
        direct_url: urls.length === 0 ? undefined : urls.length === 1 ? urls[0] : urls,
        scope: args.scope ? splitScope(args.scope) : undefined,
        name: args.name,
        sync: args.paused ? false : undefined,
        replace: args.replace ? true : undefined,
      }
      const { peer, local } = await withPod(flags, async (pod, local) => ({ ...(await answer(pod.api.peer.add.$post({ json: body }))), local }))
      printPeer(peer, args.json)
      if (!args.json) for (const line of afterAdd(peer, local)) console.log(line)
    },
  })

  const list = defineCommand({
    meta: { name: 'list', description: 'Peers, problems first: status, URL, scope, last sync, copies held' },
    args: {
      status: { type: 'string', description: `only peers with these statuses, comma-separated: ${PEER_STATUSES.join(', ')}` },
      json,
    },
    async run({ args }) {
      const statuses = parseStatuses(args.status)
      const out = await withPod(flags, (pod) => answer(pod.api.peer.peers.$get()))
      const format = await panelFormat()
      // The pod's order (problems first), as the panel shows it; --status narrows it as the panel's count buttons do.
      const peers = format.filterPeers(out.peers, { statuses })
      if (args.json) return printJson({ ...out, peers })
      if ('error' in out && out.error) console.error(`warning: ${visible(out.error)}`)
      console.log(visible(out.summary) + (statuses ? `  (${peers.length} shown: --status ${[...statuses].join(',')})` : ''))
      if (peers.length > 0) console.log(formatPeerTable(peers, { color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR, format }))
      const unknown = out.unknown_callers ?? []
      if (unknown.length > 0) {
        // Display only: a pasted handshake URL (peer add) is the only way to make one a peer.
        console.log('\npods that tried to pull from you (not your peers; to pair, ask for their handshake URL and run `mazemaker peer add`):')
        for (const u of unknown) console.log(`  ${visible(u.id)}  ${u.count} request(s), first ${visible(u.first_seen)}, last ${visible(u.last_seen)}`)
      }
    },
  })

  const patch = (name: string, description: string, body: (args: Record<string, unknown>) => Record<string, unknown>, extraArgs = {}) =>
    defineCommand({
      meta: { name, description },
      args: { peer: { type: 'positional', description: 'peer id, short id or name', required: true }, ...extraArgs, json },
      async run({ args, rawArgs }) {
        const patchBody = body({ ...args, urls: repeatedFlag(rawArgs, 'url') })
        if (Object.keys(patchBody).length === 0) throw new PodError('usage', 'nothing to change: give --url, --scope, --name or --sync')
        const { peer } = await withPod(flags, async (pod) =>
          answer(pod.api.peer.peers[':id'].$patch({ param: { id: await findPeer(pod, String(args.peer)) }, json: patchBody as PatchInput })),
        )
        printPeer(peer, args.json as boolean)
      },
    })

  const set = patch(
    'set',
    'Change a peer: --url, --scope, --name, --sync true|false, --live true|false',
    (a) => ({
      ...(a.url !== undefined ? { url: urlList(a.urls as string[]) } : {}),
      ...(a.scope !== undefined ? { scope: splitScope(String(a.scope)) } : {}),
      ...(a.name !== undefined ? { name: a.name } : {}),
      ...(a.sync !== undefined ? { sync: parseBool(String(a.sync)) } : {}),
      ...(a.live !== undefined ? { live: parseBool(String(a.live)) } : {}),
    }),
    {
      url: { type: 'string', description: 'new URL (or mzm-rendezvous://<id>); repeat for several, tried in order; "" clears' },
      scope: { type: 'string', description: 'label glob(s), comma-separated' },
      name: { type: 'string', description: 'new name' },
      sync: { type: 'string', description: 'true or false' },
      live: { type: 'string', description: 'true (hold a long-poll open to it, the default) or false (the interval alone)' },
    },
  )
  const pause = patch('pause', 'Stop pulling from a peer (it can still pull from us)', () => ({ sync: false }))
  const resume = patch('resume', 'Resume pulling from a peer', () => ({ sync: true }))

  const remove = defineCommand({
    meta: { name: 'remove', description: 'Revoke a peer: deletes its key file and table; --purge also deletes its copies here' },
    args: {
      peer: { type: 'positional', description: 'peer id, short id or name', required: true },
      purge: { type: 'boolean', description: 'also delete the local peer:<id>: copies' },
      json,
    },
    async run({ args }) {
      const out = await withPod(flags, async (pod) =>
        answer(pod.api.peer.peers[':id'].$delete({ param: { id: await findPeer(pod, args.peer) }, query: args.purge ? { purge: 'true' } : {} })),
      )
      if (args.json) return printJson(out)
      console.log(`removed; ${out.purged} local copies deleted`)
    },
  })

  const acceptDeletes = defineCommand({
    meta: { name: 'accept-deletes', description: "Apply a peer's held mass change (status held): its deletes and overwrites apply to the copies here" },
    args: { peer: { type: 'positional', description: 'peer id, short id or name', required: true }, json },
    async run({ args }) {
      const out = await withPod(flags, async (pod) =>
        answer(pod.api.peer.peers[':id']['accept-deletes'].$post({ param: { id: await findPeer(pod, args.peer) } })),
      )
      if (args.json) return printJson(out)
      console.log(
        out.deleted > 0
          ? `${out.deleted} copies deleted or overwritten; status ${visible(out.peer.status)}`
          : `nothing was held; status ${visible(out.peer.status)}`,
      )
    },
  })

  const preview = defineCommand({
    meta: { name: 'preview', description: 'What a peer would receive if it pulled everything now (the sync gate itself), with counts' },
    args: {
      peer: { type: 'positional', description: 'peer id, short id or name', required: true },
      scope: { type: 'string', description: 'glob(s) to preview, comma-separated (default: what the peer last asked for)' },
      limit: { type: 'string', description: 'memories to list (0..500)', default: '20' },
      json,
    },
    async run({ args }) {
      const query = { limit: args.limit, ...(args.scope ? { scope: args.scope } : {}) }
      const out = await withPod(flags, async (pod) => answer(pod.api.peer.peers[':id'].preview.$get({ param: { id: await findPeer(pod, args.peer) }, query })))
      if (args.json) return printJson(out)
      const from =
        out.scope_source === 'last_request'
          ? 'the scope it last asked with'
          : out.scope_source === 'query'
            ? '--scope'
            : 'no pull yet: everything the gate allows'
      console.log(`${visible(shortId(out.peer))} would receive ${plural(out.total, 'memory', 'memories')} (scope ${visible(out.scope.join(','))}, ${from})`)
      if (!out.can_pull) console.log('it cannot pull now (no key file or table): it receives nothing until re-paired')
      for (const [prefix, n] of Object.entries(out.by_prefix).sort((x, y) => y[1] - x[1])) console.log(`  ${String(n).padStart(6)}  ${visible(prefix)}`)
      // What its scope leaves out: shared here, but not asked for.
      for (const [prefix, n] of Object.entries(out.left_out).sort((x, y) => y[1] - x[1])) {
        console.log(`${plural(n, `${visible(prefix)} memory`, `${visible(prefix)} memories`)} not in scope`)
      }
      if (out.held > 0) console.log(`${out.held} held back (look like credentials): see mazemaker memory held`)
      if (out.memories.length > 0) console.log(out.truncated ? `newest ${out.memories.length}:` : 'all of them:')
      for (const m of out.memories) console.log(`  ${visible(shortId(m.id))}  ${visible(m.label)}  ${visible(m.content.slice(0, 60))}`)
    },
  })

  const log = defineCommand({
    meta: { name: 'log', description: 'What a peer has pulled from this pod (last 30 days, newest first)' },
    args: {
      peer: { type: 'positional', description: 'peer id, short id or name', required: true },
      limit: { type: 'string', description: 'entries (1..1000)', default: '50' },
      json,
    },
    async run({ args }) {
      const out = await withPod(flags, async (pod) =>
        answer(pod.api.peer.peers[':id'].log.$get({ param: { id: await findPeer(pod, args.peer) }, query: { limit: args.limit } })),
      )
      if (args.json) return printJson(out)
      if (out.entries.length === 0) return console.log('nothing served to this peer in the last 30 days (empty polls are not logged)')
      for (const e of out.entries) {
        const deleted = e.deleted ? ` (${e.deleted} deletions)` : ''
        console.log(`${e.at}  ${plural(e.count, 'entry', 'entries').padStart(12)}${deleted}  ${visible(e.first_id)} … ${visible(e.last_id)}`)
      }
      if (out.cursor) console.log(`(more: --limit ${Math.min(1000, Number(args.limit) * 2)} or --json)`)
    },
  })

  const sync = defineCommand({
    meta: { name: 'sync', description: 'Pull from every peer (or one) now' },
    args: { peer: { type: 'positional', description: 'peer id, short id or name', required: false }, json },
    async run({ args }) {
      const out = await withPod(flags, async (pod) => {
        const peer = args.peer ? await findPeer(pod, args.peer) : undefined
        return answer(pod.api.peer['sync-now'].$post({ json: peer ? { peer } : {} }))
      })
      if (args.json) return printJson(out)
      if (out.results.length === 0) console.log('no peers to pull from')
      for (const r of out.results) console.log(syncLine(r))
      // Exit 1 only for real failures: a peer we did not pull on purpose, or one that has not
      // added us yet, is not one.
      if (out.results.some((r) => syncOutcome(r) === 'ERR ')) process.exitCode = 1
    },
  })

  const peer = defineCommand({
    meta: { name: 'peer', description: 'Manage paired pods' },
    subCommands: {
      add,
      list,
      set,
      pause,
      resume,
      remove,
      'accept-deletes': acceptDeletes,
      preview,
      log,
      headers: headersCommand(flags),
      test: testCommand(flags),
    },
  })
  return { peer, sync }
}

type SyncAnswer = SyncNowAnswer['results'][number]

/** ok, skip (not pulled on purpose), wait (they have not added us yet) or ERR. */
function syncOutcome(r: SyncAnswer): 'ok  ' | 'skip' | 'wait' | 'ERR ' {
  if (r.ok) return 'ok  '
  if (isSkipReason(r.error)) return 'skip'
  return r.status === 'awaiting-peer' ? 'wait' : 'ERR '
}

/**
 * One line per peer. A peer that is not ready says its state and what to do (the same words as
 * `peer list`), never a bare `err=unauthorized … 401`; other failures keep the error and detail.
 */
export function syncLine(r: SyncAnswer): string {
  const outcome = syncOutcome(r)
  const extra = `${r.dropped ? ` dropped=${r.dropped}` : ''}${r.held ? ` held=${r.held} (see: mazemaker peer accept-deletes)` : ''}`
  let what: string
  if (r.ok) what = `fetched=${r.fetched} stored=${r.stored} deleted=${r.deleted}${extra} ms=${r.ms}`
  else if (r.hint && (outcome !== 'ERR ' || r.error === 'unauthorized')) what = `${r.status}: ${r.hint}`
  else if (outcome === 'skip') what = `${r.error} ${r.detail ?? ''}`
  else what = `err=${r.error} ${r.detail ?? ''}`
  // The error detail can quote what the peer answered.
  return `${visible(shortId(r.peer))}  ${outcome}  ${visible(what)}`
}

/** Every value of a repeatable `--name v` / `--name=v` flag, in order (citty keeps only the last). */
export function repeatedFlag(rawArgs: readonly string[], name: string): string[] {
  const out: string[] = []
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i]!
    if (arg === `--${name}` && i + 1 < rawArgs.length) out.push(rawArgs[++i]!)
    else if (arg.startsWith(`--${name}=`)) out.push(arg.slice(name.length + 3))
  }
  return out
}

/** `--url a --url b` → ["a", "b"]; one → "a"; `--url ""` → "" (clears). */
function urlList(urls: string[]): string | string[] {
  const given = urls.filter((u) => u !== '')
  return given.length === 0 ? '' : given.length === 1 ? given[0]! : given
}

function urlText(url: string | string[]): string {
  return Array.isArray(url) ? url.join(' ') : url
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`

function splitScope(text: string): string | string[] {
  const parts = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  return parts.length === 1 ? parts[0]! : parts
}

function parseBool(text: string): boolean {
  if (text === 'true' || text === 'on' || text === 'yes') return true
  if (text === 'false' || text === 'off' || text === 'no') return false
  throw new PodError('usage', `--sync must be true or false, got ${text}`)
}

/** `peer test <id>`: each step of reaching the peer, with the fix for what failed; exit 1 on failure. */
function testCommand(flags: GlobalFlags) {
  return defineCommand({
    meta: { name: 'test', description: 'Check resolve, connect, TLS, identity, a signed round trip and clock skew with a peer; says what to fix' },
    args: { peer: { type: 'positional', description: 'peer id, short id or name', required: true }, json },
    async run({ args }) {
      const report = await withPod(flags, async (pod) =>
        answer(pod.api.peer.peers[':id'].test.$post({ param: { id: await findPeer(pod, String(args.peer)) } })),
      )
      if (args.json) printJson(report)
      else {
        for (const s of report.steps) {
          // Details quote what the peer (or a proxy) answered: escaped.
          console.log(`${s.ok ? 'ok  ' : 'FAIL'}  ${s.step.padEnd(8)} ${s.url ? `${visible(s.url)}  ` : ''}${visible(s.detail)}`)
          if (s.fix) console.log(`      fix: ${visible(s.fix)}`)
        }
        console.log(report.ok ? `peer ${shortId(report.peer)}: ok` : `peer ${shortId(report.peer)}: FAILED`)
      }
      if (!report.ok) process.exitCode = 1
    },
  })
}
