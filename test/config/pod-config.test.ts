import { describe, expect, test } from 'bun:test'
import { chmodSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { HomeError } from '../../src/lib/errors'
import type { PodId } from '../../src/identity'
import { DEFAULT_PUBLIC_PREFIXES, defaultPodName, loadPodConfig, parsePodConfig, savePodConfig, type PodConfig } from '../../src/config'
import { useTempDirs } from '../identity/_temp-home'

const tempDir = useTempDirs()
const ID = '6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f' as PodId

test('defaults fill every key but pod_id', () => {
  const c = parsePodConfig(`pod_id = "${ID}"\nname = "alca"\n`)
  expect(c).toEqual({
    pod_id: ID,
    name: 'alca',
    listen: '127.0.0.1:8765',
    advertise: [],
    sync_interval: 300,
    public_prefixes: [...DEFAULT_PUBLIC_PREFIXES],
    max_content_bytes: 65536,
    max_peer_bytes: 256 * 1024 * 1024,
    allowed_origins: [],
    rendezvous: null,
  } as PodConfig)
  expect(DEFAULT_PUBLIC_PREFIXES).toContain('index:')
  expect(DEFAULT_PUBLIC_PREFIXES).toHaveLength(13)
})

test('name defaults to a cleaned hostname', () => {
  expect(parsePodConfig(`pod_id = "${ID}"`).name).toBe(defaultPodName())
  expect(defaultPodName('host\u0007name')).toBe('hostname')
  expect(defaultPodName('x'.repeat(100))).toHaveLength(64)
  expect(defaultPodName('')).toBe('pod')
  // Two pods on one machine: the home's folder tells them apart; the default home does not.
  expect(defaultPodName('tpad', '/tmp/alice')).toBe('tpad-alice')
  expect(defaultPodName('tpad', '/home/me/.mazemaker')).toBe('tpad')
  expect(defaultPodName('tpad', '/srv/.pod-b')).toBe('tpad-pod-b')
})

test('every key and the rendezvous table', () => {
  const c = parsePodConfig(`
pod_id = "${ID}"
name = "hub"
listen = "0.0.0.0:9000"
advertise_url = "https://hub.example.ts.net"
sync_interval = 60
public_prefixes = ["public:"]
max_content_bytes = 1024
allowed_origins = ["https://panel.example"]
[rendezvous]
url = "https://rv.example"
token = "t0k"
`)
  expect(c.rendezvous).toEqual({ url: 'https://rv.example', token: 't0k' })
  expect(c.sync_interval).toBe(60)
  expect(c.listen).toBe('0.0.0.0:9000')
  expect(c.advertise).toEqual(['https://hub.example.ts.net'])
})

describe('advertise', () => {
  test('a list of up to 4 base URLs (path prefix allowed), in order', () => {
    const urls = ['https://alca.tail-foo.ts.net', 'http://192.168.1.5:8765', 'https://alca.example.org/mzm', 'http://[fd7a:115c:a1e0::5]:8765']
    expect(parsePodConfig(`pod_id = "${ID}"\nadvertise = ${JSON.stringify(urls)}`).advertise).toEqual(urls)
  })
  test('the old single advertise_url migrates into the list, first, and is written back as advertise', async () => {
    const c = parsePodConfig(`pod_id = "${ID}"\nadvertise_url = "https://old.example"\nadvertise = ["https://new.example"]`)
    expect(c.advertise).toEqual(['https://old.example', 'https://new.example'])
    expect(parsePodConfig(`pod_id = "${ID}"\nadvertise_url = "https://a.example"\nadvertise = ["https://a.example"]`).advertise).toEqual(['https://a.example'])
    const path = join(tempDir(), 'pod.toml')
    savePodConfig(path, c)
    const text = await Bun.file(path).text()
    expect(text).not.toContain('advertise_url')
    expect(text).toContain('advertise = [ "https://old.example", "https://new.example" ]')
  })
  const cases: [string, string, RegExp][] = [
    ['five URLs', `advertise = ${JSON.stringify(['http://a:1', 'http://b:1', 'http://c:1', 'http://d:1', 'http://e:1'])}`, /advertise: has more than 4 URLs/],
    ['a query', `advertise = ["https://a.example/?x=1"]`, /advertise\.0: must not have a query/],
    ['a fragment', `advertise = ["https://a.example/#x"]`, /advertise\.0: must not have a fragment/],
    ['credentials', `advertise = ["https://u:p@a.example"]`, /advertise\.0: must not contain credentials/],
    ['not http', `advertise = ["ftp://a.example"]`, /advertise\.0: must start with http/],
    ['a duplicate', `advertise = ["http://a:1", "http://a:1"]`, /lists a URL twice/],
    [
      'advertise_url on top of 4',
      `advertise_url = "http://z:1"\nadvertise = ${JSON.stringify(['http://a:1', 'http://b:1', 'http://c:1', 'http://d:1'])}`,
      /at most 4 in all/,
    ],
  ]
  test.each(cases)('refuses %s', (_name, line, message) => {
    expect(() => parsePodConfig(`pod_id = "${ID}"\n${line}`, '/h/pod.toml')).toThrow(message)
  })
})

describe('refuses', () => {
  const cases: [string, string, RegExp][] = [
    ['a typo (strict keys)', `pod_id = "${ID}"\nsync_intervall = 60`, /sync_intervall/],
    ['a typo in [rendezvous]', `pod_id = "${ID}"\n[rendezvous]\nurl = "https://x"\ntoken = "t"\ntokn = "t"`, /tokn/],
    ['missing pod_id', `name = "x"`, /pod_id/],
    ['uppercase pod_id', `pod_id = "${ID.toUpperCase()}"`, /pod_id: must be a lowercase UUID/],
    ['sync_interval below 10', `pod_id = "${ID}"\nsync_interval = 5`, /sync_interval/],
    ['sync_interval not an integer', `pod_id = "${ID}"\nsync_interval = 30.5`, /sync_interval/],
    ['sync_interval above a day', `pod_id = "${ID}"\nsync_interval = 86401`, /sync_interval/],
    ['max_content_bytes above 16 MiB', `pod_id = "${ID}"\nmax_content_bytes = 16777217`, /max_content_bytes/],
    ['advertise_url that is not http(s)', `pod_id = "${ID}"\nadvertise_url = "ftp://x"`, /advertise_url: must start with http/],
    ['advertise_url with credentials', `pod_id = "${ID}"\nadvertise_url = "https://u:p@x"`, /credentials/],
    ['a bad origin', `pod_id = "${ID}"\nallowed_origins = ["https://x/path"]`, /allowed_origins\.0/],
    ['an empty prefix', `pod_id = "${ID}"\npublic_prefixes = [""]`, /public_prefixes\.0/],
    ['a name with a newline', `pod_id = "${ID}"\nname = "a\\nb"`, /name: must not contain control/],
    ['a bad listen', `pod_id = "${ID}"\nlisten = "8765"`, /listen: must be host:port/],
    ['TOML syntax', `pod_id = "${ID}`, /does not parse \(line 1/],
  ]
  test.each(cases)('%s', (_name, text, message) => {
    expect(() => parsePodConfig(text, '/h/pod.toml')).toThrow(HomeError)
    expect(() => parsePodConfig(text, '/h/pod.toml')).toThrow(message)
    expect(() => parsePodConfig(text, '/h/pod.toml')).toThrow(/pod\.toml at \/h\/pod\.toml/)
  })
})

test('savePodConfig writes every key atomically with mode 0600 and loads back equal', async () => {
  const path = join(tempDir(), 'pod.toml')
  const config = parsePodConfig(`pod_id = "${ID}"\nname = "q\\"uote"\n[rendezvous]\nurl = "https://rv"\ntoken = "abc"`)
  savePodConfig(path, config)
  expect(statSync(path).mode & 0o777).toBe(0o600)
  expect(loadPodConfig(path)).toEqual(config)
  const text = await Bun.file(path).text()
  for (const key of ['pod_id', 'name', 'listen', 'advertise', 'sync_interval', 'public_prefixes', 'max_content_bytes', 'allowed_origins', '[rendezvous]']) {
    expect(text).toContain(key)
  }
})

test('savePodConfig refuses an invalid config instead of writing it', () => {
  const path = join(tempDir(), 'pod.toml')
  const config = parsePodConfig(`pod_id = "${ID}"`)
  expect(() => savePodConfig(path, { ...config, sync_interval: 1 })).toThrow(/sync_interval/)
  expect(() => statSync(path)).toThrow()
})

test('loadPodConfig: missing file and wrong mode', () => {
  const dir = tempDir()
  expect(() => loadPodConfig(join(dir, 'pod.toml'))).toThrow(/pod\.toml at .* is missing/)
  writeFileSync(join(dir, 'pod.toml'), `pod_id = "${ID}"`)
  chmodSync(join(dir, 'pod.toml'), 0o640)
  expect(() => loadPodConfig(join(dir, 'pod.toml'))).toThrow(/has mode 0640; run: chmod 600/)
})
