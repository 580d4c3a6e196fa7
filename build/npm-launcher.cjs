#!/usr/bin/env node
// The `mazemaker` command of the npm package. npm installed, as an optional dependency, the one
// package whose os/cpu match this machine (@mazemaker/<os>-<cpu>); this runs its binary with our
// arguments and stdio, so `npx -y mazemaker mcp` speaks MCP straight from the binary.
'use strict'
const { spawn } = require('node:child_process')
const pkg = require('../package.json')

function fail(message) {
  process.stderr.write(`mazemaker: ${message}\n`)
  process.exit(1)
}

const os = process.platform === 'win32' ? 'windows' : process.platform
const key = `${os}-${process.arch}`
const dep = `@mazemaker/${key}`
const supported = Object.keys(pkg.optionalDependencies || {}).map((d) => d.replace('@mazemaker/', ''))
if (!supported.includes(key)) {
  fail(`no binary for ${key} in mazemaker ${pkg.version} (built for ${supported.join(', ')})`)
}
const header = process.platform === 'linux' && process.report ? process.report.getReport().header : null
if (header && !header.glibcVersionRuntime) {
  fail('the Linux binaries need glibc; this system has another C library (musl?), which has no build yet')
}

let binary
try {
  binary = require.resolve(`${dep}/bin/mazemaker${process.platform === 'win32' ? '.exe' : ''}`)
} catch {
  fail(
    `${dep}@${pkg.version} is not installed. npm installs it as an optional dependency: ` +
      'reinstall without --omit=optional / --no-optional, and not from a lockfile made on another platform',
  )
}

const child = spawn(binary, process.argv.slice(2), { stdio: 'inherit', windowsHide: true })
// Ctrl-C reaches the whole process group, the binary included; a second SIGINT from us would cut
// its clean shutdown short. Signals sent to this process alone (an MCP client stopping its server)
// are passed on.
process.on('SIGINT', () => {})
for (const sig of ['SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig))
child.on('error', (err) => fail(`cannot run ${binary}: ${err.message}`))
child.on('exit', (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal)
    process.kill(process.pid, signal)
    return
  }
  process.exit(code === null ? 1 : code)
})
