/**
 * `peer add` with the id of an existing peer never silently replaces it. 409
 * peer_exists naming `peer set` and `--replace`; with replace the key changes and the pod logs it
 * at warn (short id, never key bytes); a retried identical add is harmless. API and CLI, on a
 * real pod process.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { cleanup, runCli, spawnPod, tempHome, type PodProcess } from '../helpers/pod-process'

interface Id {
  pod_id: string
  key: string
  handshake_url: string
}

describe('peer add on an existing id', () => {
  let pod: PodProcess
  let b: Id
  let c: Id
  /** b's id with c's key: what an impostor (or a re-keyed b) hands over. */
  let forged: string
  const homes: string[] = []
  const keyOnDisk = () => readFileSync(join(pod.home, 'peer-keys', 'peers', `${b.pod_id}.key`), 'utf8').trim()

  beforeAll(async () => {
    pod = await spawnPod()
    const ids: Id[] = []
    for (let i = 0; i < 2; i++) {
      const home = tempHome()
      homes.push(home)
      ids.push(JSON.parse((await runCli(['identity', '--json', '--home', home])).stdout))
    }
    ;[b, c] = ids as [Id, Id]
    forged = `mzm-handshake://${b.pod_id}?key=${c.key}`
  })
  afterAll(() => cleanup([pod], homes))

  test('API: 201, an identical retry 200, another key or other settings 409 peer_exists, replace 200 with a warn line', async () => {
    const body = { handshake_url: b.handshake_url, direct_url: 'http://127.0.0.1:9', name: 'bee' }
    expect((await pod.api('POST', '/peer/add', body)).status).toBe(201)
    const retry = await pod.api('POST', '/peer/add', body)
    expect(retry.status).toBe(200)
    expect(retry.body.peer.name).toBe('bee')

    for (const other of [
      { ...body, handshake_url: forged },
      { ...body, name: 'renamed' },
    ]) {
      const res = await pod.api('POST', '/peer/add', other)
      expect(res.status).toBe(409)
      expect(res.body.error).toBe('peer_exists')
      expect(res.body.message).toContain('mazemaker peer set')
      expect(res.body.message).toContain('--replace')
    }
    expect(keyOnDisk()).toBe(b.key)
    expect((await pod.api('GET', '/peer/peers')).body.peers[0].name).toBe('bee')

    const replaced = await pod.api('POST', '/peer/add', { ...body, handshake_url: forged, name: 'bee2', replace: true })
    expect(replaced.status).toBe(200)
    expect(replaced.body.peer.name).toBe('bee2')
    expect(keyOnDisk()).toBe(c.key)
    const warn = pod
      .logs()
      .split('\n')
      .filter((l) => l.includes('level=warn') && l.includes('op=peer_add'))
    expect(warn).toHaveLength(1)
    expect(warn[0]).toContain(`peer=${b.pod_id.slice(0, 8)}`)
    expect(pod.logs()).not.toContain(c.key)
    expect(pod.logs()).not.toContain(b.key)
  })

  test('CLI: exit 1 with the message naming `peer set` and --replace; --replace replaces', async () => {
    const refused = await runCli(['peer', 'add', b.handshake_url, '--home', pod.home])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('already paired')
    expect(refused.stderr).toContain('mazemaker peer set')
    expect(refused.stderr).toContain('--replace')
    expect(keyOnDisk()).toBe(c.key)

    const ok = await runCli(['peer', 'add', b.handshake_url, '--url', 'http://127.0.0.1:9', '--replace', '--home', pod.home])
    expect(ok.stderr).toBe('')
    expect(ok.code).toBe(0)
    expect(keyOnDisk()).toBe(b.key)
  })
})
