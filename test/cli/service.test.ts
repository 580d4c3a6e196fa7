/** systemd --user unit: its text, quoting, and install/uninstall in a temp unit directory. */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  defaultUnitDir,
  installService,
  quoteSystemdArg,
  SYNC_UNIT_NAME,
  syncUnit,
  systemdUnit,
  uninstallService,
  UNIT_MARKER,
  UNIT_NAME,
} from '../../src/cli/service'
import { BadInput, Conflict } from '../../src/lib/errors'

describe('systemdUnit', () => {
  test('runs `<binary> serve` with restart and hardening', () => {
    const unit = systemdUnit({ binaryPath: '/usr/local/bin/mazemaker', home: '/srv/pod', port: 8765 })
    expect(unit.startsWith(UNIT_MARKER + '\n')).toBe(true)
    expect(unit).toContain('\nExecStart=/usr/local/bin/mazemaker serve --home /srv/pod --port 8765\n')
    expect(unit).toContain('\nRestart=on-failure\n')
    expect(unit).toContain('\nNoNewPrivileges=yes\n')
    expect(unit).toContain('\nWantedBy=default.target\n')
    expect(unit).toMatch(/\[Unit\][\s\S]*\[Service\][\s\S]*\[Install\]/)
  })

  test('without home or port the pod uses its own defaults', () => {
    expect(systemdUnit({ binaryPath: '/opt/mzm/mazemaker' })).toContain('\nExecStart=/opt/mzm/mazemaker serve\n')
  })

  test('preArgs go before serve (bun running the script)', () => {
    const unit = systemdUnit({ binaryPath: '/usr/bin/bun', preArgs: ['/opt/mzm/src/main.ts'] })
    expect(unit).toContain('\nExecStart=/usr/bin/bun /opt/mzm/src/main.ts serve\n')
  })

  test('paths with spaces, quotes, % and $ are quoted for systemd', () => {
    const unit = systemdUnit({ binaryPath: '/home/a b/my "pod"/mazemaker', home: '/home/a b/100%/$HOME' })
    expect(unit).toContain('ExecStart="/home/a b/my \\"pod\\"/mazemaker" serve --home "/home/a b/100%%/$$HOME"\n')
  })

  test('a relative binary path is refused', () => {
    expect(() => systemdUnit({ binaryPath: 'mazemaker' })).toThrow(BadInput)
    expect(() => systemdUnit({ binaryPath: './dist/mazemaker' })).toThrow(/absolute/)
  })

  test('a relative home is made absolute now', () => {
    expect(systemdUnit({ binaryPath: '/bin/mzm', home: 'pod-home' })).toContain(`--home ${join(process.cwd(), 'pod-home')}`)
  })

  test('a bad port is refused', () => {
    expect(() => systemdUnit({ binaryPath: '/bin/mzm', port: 70000 })).toThrow(BadInput)
  })
})

describe('syncUnit (mazemaker-peer-sync.service)', () => {
  test('a oneshot that runs `<binary> sync` for the same home', () => {
    const unit = syncUnit({ binaryPath: '/usr/local/bin/mazemaker', home: '/srv/pod', port: 8765 })
    expect(unit.startsWith(UNIT_MARKER + '\n')).toBe(true)
    expect(unit).toContain('\nType=oneshot\n')
    // No --port: the CLI reaches the running pod over its home's socket, whatever its port.
    expect(unit).toContain('\nExecStart=/usr/local/bin/mazemaker sync --home /srv/pod\n')
    expect(unit).not.toContain('Restart=')
    expect(unit).not.toContain('[Install]')
  })

  test('quoted like the pod unit; a relative binary is refused', () => {
    expect(syncUnit({ binaryPath: '/home/a b/mazemaker', home: '/x/50%' })).toContain('ExecStart="/home/a b/mazemaker" sync --home /x/50%%\n')
    expect(() => syncUnit({ binaryPath: 'mazemaker' })).toThrow(BadInput)
  })
})

