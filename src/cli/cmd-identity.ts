/** `mazemaker identity [--qr]` and `mazemaker open`. */
import { defineCommand } from 'citty'
import { readFileSync } from 'node:fs'
import { homePaths, shortId } from '../identity'
import { answer, homeRoot, podClient, type GlobalFlags } from './context'
import { renderQrTerminal } from './qr'
import { printJson, withPod } from './with-pod'
import { spawn } from '../runtime'
import { visible } from '../lib/visible'
import { PodError } from '../lib/errors'

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
      console.log(`pod ${visible(id.name)} (${visible(shortId(id.pod_id))})`)
      console.log(visible(id.handshake_url))
      // On stderr: `identity | tail -1` stays the handshake URL.
      if (advertised.warning) console.error(`warning: ${visible(advertised.warning)}`)
      if (args.qr) console.log('\n' + renderQrTerminal(id.handshake_url))
    },
  })

  const open = defineCommand({
    meta: { name: 'open', description: 'Print (and on a desktop, open) the panel link with the admin token' },
    async run() {
      // Only a pod of this home that answered on its socket says where it listens: with the pod
      // stopped, whatever holds its port would read the token from the link's fragment.
      const client = podClient(flags)
      if (!(await client.running())) {
        throw new PodError(
          'not_running',
          `the pod of ${homeRoot(flags)} is not running, so there is no panel to open (and the admin token goes to no other program on its port): start it with \`mazemaker\`, then run \`mazemaker open\` again`,
        )
      }
      const status = await answer(client.api.status.$get())
      if (!status.url) throw new PodError('not_running', 'the running pod reports no http URL; see its log')
      const token = readFileSync(homePaths(homeRoot(flags)).adminToken, 'utf8').trim()
      const link = `${status.url}/#token=${token}`
      console.log(visible(link))
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
