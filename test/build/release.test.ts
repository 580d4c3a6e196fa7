/**
 * `npm run release` (build/release.ts): five binaries of the right formats with a SHA256SUMS that
 * `sha256sum -c` accepts, darwin signatures that hold page by page, the npm packages (one per
 * platform, os/cpu set, and a launcher naming them all) and server.json in the MCP Registry's
 * shape at package.json's version. The macOS and Windows binaries cannot run here: their format
 * and (for macOS) signature are what is checked.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as v from 'valibot'
import { adhocSign, verifyMachoSignature } from '../../build/macho-signature'
import { sha256File } from '../../build/release'
import { RELEASE_TARGETS, releaseFileName } from '../../build/targets'
import { ROOT } from '../helpers/binary'
import { freshRelease, releasePath, type ReleaseStamp } from '../helpers/release'

let stamp: ReleaseStamp
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }

beforeAll(() => {
  stamp = freshRelease()
}, 900_000)

const FILE_FORMAT: Record<string, RegExp> = {
  'linux-x64': /ELF 64-bit LSB (pie )?executable, x86-64/,
  'linux-arm64': /ELF 64-bit LSB (pie )?executable, ARM aarch64/,
  'darwin-x64': /Mach-O 64-bit x86_64 executable/,
  'darwin-arm64': /Mach-O 64-bit arm64 executable/,
  'windows-x64': /PE32\+ executable \(console\) x86-64, for MS Windows/,
}

describe('binaries', () => {
  test('one per target, each of its platform’s executable format (file(1))', () => {
    expect(RELEASE_TARGETS.map((t) => t.name).sort()).toEqual(Object.keys(FILE_FORMAT).sort())
    for (const t of RELEASE_TARGETS) {
      const out = Bun.spawnSync(['file', '-b', releasePath(releaseFileName(t))]).stdout.toString()
      expect(`${t.name}: ${out}`).toMatch(new RegExp(`^${t.name}: ${FILE_FORMAT[t.name]!.source}`))
    }
  })

  test('SHA256SUMS names every binary with its hash, and sha256sum -c accepts it', () => {
    const lines = readFileSync(releasePath('SHA256SUMS'), 'utf8').trimEnd().split('\n')
    expect(lines.map((l) => l.split('  ')[1]).sort()).toEqual(RELEASE_TARGETS.map(releaseFileName).sort())
    const check = Bun.spawnSync(['sha256sum', '--check', '--strict', 'SHA256SUMS'], { cwd: releasePath() })
    expect(check.stdout.toString().trim().split('\n').sort()).toEqual(RELEASE_TARGETS.map((t) => `${releaseFileName(t)}: OK`).sort())
    expect(check.exitCode).toBe(0)
  })

  test('--version names the version, the commit and the target', () => {
    const out = Bun.spawnSync([releasePath('mazemaker-linux-x64'), '--version'], { env: { PATH: '/usr/bin:/bin' } })
    expect(out.stdout.toString()).toBe(`mazemaker ${pkg.version} (commit ${stamp.commit}, linux-x64)\n`)
    expect(stamp.commit).toMatch(/^[0-9a-f]{12}(-dirty)?$/)
  })

  test('macOS binaries carry an ad-hoc signature that matches every page (Apple silicon kills anything else)', () => {
    for (const name of ['darwin-arm64', 'darwin-x64']) {
      const file = readFileSync(releasePath(`mazemaker-${name}`))
      const sig = verifyMachoSignature(file)
      expect(sig.adhoc).toBe(true)
      expect(sig.pages).toBe(Math.ceil(sig.codeLimit / 4096))
      // One flipped byte anywhere under the signature is caught.
      const tampered = Buffer.from(file)
      tampered[Math.floor(sig.codeLimit / 2)]! ^= 1
      expect(() => verifyMachoSignature(tampered)).toThrow(/does not match its signed hash/)
    }
  })

  test('the ad-hoc signer writes what Bun’s own signer writes for darwin-arm64, byte for byte', () => {
    // Bun signs its arm64 output itself (identifier a.out); re-signing it must change nothing.
    const file = readFileSync(releasePath('mazemaker-darwin-arm64'))
    expect(Buffer.from(adhocSign(file, 'a.out')).equals(file)).toBe(true)
  })
})

/** The MCP Registry's server.json (schema 2025-12-11): the constraints that apply to an npm stdio server. */
const versionSchema = v.pipe(
  v.string(),
  v.maxLength(255),
  v.check((s) => !/^[\^~><=]|\.x$|\*|^latest$/.test(s), 'a version range or latest'),
)
const argumentSchema = v.union([
  v.object({ type: v.literal('positional'), value: v.string() }),
  v.object({ type: v.literal('positional'), valueHint: v.string() }),
  v.object({ type: v.literal('named'), name: v.string() }),
])
const serverSchema = v.object({
  $schema: v.literal('https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json'),
  name: v.pipe(v.string(), v.minLength(3), v.maxLength(200), v.regex(/^[a-zA-Z0-9.-]+\/[a-zA-Z0-9._-]+$/)),
  title: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(100))),
  description: v.pipe(v.string(), v.minLength(1), v.maxLength(100)),
  websiteUrl: v.optional(v.pipe(v.string(), v.url())),
  version: versionSchema,
  packages: v.pipe(
    v.array(
      v.object({
        registryType: v.literal('npm'),
        registryBaseUrl: v.literal('https://registry.npmjs.org'),
        identifier: v.pipe(v.string(), v.minLength(1)),
        version: versionSchema,
        runtimeHint: v.optional(v.string()),
        transport: v.strictObject({ type: v.literal('stdio') }),
        packageArguments: v.optional(v.array(argumentSchema)),
        environmentVariables: v.optional(v.array(v.object({ name: v.string(), format: v.optional(v.picklist(['string', 'number', 'boolean', 'filepath'])) }))),
      }),
    ),
    v.minLength(1),
  ),
})

