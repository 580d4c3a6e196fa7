/**
 * `mazemaker rendezvous` runs the self-hostable rendezvous service; `rendezvous token
 * create|list|revoke` manages who may register; `rendezvous join <url> --token …` points this
 * pod at one (writes [rendezvous] into pod.toml).
 */
import { defineCommand } from 'citty'
import { join } from 'node:path'
import { mkdirSync } from 'node:fs'
import { homePaths, openHome } from '../identity'
import { loadPodConfig, savePodConfig } from '../config'
import { PodError } from '../lib/errors'
import { createLogger } from '../lib/log'
import { systemClock } from '../lib/clock'
import { httpUrlProblem } from '../lib/http-url'
import { visible } from '../lib/visible'
import { DEFAULT_RENDEZVOUS_PORT, RENDEZVOUS_DB_FILE, openRendezvousStore, resolveRendezvousHome, startRendezvous } from '../rendezvous'
import { homeRoot, type GlobalFlags } from './context'
import { printJson } from './with-pod'

export function rendezvousCommand(flags: GlobalFlags) {
  const rvHome = () => resolveRendezvousHome(flags.home)
  const withStore = <T>(fn: (store: ReturnType<typeof openRendezvousStore>) => T): T => {
    mkdirSync(rvHome(), { recursive: true, mode: 0o700 })
    const store = openRendezvousStore(join(rvHome(), RENDEZVOUS_DB_FILE), systemClock)
    try {
      return fn(store)
    } finally {
      store.close()
    }
  }

  const serve = defineCommand({
    meta: { name: 'serve', description: 'Run the rendezvous service (default)' },
    async run() {
      const log = createLogger()
      const service = await startRendezvous({ home: rvHome(), port: flags.port ?? DEFAULT_RENDEZVOUS_PORT, host: flags.host, log })
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve)
        process.once('SIGTERM', resolve)
      })
      await service.close()
    },
  })

  const create = defineCommand({
    meta: { name: 'create', description: 'Issue a registration token (shown once)' },
    args: { label: { type: 'positional', required: false, description: 'who it is for' }, json: { type: 'boolean' } },
    run({ args }) {
      const t = withStore((s) => s.createToken(args.label ?? ''))
      if (args.json) return printJson(t)
      console.log(`token ${t.id}: ${t.token}\nhand it to the pod operator: mazemaker rendezvous join <this service's URL> --token ${t.token}`)
    },
  })
  const list = defineCommand({
    meta: { name: 'list', description: 'List tokens (never their secret)' },
    args: { json: { type: 'boolean' } },
    run({ args }) {
      const tokens = withStore((s) => s.listTokens())
      if (args.json) return printJson({ tokens })
      for (const t of tokens) console.log(`${t.id}  ${t.revoked_at ? 'revoked' : 'active '}  ${visible(t.label)}`)
    },
  })
  const revoke = defineCommand({
    meta: { name: 'revoke', description: 'Revoke a token: its pods can no longer register' },
    args: { id: { type: 'positional', required: true } },
    run({ args }) {
      if (!withStore((s) => s.revokeToken(args.id))) throw new PodError('not_found', `no token ${args.id}`)
      console.log(`revoked ${args.id}`)
    },
  })
  const token = defineCommand({ meta: { name: 'token', description: 'Manage registration tokens' }, subCommands: { create, list, revoke } })

  const joinCmd = defineCommand({
    meta: { name: 'join', description: 'Point this pod at a rendezvous (restart the pod to apply)' },
    args: {
      url: { type: 'positional', required: true, description: 'https://rendezvous.example' },
      token: { type: 'string', required: true, description: 'registration token from the rendezvous operator' },
    },
    async run({ args }) {
      // Check both arguments before touching the home: a value pod.toml would refuse must fail
      // here as a usage error, not later as "pod.toml is invalid; fix it by hand".
      const urlProblem = httpUrlProblem(args.url)
      if (urlProblem) {
        throw new PodError('usage', `rendezvous URL must be http(s)://host[/prefix]; it ${urlProblem} (got ${args.url.replace(/\/\/[^/@]*@/, '//…@')})`)
      }
      if (!/^\S{1,4096}$/.test(args.token)) throw new PodError('usage', '--token must be the token from the rendezvous operator: not empty, no spaces')
      // Creates the home on first use. Not withPod: that starts a pod, which fails on the home
      // lock whenever a pod runs on a port other than pod.toml's (--port, MAZEMAKER_PORT).
      await openHome(homeRoot(flags), { log: createLogger({ level: 'warn' }) })
      const path = homePaths(homeRoot(flags)).podToml
      const config = loadPodConfig(path)
      savePodConfig(path, { ...config, rendezvous: { url: args.url, token: args.token } })
      console.log(`joined ${args.url}; restart the pod to start heartbeats`)
    },
  })

  return defineCommand({
    meta: { name: 'rendezvous', description: 'Run or manage a rendezvous service, or join one' },
    default: 'serve',
    subCommands: { serve, token, join: joinCmd },
  })
}
