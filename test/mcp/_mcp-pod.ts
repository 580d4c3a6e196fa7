/** MCP test helpers: an in-process pod with chosen public prefixes and an SDK client for it. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { homePaths, openHome } from '../../src/identity'
import { loadPodConfig, savePodConfig } from '../../src/config'
import { createLogger } from '../../src/lib/log'
import { startPod, type Pod } from '../../src/pod'
import { readFileSync } from 'node:fs'

export const quietLog = () => createLogger({ level: 'error' })

/** A fresh home whose pod.toml carries `prefixes` (and `max_content_bytes`), not yet running. */
export async function prepareHome(opts: { prefixes?: string[]; maxContentBytes?: number } = {}): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), 'mzm-mcp-'))
  await openHome(home, { log: quietLog() })
  const paths = homePaths(home)
  const config = loadPodConfig(paths.podToml)
  savePodConfig(paths.podToml, {
    ...config,
    ...(opts.prefixes ? { public_prefixes: opts.prefixes } : {}),
    ...(opts.maxContentBytes ? { max_content_bytes: opts.maxContentBytes } : {}),
  })
  return home
}

export async function startTestPod(home: string): Promise<Pod> {
  return startPod({ home, port: 0, host: '127.0.0.1', autoSync: false, log: quietLog() })
}

export function adminToken(home: string): string {
  return readFileSync(join(home, 'admin.token'), 'utf8').trim()
}

export async function httpClient(pod: Pod, home: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(pod.url + '/mcp'), {
    requestInit: { headers: { authorization: `Bearer ${adminToken(home)}` } },
  })
  const client = new Client({ name: 'mcp-test', version: '1.0.0' })
  await client.connect(transport)
  return client
}

export function removeHome(home: string): void {
  rmSync(home, { recursive: true, force: true })
}