describe('npm packages and MCP Registry metadata', () => {
  const tarJson = (tgz: string) =>
    JSON.parse(Bun.spawnSync(['tar', '-xzOf', releasePath('npm', tgz), 'package/package.json']).stdout.toString()) as Record<string, unknown>

  test('one package per platform, os and cpu set, carrying exactly the released binary (executable)', async () => {
    const sums = new Map(
      readFileSync(releasePath('SHA256SUMS'), 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => l.split('  ').reverse() as [string, string]),
    )
    const scratch = mkdtempSync(join(tmpdir(), 'mzm-npm-tgz-'))
    try {
      for (const t of RELEASE_TARGETS) {
        const into = join(scratch, t.name)
        mkdirSync(into)
        const untar = Bun.spawnSync(['tar', '-xzf', releasePath('npm', `mazemaker-${t.name}-${pkg.version}.tgz`), '-C', into])
        expect(untar.exitCode).toBe(0)
        const manifest = JSON.parse(readFileSync(join(into, 'package', 'package.json'), 'utf8'))
        expect(manifest).toMatchObject({ name: `@mazemaker/${t.name}`, version: pkg.version, os: [t.os], cpu: [t.cpu] })
        const binary = join(into, 'package', 'bin', `mazemaker${t.exe}`)
        expect(statSync(binary).mode & 0o777).toBe(0o755)
        expect(await sha256File(binary)).toBe(sums.get(releaseFileName(t))!)
        rmSync(into, { recursive: true })
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true })
    }
  }, 300_000)

  test('the launcher is tiny, names every platform at its own version, and carries mcpName', () => {
    const manifest = tarJson(`mazemaker-${pkg.version}.tgz`) as { optionalDependencies: Record<string, string> } & Record<string, unknown>
    expect(manifest).toMatchObject({ name: 'mazemaker', version: pkg.version, bin: { mazemaker: 'bin/mazemaker.js' }, mcpName: 'dev.mazemaker/mazemaker' })
    expect(manifest.optionalDependencies).toEqual(Object.fromEntries(RELEASE_TARGETS.map((t) => [`@mazemaker/${t.name}`, pkg.version])))
    const size = Bun.file(releasePath('npm', `mazemaker-${pkg.version}.tgz`)).size
    expect(size).toBeLessThan(4096)
  })

  test('server.json is a valid MCP Registry entry for the launcher at package.json’s version, run as `mazemaker mcp`', () => {
    const server = JSON.parse(readFileSync(join(ROOT, 'server.json'), 'utf8'))
    const parsed = v.safeParse(serverSchema, server)
    expect(parsed.issues?.map((i) => `${v.getDotPath(i)}: ${i.message}`) ?? []).toEqual([])
    expect(server.version).toBe(pkg.version)
    expect(server.packages).toEqual([
      expect.objectContaining({ identifier: 'mazemaker', version: pkg.version, packageArguments: [{ type: 'positional', value: 'mcp' }] }),
    ])
    // The registry checks that the npm package claims this server: mcpName must equal name.
    expect(tarJson(`mazemaker-${pkg.version}.tgz`).mcpName).toBe(server.name)
  })
})
