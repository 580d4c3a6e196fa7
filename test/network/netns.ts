/**
 * Several hosts on one machine: Linux network namespaces joined by veth pairs, each with its own
 * hosts file (`/etc/netns/<ns>/hosts`, bind-mounted over /etc/hosts by `ip netns exec`). Every
 * address lives only inside these namespaces, so nothing outside the machine is ever contacted.
 *
 * Names are `mzn-<pid>-<role>`: unique per test process, and a namespace whose <pid> no longer
 * runs is a crashed run's leftover, removed on start. A topology is torn down by the test itself
 * (afterAll), after a failure too. Needs root and iproute2; where namespaces cannot be made,
 * `createTopology` throws saying so, so the suite fails instead of skipping.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'

const PREFIX = 'mzn-'

function ip(args: string[]): string {
  const r = Bun.spawnSync(['ip', ...args], { stdout: 'pipe', stderr: 'pipe' })
  if (r.exitCode !== 0) throw new Error(`ip ${args.join(' ')} failed (${r.exitCode}): ${r.stderr.toString().trim()}`)
  return r.stdout.toString()
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function deleteNs(name: string): void {
  Bun.spawnSync(['ip', 'netns', 'delete', name], { stdout: 'ignore', stderr: 'ignore' })
  rmSync(`/etc/netns/${name}`, { recursive: true, force: true })
}

/** Removes namespaces of earlier runs of these tests whose process is gone (our prefix only). */
export function removeLeftovers(): void {
  const r = Bun.spawnSync(['ip', 'netns', 'list'], { stdout: 'pipe', stderr: 'ignore' })
  for (const line of r.stdout.toString().split('\n')) {
    const name = line.split(' ')[0] ?? ''
    const m = /^mzn-(\d+)-/.exec(name)
    if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) deleteNs(name)
  }
}

/** Why network namespaces cannot be made here, or null when they can. */
export function netnsProblem(): string | null {
  if (process.getuid?.() !== 0) return 'the multi-host tests (test/network) need root to create network namespaces; run them as root (CI does)'
  const probe = `${PREFIX}${process.pid}-probe`
  const r = Bun.spawnSync(['ip', 'netns', 'add', probe], { stdout: 'pipe', stderr: 'pipe' })
  if (r.exitCode !== 0)
    return `cannot create a network namespace (ip netns add: ${r.stderr.toString().trim() || `exit ${r.exitCode}`}); install iproute2 and run as root with CAP_SYS_ADMIN`
  deleteNs(probe)
  return null
}

export interface Topology {
  /** Creates namespace `role` (loopback up, empty hosts file) and returns its full name. */
  ns(role: string): string
  /** A veth pair between two namespaces, `addrA`/`addrB` in CIDR form (e.g. 100.64.0.1/24). */
  link(a: string, addrA: string, b: string, addrB: string): void
  /** `ip route add <dest> …` inside a namespace, e.g. route(ns, 'default', 'via', '10.0.0.1'). */
  route(ns: string, ...spec: string[]): void
  /** Writes the namespace's /etc/hosts (`ip netns exec` bind-mounts it). */
  hosts(ns: string, entries: Record<string, string>): void
  /** Lets a namespace forward packets between its links (a router). */
  forward(ns: string): void
  /** Runs a command inside a namespace to completion. */
  exec(ns: string, cmd: string[]): { code: number; stdout: string; stderr: string }
  /** The argv prefix that runs a command inside a namespace. */
  wrap(ns: string): string[]
  /** Deletes every namespace of this topology (after its processes were stopped). */
  destroy(): void
}

export function createTopology(): Topology {
  const problem = netnsProblem()
  if (problem) throw new Error(problem)
  removeLeftovers()
  const names: string[] = []
  let links = 0
  const full = (role: string) => `${PREFIX}${process.pid}-${role}`
  return {
    ns(role) {
      const name = full(role)
      deleteNs(name) // our own pid's leftover from an earlier topology in this process
      ip(['netns', 'add', name])
      names.push(name)
      ip(['-n', name, 'link', 'set', 'lo', 'up'])
      this.hosts(name, {})
      return name
    },
    link(a, addrA, b, addrB) {
      // Created straight inside the namespaces: the names never exist in the root namespace, so
      // concurrent runs cannot collide on them.
      const dev = `mzv${links++}`
      ip(['link', 'add', dev, 'netns', a, 'type', 'veth', 'peer', 'name', dev, 'netns', b])
      ip(['-n', a, 'addr', 'add', addrA, 'dev', dev])
      ip(['-n', b, 'addr', 'add', addrB, 'dev', dev])
      ip(['-n', a, 'link', 'set', dev, 'up'])
      ip(['-n', b, 'link', 'set', dev, 'up'])
    },
    route(ns, ...spec) {
      ip(['-n', ns, 'route', 'add', ...spec])
    },
    hosts(ns, entries) {
      mkdirSync(`/etc/netns/${ns}`, { recursive: true })
      const lines = ['127.0.0.1 localhost', '::1 localhost', ...Object.entries(entries).map(([host, addr]) => `${addr} ${host}`)]
      writeFileSync(`/etc/netns/${ns}/hosts`, lines.join('\n') + '\n')
    },
    forward(ns) {
      const r = this.exec(ns, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'])
      if (r.code !== 0) throw new Error(`enabling forwarding in ${ns} failed: ${r.stderr}`)
    },
    exec(ns, cmd) {
      const r = Bun.spawnSync([...this.wrap(ns), ...cmd], { stdout: 'pipe', stderr: 'pipe' })
      return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() }
    },
    wrap(ns) {
      return ['ip', 'netns', 'exec', ns]
    },
    destroy() {
      for (const name of names.splice(0)) deleteNs(name)
    },
  }
}
