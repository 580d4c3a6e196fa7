/**
 * A private npm registry (Verdaccio, a devDependency) on 127.0.0.1 for the npm-package tests and
 * the npx bench: no uplinks, so nothing is ever fetched from the public registry, and a user whose
 * token can publish. `npmEnv()` gives a clean HOME and npm cache that point at it.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from './binary'

const VERDACCIO = join(ROOT, 'node_modules', 'verdaccio', 'bin', 'verdaccio')
const START_TIMEOUT_MS = 120_000

export interface Registry {
  url: string
  token: string
  /** Verdaccio's log so far (JSON lines). */
  logs(): string
  stop(): Promise<void>
}

/** A port free right now on 127.0.0.1 (Verdaccio takes no port 0). */
function freePort(): number {
  const probe = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response() })
  const port = probe.port!
  probe.stop(true)
  return port
}

/** Starts Verdaccio with its storage under `dir`; resolves once it listens and a publisher exists. */
export async function startRegistry(dir: string): Promise<Registry> {
  mkdirSync(join(dir, 'storage'), { recursive: true })
  const config = join(dir, 'config.yaml')
  writeFileSync(
    config,
    [
      `storage: ${join(dir, 'storage')}`,
      'auth:',
      '  htpasswd:',
      `    file: ${join(dir, 'htpasswd')}`,
      '    max_users: 1',
      'uplinks: {}',
      'packages:',
      "  '**':",
      '    access: $all',
      '    publish: $authenticated',
      // A platform package carries a ~110 MB binary (~55 MB packed).
      'max_body_size: 300mb',
      'web:',
      '  enable: false',
      'log: { type: stdout, format: json, level: info }',
      '',
    ].join('\n'),
  )
  const port = freePort()
  const url = `http://127.0.0.1:${port}`
  const proc = Bun.spawn(['node', VERDACCIO, '--config', config, '--listen', `127.0.0.1:${port}`], {
    cwd: dir,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  let out = ''
  const decoder = new TextDecoder()
  const listening = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`verdaccio did not listen within ${START_TIMEOUT_MS} ms:\n${out}`)), START_TIMEOUT_MS)
    void (async () => {
      for await (const chunk of proc.stdout) {
        out += decoder.decode(chunk)
        if (out.includes('http address')) {
          clearTimeout(timer)
          resolve()
        }
      }
      clearTimeout(timer)
      reject(new Error(`verdaccio exited (code ${proc.exitCode}) before listening:\n${out}`))
    })()
  })
  void (async () => {
    for await (const chunk of proc.stderr) out += decoder.decode(chunk)
  })()
  const stop = async () => {
    proc.kill('SIGTERM')
    await proc.exited
  }
  try {
    await listening
    const res = await fetch(`${url}/-/user/org.couchdb.user:publisher`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'publisher', password: 'publisher-password-1' }),
    })
    const body = (await res.json()) as { token?: string }
    if (!body.token) throw new Error(`verdaccio gave no token (HTTP ${res.status}): ${JSON.stringify(body)}`)
    return { url, token: body.token, logs: () => out, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

/**
 * Environment for npm/npx as a first-time user whose registry is `registry`: HOME, npm's cache
 * and its config all under `home` (nothing from this machine's own npm setup), PATH kept for node.
 */
export function npmEnv(home: string, registry: Registry, extra: Record<string, string> = {}): Record<string, string> {
  mkdirSync(home, { recursive: true })
  const host = registry.url.replace(/^http:/, '')
  writeFileSync(join(home, '.npmrc'), `registry=${registry.url}/\n${host}/:_authToken=${registry.token}\n`)
  return {
    HOME: home,
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    npm_config_userconfig: join(home, '.npmrc'),
    npm_config_globalconfig: join(home, 'no-global-npmrc'),
    npm_config_cache: join(home, '.npm'),
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    ...extra,
  }
}
