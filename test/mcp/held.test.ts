/** mazemaker_remember over MCP answers with the secret hold: held, not shared, and a warning that names the kind. */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import type { Pod } from '../../src/pod'
import { FAKE_SECRETS, LOOKALIKES } from '../store/_fake-secrets'
import { httpClient, prepareHome, removeHome, startTestPod } from './_mcp-pod'

let home: string
let pod: Pod
let client: Client

beforeAll(async () => {
  home = await prepareHome({ prefixes: ['team:'], maxContentBytes: 8192 })
  pod = await startTestPod(home)
  client = await httpClient(pod, home)
}, 30_000)
afterAll(async () => {
  await client?.close()
  await pod?.close()
  removeHome(home)
})

test('a credential under a public prefix is held with a warning; a lookalike is shared', async () => {
  const held = await client.callTool({ name: 'mazemaker_remember', arguments: { label: 'team:deploy', content: FAKE_SECRETS['AWS secret access key'] } })
  expect(held.isError).toBeFalsy()
  expect(held.structuredContent).toMatchObject({ label: 'team:deploy', encrypted: false, shared: false, held: true })
  expect((held.structuredContent as { warning: string }).warning).toContain('AWSSecretAccessKey')
  // The agent reading only the text block sees the warning too.
  expect(JSON.stringify(held.content)).toContain('held back from every peer')

  const fine = await client.callTool({ name: 'mazemaker_remember', arguments: { label: 'team:release', content: LOOKALIKES['sha256 hex digest'] } })
  expect(fine.structuredContent).toMatchObject({ shared: true, held: false })
  expect((fine.structuredContent as { warning?: string }).warning).toBeUndefined()
}, 30_000)
