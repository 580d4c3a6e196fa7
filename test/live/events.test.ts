/** The pod's event bus: the bridge to the store is connected exactly while someone listens. */
import { describe, expect, test } from 'bun:test'
import { createPodEvents, type PodEvent } from '../../src/live'

describe('createPodEvents: the bridge is connected while someone listens', () => {
  test('connects on the first subscriber, disconnects after the last, reconnects on the next', () => {
    const log: string[] = []
    const events = createPodEvents({
      connect: () => {
        log.push('connect')
        return () => log.push('disconnect')
      },
    })
    expect(events.connected).toBe(false)
    const seen: PodEvent[] = []
    const off1 = events.subscribe((e) => seen.push(e))
    const off2 = events.subscribe(() => {})
    expect(log).toEqual(['connect'])
    off1()
    off1() // twice is harmless
    expect(events.connected).toBe(true)
    off2()
    expect(log).toEqual(['connect', 'disconnect'])
    events.subscribe(() => {})
    expect(log).toEqual(['connect', 'disconnect', 'connect'])
  })

  test('the bridge is in place before subscribe() returns: what it publishes at once is delivered', () => {
    const events = createPodEvents({
      connect: (publish) => {
        publish({ type: 'close' })
        return () => {}
      },
    })
    const seen: PodEvent[] = []
    events.subscribe((e) => seen.push(e))
    expect(seen).toEqual([{ type: 'close' }])
  })
})
