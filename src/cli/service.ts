/**
 * `mazemaker service install|uninstall`: a `systemd --user` unit that runs `<binary> serve`, and
 * beside it `mazemaker-peer-sync.service`, a oneshot that runs `<binary> sync` (pull from every
 * peer now), so the product page's `systemctl --user start mazemaker-peer-sync.service` works.
 * We only write or remove the files and say which systemctl line to run; starting services is
 * the operator's call. A unit we did not write (no marker line) is never overwritten or removed.
 */
import { existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs'
import { homedir } from 'node:os'
import { basename, isAbsolute, join, resolve } from 'node:path'
import { writeFileAtomic } from '../lib/atomic-file'
import { BadInput, Conflict } from '../lib/errors'

export const UNIT_NAME = 'mazemaker.service'
/** The oneshot that pulls from every peer now. */
export const SYNC_UNIT_NAME = 'mazemaker-peer-sync.service'
/** First line of every unit we write; how install/uninstall recognise their own file. */
export const UNIT_MARKER = '# Written by `mazemaker service install`; remove with `mazemaker service uninstall`.'
/** Pause before systemd restarts a crashed pod, so a crash loop does not spin. */
const RESTART_SEC_S = 5
/** The pod closes its store on SIGTERM; give it this long before SIGKILL. */
const STOP_TIMEOUT_S = 20
const UNIT_MODE = 0o644

export interface UnitOptions {
  /** Absolute path of the executable: the compiled `mazemaker` (or `bun`, with the script in preArgs). */
  binaryPath: string
  /** Arguments before `serve`, e.g. `['/opt/mazemaker/src/main.ts']` when the binary is bun. */
  preArgs?: string[]
  /** Pod home; relative paths are resolved against the current directory now, not at boot. */
  home?: string
  port?: number
}

export interface ServiceLocation {
  /** Defaults to `$XDG_CONFIG_HOME/systemd/user`, else `~/.config/systemd/user`. */
  unitDir?: string
  unitName?: string
  /** Replace or remove a unit file that `mazemaker` did not write. */
  force?: boolean
}

/** Default directory of user units (the first one systemd searches that belongs to the user). */
export function defaultUnitDir(env: Record<string, string | undefined> = process.env): string {
  const config = env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(homedir(), '.config')
  return join(config, 'systemd', 'user')
}

/**
 * Quotes one ExecStart word for systemd: `\` and `"` are escaped inside double quotes, `%` doubles
 * (specifiers) and `$` doubles (variable expansion). Control characters would let a value start a
 * new unit line, so they are refused.
 */
export function quoteSystemdArg(arg: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(arg)) throw new BadInput(`refusing a control character in a unit argument: ${JSON.stringify(arg)}`)
  const escaped = arg.replace(/%/g, '%%').replace(/\$/g, '$$$$')
  if (escaped !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped)) return escaped
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
}

