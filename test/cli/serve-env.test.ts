/** `mazemaker serve`'s environment overrides: a bad value stops serve with a message that says what to set. */
import { afterEach, expect, test } from 'bun:test'
import { connectTimeoutOverride } from '../../src/cli/cmd-serve'

const KEY = 'MAZEMAKER_CONNECT_TIMEOUT_MS'
const saved = process.env[KEY]
afterEach(() => {
  if (saved === undefined) delete process.env[KEY]
  else process.env[KEY] = saved
})

test('MAZEMAKER_CONNECT_TIMEOUT_MS: unset or empty is the default, 100..60000 ms is taken as is', () => {
  delete process.env[KEY]
  expect(connectTimeoutOverride()).toBeUndefined()
  process.env[KEY] = ''
  expect(connectTimeoutOverride()).toBeUndefined()
  for (const ms of [100, 1000, 60_000]) {
    process.env[KEY] = String(ms)
    expect(connectTimeoutOverride()).toBe(ms)
  }
})

test('MAZEMAKER_CONNECT_TIMEOUT_MS: out of range or not a whole number is refused, naming the range', () => {
  for (const bad of ['99', '60001', '0', '-5', '1.5', '5s', ' 500', '1e3']) {
    process.env[KEY] = bad
    expect(() => connectTimeoutOverride()).toThrow(/MAZEMAKER_CONNECT_TIMEOUT_MS must be a number of milliseconds from 100 to 60000/)
  }
})
