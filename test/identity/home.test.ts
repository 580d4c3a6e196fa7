import { describe, expect, test } from 'bun:test'
import { chmodSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { basename, join } from 'node:path'
import { HomeError } from '../../src/lib/errors'
import { memoryLogger } from '../../src/lib/log'
import { homePaths, openHome, resolveHome } from '../../src/identity'
import { useTempDirs } from './_temp-home'

const tempDir = useTempDirs()
const mode = (path: string) => statSync(path).mode & 0o777
const newHome = () => join(tempDir(), 'home')

describe('resolveHome', () => {
  test('MAZEMAKER_HOME wins over --home, which wins over ~/.mazemaker', () => {
    expect(resolveHome({ flag: '/b', env: { MAZEMAKER_HOME: '/a' } })).toBe('/a')
    expect(resolveHome({ flag: '/b', env: {} })).toBe('/b')
    expect(resolveHome({ flag: '/b', env: { MAZEMAKER_HOME: '' } })).toBe('/b')
    expect(resolveHome({ env: {} })).toBe(join(homedir(), '.mazemaker'))
  })
  test('expands ~ and makes relative paths absolute', () => {
    expect(resolveHome({ flag: '~/pods/a', env: {} })).toBe(join(homedir(), 'pods/a'))
    expect(resolveHome({ flag: 'rel', env: {} })).toBe(join(process.cwd(), 'rel'))
  })
})

test('homePaths names every file of the contract table', () => {
  expect(homePaths('/h')).toEqual({
    root: '/h',
    podToml: '/h/pod.toml',
    peersToml: '/h/peers.toml',
    peerKeysDir: '/h/peer-keys',
    selfKey: '/h/peer-keys/self.key',
    peerKeyDir: '/h/peer-keys/peers',
    peerHeadersDir: '/h/peer-keys/headers',
    vaultKey: '/h/vault.key',
    adminToken: '/h/admin.token',
    db: '/h/pod.db',
    lock: '/h/pod.lock',
    socket: '/h/pod.sock',
    nonces: '/h/nonces.journal',
  })
})

describe('openHome first boot', () => {
  for (const umask of [0o022, 0o000]) {
    test(`creates every file with exact modes (umask ${umask.toString(8).padStart(3, '0')})`, async () => {
      const root = newHome()
      const log = memoryLogger()
      const previous = process.umask(umask)
      try {
        const home = await openHome(root, { log, hostname: 'alca-7G' })
        const p = home.paths
        expect(mode(p.root)).toBe(0o700)
        expect(mode(p.peerKeysDir)).toBe(0o700)
        expect(mode(p.peerKeyDir)).toBe(0o700)
        for (const file of [p.selfKey, p.vaultKey, p.adminToken, p.podToml, p.peersToml]) expect(mode(file)).toBe(0o600)
        // peers.toml exists from the first boot, empty but for its comment header.
        expect(readFileSync(p.peersToml, 'utf8')).toStartWith('# Peers of this pod')
        expect(home.peers.list()).toEqual({ peers: [], error: null })
        for (const file of [p.selfKey, p.vaultKey, p.adminToken]) {
          expect(readFileSync(file, 'utf8')).toMatch(/^[A-Za-z0-9_-]{43}\n$/)
        }
        // A home other than ~/.mazemaker adds its folder's name: two pods on one machine differ.
        expect(home.config.name).toBe(`alca-7G-${basename(root)}`)
        expect(home.config.pod_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
        expect(home.identity.podId).toBe(home.config.pod_id)
        expect(home.identity.publicKey).toHaveLength(43)
        expect(home.identity.vaultKey).toHaveLength(32)
        expect(home.identity.adminToken).toBe(readFileSync(p.adminToken, 'utf8').trim())
      } finally {
        process.umask(previous)
      }
    })
  }

  test('logs one op=init line per created file and never its content', async () => {
    const root = newHome()
    const log = memoryLogger()
    const home = await openHome(root, { log })
    const p = home.paths
    for (const file of [p.selfKey, p.vaultKey, p.adminToken, p.podToml, p.peersToml]) {
      expect(log.lines.filter((l) => l.includes('op=init') && l.endsWith(`path=${file}`))).toHaveLength(1)
    }
    expect(log.lines.find((l) => l.endsWith(`path=${p.podToml}`))).toContain(`pod named ${home.config.name}; rename it with name =`)
    const secrets = [p.selfKey, p.vaultKey, p.adminToken].map((f) => readFileSync(f, 'utf8').trim())
    for (const line of log.lines) for (const secret of secrets) expect(line).not.toContain(secret)
  })

  test('second boot reuses identical contents and logs nothing', async () => {
    const root = newHome()
    const first = await openHome(root, { log: memoryLogger() })
    const p = first.paths
    const files = [p.selfKey, p.vaultKey, p.adminToken, p.podToml]
    const before = files.map((f) => [readFileSync(f, 'utf8'), statSync(f).ino])
    const log = memoryLogger()
    const second = await openHome(root, { log, hostname: 'other-name' })
    expect(files.map((f) => [readFileSync(f, 'utf8'), statSync(f).ino])).toEqual(before)
    expect(second.identity.publicKey).toBe(first.identity.publicKey)
    expect(second.config).toEqual(first.config)
    expect(log.lines).toEqual([])
  })

  test('two processes booting a new home at once end with one identity', async () => {
    const root = newHome()
    const script = `import { openHome } from ${JSON.stringify(join(import.meta.dir, '../../src/identity'))}
import { createLogger } from ${JSON.stringify(join(import.meta.dir, '../../src/lib/log'))}
const h = await openHome(process.argv.at(-1)!, { log: createLogger({ sink: () => {} }) })
console.log(h.identity.podId + ' ' + h.identity.publicKey + ' ' + h.identity.adminToken)`
    const run = () => Bun.spawn([process.execPath, '-e', script, root], { stdout: 'pipe', stderr: 'pipe' })
    const procs = [run(), run(), run()]
    const outs = await Promise.all(procs.map((p) => new Response(p.stdout).text()))
    expect(await Promise.all(procs.map((p) => p.exited))).toEqual([0, 0, 0])
    expect(new Set(outs.map((o) => o.trim())).size).toBe(1)
  })

  test('a lost admin.token is recreated, with a warning', async () => {
    const root = newHome()
    const first = await openHome(root, { log: memoryLogger() })
    unlinkSync(first.paths.adminToken)
    const log = memoryLogger()
    const second = await openHome(root, { log })
    expect(second.identity.adminToken).not.toBe(first.identity.adminToken)
    expect(log.lines.some((l) => l.includes('level=warn') && l.includes(`path=${first.paths.adminToken}`))).toBe(true)
  })

  test('a lost vault.key next to an existing pod.db is refused, not regenerated', async () => {
    const root = newHome()
    const { paths } = await openHome(root, { log: memoryLogger() })
    writeFileSync(paths.db, 'sqlite bytes', { mode: 0o600 })
    unlinkSync(paths.vaultKey)
    await expectHomeError(root, /vault\.key at .*vault\.key is missing but .*pod\.db exists/)
    expect(() => statSync(paths.vaultKey)).toThrow()
  })
})

async function expectHomeError(root: string, message: RegExp): Promise<HomeError> {
  try {
    await openHome(root, { log: memoryLogger() })
  } catch (err) {
    expect(err).toBeInstanceOf(HomeError)
    expect((err as Error).message).toMatch(message)
    return err as HomeError
  }
  throw new Error('openHome did not throw')
}

describe('openHome refuses a damaged home', () => {
  const cases: [string, (p: ReturnType<typeof homePaths>) => string, string, RegExp][] = [
    ['short self.key', (p) => p.selfKey, 'abc\n', /self\.key at .*self\.key is not 43 base64url characters \(too short.*restore it from backup/],
    ['garbage self.key', (p) => p.selfKey, '!!not a key at all, but 43 characters long!\n', /self\.key at .* is not 43 base64url characters \(not base64url/],
    ['long vault.key', (p) => p.vaultKey, `${'A'.repeat(44)}\n`, /vault\.key at .*vault\.key is not 43 base64url characters \(too long/],
    ['empty admin.token', (p) => p.adminToken, '', /admin\.token at .*admin\.token is not 43 base64url characters/],
  ]
  test.each(cases)('%s', async (_name, file, content, message) => {
    const root = newHome()
    const { paths } = await openHome(root, { log: memoryLogger() })
    const path = file(paths)
    writeFileSync(path, content)
    const before = readFileSync(path, 'utf8')
    await expectHomeError(root, message)
    expect(readFileSync(path, 'utf8')).toBe(before)
  })

  test.each(['selfKey', 'vaultKey', 'adminToken', 'podToml'] as const)('%s with mode 0644', async (key) => {
    const root = newHome()
    const { paths } = await openHome(root, { log: memoryLogger() })
    chmodSync(paths[key], 0o644)
    const err = await expectHomeError(root, /has mode 0644; run: chmod 600 /)
    expect(err.message).toContain(paths[key])
  })

  test('home directory with group/other bits', async () => {
    const root = newHome()
    mkdirSync(root, { mode: 0o755 })
    chmodSync(root, 0o755)
    await expectHomeError(root, new RegExp(`home ${root} has mode 0755; run: chmod 700 ${root}`))
  })

  test('peer-keys directory with group/other bits', async () => {
    const root = newHome()
    const { paths } = await openHome(root, { log: memoryLogger() })
    chmodSync(paths.peerKeysDir, 0o750)
    await expectHomeError(root, /peer-keys directory .*peer-keys has mode 0750; run: chmod 700/)
  })

  test('pod.toml with a typo', async () => {
    const root = newHome()
    const { paths } = await openHome(root, { log: memoryLogger() })
    writeFileSync(paths.podToml, readFileSync(paths.podToml, 'utf8').replace('sync_interval', 'sync_intervall'))
    await expectHomeError(root, /pod\.toml at .*pod\.toml is invalid \(.*sync_intervall/)
  })

  test('pod.toml that does not parse', async () => {
    const root = newHome()
    const { paths } = await openHome(root, { log: memoryLogger() })
    writeFileSync(paths.podToml, 'pod_id = "unterminated\n')
    await expectHomeError(root, /pod\.toml at .*pod\.toml does not parse \(line 1/)
  })
})
