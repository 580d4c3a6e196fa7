/** `mazemaker identity [--qr]` and `mazemaker open`. */
import { defineCommand } from 'citty'
import { readFileSync } from 'node:fs'
import { homePaths } from '../identity'
import { answer, configuredUrl, homeRoot, podClient, type GlobalFlags } from './context'
import { renderQrTerminal } from './qr'
import { printJson, withPod } from './with-pod'
import { spawn } from '../runtime'
import { visible } from '../lib/visible'

export function identityCommands(flags: GlobalFlags) {
  const identity = defineCommand({
    meta: { name: 'identity', description: "Print this pod's handshake URL (send it to the other operator)" },
    args: {
      qr: { type: 'boolean', description: 'also draw it as a QR code' },
      json: { type: 'boolean', description: 'print JSON' },
    },
    async run({ args }) {
      const { id, advertised } = await withPod(flags, async (pod) => ({
        id: await answer(pod.api.peer.identity.$get()),
        advertised: await answer(pod.api.peer.advertise.$get()),
      }))
      if (args.json) return printJson({ ...id, warning: advertised.warning, suggestion: advertised.suggestion })
      console.log(`pod ${visible(id.name)} (${visible(id.pod_id.slice(0, 8))})`)
      console.log(visible(id.handshake_url))
      // On stderr: `identity | tail -1` stays the handshake URL.
      if (advertised.warning) console.error(`warning: ${visible(advertised.warning)}`)
      if (args.qr) console.log('\n' + renderQrTerminal(id.handshake_url))
    },
  })

  const open = defineCommand({
    meta: { name: 'open', description: 'Print (and on a desktop, open) the panel link with the admin token' },
    async run() {
      const root = homeRoot(flags)
      // A running pod says where it listens (any port); otherwise pod.toml/--port says where it will.
      const client = podClient(flags)
      const running = await client.running()
      const status = running ? await answer(client.api.status.$get()) : null
      // Creates the home on first use, so the token exists.
      if (!running) await withPod(flags, async () => undefined)
      const token = readFileSync(homePaths(root).adminToken, 'utf8').trim()
      const link = `${status?.url ?? configuredUrl(flags)}/#token=${token}`
      console.log(visible(link))
      if (!running) console.error('note: the pod is not running; start it with `mazemaker` (or `npm start`)')
      if (process.env.DISPLAY || process.env.WAYLAND_DISPLAY) {
        try {
          spawn(['xdg-open', link]).unref()
        } catch {
          // no opener installed: the printed link is enough
        }
      }
    },
  })
  return { identity, open }
}
