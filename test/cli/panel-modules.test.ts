/** The CLI runs the panel's shared modules from the text the panel serves: the same functions, whole. */
import { expect, test } from 'bun:test'
import { panelFormat, panelSse } from '../../src/cli/panel-modules'
import * as format from '../../src/http/panel/format.js'
import * as sse from '../../src/http/panel/sse.js'

test('format.js and sse.js load from their embedded text with every export', async () => {
  const [f, s] = await Promise.all([panelFormat(), panelSse()])
  expect(Object.keys(f).sort()).toEqual(Object.keys(format).sort())
  expect(Object.keys(s).sort()).toEqual(Object.keys(sse).sort())
  // Non-ASCII survives (the status icons): the text is the file, byte for byte.
  expect(f.statusText('ready')).toBe('• ready')
  expect(f.timeAgo(null, 0)).toBe('never')
  // A second load is the same module, not another evaluation.
  expect(await panelFormat()).toBe(f)
})
