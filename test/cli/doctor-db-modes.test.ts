/** `mazemaker doctor` reports a pod.db readable by others, and the next open fixes it and says so. */
import { afterAll, expect, test } from 'bun:test'
import { chmodSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { runCli, tempHome } from '../helpers/pod-process'

const home = tempHome()
afterAll(() => rmSync(home, { recursive: true, force: true }))

test('doctor FAILs on a 0644 pod.db naming the file and chmod 600; the pod fixes it at its next open', async () => {
  expect((await runCli(['remember', 'note:x', 'private words', '--home', home])).code).toBe(0)
  const db = join(home, 'pod.db')
  expect((await runCli(['doctor', '--home', home, '--port', '0'])).stdout).toMatch(/ok {4}db modes/)
  chmodSync(db, 0o644)

  const doctor = await runCli(['doctor', '--home', home, '--port', '0'])
  expect(doctor.code).toBe(1)
  expect(doctor.stdout).toMatch(/FAIL {2}db modes/)
  expect(doctor.stdout).toContain(`${db} is 0644`)
  expect(doctor.stdout).toContain('chmod 600')

  const again = await runCli(['remember', 'note:y', 'more words', '--home', home])
  expect(again.code).toBe(0)
  expect(again.stderr).toMatch(/level=warn .*was mode 0644 \(readable by others\); set to 0600/)
  expect(statSync(db).mode & 0o777).toBe(0o600)
  expect((await runCli(['doctor', '--home', home, '--port', '0'])).code).toBe(0)
})
