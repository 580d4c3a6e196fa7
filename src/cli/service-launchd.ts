/**
 * `mazemaker service install|uninstall` on macOS: a launchd agent
 * (`~/Library/LaunchAgents/dev.mazemaker.pod.plist`) that runs `<binary> serve` at login, keeps
 * it running, and appends its output to `~/Library/Logs/mazemaker/pod.log`. Like the systemd unit
 * (service.ts), we only write or remove the file and say which launchctl line to run; a plist we
 * did not write (no marker comment) is never overwritten or removed.
 */
import { existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { writeFileAtomic } from '../lib/atomic-file'
import { BadInput, Conflict } from '../lib/errors'
import type { UnitOptions } from './service'

export const AGENT_LABEL = 'dev.mazemaker.pod'
/** The comment every plist we write carries; how install/uninstall recognise their own file. */
export const AGENT_MARKER = '<!-- Written by `mazemaker service install`; remove with `mazemaker service uninstall`. -->'
/** launchd waits this long before starting a pod again that exited (a crash loop does not spin). */
const THROTTLE_S = 5
/** The pod closes its store on SIGTERM; launchd sends SIGKILL after this long. */
const EXIT_TIMEOUT_S = 20
/** umask 077 (decimal, as launchd reads it): the pod's files are the user's alone. */
const UMASK_077 = 63
const PLIST_MODE = 0o644

export interface AgentLocation {
  /** Defaults to `~/Library/LaunchAgents`. */
  agentDir?: string
  /** Defaults to `~/Library/Logs/mazemaker/pod.log`. */
  logPath?: string
  /** Replace or remove a plist that `mazemaker` did not write. */
  force?: boolean
}

export function defaultAgentDir(home = homedir()): string {
  return join(home, 'Library', 'LaunchAgents')
}

export function defaultLogPath(home = homedir()): string {
  return join(home, 'Library', 'Logs', 'mazemaker', 'pod.log')
}

/** XML text for a plist <string>; control characters (not allowed in XML 1.0) are refused. */
function xmlString(value: string): string {
  if (/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(value)) throw new BadInput(`refusing a control character in a launchd argument: ${JSON.stringify(value)}`)
  return `<string>${value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}</string>`
}

/** The plist text. Throws BadInput for a relative binary path or a port out of range. */
export function launchdPlist(opts: UnitOptions & { logPath: string }): string {
  if (!isAbsolute(opts.binaryPath)) throw new BadInput(`binary path must be absolute (launchd does not search PATH for us): ${opts.binaryPath}`)
  if (opts.port !== undefined && (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535)) {
    throw new BadInput(`port must be 0..65535, got ${opts.port}`)
  }
  const argv = [opts.binaryPath, ...(opts.preArgs ?? []), 'serve']
  if (opts.home !== undefined) argv.push('--home', resolve(opts.home))
  if (opts.port !== undefined) argv.push('--port', String(opts.port))
  const log = xmlString(resolve(opts.logPath))
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    AGENT_MARKER,
    '<plist version="1.0">',
    '<dict>',
    `  <key>Label</key>${xmlString(AGENT_LABEL)}`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    ...argv.map((a) => `    ${xmlString(a)}`),
    '  </array>',
    '  <key>RunAtLoad</key><true/>',
    '  <key>KeepAlive</key><true/>',
    `  <key>ThrottleInterval</key><integer>${THROTTLE_S}</integer>`,
    `  <key>ExitTimeOut</key><integer>${EXIT_TIMEOUT_S}</integer>`,
    `  <key>Umask</key><integer>${UMASK_077}</integer>`,
    '  <key>ProcessType</key><string>Background</string>',
    `  <key>StandardOutPath</key>${log}`,
    `  <key>StandardErrorPath</key>${log}`,
    '</dict>',
    '</plist>',
    '',
  ].join('\n')
}

function agentPath(loc: AgentLocation): string {
  return join(loc.agentDir ?? defaultAgentDir(), `${AGENT_LABEL}.plist`)
}

function isOurs(path: string): boolean {
  return readFileSync(path, 'utf8').includes(AGENT_MARKER)
}

/**
 * Writes the agent (replacing one we wrote before) and its log directory; returns the line that
 * loads it. `launchctl bootout` first if an older one is loaded: launchd keeps what it read.
 */
export function installAgent(opts: UnitOptions & AgentLocation): { path: string; logPath: string; loadLine: string } {
  const logPath = opts.logPath ?? defaultLogPath()
  const text = launchdPlist({ ...opts, logPath })
  const path = agentPath(opts)
  if (existsSync(path) && !opts.force && !isOurs(path)) {
    throw new Conflict(`${path} exists and was not written by mazemaker; move it away or pass --force`)
  }
  mkdirSync(opts.agentDir ?? defaultAgentDir(), { recursive: true })
  mkdirSync(dirname(logPath), { recursive: true, mode: 0o700 })
  writeFileAtomic(path, text, PLIST_MODE)
  const domain = 'gui/$(id -u)'
  return {
    path,
    logPath,
    loadLine: `launchctl bootout ${domain}/${AGENT_LABEL} 2>/dev/null; launchctl bootstrap ${domain} ${path}`,
  }
}

/** Removes the agent if it is ours; `unloadLine` stops it (run it first: launchd keeps a loaded agent). */
export function uninstallAgent(loc: AgentLocation = {}): { path: string; removed: boolean; unloadLine: string } {
  const path = agentPath(loc)
  const unloadLine = `launchctl bootout gui/$(id -u)/${AGENT_LABEL}`
  if (!existsSync(path)) return { path, removed: false, unloadLine }
  if (!loc.force && !isOurs(path)) throw new Conflict(`${path} was not written by mazemaker; not removing it (pass --force to remove anyway)`)
  unlinkSync(path)
  return { path, removed: true, unloadLine }
}
