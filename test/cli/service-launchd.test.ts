/**
 * The macOS launchd agent and the Windows advice of `mazemaker service install`. launchd cannot
 * run here, so the plist is read back by Python's plistlib (an XML parser that also checks the
 * plist structure) and its keys are what launchd would act on.
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AGENT_LABEL, AGENT_MARKER, defaultAgentDir, installAgent, launchdPlist, uninstallAgent } from '../../src/cli/service-launchd'
import { installLines, uninstallLines } from '../../src/cli/cmd-service'
import { windowsServiceAdvice } from '../../src/cli/service-windows'
import { BadInput, Conflict, PodError } from '../../src/lib/errors'

const PYTHON = '/usr/bin/python3'

/** The plist as launchd would read it, via plistlib (throws on malformed XML or plist). */
function parsePlist(text: string): Record<string, unknown> {
  const proc = Bun.spawnSync([PYTHON, '-c', 'import json, plistlib, sys; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))'], {
    stdin: new TextEncoder().encode(text),
  })
  if (proc.exitCode !== 0) throw new Error(`plistlib refused the plist: ${proc.stderr}`)
  return JSON.parse(proc.stdout.toString())
}

describe('launchdPlist', () => {
  test('parses as a plist: runs `<binary> serve` at load, kept alive, logging to a file, umask 077', () => {
    const plist = parsePlist(
      launchdPlist({
        binaryPath: '/Users/ada/.local/bin/mazemaker',
        home: '/Users/ada/.mazemaker',
        port: 8765,
        logPath: '/Users/ada/Library/Logs/mazemaker/pod.log',
      }),
    )
    expect(plist).toEqual({
      Label: 'dev.mazemaker.pod',
      ProgramArguments: ['/Users/ada/.local/bin/mazemaker', 'serve', '--home', '/Users/ada/.mazemaker', '--port', '8765'],
      RunAtLoad: true,
      KeepAlive: true,
      ThrottleInterval: 5,
      ExitTimeOut: 20,
      Umask: 0o077,
      ProcessType: 'Background',
      StandardOutPath: '/Users/ada/Library/Logs/mazemaker/pod.log',
      StandardErrorPath: '/Users/ada/Library/Logs/mazemaker/pod.log',
    })
  })

  test('XML-special characters in paths survive as themselves; control characters are refused', () => {
    const home = '/Users/a&b/<pod> "x" \'y\''
    const plist = parsePlist(launchdPlist({ binaryPath: '/opt/m&m/mazemaker', home, logPath: '/tmp/l<o>g' }))
    expect(plist.ProgramArguments).toEqual(['/opt/m&m/mazemaker', 'serve', '--home', home])
    expect(plist.StandardOutPath).toBe('/tmp/l<o>g')
    expect(() => launchdPlist({ binaryPath: '/bin/mzm', home: '/x\u0001y', logPath: '/tmp/l' })).toThrow(BadInput)
  })

  test('preArgs go before serve; a relative binary or a bad port is refused', () => {
    const plist = parsePlist(launchdPlist({ binaryPath: '/opt/homebrew/bin/bun', preArgs: ['/src/main.ts'], logPath: '/tmp/l' }))
    expect(plist.ProgramArguments).toEqual(['/opt/homebrew/bin/bun', '/src/main.ts', 'serve'])
    expect(() => launchdPlist({ binaryPath: 'mazemaker', logPath: '/tmp/l' })).toThrow(/absolute/)
    expect(() => launchdPlist({ binaryPath: '/bin/mzm', port: 70000, logPath: '/tmp/l' })).toThrow(BadInput)
  })
})