/** The unit file text. Throws BadInput for a relative binary path or a port out of range. */
export function systemdUnit(opts: UnitOptions): string {
  if (!isAbsolute(opts.binaryPath)) {
    throw new BadInput(`binary path must be absolute (systemd does not search PATH for us): ${opts.binaryPath}`)
  }
  if (opts.port !== undefined && (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535)) {
    throw new BadInput(`port must be 0..65535, got ${opts.port}`)
  }
  const argv = [opts.binaryPath, ...(opts.preArgs ?? []), 'serve']
  if (opts.home !== undefined) argv.push('--home', resolve(opts.home))
  if (opts.port !== undefined) argv.push('--port', String(opts.port))
  return [
    UNIT_MARKER,
    '[Unit]',
    'Description=Mazemaker pod (agent memories, federated pod to pod)',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${argv.map(quoteSystemdArg).join(' ')}`,
    'Restart=on-failure',
    `RestartSec=${RESTART_SEC_S}`,
    `TimeoutStopSec=${STOP_TIMEOUT_S}`,
    // The pod never needs more privileges than the user it runs as, and its files are 0600.
    'NoNewPrivileges=yes',
    'UMask=0077',
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n')
}

/**
 * The oneshot unit that runs `<binary> sync`: one pull from every peer, through the running pod
 * (or, with none running, a pod of its own for the pull). Started by hand, so no [Install].
 */
export function syncUnit(opts: UnitOptions): string {
  if (!isAbsolute(opts.binaryPath)) {
    throw new BadInput(`binary path must be absolute (systemd does not search PATH for us): ${opts.binaryPath}`)
  }
  const argv = [opts.binaryPath, ...(opts.preArgs ?? []), 'sync']
  if (opts.home !== undefined) argv.push('--home', resolve(opts.home))
  return [
    UNIT_MARKER,
    '[Unit]',
    'Description=Mazemaker: pull from every peer now (systemctl --user start mazemaker-peer-sync.service)',
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${argv.map(quoteSystemdArg).join(' ')}`,
    'NoNewPrivileges=yes',
    'UMask=0077',
    '',
  ].join('\n')
}

function unitPath(loc: ServiceLocation): string {
  return join(loc.unitDir ?? defaultUnitDir(), loc.unitName ?? UNIT_NAME)
}

/** The sync unit beside the pod's unit (a custom unitName gets `<name>-peer-sync.service`). */
function syncUnitPath(loc: ServiceLocation): string {
  const name = loc.unitName ? `${loc.unitName.replace(/\.service$/, '')}-peer-sync.service` : SYNC_UNIT_NAME
  return join(loc.unitDir ?? defaultUnitDir(), name)
}

function isOurs(path: string): boolean {
  return readFileSync(path, 'utf8').startsWith(UNIT_MARKER)
}

/**
 * Writes the pod's unit and the sync unit (replacing ones we wrote before) and returns the lines
 * that start them. Neither is written when either is someone else's.
 * @example const { path, enableLine } = installService({ binaryPath: process.execPath })
 */
export function installService(opts: UnitOptions & ServiceLocation): { path: string; syncPath: string; enableLine: string; syncLine: string } {
  const text = systemdUnit(opts)
  const syncText = syncUnit(opts)
  const path = unitPath(opts)
  const syncPath = syncUnitPath(opts)
  for (const p of [path, syncPath]) {
    if (existsSync(p) && !opts.force && !isOurs(p)) throw new Conflict(`${p} exists and was not written by mazemaker; move it away or pass --force`)
  }
  mkdirSync(opts.unitDir ?? defaultUnitDir(), { recursive: true })
  writeFileAtomic(path, text, UNIT_MODE)
  writeFileAtomic(syncPath, syncText, UNIT_MODE)
  const name = opts.unitName ?? UNIT_NAME
  return {
    path,
    syncPath,
    enableLine: `systemctl --user daemon-reload && systemctl --user enable --now ${name}`,
    syncLine: `systemctl --user start ${basename(syncPath)}`,
  }
}

/**
 * Removes the unit if it is ours. `disableLine` stops and disables it; run that first if it is
 * running (systemd keeps a running unit alive after its file is gone until the next reload).
 */
export function uninstallService(loc: ServiceLocation = {}): { path: string; removed: boolean; disableLine: string } {
  const path = unitPath(loc)
  const syncPath = syncUnitPath(loc)
  const disableLine = `systemctl --user disable --now ${loc.unitName ?? UNIT_NAME}`
  for (const p of [path, syncPath]) {
    if (existsSync(p) && !loc.force && !isOurs(p)) throw new Conflict(`${p} was not written by mazemaker; not removing it (pass --force to remove anyway)`)
  }
  if (existsSync(syncPath)) unlinkSync(syncPath)
  if (!existsSync(path)) return { path, removed: false, disableLine }
  unlinkSync(path)
  return { path, removed: true, disableLine }
}
