/** `mazemaker remember <label> <content>`, `mazemaker recall <query>` and `mazemaker memory held|release`. */
import { defineCommand } from 'citty'
import { answer, homeRoot, type GlobalFlags } from './context'
import { homePaths, shortId } from '../identity'
import { loadPodConfig } from '../config'
import { checkContent } from '../store'
import { printJson, withPod } from './with-pod'
import { readStdin } from '../runtime'
import { visible } from '../lib/visible'

export function memoryCommands(flags: GlobalFlags) {
  const remember = defineCommand({
    meta: { name: 'remember', description: 'Store a memory (public-prefixed labels are shared with peers; others are vault-encrypted)' },
    args: {
      label: { type: 'positional', description: 'e.g. public:x, decision:y, note:z', required: true },
      content: { type: 'positional', description: 'the memory text ("-" reads standard input)', required: true },
      json: { type: 'boolean', description: 'print JSON' },
    },
    async run({ args }) {
      const content = args.content === '-' ? await readStdin() : args.content
      const out = await withPod(flags, (pod) => {
        // Checked here as the store checks it, so stdin far past the API's body cap gets the
        // same message as an argument just over the limit.
        checkContent(content, loadPodConfig(homePaths(homeRoot(flags)).podToml).max_content_bytes)
        return answer(pod.api.memories.$post({ json: { label: args.label, content } }))
      })
      if (args.json) return printJson(out)
      console.log(`${visible(out.id)}  ${visible(out.label)}${out.encrypted ? '  (private, encrypted)' : ''}${out.held ? '  (HELD)' : ''}`)
      if (out.warning) process.stderr.write(`warning: ${visible(out.warning)}\n`)
    },
  })

  const recall = defineCommand({
    meta: { name: 'recall', description: 'Search memories by words, best match first' },
    args: {
      query: { type: 'positional', description: 'words to look for', required: true },
      k: { type: 'string', description: 'how many results (1..100)', default: '10' },
      json: { type: 'boolean', description: 'print JSON' },
    },
    async run({ args }) {
      const out = await withPod(flags, (pod) => answer(pod.api.recall.$get({ query: { q: args.query, k: args.k } })))
      if (args.json) return printJson(out)
      if (out.results.length === 0) return console.log('no memories match')
      for (const r of out.results) {
        const from = r.peer ? `  [from ${visible(shortId(r.peer))}]` : ''
        // Content keeps its line breaks (indented under the label); everything else is escaped.
        const content = visible(r.content, { multiline: true }).replace(/\n/g, '\n        ')
        console.log(`${r.score.toFixed(2).padStart(6)}  ${visible(r.label)}${from}\n        ${content}`)
      }
    },
  })
  const held = defineCommand({
    meta: { name: 'held', description: 'Memories held back from every peer because they look like credentials' },
    args: { json: { type: 'boolean', description: 'print JSON' } },
    async run({ args }) {
      const out = await withPod(flags, (pod) => answer(pod.api.memories.held.$get({ query: { limit: '500' } })))
      if (args.json) return printJson(out)
      if (out.memories.length === 0) return console.log('nothing is held')
      for (const m of out.memories) console.log(`${visible(m.id)}  ${visible(m.label)}  ${m.updated_at}`)
      console.log(`${out.memories.length} held; release one with: mazemaker memory release <id> (or re-label it private, or forget it)`)
    },
  })

  const release = defineCommand({
    meta: { name: 'release', description: 'Release a held memory: peers receive it from their next pull' },
    args: { id: { type: 'positional', description: 'memory id', required: true }, json: { type: 'boolean', description: 'print JSON' } },
    async run({ args }) {
      const out = await withPod(flags, (pod) => answer(pod.api.memories[':id'].release.$post({ param: { id: encodeURIComponent(args.id) } })))
      if (args.json) return printJson(out)
      console.log(`${visible(out.id)}  ${visible(out.label)}  released: peers receive it from their next pull`)
    },
  })

  const memory = defineCommand({
    meta: { name: 'memory', description: 'Memories held back from peers: held, release' },
    subCommands: { held, release },
  })
  return { remember, recall, memory }
}