describe('installAgent / uninstallAgent', () => {
  let dir: string
  let agentDir: string
  let logPath: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mzm-launchd-'))
    agentDir = defaultAgentDir(dir)
    logPath = join(dir, 'Library', 'Logs', 'mazemaker', 'pod.log')
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  test('writes ~/Library/LaunchAgents/dev.mazemaker.pod.plist and the log directory, and says how to load it', () => {
    const out = installAgent({ binaryPath: '/usr/local/bin/mazemaker', agentDir, logPath })
    expect(out.path).toBe(join(dir, 'Library', 'LaunchAgents', `${AGENT_LABEL}.plist`))
    expect(statSync(out.path).mode & 0o777).toBe(0o644)
    expect(statSync(join(logPath, '..')).mode & 0o777).toBe(0o700)
    expect(parsePlist(readFileSync(out.path, 'utf8')).ProgramArguments).toEqual(['/usr/local/bin/mazemaker', 'serve'])
    expect(out.loadLine).toBe(`launchctl bootout gui/$(id -u)/dev.mazemaker.pod 2>/dev/null; launchctl bootstrap gui/$(id -u) ${out.path}`)
  })

  test('re-installing replaces our own plist; one we did not write is left alone without force', () => {
    installAgent({ binaryPath: '/a/mazemaker', agentDir, logPath })
    const { path } = installAgent({ binaryPath: '/b/mazemaker', agentDir, logPath })
    expect(parsePlist(readFileSync(path, 'utf8')).ProgramArguments).toEqual(['/b/mazemaker', 'serve'])
    writeFileSync(path, '<plist version="1.0"><dict/></plist>\n')
    expect(() => installAgent({ binaryPath: '/a/mazemaker', agentDir, logPath })).toThrow(Conflict)
    expect(() => uninstallAgent({ agentDir })).toThrow(Conflict)
    expect(readFileSync(path, 'utf8')).toBe('<plist version="1.0"><dict/></plist>\n')
    installAgent({ binaryPath: '/a/mazemaker', agentDir, logPath, force: true })
    expect(readFileSync(path, 'utf8')).toContain(AGENT_MARKER)
  })

  test('uninstall removes our plist and says how to unload it; then there is nothing to remove', () => {
    const { path } = installAgent({ binaryPath: '/a/mazemaker', agentDir, logPath })
    expect(uninstallAgent({ agentDir })).toEqual({ path, removed: true, unloadLine: 'launchctl bootout gui/$(id -u)/dev.mazemaker.pod' })
    expect(existsSync(path)).toBe(false)
    expect(uninstallAgent({ agentDir }).removed).toBe(false)
  })
})

describe('windowsServiceAdvice', () => {
  test('names the Task Scheduler line that starts the pod at logon, paths with spaces quoted', () => {
    const advice = windowsServiceAdvice({ binaryPath: 'C:\\Users\\Ada Lovelace\\mazemaker.exe', home: 'C:\\Users\\Ada Lovelace\\.mazemaker' })
    expect(advice).toContain(
      'schtasks /Create /SC ONLOGON /TN mazemaker /TR "\\"C:\\Users\\Ada Lovelace\\mazemaker.exe\\" serve --home \\"C:\\Users\\Ada Lovelace\\.mazemaker\\""',
    )
    expect(advice).toContain('schtasks /Delete /TN mazemaker /F')
    expect(advice).not.toContain('\n')
  })
})

describe('service install and uninstall on Windows', () => {
  test('install refuses with the Task Scheduler advice (code unsupported) instead of writing a unit', () => {
    const opts = { binaryPath: 'C:\\mazemaker.exe', home: 'C:\\Users\\ada\\.mazemaker' }
    let thrown: unknown
    try {
      installLines(opts, 'win32')
    } catch (err) {
      thrown = err
    }
    expect(thrown).toBeInstanceOf(PodError)
    expect((thrown as PodError).code).toBe('unsupported')
    expect((thrown as PodError).message).toBe(windowsServiceAdvice(opts))
  })

  test('uninstall says which task to delete', () => {
    expect(uninstallLines('win32')).toEqual(['on Windows: schtasks /Delete /TN mazemaker /F'])
  })
})