describe('quoteSystemdArg', () => {
  test.each([
    ['/usr/bin/mazemaker', '/usr/bin/mazemaker'],
    ['a b', '"a b"'],
    ['', '""'],
    ['50%', '50%%'],
    ['$X', '"$$X"'],
    ['back\\slash', '"back\\\\slash"'],
    ["it's", '"it\'s"'],
  ])('%p → %p', (input, want) => {
    expect(quoteSystemdArg(input)).toBe(want)
  })

  test('a newline cannot smuggle in a unit line', () => {
    expect(() => quoteSystemdArg('/x\nExecStartPre=/bin/evil')).toThrow(BadInput)
    expect(() => systemdUnit({ binaryPath: '/bin/mzm', home: '/x\n[Service]' })).toThrow(BadInput)
  })
})

describe('installService / uninstallService', () => {
  let dir: string
  let unitDir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mzm-service-'))
    unitDir = join(dir, 'config', 'systemd', 'user')
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  test('writes the unit (creating the directory) and returns the enable line', () => {
    const out = installService({ binaryPath: '/usr/local/bin/mazemaker', unitDir })
    expect(out.path).toBe(join(unitDir, UNIT_NAME))
    expect(readFileSync(out.path, 'utf8')).toBe(systemdUnit({ binaryPath: '/usr/local/bin/mazemaker' }))
    expect(statSync(out.path).mode & 0o777).toBe(0o644)
    expect(out.enableLine).toContain('systemctl --user enable --now mazemaker.service')
    // The product page's `systemctl --user start mazemaker-peer-sync.service`.
    expect(out.syncPath).toBe(join(unitDir, SYNC_UNIT_NAME))
    expect(SYNC_UNIT_NAME).toBe('mazemaker-peer-sync.service')
    expect(readFileSync(out.syncPath, 'utf8')).toBe(syncUnit({ binaryPath: '/usr/local/bin/mazemaker' }))
    expect(out.syncLine).toBe('systemctl --user start mazemaker-peer-sync.service')
  })

  test('re-installing replaces our own unit', () => {
    installService({ binaryPath: '/a/mazemaker', unitDir })
    const out = installService({ binaryPath: '/b/mazemaker', unitDir })
    expect(readFileSync(out.path, 'utf8')).toContain('ExecStart=/b/mazemaker serve')
  })

  test('a hand-written unit is neither overwritten nor removed without force', () => {
    installService({ binaryPath: '/a/mazemaker', unitDir })
    const path = join(unitDir, UNIT_NAME)
    writeFileSync(path, '[Service]\nExecStart=/mine\n')
    expect(() => installService({ binaryPath: '/a/mazemaker', unitDir })).toThrow(Conflict)
    expect(() => uninstallService({ unitDir })).toThrow(Conflict)
    expect(readFileSync(path, 'utf8')).toBe('[Service]\nExecStart=/mine\n')
    installService({ binaryPath: '/a/mazemaker', unitDir, force: true })
    expect(readFileSync(path, 'utf8').startsWith(UNIT_MARKER)).toBe(true)
  })

  test('a hand-written sync unit keeps both from being written', () => {
    const syncPath = join(unitDir, SYNC_UNIT_NAME)
    installService({ binaryPath: '/a/mazemaker', unitDir })
    writeFileSync(syncPath, '[Service]\nExecStart=/mine\n')
    expect(() => installService({ binaryPath: '/b/mazemaker', unitDir })).toThrow(Conflict)
    expect(readFileSync(join(unitDir, UNIT_NAME), 'utf8')).toContain('/a/mazemaker serve')
    expect(() => uninstallService({ unitDir })).toThrow(Conflict)
    expect(readFileSync(syncPath, 'utf8')).toBe('[Service]\nExecStart=/mine\n')
  })

  test('uninstall removes our units, and says so only once', () => {
    const { path, syncPath } = installService({ binaryPath: '/a/mazemaker', unitDir })
    const first = uninstallService({ unitDir })
    expect(first).toEqual({ path, removed: true, disableLine: 'systemctl --user disable --now mazemaker.service' })
    expect(existsSync(path)).toBe(false)
    expect(existsSync(syncPath)).toBe(false)
    expect(uninstallService({ unitDir }).removed).toBe(false)
  })

  test('the default unit directory follows XDG_CONFIG_HOME', () => {
    expect(defaultUnitDir({ XDG_CONFIG_HOME: '/x/config' })).toBe('/x/config/systemd/user')
    expect(defaultUnitDir({})).toMatch(/\/\.config\/systemd\/user$/)
    expect(defaultUnitDir({ XDG_CONFIG_HOME: 'relative' })).toMatch(/\/\.config\/systemd\/user$/)
  })
})
