/** `mazemaker service install|uninstall`: a systemd --user unit for this binary. */
import { defineCommand } from 'citty'
import { installService, uninstallService } from './service'
import { homeRoot, type GlobalFlags } from './context'
import { selfCommand } from '../runtime'

export function serviceCommand(flags: GlobalFlags) {
  const install = defineCommand({
    meta: { name: 'install', description: 'Write systemd --user units: one that runs this pod, one (mazemaker-peer-sync) that pulls from every peer now' },
    run() {
      // Compiled: the binary runs itself. From source: the runtime runs src/main.ts.
      const [binaryPath, ...preArgs] = selfCommand()
      const out = installService({ binaryPath: binaryPath!, preArgs, home: homeRoot(flags), port: flags.port })
      console.log(`wrote ${out.path} and ${out.syncPath}\nnow run: ${out.enableLine}`)
      console.log(`to pull from every peer at once (else within five minutes): ${out.syncLine}`)
      console.log('to keep it running while you are logged out: loginctl enable-linger "$USER"')
    },
  })
  const uninstall = defineCommand({
    meta: { name: 'uninstall', description: 'Remove the systemd --user units' },
    run() {
      const out = uninstallService({})
      console.log(out.removed ? `removed ${out.path}; run: systemctl --user daemon-reload` : `no unit at ${out.path}`)
    },
  })
  return defineCommand({ meta: { name: 'service', description: 'Install the pod as a user service' }, subCommands: { install, uninstall } })
}
