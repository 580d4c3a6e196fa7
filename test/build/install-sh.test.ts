/**
 * install.sh against a release served from 127.0.0.1: a fresh install (curl, and wget alone), an
 * upgrade in place, a tampered binary refused with nothing installed, platforms we do not build
 * for refused with a message before anything is downloaded. The script is POSIX sh: `dash -n`
 * and shellcheck (as sh) pass on it.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT } from '../helpers/binary'
import { freshRelease, releasePath, type ReleaseStamp } from '../helpers/release'

const INSTALL_SH = join(ROOT, 'install.sh')
/** Each install moves a 110 MB binary over loopback and hashes it: seconds, minutes on a loaded machine. */
const INSTALL_TIMEOUT_MS = 300_000
let stamp: ReleaseStamp
let scratch: string
let server: ReturnType<typeof Bun.serve>
/** Paths the server was asked for, in order. */
const requests: string[] = []
/** Release directories the server offers, by URL prefix (`/good`, `/tampered`). */
const releases = new Map<string, string>()

beforeAll(() => {
  stamp = freshRelease()
  scratch = mkdtempSync(join(tmpdir(), 'mzm-install-'))
  const good = join(scratch, 'good')
  const tampered = join(scratch, 'tampered')
  for (const dir of [good, tampered]) {
    mkdirSync(dir)
    copyFileSync(releasePath('SHA256SUMS'), join(dir, 'SHA256SUMS'))
  }
  symlinkSync(releasePath('mazemaker-linux-x64'), join(good, 'mazemaker-linux-x64'))
  // One flipped byte in the middle of the binary; SHA256SUMS still names the real one.
  const bytes = readFileSync(releasePath('mazemaker-linux-x64'))
  bytes[bytes.length >> 1]! ^= 0x01
  writeFileSync(join(tampered, 'mazemaker-linux-x64'), bytes)
  releases.set('/good', good)
  releases.set('/tampered', tampered)
  server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname
      requests.push(path)
      const [, prefix, name] = /^(\/[a-z]+)\/([A-Za-z0-9._-]+)$/.exec(path) ?? []
      const dir = prefix ? releases.get(prefix) : undefined
      if (!dir || !name || !existsSync(join(dir, name))) return new Response('not found', { status: 404 })
      return new Response(Bun.file(join(dir, name)))
    },
  })
}, 900_000)

afterAll(() => {
  server?.stop(true)
  rmSync(scratch, { recursive: true, force: true })
})

/** A bin directory with only the tools named (symlinked from /usr/bin or /bin), and fakes. */
function toolDir(name: string, tools: string[], fakes: Record<string, string> = {}): string {
  const dir = join(scratch, `bin-${name}`)
  mkdirSync(dir, { recursive: true })
  for (const tool of tools) {
    const from = ['/usr/bin', '/bin'].map((d) => join(d, tool)).find((p) => existsSync(p))
    if (!from) throw new Error(`${tool} is not installed`)
    symlinkSync(from, join(dir, tool))
  }
  for (const [tool, script] of Object.entries(fakes)) {
    writeFileSync(join(dir, tool), `#!/bin/sh\n${script}\n`)
    chmodSync(join(dir, tool), 0o755)
  }
  return dir
}

const BASE_TOOLS = ['uname', 'awk', 'mktemp', 'sha256sum', 'chmod', 'cp', 'mv', 'mkdir', 'rm', 'getconf', 'ls']

interface Run {
  code: number
  stdout: string
  stderr: string
}

