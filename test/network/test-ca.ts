/**
 * A throwaway certificate authority and one server certificate signed by it (openssl), for the
 * TLS-terminating edge of the tunnel test. Pullers trust the CA through NODE_EXTRA_CA_CERTS,
 * which Bun's fetch and Deno both read (checked: the tunnel test passes under Deno with it
 * alone); DENO_CERT is set as well. Never through the system store.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

function openssl(args: string[], cwd: string): void {
  const r = Bun.spawnSync(['openssl', ...args], { cwd, stdout: 'pipe', stderr: 'pipe' })
  if (r.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr.toString()}`)
}

export interface TestCa {
  caCert: string
  cert: string
  key: string
}

/** Writes ca.pem, server.pem, server.key into `dir` for `hostname`. */
export function makeTestCa(dir: string, hostname: string): TestCa {
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=mazemaker test CA',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
    ],
    dir,
  )
  openssl(
    ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${hostname}`, '-keyout', 'server.key', '-out', 'server.csr'],
    dir,
  )
  writeFileSync(join(dir, 'ext.cnf'), `subjectAltName=DNS:${hostname}\nextendedKeyUsage=serverAuth\n`)
  openssl(
    ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'ext.cnf', '-out', 'server.pem'],
    dir,
  )
  return { caCert: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') }
}
