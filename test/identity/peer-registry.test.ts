import { beforeEach, describe, expect, test } from 'bun:test'
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { BadInput, Conflict, NotFound, PeerExists } from '../../src/lib/errors'
import { memoryLogger } from '../../src/lib/log'
import { homePaths, PeerRegistry, type HomePaths, type PodId, type PublicKey } from '../../src/identity'
import { publicKeyFromPrivate, randomKeyBytes } from '../../src/identity/keys'
import { ID_A, ID_B, ID_C } from './_keypair'
import { useTempDirs } from './_temp-home'

const tempDir = useTempDirs()
const SELF = '11111111-2222-4333-8444-555555555555' as PodId
const newKey = (): PublicKey => publicKeyFromPrivate(randomKeyBytes())

let paths: HomePaths
let log: ReturnType<typeof memoryLogger>
let reg: PeerRegistry
beforeEach(() => {
  paths = homePaths(join(tempDir(), 'home'))
  mkdirSync(paths.root, { mode: 0o700 })
  log = memoryLogger()
  reg = new PeerRegistry({ paths, selfId: SELF, log })
})
const keyFile = (id: string) => join(paths.peerKeyDir, `${id}.key`)

describe('add / list / get / update / remove', () => {
  test('a missing peers.toml means no peers', () => {
    expect(reg.list()).toEqual({ peers: [], error: null })
    expect(reg.get(ID_A)).toBeNull()
    expect(reg.trusted(ID_A)).toBeNull()
  })

  test('add writes the key file and the table, both 0600, with defaults (scope *: all the other pod shares)', () => {
    const key = newKey()
    const rec = reg.add({ id: ID_A, key })
    expect(rec).toEqual({ id: ID_A, name: '', url: '', sync: true, scope: ['*'], key })
    expect(readFileSync(keyFile(ID_A), 'utf8')).toBe(`${key}\n`)
    expect(statSync(keyFile(ID_A)).mode & 0o777).toBe(0o600)
    expect(statSync(paths.peersToml).mode & 0o777).toBe(0o600)
    expect(readFileSync(paths.peersToml, 'utf8')).toContain(`[peers.${ID_A}]\nname = ""\nurl = ""\nsync = true\nscope = "*"`)
    expect(reg.list().peers).toEqual([rec])
    expect(reg.get(ID_A)).toEqual(rec)
    expect(reg.trusted(ID_A)).toEqual({ entry: { id: ID_A, name: '', url: '', sync: true, scope: ['*'] }, key })
    // a fresh registry reads the same from disk
    expect(new PeerRegistry({ paths, selfId: SELF, log }).list().peers).toEqual([rec])
  })

  test('re-adding an existing id with another key is refused (peer_exists); nothing changes', () => {
    const key1 = newKey()
    reg.add({ id: ID_A, key: key1, name: 'alca', url: 'https://a.example' })
    const before = readFileSync(paths.peersToml, 'utf8')
    for (const input of [
      { id: ID_A, key: newKey() },
      { id: ID_A, key: newKey(), name: 'alca', url: 'https://a.example' },
    ]) {
      let err: unknown
      try {
        reg.add(input)
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(PeerExists)
      expect((err as PeerExists).code).toBe('peer_exists')
      expect((err as Error).message).toContain('with a different key')
      expect((err as Error).message).toContain('mazemaker peer set')
      expect((err as Error).message).toContain('--replace')
    }
    expect(readFileSync(keyFile(ID_A), 'utf8').trim()).toBe(key1)
    expect(readFileSync(paths.peersToml, 'utf8')).toBe(before)
  })

  test('same key, other settings: refused too (peer set changes settings)', () => {
    const key = newKey()
    reg.add({ id: ID_A, key, name: 'alca' })
    expect(() => reg.add({ id: ID_A, key, name: 'other' })).toThrow('with other settings')
    expect(reg.get(ID_A)?.name).toBe('alca')
  })

  test('same key, same settings (a retried add) succeeds and writes nothing', () => {
    const key = newKey()
    const rec = reg.add({ id: ID_A, key, name: 'alca', url: 'https://a.example' })
    const sig = statSync(paths.peersToml).ino
    expect(reg.add({ id: ID_A, key, name: 'alca', url: 'https://a.example' })).toEqual(rec)
    expect(statSync(paths.peersToml).ino).toBe(sig)
    expect(log.lines.filter((l) => l.includes('level=warn'))).toEqual([])
  })

  test('replace: the key is replaced and the given fields updated; the key change is logged at warn without key bytes', () => {
    const key1 = newKey()
    reg.add({ id: ID_A, key: key1, name: 'alca', url: 'https://a.example', sync: false, scope: ['public:*', 'ops:*'] })
    const key2 = newKey()
    const rec = reg.add({ id: ID_A, key: key2, url: 'https://a2.example' }, { replace: true })
    expect(rec).toEqual({ id: ID_A, name: 'alca', url: 'https://a2.example', sync: false, scope: ['public:*', 'ops:*'], key: key2 })
    expect(reg.list().peers).toHaveLength(1)
    const warns = log.lines.filter((l) => l.includes('level=warn'))
    expect(warns).toHaveLength(1)
    expect(warns[0]).toContain(`peer=${ID_A.slice(0, 8)}`)
    expect(warns[0]).toContain('replaced the key')
    for (const line of log.lines) {
      expect(line).not.toContain(key1)
      expect(line).not.toContain(key2)
    }
  })

  test('update patches the table and keeps the key; NotFound when absent', () => {
    const key = newKey()
    reg.add({ id: ID_A, key, name: 'a' })
    reg.add({ id: ID_B, key: newKey(), name: 'b' })
    const rec = reg.update(ID_A, { sync: false, scope: 'ops:*', name: 'alca-7G', url: `mzm-rendezvous://${ID_A}` })
    expect(rec).toEqual({ id: ID_A, name: 'alca-7G', url: `mzm-rendezvous://${ID_A}`, sync: false, scope: ['ops:*'], key })
    expect(reg.list().peers.map((p) => p.id)).toEqual([ID_A, ID_B])
    expect(() => reg.update(ID_C, { sync: true })).toThrow(NotFound)
    expect(() => reg.update('../../etc', { sync: true })).toThrow(BadInput)
  })

  test('remove deletes the key file and the table', () => {
    reg.add({ id: ID_A, key: newKey() })
    reg.add({ id: ID_B, key: newKey() })
    expect(reg.remove(ID_A)).toBe(true)
    expect(existsSync(keyFile(ID_A))).toBe(false)
    expect(readFileSync(paths.peersToml, 'utf8')).not.toContain(ID_A)
    expect(reg.list().peers.map((p) => p.id)).toEqual([ID_B])
    expect(reg.remove(ID_A)).toBe(false)
    expect(reg.remove('../../etc')).toBe(false)
  })

  test('a table without a key file is listed with key null (revoked) and is not trusted', () => {
    reg.add({ id: ID_A, key: newKey() })
    unlinkSync(keyFile(ID_A))
    expect(reg.get(ID_A)?.key).toBeNull()
    expect(reg.trusted(ID_A)).toBeNull()
  })

  test('returned records are copies', () => {
    reg.add({ id: ID_A, key: newKey() })
    reg.list().peers[0]!.scope.push('public:*')
    expect(reg.get(ID_A)!.scope).toEqual(['*'])
  })

  test("trusted()'s answer is shared but frozen: no caller can change what the next one sees", () => {
    reg.add({ id: ID_A, key: newKey(), url: ['https://a.example', 'https://b.example'] })
    const first = reg.trusted(ID_A)!
    expect(() => (first.entry.scope as string[]).push('public:*')).toThrow(TypeError)
    expect(() => ((first.entry.url as string[])[0] = 'https://evil.example')).toThrow(TypeError)
    expect(() => Object.assign(first.entry, { sync: false })).toThrow(TypeError)
    expect(reg.trusted(ID_A)!.entry).toEqual({ id: ID_A, name: '', url: ['https://a.example', 'https://b.example'], sync: true, scope: ['*'] })
    reg.update(ID_A, { scope: 'public:*' })
    expect(reg.trusted(ID_A)!.entry.scope).toEqual(['public:*']) // a change is seen at once
  })
})

describe('trusted() notices hand edits at once', () => {
  test('deleting the key file', () => {
    reg.add({ id: ID_A, key: newKey() })
    expect(reg.trusted(ID_A)).not.toBeNull()
    unlinkSync(keyFile(ID_A))
    expect(reg.trusted(ID_A)).toBeNull()
  })

  test('deleting the table', () => {
    reg.add({ id: ID_A, key: newKey() })
    reg.add({ id: ID_B, key: newKey() })
    expect(reg.trusted(ID_A)).not.toBeNull()
    const text = readFileSync(paths.peersToml, 'utf8')
    const start = text.indexOf(`[peers.${ID_A}]`)
    const end = text.indexOf('[peers.', start + 1)
    writeFileSync(paths.peersToml, text.slice(0, start) + text.slice(end))
    expect(reg.trusted(ID_A)).toBeNull()
    expect(reg.trusted(ID_B)).not.toBeNull()
  })

  test('deleting peers.toml', () => {
    reg.add({ id: ID_A, key: newKey() })
    unlinkSync(paths.peersToml)
    expect(reg.trusted(ID_A)).toBeNull()
    expect(reg.list()).toEqual({ peers: [], error: null })
  })

  test('replacing the key file', () => {
    reg.add({ id: ID_A, key: newKey() })
    const key2 = newKey()
    writeFileSync(keyFile(ID_A), `${key2}\n`)
    expect(reg.trusted(ID_A)?.key).toBe(key2)
  })

  test('a corrupt or group-writable key file counts as revoked, logged once', () => {
    const key = newKey()
    reg.add({ id: ID_A, key })
    writeFileSync(keyFile(ID_A), 'garbage\n')
    expect(reg.trusted(ID_A)).toBeNull()
    expect(reg.trusted(ID_A)).toBeNull()
    expect(log.lines.filter((l) => l.includes('err=bad_peer_key'))).toHaveLength(1)
    writeFileSync(keyFile(ID_A), `${key}\n`)
    chmodSync(keyFile(ID_A), 0o666)
    expect(reg.trusted(ID_A)).toBeNull()
    chmodSync(keyFile(ID_A), 0o600)
    expect(reg.trusted(ID_A)?.key).toBe(key)
  })

  test('ids that are not pod ids never reach the filesystem', () => {
    writeFileSync(join(paths.root, 'x.key'), `${newKey()}\n`)
    for (const id of ['../x', '../../etc/passwd', '', ID_A.toUpperCase()]) {
      expect(reg.trusted(id)).toBeNull()
      expect(reg.get(id)).toBeNull()
    }
  })
})

describe('trustedInBatch(): the requests one wake answers in a turn', () => {
  const nextTurn = () => new Promise((r) => setImmediate(r))

  test('peers.toml is looked at once per turn for the batch; trusted() and the next turn see a hand edit', async () => {
    reg.add({ id: ID_A, key: newKey() })
    reg.add({ id: ID_B, key: newKey() })
    await nextTurn()
    expect(reg.trustedInBatch(ID_A)).not.toBeNull()
    writeFileSync(paths.peersToml, '') // every relationship removed by hand
    expect(reg.trustedInBatch(ID_B)).not.toBeNull() // the batch is judged as of its first check
    expect(reg.trusted(ID_B)).toBeNull()
    await nextTurn()
    expect(reg.trustedInBatch(ID_A)).toBeNull()
    expect(reg.trustedInBatch(ID_B)).toBeNull()
  })

  test('a key file deleted within the batch is seen at once', async () => {
    reg.add({ id: ID_A, key: newKey() })
    reg.add({ id: ID_B, key: newKey() })
    await nextTurn()
    expect(reg.trustedInBatch(ID_A)).not.toBeNull()
    unlinkSync(keyFile(ID_B))
    expect(reg.trustedInBatch(ID_B)).toBeNull()
  })

  test("the pod's own removal (API, CLI) is seen at once", async () => {
    reg.add({ id: ID_A, key: newKey() })
    reg.add({ id: ID_B, key: newKey() })
    await nextTurn()
    expect(reg.trustedInBatch(ID_A)).not.toBeNull()
    reg.remove(ID_B)
    expect(reg.trustedInBatch(ID_B)).toBeNull()
  })
})

describe('a broken peers.toml', () => {
  test('keeps the last good copy, reports and logs once, and is never overwritten', () => {
    const key = newKey()
    reg.add({ id: ID_A, key, name: 'alca' })
    const broken = `${readFileSync(paths.peersToml, 'utf8')}\n[peers.${ID_B}\nname = "half typed`
    writeFileSync(paths.peersToml, broken)
    for (let i = 0; i < 3; i++) {
      const { peers, error } = reg.list()
      expect(peers.map((p) => p.id)).toEqual([ID_A])
      expect(error).toMatch(new RegExp(`^peers\\.toml at ${paths.peersToml} does not parse \\(line \\d+, column \\d+: `))
    }
    expect(reg.trusted(ID_A)?.key).toBe(key)
    expect(log.lines.filter((l) => l.includes('err=bad_peers_toml'))).toHaveLength(1)

    expect(() => reg.add({ id: ID_B, key: newKey() })).toThrow(Conflict)
    expect(() => reg.update(ID_A, { sync: false })).toThrow(/does not parse .*; fix or remove it first/)
    expect(() => reg.remove(ID_A)).toThrow(Conflict)
    expect(readFileSync(paths.peersToml, 'utf8')).toBe(broken)
    expect(existsSync(keyFile(ID_B))).toBe(false)

    // fixed by hand: picked up, writes allowed again (a table without scope pulls *, like a new peer)
    writeFileSync(paths.peersToml, `[peers.${ID_B}]\nname = "b"\n`)
    expect(reg.list()).toEqual({ peers: [{ id: ID_B, name: 'b', url: '', sync: true, scope: ['*'], key: null }], error: null })
    expect(log.lines.some((l) => l.includes('valid again'))).toBe(true)
    reg.add({ id: ID_A, key })
  })

  test('invalid on first read: no peers, with the error', () => {
    writeFileSync(paths.peersToml, `[peers.${ID_A}]\nsync = "yes"\n`)
    const { peers, error } = reg.list()
    expect(peers).toEqual([])
    expect(error).toContain(`peers.${ID_A}.sync`)
  })

  test.each([
    ['unknown key (typo)', `[peers.${ID_A}]\nscpoe = "public:*"\n`, /scpoe/],
    ['id not a lowercase UUID', `[peers.${ID_A.toUpperCase()}]\nname = "x"\n`, /must be a lowercase UUID/],
    ['traversal id', `[peers."../../etc"]\nname = "x"\n`, /must be a lowercase UUID/],
    ['our own id', `[peers.${SELF}]\nname = "x"\n`, /own id/],
    ['bad url', `[peers.${ID_A}]\nurl = "ftp://x"\n`, /url must start with http/],
    ['rendezvous url of another id', `[peers.${ID_A}]\nurl = "mzm-rendezvous://${ID_B}"\n`, /url must be mzm-rendezvous:\/\/6356db37/],
    ['empty scope array', `[peers.${ID_A}]\nscope = []\n`, /scope: must have at least one glob/],
    ['scope of a number', `[peers.${ID_A}]\nscope = 3\n`, /scope/],
    ['name with a newline', `[peers.${ID_A}]\nname = "a\\nb"\n`, /name: must not contain control/],
    ['top-level typo', `[peer.${ID_A}]\nname = "x"\n`, /peer/],
  ])('validation error: %s', (_name, text, message) => {
    writeFileSync(paths.peersToml, text)
    expect(reg.list().error).toMatch(message)
  })

  test('scope may be a string or an array', () => {
    writeFileSync(paths.peersToml, `[peers.${ID_A}]\nscope = "ops:*"\n[peers.${ID_B}]\nscope = ["a:*", "b:*"]\n`)
    expect(reg.list().peers.map((p) => p.scope)).toEqual([['ops:*'], ['a:*', 'b:*']])
  })
})

describe('validation on the way in', () => {
  test.each([
    ['our own id', { id: SELF }, /own peer/],
    ['traversal id', { id: '../../etc' }, /lowercase UUID/],
    ['bad key', { key: 'short' }, /public key is too short/],
    ['name too long', { name: 'x'.repeat(65) }, /name is 65 characters/],
    ['name with a newline', { name: 'a\nb' }, /name must not contain control/],
    ['url with whitespace', { url: 'https://a b' }, /url must not contain whitespace/],
    ['url with credentials', { url: 'https://u:p@a' }, /credentials/],
    ['javascript url', { url: 'javascript:alert(1)' }, /url must start with http/],
    ['rendezvous url of another id', { url: `mzm-rendezvous://${ID_B}` }, /url must be mzm-rendezvous/],
    ['empty scope', { scope: [] }, /scope must have at least one glob/],
    ['too many globs', { scope: Array.from({ length: 17 }, (_, i) => `g${i}:*`) }, /has 17 globs \(at most 16\)/],
    ['glob with a newline', { scope: 'public:*\n' }, /control characters/],
    ['long glob', { scope: 'x'.repeat(129) }, /is 129 characters long \(at most 128\)/],
  ])('add refuses %s', (_name, over, message) => {
    const input = { id: ID_A, key: newKey(), ...over } as Parameters<PeerRegistry['add']>[0]
    expect(() => reg.add(input)).toThrow(BadInput)
    expect(() => reg.add(input)).toThrow(message)
    expect(existsSync(paths.peersToml)).toBe(false)
  })

  test('TOML injection through name, url and scope is refused or escaped', () => {
    // Newlines are refused outright...
    expect(() => reg.add({ id: ID_A, key: newKey(), name: `x"\n[peers.${ID_C}]\nsync = true\n#` })).toThrow(BadInput)
    expect(() => reg.add({ id: ID_A, key: newKey(), url: `https://a"\n[peers.${ID_C}]` })).toThrow(BadInput)
    // ...and quotes, brackets, backslashes and equals signs are escaped.
    const name = `a" ] = [ \\ [peers.${ID_C}] '''`
    const scope = [`x"] = 1 #`, `y\\"z`]
    reg.add({ id: ID_A, key: newKey(), name, scope })
    const fresh = new PeerRegistry({ paths, selfId: SELF, log })
    const { peers, error } = fresh.list()
    expect(error).toBeNull()
    expect(peers.map((p) => p.id)).toEqual([ID_A])
    expect(peers[0]!.name).toBe(name)
    expect(peers[0]!.scope).toEqual(scope)
  })
})
