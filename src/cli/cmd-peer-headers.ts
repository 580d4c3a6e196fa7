/** `mazemaker peer headers set|unset|list|for`: secret request headers for one peer, and the origins they go to. */
import { defineCommand } from 'citty'
import { visible } from '../lib/visible'
import { shortId } from '../identity'
import { findPeer } from './find-peer'
import type { HeadersAnswer } from '../http/answers'
import { answer, type GlobalFlags } from './context'
import { promptHidden } from './prompt-secret'
import { printJson, withPod } from './with-pod'

const json = { type: 'boolean', description: 'print JSON' } as const

function printHeaders(peerId: string, out: HeadersAnswer, asJson: boolean | undefined): void {
  if (asJson) return printJson(out)
  if (out.headers.length === 0) return console.log(`no headers for ${shortId(peerId)}`)
  // Values come back masked from the pod: the full value is never shown.
  for (const h of out.headers) console.log(`${visible(h.name)}: ${visible(h.value)}`)
  if (out.for === null) console.log('for: not named yet (bound at the next pull to the https origins of its URLs)')
  else if (out.for.length === 0)
    console.log(`for: no origin: these headers go nowhere; name one with \`mazemaker peer headers for ${shortId(peerId)} https://…\``)
  else console.log(`for: ${out.for.map((o) => visible(o)).join(', ')} (only; never plain http except loopback)`)
}

/** `--for a,b` as a list, or undefined when not given. */
function originsArg(text: unknown): string[] | undefined {
  if (typeof text !== 'string' || text === '') return undefined
  return text
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o !== '')
}

/** Reads a secret value: the argument, else (for "-" or none) stdin, without echo on a terminal. */
async function secretValue(arg: string | undefined): Promise<string> {
  if (arg !== undefined && arg !== '-') return arg
  if (process.stdin.isTTY) return promptHidden('header value: ')
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '')
}

/** `peer headers set|unset|list|for`: secret request headers sent to one peer (e.g. Cloudflare Access service tokens). */
export function headersCommand(flags: GlobalFlags) {
  const peerArg = { type: 'positional', description: 'peer id, short id or name', required: true } as const
  const set = defineCommand({
    meta: { name: 'set', description: 'Send a header on every request to this peer (value from the argument, or stdin when "-" or left out)' },
    args: {
      peer: peerArg,
      name: { type: 'positional', description: 'header name, e.g. CF-Access-Client-Id', required: true },
      value: { type: 'positional', description: 'the value (prefer stdin: arguments land in shell history)', required: false },
      for: { type: 'string', description: "origins they are for, comma-separated (default: the https origins of the peer's URLs)" },
      json,
    },
    async run({ args }) {
      const value = await secretValue(args.value as string | undefined)
      const origins = originsArg(args.for)
      const { id, out } = await withPod(flags, async (pod) => {
        const id = await findPeer(pod, String(args.peer))
        const json = origins ? { value, for: origins } : { value }
        return { id, out: await answer(pod.api.peer.peers[':id'].headers[':name'].$put({ param: { id, name: encodeURIComponent(String(args.name)) }, json })) }
      })
      printHeaders(id, out, args.json)
    },
  })
  const unset = defineCommand({
    meta: { name: 'unset', description: 'Stop sending a header to this peer' },
    args: { peer: peerArg, name: { type: 'positional', description: 'header name', required: true }, json },
    async run({ args }) {
      const { id, out } = await withPod(flags, async (pod) => {
        const id = await findPeer(pod, String(args.peer))
        return { id, out: await answer(pod.api.peer.peers[':id'].headers[':name'].$delete({ param: { id, name: encodeURIComponent(String(args.name)) } })) }
      })
      printHeaders(id, out, args.json)
    },
  })
  const list = defineCommand({
    meta: { name: 'list', description: "This peer's header names with masked values" },
    args: { peer: peerArg, json },
    async run({ args }) {
      const { id, out } = await withPod(flags, async (pod) => {
        const id = await findPeer(pod, String(args.peer))
        return { id, out: await answer(pod.api.peer.peers[':id'].headers.$get({ param: { id } })) }
      })
      printHeaders(id, out, args.json)
    },
  })
  const forCmd = defineCommand({
    meta: { name: 'for', description: "The origins this peer's headers go to (and nowhere else)" },
    args: { peer: peerArg, origins: { type: 'positional', description: 'origins, comma-separated, e.g. https://peer.example.org', required: true }, json },
    async run({ args }) {
      const origins = originsArg(args.origins) ?? []
      const { id, out } = await withPod(flags, async (pod) => {
        const id = await findPeer(pod, String(args.peer))
        return { id, out: await answer(pod.api.peer.peers[':id']['header-origins'].$put({ param: { id }, json: { for: origins } })) }
      })
      printHeaders(id, out, args.json)
    },
  })
  return defineCommand({
    meta: { name: 'headers', description: 'Secret request headers sent to a peer (peer-keys/headers/<id>.toml, 0600), only to the origins they are for' },
    subCommands: { set, unset, list, for: forCmd },
  })
}
