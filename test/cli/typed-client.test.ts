/**
 * The CLI's client is typed by the pod's own routes (`hc<AppType>`, src/cli/context.ts). tsc (run
 * by `npm test`) checks `typeChecks` below: if a route's input or answer stops being typed (its
 * validator leaves the chain, a handler answers untyped JSON), a `@ts-expect-error` there goes
 * unused and the type-check fails. The calls then run against an in-process pod, so the paths,
 * bodies and answers the types promise are the ones it serves.
 */
import { describe, expect, test } from 'bun:test'
import { answer, inProcessClient, type Answer, type PodApi } from '../../src/cli/context'
import { PodError } from '../../src/lib/errors'
import { inProcessPod, type InProcessPod } from '../helpers/in-process-pod'

/** The CLI's typed client of `pod`, over its TCP URL. */
const clientOf = (pod: InProcessPod) => inProcessClient({ home: pod.home }, pod.url).api

/** Never called: tsc checks it. Each `@ts-expect-error` is a call the routes' types must refuse. */
export function typeChecks(api: PodApi, id: string) {
  // advertise: PUT takes {advertise: string[]} and answers {advertise, handshake_url}.
  void api.peer.advertise.$put({ json: { advertise: ['https://a.example'] } })
  // @ts-expect-error a string is not a list
  void api.peer.advertise.$put({ json: { advertise: 'https://a.example' } })
  // @ts-expect-error unknown field
  void api.peer.advertise.$put({ json: { advertise: [], urls: [] } })
  const adv = {} as Answer<Awaited<ReturnType<PodApi['peer']['advertise']['$get']>>>
  void adv.handshake_url.length
  // @ts-expect-error no such field in the answer
  void adv.url

  // peer headers: PUT needs both params and {value: string}.
  void api.peer.peers[':id'].headers[':name'].$put({ param: { id, name: 'X-A' }, json: { value: 'v' } })
  // @ts-expect-error the value is a string
  void api.peer.peers[':id'].headers[':name'].$put({ param: { id, name: 'X-A' }, json: { value: 1 } })
  // @ts-expect-error the body is required
  void api.peer.peers[':id'].headers[':name'].$put({ param: { id, name: 'X-A' } })
  // @ts-expect-error the header name is a path parameter
  void api.peer.peers[':id'].headers[':name'].$delete({ param: { id } })
  const listed = {} as Answer<Awaited<ReturnType<PodApi['peer']['peers'][':id']['headers']['$get']>>>
  void listed.headers[0]?.name.length
  // @ts-expect-error answers hold masked values under `value`, nothing else
  void listed.headers[0]?.secret

  // peer test: the report's steps are typed.
  // @ts-expect-error the peer id is required
  void api.peer.peers[':id'].test.$post({})
  const report = {} as Answer<Awaited<ReturnType<PodApi['peer']['peers'][':id']['test']['$post']>>>
  void report.steps[0]?.fix?.length
  // @ts-expect-error `ok` is a boolean
  void report.ok.length
}

describe('the CLI client over the typed routes', () => {
  test('advertise: list, replace, and a refused body keeps the pod’s 400 shape', async () => {
    await using a = await inProcessPod()
    const api = clientOf(a)
    const before = await answer(api.peer.advertise.$get())
    expect(before.advertise).toEqual([])
    const after = await answer(api.peer.advertise.$put({ json: { advertise: ['https://alca.example.org'] } }))
    expect(after.advertise).toEqual(['https://alca.example.org'])
    expect(after.handshake_url).toStartWith('mzm-handshake://')
    const tooLong = await api.peer.advertise.$put({ json: { advertise: [`https://${'a'.repeat(2050)}.org`] } })
    expect(tooLong.status).toBe(400)
    expect(await tooLong.json()).toMatchObject({ error: 'bad_input', message: expect.stringContaining('longer than 2048') })
  })

  test('peer headers set, list, unset; peer test answers a typed report', async () => {
    await using a = await inProcessPod()
    await using b = await inProcessPod()
    const api = clientOf(a)
    const hs = (await b.api('GET', '/peer/identity')).body.handshake_url as string
    const { peer } = await answer(api.peer.add.$post({ json: { handshake_url: hs, direct_url: b.url } }))
    const set = await answer(
      api.peer.peers[':id'].headers[':name'].$put({ param: { id: peer.id, name: 'CF-Access-Client-Id' }, json: { value: 'abc.access-id' } }),
    )
    expect(set.headers.map((h) => h.name)).toEqual(['CF-Access-Client-Id'])
    expect(JSON.stringify(set)).not.toContain('abc.access-id')
    expect((await answer(api.peer.peers[':id'].headers.$get({ param: { id: peer.id } }))).headers).toHaveLength(1)
    const unset = await answer(api.peer.peers[':id'].headers[':name'].$delete({ param: { id: peer.id, name: 'cf-access-client-id' } }))
    expect(unset.headers).toEqual([])
    const again = answer(api.peer.peers[':id'].headers[':name'].$delete({ param: { id: peer.id, name: 'CF-Access-Client-Id' } }))
    await expect(again).rejects.toThrow(PodError)
    await expect(again).rejects.toMatchObject({ code: 'not_found' })

    const report = await answer(api.peer.peers[':id'].test.$post({ param: { id: peer.id } }))
    expect(report.peer).toBe(peer.id)
    expect(report.steps.map((s) => s.step)).toContain('connect')
    expect(a.logs()).not.toContain('abc.access-id')
  })
})
