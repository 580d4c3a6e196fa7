/**
 * `mazemaker service install|uninstall`: a systemd --user unit on Linux, a launchd agent on macOS,
 * and on Windows the Task Scheduler line to run instead.
 */
import { defineCommand } from 'citty'
import { PodError } from '../lib/errors'
import { installService, uninstallService, type UnitOptions } from './service'
import { installAgent, uninstallAgent } from './service-launchd'
import { windowsServiceAdvice } from './service-windows'
import { homeRoot, type GlobalFlags } from './context'
import { selfCommand } from '../runtime'

/** What `service install` does on `platform` (process.platform), as the lines it prints. */
export function installLines(opts: UnitOptions, platform: string): string[] {
  if (platform === 'darwin') {
    const out = installAgent(opts)
    return [`wrote ${out.path} (logs: ${out.logPath})`, `now run: ${out.loadLine}`]
  }
  if (platform === 'win32') throw new PodError('unsupported', windowsServiceAdvice(opts))
  const out = installService(opts)
  return [
    `wrote ${out.path} and ${out.syncPath}`,
    `now run: ${out.enableLine}`,
    `to pull from every peer at once (else within five minutes): ${out.syncLine}`,
    'to keep it running while you are logged out: loginctl enable-linger "$USER"',
  ]
}

/** What `service uninstall` does on `platform`, as the lines it prints. */
export function uninstallLines(platform: string): string[] {
  if (platform === 'darwin') {
    const out = uninstallAgent({})
    return [out.removed ? `removed ${out.path}; if it is loaded, run: ${out.unloadLine}` : `no agent at ${out.path}`]
  }
  if (platform === 'win32') return ['on Windows: schtasks /Delete /TN mazemaker /F']
  const out = uninstallService({})
  return [out.removed ? `removed ${out.path}; run: systemctl --user daemon-reload` : `no unit at ${out.path}`]
}

export function serviceCommand(flags: GlobalFlags) {
  const install = defineCommand({
    meta: {
      name: 'install',
      description: 'Start this pod at login: systemd --user units on Linux (the pod, and mazemaker-peer-sync that pulls now), a launchd agent on macOS',
    },
    run() {
      // Compiled: the binary runs itself. From source: the runtime runs src/main.ts.
      const [binaryPath, ...preArgs] = selfCommand()
      for (const line of installLines({ binaryPath: binaryPath!, preArgs, home: homeRoot(flags), port: flags.port }, process.platform)) console.log(line)
    },
  })
  const uninstall = defineCommand({
    meta: { name: 'uninstall', description: 'Remove the systemd --user units (Linux) or the launchd agent (macOS)' },
    run() {
      for (const line of uninstallLines(process.platform)) console.log(line)
    },
  })
  return defineCommand({ meta: { name: 'service', description: 'Install the pod as a user service' }, subCommands: { install, uninstall } })
}
