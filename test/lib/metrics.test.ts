import { expect, test } from 'bun:test'
import { Counter, Histogram } from '../../src/lib/metrics'

test('a label set is one series whatever order its names come in', () => {
  const c = new Counter('t_total', 'test')
  c.inc({ peer: 'a', outcome: 'ok' })
  c.inc({ outcome: 'ok', peer: 'a' }, 2)
  c.inc({ peer: 'a', outcome: 'error' })
  c.inc({ peer: 'b', outcome: 'ok' })
  expect(c.render().split('\n').slice(2)).toEqual([
    't_total{peer="a",outcome="ok"} 3',
    't_total{peer="a",outcome="error"} 1',
    't_total{peer="b",outcome="ok"} 1',
  ])
})

test('values that look like one another stay apart; backslashes, quotes and newlines are escaped', () => {
  const c = new Counter('t_total', 'test')
  c.inc({ a: 'x', b: 'y' })
  c.inc({ a: 'x,b=y' })
  c.inc({ a: 'q"\n' })
  c.inc({ a: 'C:\\pods' })
  c.inc({ a: '\\' })
  expect(c.render().split('\n').slice(2)).toEqual([
    't_total{a="x",b="y"} 1',
    't_total{a="x,b=y"} 1',
    't_total{a="q\\"\\n"} 1',
    't_total{a="C:\\\\pods"} 1',
    't_total{a="\\\\"} 1',
  ])
})

test('a histogram counts each observation in every bucket at or above it', () => {
  const h = new Histogram('t_seconds', 'test', [0.01, 0.1])
  h.observe({ status: '2xx', route: '/a' }, 0.005)
  h.observe({ route: '/a', status: '2xx' }, 0.05)
  const lines = h.render().split('\n').slice(2)
  expect(lines).toEqual([
    't_seconds_bucket{status="2xx",route="/a",le="0.01"} 1',
    't_seconds_bucket{status="2xx",route="/a",le="0.1"} 2',
    't_seconds_bucket{status="2xx",route="/a",le="+Inf"} 2',
    't_seconds_sum{status="2xx",route="/a"} 0.055',
    't_seconds_count{status="2xx",route="/a"} 2',
  ])
})

test('a series handle adds to the same series as its labels do, and shows at 0 from when it is taken', () => {
  const c = new Counter('t_total', 'test')
  const a = c.series({ peer: 'a' })
  expect(c.render().split('\n').slice(2)).toEqual(['t_total{peer="a"} 0'])
  a.inc(2)
  c.inc({ peer: 'a' })
  a.inc()
  expect(c.render().split('\n').slice(2)).toEqual(['t_total{peer="a"} 4'])
  const h = new Histogram('t_seconds', 'test', [0.01])
  const s = h.series({ route: '/a', status: '2xx' })
  s.observe(0.005)
  h.observe({ status: '2xx', route: '/a' }, 0.02)
  expect(h.render().split('\n').slice(2)).toEqual([
    't_seconds_bucket{route="/a",status="2xx",le="0.01"} 1',
    't_seconds_bucket{route="/a",status="2xx",le="+Inf"} 2',
    't_seconds_sum{route="/a",status="2xx"} 0.025',
    't_seconds_count{route="/a",status="2xx"} 2',
  ])
})