async function install(env: Record<string, string>): Promise<Run> {
  const proc = Bun.spawn(['/bin/sh', INSTALL_SH], { env, stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { code, stdout, stderr }
}

function newHome(name: string): string {
  const home = join(scratch, `home-${name}`)
  mkdirSync(home)
  return home
}

const url = (prefix: string) => `http://127.0.0.1:${server.port}${prefix}`
const versionOf = (binary: string) => Bun.spawnSync([binary, '--version']).stdout.toString().trim()
const sameBytes = (a: string, b: string) => readFileSync(a).equals(readFileSync(b))

describe('install.sh', () => {
  test('is POSIX sh: dash parses it and shellcheck (as sh) finds nothing', () => {
    expect(Bun.spawnSync(['dash', '-n', INSTALL_SH]).exitCode).toBe(0)
    const check = Bun.spawnSync(['shellcheck', '--shell=sh', '--severity=style', INSTALL_SH])
    expect(check.stdout.toString()).toBe('')
    expect(check.exitCode).toBe(0)
  })

  test(
    'fresh install with curl: verified, installed where asked, says it is not on PATH and what to run next',
    async () => {
      const home = newHome('curl')
      const dir = join(home, 'tools', 'bin')
      const r = await install({ HOME: home, PATH: toolDir('curl', [...BASE_TOOLS, 'curl']), MAZEMAKER_RELEASE_URL: url('/good'), MAZEMAKER_INSTALL_DIR: dir })
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      const installed = join(dir, 'mazemaker')
      expect(sameBytes(installed, releasePath('mazemaker-linux-x64'))).toBe(true)
      expect(versionOf(installed)).toBe(`mazemaker ${stamp.version} (commit ${stamp.commit}, linux-x64)`)
      expect(r.stdout).toContain(`installed mazemaker ${stamp.version} (commit ${stamp.commit}, linux-x64) at ${installed}\n`)
      expect(r.stdout).toContain(`${dir} is not on your PATH`)
      expect(r.stdout).toMatch(/\n {4}mazemaker serve .*\n {4}mazemaker service install /)
      expect(readdirSync(dir)).toEqual(['mazemaker'])
    },
    INSTALL_TIMEOUT_MS,
  )

  test(
    'fresh install with wget alone into the default ~/.local/bin, which is on PATH',
    async () => {
      const home = newHome('wget')
      const bin = toolDir('wget', [...BASE_TOOLS, 'wget'])
      const dir = join(home, '.local', 'bin')
      const r = await install({ HOME: home, PATH: `${bin}:${dir}`, MAZEMAKER_RELEASE_URL: `${url('/good')}/` })
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      expect(sameBytes(join(dir, 'mazemaker'), releasePath('mazemaker-linux-x64'))).toBe(true)
      expect(r.stdout).toContain(`${dir} is on your PATH`)
    },
    INSTALL_TIMEOUT_MS,
  )

  test(
    'upgrade in place: the old binary is replaced, both versions named, nothing left beside it',
    async () => {
      const home = newHome('upgrade')
      const dir = join(home, '.local', 'bin')
      mkdirSync(dir, { recursive: true })
      writeFileSync(join(dir, 'mazemaker'), '#!/bin/sh\necho "mazemaker 0.0.1 (commit 0123456789ab, linux-x64)"\n')
      chmodSync(join(dir, 'mazemaker'), 0o755)
      const r = await install({ HOME: home, PATH: toolDir('upgrade', [...BASE_TOOLS, 'curl']), MAZEMAKER_RELEASE_URL: url('/good') })
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      expect(r.stdout).toContain('replaced mazemaker 0.0.1 (commit 0123456789ab, linux-x64)\n')
      expect(r.stdout).toContain(`with mazemaker ${stamp.version} (commit ${stamp.commit}, linux-x64) at ${join(dir, 'mazemaker')}`)
      expect(sameBytes(join(dir, 'mazemaker'), releasePath('mazemaker-linux-x64'))).toBe(true)
      expect(readdirSync(dir)).toEqual(['mazemaker'])
    },
    INSTALL_TIMEOUT_MS,
  )

  test(
    'a tampered binary is refused: nothing installed, the old binary untouched, the mismatch named',
    async () => {
      const home = newHome('tampered')
      const dir = join(home, '.local', 'bin')
      mkdirSync(dir, { recursive: true })
      const old = '#!/bin/sh\necho "mazemaker 0.0.1 (commit 0123456789ab, linux-x64)"\n'
      writeFileSync(join(dir, 'mazemaker'), old)
      const fresh = join(home, 'fresh')
      const bin = toolDir('tampered', [...BASE_TOOLS, 'curl'])
      for (const target of [dir, fresh]) {
        const r = await install({ HOME: home, PATH: bin, MAZEMAKER_RELEASE_URL: url('/tampered'), MAZEMAKER_INSTALL_DIR: target })
        expect(r.code).toBe(1)
        expect(r.stdout).not.toContain('installed')
        expect(r.stderr).toMatch(
          /^mazemaker install: checksum mismatch for mazemaker-linux-x64: SHA256SUMS says [0-9a-f]{64}, the download is [0-9a-f]{64}; nothing was installed\n$/,
        )
      }
      expect(readFileSync(join(dir, 'mazemaker'), 'utf8')).toBe(old)
      expect(readdirSync(dir)).toEqual(['mazemaker'])
      expect(existsSync(fresh)).toBe(false)
    },
    INSTALL_TIMEOUT_MS,
  )

  test(
    'a release without this platform in SHA256SUMS, or without the file, installs nothing',
    async () => {
      const partial = join(scratch, 'partial')
      mkdirSync(partial)
      writeFileSync(join(partial, 'SHA256SUMS'), `${'0'.repeat(64)}  mazemaker-darwin-arm64\n`)
      releases.set('/partial', partial)
      const home = newHome('partial')
      const bin = toolDir('partial', [...BASE_TOOLS, 'curl'])
      const r = await install({ HOME: home, PATH: bin, MAZEMAKER_RELEASE_URL: url('/partial') })
      expect(r.code).toBe(1)
      expect(r.stderr).toContain(`could not download ${url('/partial')}/mazemaker-linux-x64`)
      symlinkSync(releasePath('mazemaker-linux-x64'), join(partial, 'mazemaker-linux-x64'))
      const r2 = await install({ HOME: home, PATH: bin, MAZEMAKER_RELEASE_URL: url('/partial') })
      expect(r2.code).toBe(1)
      expect(r2.stderr).toBe(`mazemaker install: SHA256SUMS at ${url('/partial')} names no mazemaker-linux-x64; nothing was installed\n`)
      expect(existsSync(join(home, '.local'))).toBe(false)
    },
    INSTALL_TIMEOUT_MS,
  )

  test.each([
    ['FreeBSD', 'amd64', "no mazemaker build for the operating system 'FreeBSD' (there are builds for Linux, macOS and Windows)"],
    ['Linux', 'riscv64', "no mazemaker build for the CPU 'riscv64' (there are builds for x86-64 and arm64)"],
    ['Linux', 'armv7l', "no mazemaker build for 32-bit ARM ('armv7l'); on a Raspberry Pi, install a 64-bit OS (Raspberry Pi OS 64-bit)"],
    ['MINGW64_NT-10.0-19045', 'x86_64', 'on Windows, download mazemaker-windows-x64.exe from'],
  ])(
    '%s on %s is refused with a message, before anything is downloaded',
    async (os, cpu, message) => {
      const home = newHome(`${os}-${cpu}`)
      const bin = toolDir(`${os}-${cpu}`, BASE_TOOLS.filter((t) => t !== 'uname').concat('curl'), {
        uname: `case "$1" in -s) echo '${os}' ;; -m) echo '${cpu}' ;; *) echo '${os}' ;; esac`,
      })
      const before = requests.length
      const r = await install({ HOME: home, PATH: bin, MAZEMAKER_RELEASE_URL: url('/good') })
      expect(r.code).toBe(1)
      expect(r.stderr).toStartWith(`mazemaker install: ${message}`)
      expect(r.stdout).toBe('')
      expect(requests.length).toBe(before)
      expect(existsSync(join(home, '.local'))).toBe(false)
    },
    INSTALL_TIMEOUT_MS,
  )
})
