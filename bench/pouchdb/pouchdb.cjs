// The anchor of bench/federation-pull.bench.ts: PouchDB 9 replicating the same documents over
// loopback HTTP, as a user would sync two PouchDB databases. Run by Node, two processes:
//   node pouchdb.cjs serve <pages.jsonl> <dir>   fills a LevelDB PouchDB with every memory of the
//     pages (one document each), serves it with express-pouchdb on 127.0.0.1 and prints {"url"}
//   node pouchdb.cjs replicate <url> <dir>       replicates it into a new LevelDB PouchDB with
//     replicate() batch_size 1000 and prints {"ms","written"}
// Each JSON line goes to stdout; SIGTERM stops the server.
const { readFileSync } = require('node:fs')
const PouchDB = require('pouchdb')

const [mode, arg, dir] = process.argv.slice(2)
const BATCH = 1000

async function serve() {
  const express = require('express')
  const Pouch = PouchDB.defaults({ prefix: `${dir}/` })
  const source = new Pouch('source')
  let docs = []
  let total = 0
  for (const line of readFileSync(arg, 'utf8').split('\n')) {
    if (!line) continue
    for (const m of JSON.parse(line).memories) {
      if (m.deleted) continue
      docs.push({ _id: m.id, label: m.label, content: m.content, created_at: m.created_at, updated_at: m.updated_at })
      if (docs.length === BATCH) {
        total += (await source.bulkDocs(docs)).length
        docs = []
      }
    }
  }
  if (docs.length) total += (await source.bulkDocs(docs)).length
  const app = express()
  app.use('/', require('express-pouchdb')(Pouch, { mode: 'minimumForPouchDB', logPath: `${dir}/express-pouchdb.log` }))
  const server = app.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${server.address().port}/source`, docs: total })}\n`)
  })
  process.once('SIGTERM', () => server.close(() => process.exit(0)))
}

async function replicate() {
  const target = new PouchDB(`${dir}/target`)
  const started = performance.now()
  const result = await target.replicate.from(arg, { batch_size: BATCH })
  const ms = performance.now() - started
  const cpu = process.cpuUsage()
  process.stdout.write(`${JSON.stringify({ ms, written: result.docs_written, cpuS: (cpu.user + cpu.system) / 1e6 })}\n`)
  await target.close()
}

;(mode === 'serve' ? serve() : replicate()).catch((err) => {
  console.error(err)
  process.exit(1)
})
