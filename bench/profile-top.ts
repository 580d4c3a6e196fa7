/**
 * The functions a pod spent its CPU in, from a Chrome-format CPU profile (`bun --cpu-prof`, which
 * POD_PROF=<dir> POD_PROF_FORMAT=json gives the benches' pods): self and inclusive share of the
 * samples, each function once per sample however deep it recurses.
 *
 * Samples are counted, not the time between them: a sample after an idle stretch stands for one
 * interval of work, not for the stretch. The markdown profile (--cpu-prof-md) adds those
 * stretches to the function sampled next, so a pod that sleeps between a bench's writes showed
 * dozens of functions at ~500 ms each (the fan-out bench's settle time), not what they cost.
 *
 *   npx bun bench/profile-top.ts <file.cpuprofile> [--from=0.5] [--top=40]
 *   --from: the share of the profile's span to skip first (0.5: its second half, past a
 *           bench's setup and warm-up)
 */
import { readFileSync } from 'node:fs'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}

interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

const args = process.argv.slice(2)
const file = args.find((a) => !a.startsWith('--'))
const option = (name: string, fallback: number) => Number(args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback)
if (!file) {
  console.error('usage: npx bun bench/profile-top.ts <file.cpuprofile> [--from=0.5] [--top=40]')
  process.exit(2)
}
const from = option('from', 0)
const top = option('top', 40)

const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const parentOf = new Map<number, number>()
for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id)
const nameOf = (n: ProfileNode) => {
  const { functionName, url, lineNumber } = n.callFrame
  return `${functionName || '(anonymous)'} ${url.split('/').pop() ?? ''}:${lineNumber + 1}`
}

// Sample i was taken at the sum of the first i + 1 deltas.
const at: number[] = []
let t = 0
for (const d of profile.timeDeltas) at.push((t += d))
const start = at[0]! + (at[at.length - 1]! - at[0]!) * from

const self = new Map<string, number>()
const inclusive = new Map<string, number>()
let counted = 0
profile.samples.forEach((id, i) => {
  if (at[i]! < start) return
  counted++
  const leaf = byId.get(id)!
  self.set(nameOf(leaf), (self.get(nameOf(leaf)) ?? 0) + 1)
  const seen = new Set<string>()
  for (let n: number | undefined = id; n !== undefined; n = parentOf.get(n)) {
    const name = nameOf(byId.get(n)!)
    if (seen.has(name)) continue
    seen.add(name)
    inclusive.set(name, (inclusive.get(name) ?? 0) + 1)
  }
})

const print = (title: string, counts: Map<string, number>) => {
  console.log(`## ${title}`)
  for (const [name, n] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((n / counted) * 100).toFixed(1).padStart(5)} %  ${name}`)
}
console.log(
  `# ${file}: ${counted} samples over ${((at[at.length - 1]! - start) / 1e6).toFixed(1)} s${from > 0 ? ` (the last ${((1 - from) * 100).toFixed(0)} %)` : ''}`,
)
print('self', self)
print('inclusive (each function once per sample)', inclusive)
