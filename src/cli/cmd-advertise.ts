/**
 * `mazemaker advertise add|remove|list|suggest`: the URLs this pod tells others to reach it at
 * (pod.toml `advertise`, at most 4, in preference order). They travel in the handshake URL,
 * so the other operator pairs with one paste and no `--url`; the first is what the rendezvous
 * heartbeat registers. `suggest` looks at this machine's interfaces and the listen address.
 */
import type { AdvertiseAnswer } from '../http/answers'
import { defineCommand } from 'citty'
import { hostname, networkInterfaces } from 'node:os'
import { existsSync } from 'node:fs'
import { homePaths } from '../identity'
import { DEFAULT_LISTEN, loadPodConfig, parseListen, suggestAdvertise, type Interfaces, type Suggestion } from '../config'
import { PodError } from '../lib/errors'
import { visible } from '../lib/visible'
import { answer, homeRoot, podClient, portOverride, type GlobalFlags } from './context'
import { printJson, withPod } from './with-pod'

const json = { type: 'boolean', description: 'print JSON' } as const

function printList(out: AdvertiseAnswer, asJson: boolean | undefined): void {
  if (asJson) return printJson(out)
  if (out.advertise.length === 0)
    console.log(`advertises nothing: ${visible(out.warning ?? 'peers must be given a URL with --url (see: mazemaker advertise suggest)')}`)
  out.advertise.forEach((u, i) => console.log(`${i + 1}. ${visible(u)}`))
  console.log(`handshake URL: ${visible(out.handshake_url)}`)
}

export function advertiseCommand(flags: GlobalFlags) {
  const change = (fn: (list: readonly string[]) => readonly string[]) =>
    withPod(flags, async (pod) => {
      const now = await answer(pod.api.peer.advertise.$get())
      return answer(pod.api.peer.advertise.$put({ json: { advertise: [...fn(now.advertise)] } }))
    })

  const add = defineCommand({
    meta: { name: 'add', description: 'Advertise a URL (appended, or at --first); at most 4' },
    args: {
      url: { type: 'positional', description: 'http(s)://host[:port][/prefix], e.g. https://alca.tail-foo.ts.net', required: true },
      first: { type: 'boolean', description: 'put it first (preferred, and what the rendezvous registers)' },
      json,
    },
    async run({ args }) {
      const url = String(args.url).replace(/\/+$/, '')
      const out = await change((list) => {
        const rest = list.filter((u) => u !== url)
        return args.first ? [url, ...rest] : list.includes(url) ? list : [...list, url]
      })
      printList(out, args.json)
    },
  })

  const remove = defineCommand({
    meta: { name: 'remove', description: 'Stop advertising a URL' },
    args: { url: { type: 'positional', description: 'the URL as `advertise list` shows it', required: true }, json },
    async run({ args }) {
      const url = String(args.url)
      const out = await change((list) => {
        if (!list.includes(url) && !list.includes(url.replace(/\/+$/, '')))
          throw new PodError('not_found', `${url} is not advertised; see: mazemaker advertise list`)
        return list.filter((u) => u !== url && u !== url.replace(/\/+$/, ''))
      })
      printList(out, args.json)
    },
  })

  const list = defineCommand({
    meta: { name: 'list', description: 'The advertised URLs, in order, and the handshake URL that carries them' },
    args: { json },
    async run({ args }) {
      printList(await withPod(flags, (pod) => answer(pod.api.peer.advertise.$get())), args.json)
    },
  })

  const suggest = defineCommand({
    meta: { name: 'suggest', description: "URLs to advertise, from this machine's tailnet and LAN addresses and the listen address" },
    args: { json },
    async run({ args }) {
      // A running pod says where it really listens (its --port, MAZEMAKER_PORT), not pod.toml.
      const client = podClient(flags)
      if (await client.running()) {
        const out = await answer(client.api.peer.advertise.suggest.$get())
        const [host, port] = splitListen(out.listen)
        return printSuggestions(out.suggestions, { listenHost: host, port, advertise: out.advertise }, args.json)
      }
      const podToml = homePaths(homeRoot(flags)).podToml
      // A home not created yet listens where a new one would.
      const config = existsSync(podToml) ? loadPodConfig(podToml) : { listen: DEFAULT_LISTEN, advertise: [] as string[] }
      const listenAt = parseListen(config.listen)
      const listenHost = flags.host ?? listenAt.host
      const port = portOverride(flags) ?? listenAt.port
      const suggestions = suggestAdvertise({ listenHost, port, interfaces: networkInterfaces() as Interfaces, hostname: hostname() })
      printSuggestions(suggestions, { listenHost, port, advertise: config.advertise }, args.json)
    },
  })

  return defineCommand({
    meta: { name: 'advertise', description: 'URLs this pod tells others to reach it at (carried in the handshake URL)' },
    subCommands: { add, remove, list, suggest },
  })
}

/** `host:port` → [host, port] (an IPv6 host keeps its brackets). */
function splitListen(listen: string): [string, number] {
  const colon = listen.lastIndexOf(':')
  return [listen.slice(0, colon), Number(listen.slice(colon + 1))]
}

function printSuggestions(
  suggestions: readonly Suggestion[],
  at: { listenHost: string; port: number; advertise: readonly string[] },
  asJson: boolean | undefined,
): void {
  const { listenHost, port, advertise } = at
  if (asJson) return printJson({ listen: `${listenHost}:${port}`, advertise, suggestions })
  if (suggestions.length === 0) {
    console.log(
      `the pod listens on ${visible(listenHost)}:${port}, which only this machine reaches.\n` +
        `- on a tailnet or LAN: set listen = "0.0.0.0:${port}" (or the tailnet address) in pod.toml, restart, and run this again;\n` +
        '- behind `tailscale serve`, a Cloudflare Tunnel or another proxy: advertise its URL, e.g. `mazemaker advertise add https://alca.tail-foo.ts.net`',
    )
    return
  }
  for (const s of suggestions) console.log(`${visible(s.url).padEnd(40)} ${s.kind.padEnd(12)} ${s.why}`)
  console.log(
    `\nadd one with: mazemaker advertise add <url>   (now advertised: ${advertise.length === 0 ? 'nothing' : advertise.map((u) => visible(u)).join(', ')})`,
  )
}
