/**
 * The panel at hub scale, in headless Chromium: time from navigation to the first render of the
 * peer list (the summary is set and the first peer card, or the empty note, is on the page) for
 * a pod holding PEERS peers in peers.toml, beside an empty pod measured in the same run. Also
 * the page's DOM nodes after that render, and the CPU time Chromium's renderer processes spent
 * until then (SystemInfo.getProcessInfo, from the DevTools protocol): on a loaded shared machine
 * the CPU time moves far less than the wall clock. The hub's peers are mostly unreachable: the
 * bench pulls them all once (sync-now; a hand-written peers.toml is otherwise pulled at the next
 * interval) and waits until those pulls have failed (status error) before measuring, as an
 * operator would open the panel of a hub that has been running, not in its first seconds.
 * Rounds alternate between the pods, so load on a shared machine falls on each alike.
 *
 *   npm run build && npx bun bench/panel-peers.bench.ts          # PEERS=2000 ROUNDS=5
 *   OLD_BIN=/path/to/older/dist/mazemaker npx bun bench/panel-peers.bench.ts   # also that build's panel, same peers
 *
 * Needs /usr/bin/chromium (scripts/ensure-chromium.sh).
 */
import { chromium, type Browser } from 'playwright-core'
import { hubWithFailedPulls } from '../test/helpers/hub-peers'
import { cleanup, spawnPod, type PodProcess } from '../test/helpers/pod-process'
import { envInt } from './_fed-util'

const PEERS = envInt('PEERS', 2000)
/** Another build of the pod (e.g. one from before the panel's hub work) to measure beside this one. */
const OLD_BIN = process.env.OLD_BIN
const ROUNDS = envInt('ROUNDS', 5)
const CHROMIUM = '/usr/bin/chromium'

interface Render {
  ms: number
  cpuMs: number
  nodes: number
  cards: number
}

/** Marks the first moment the peer list is rendered, from inside the page (no polling latency). */
const MARK_FIRST_RENDER = () => {
  const w = window as unknown as { __firstRender?: number }
  const done = () => {
    const summary = document.getElementById('summary')?.textContent ?? ''
    const card = document.querySelector('#peer-list li.peer')
    const empty = document.getElementById('peers-empty')
    return summary !== '' && (card !== null || (empty !== null && !empty.hidden))
  }
  new MutationObserver((_m, obs) => {
    if (w.__firstRender === undefined && done()) {
      w.__firstRender = performance.now()
      obs.disconnect()
    }
  }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true })
}

/** CPU seconds of every renderer process of the browser so far. */
async function rendererCpuS(browser: Browser): Promise<number> {
  const cdp = await browser.newBrowserCDPSession()
  const { processInfo } = (await cdp.send('SystemInfo.getProcessInfo' as never)) as { processInfo: { type: string; cpuTime: number }[] }
  await cdp.detach()
  return processInfo.filter((p) => p.type === 'renderer').reduce((s, p) => s + p.cpuTime, 0)
}

async function firstRender(browser: Browser, pod: PodProcess): Promise<Render> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  const page = await ctx.newPage()
  await page.goto('about:blank')
  await page.addInitScript(MARK_FIRST_RENDER)
  const cpuBefore = await rendererCpuS(browser)
  await page.goto(`${pod.url}/#token=${pod.token()}`)
  await page.waitForFunction(() => (window as unknown as { __firstRender?: number }).__firstRender !== undefined, null, { timeout: 120_000, polling: 50 })
  const cpu = (await rendererCpuS(browser)) - cpuBefore
  const out = await page.evaluate(() => ({
    ms: (window as unknown as { __firstRender: number }).__firstRender,
    nodes: document.getElementsByTagName('*').length,
    cards: document.querySelectorAll('#peer-list li.peer').length,
  }))
  await ctx.close()
  return { ...out, cpuMs: cpu * 1000 }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN

function summarize(runs: Render[]): Render {
  return { ms: median(runs.map((r) => r.ms)), cpuMs: median(runs.map((r) => r.cpuMs)), nodes: runs[0]!.nodes, cards: runs[0]!.cards }
}

const empty = await spawnPod({ env: { MAZEMAKER_LIVE_WAIT: '0' } })
const hub = await spawnPod({ env: { MAZEMAKER_LIVE_WAIT: '0' } })
const old = OLD_BIN ? await spawnPod({ env: { MAZEMAKER_LIVE_WAIT: '0' }, command: [OLD_BIN] }) : null
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] })
try {
  for (const pod of old ? [hub, old] : [hub]) await hubWithFailedPulls(pod, PEERS)
  const pods = old ? [empty, hub, old] : [empty, hub]
  const runs = pods.map((): Render[] => [])
  for (let i = 0; i < ROUNDS; i++) for (const [k, pod] of pods.entries()) runs[k]!.push(await firstRender(browser, pod))
  const [e, h, o = null] = runs.map(summarize) as [Render, Render, Render?]
  const line = (what: string, r: Render) =>
    `${what.padEnd(18)} first render ${r.ms.toFixed(0).padStart(6)} ms   renderer CPU ${r.cpuMs.toFixed(0).padStart(6)} ms   DOM nodes ${String(r.nodes).padStart(6)}   cards ${r.cards}`
  console.log(`panel first render, median of ${ROUNDS} (Chromium ${browser.version()})`)
  console.log(line('empty pod', e))
  console.log(line(`${PEERS} peers`, h))
  if (o) console.log(line(`${PEERS}, OLD_BIN`, o))
  console.log(`ratio ${PEERS} peers / empty: ${(h.ms / e.ms).toFixed(2)}x wall, ${(h.cpuMs / e.cpuMs).toFixed(2)}x renderer CPU`)
  if (o) console.log(`ratio ${PEERS} peers, this build / OLD_BIN: ${(h.ms / o.ms).toFixed(2)}x wall, ${(h.cpuMs / o.cpuMs).toFixed(2)}x renderer CPU`)
} finally {
  await browser.close()
  await cleanup(old ? [empty, hub, old] : [empty, hub])
}
