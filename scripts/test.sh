#!/usr/bin/env bash
# The one test command (`npm test`): system packages, type-check, compiled binary, every test
# under Bun, then the integration suites again with pods under Deno; one summary line for both.
set -euo pipefail
cd "$(dirname "$0")/.."
BUN=node_modules/.bin/bun
if [ ! -x "$BUN" ]; then
  echo "node_modules is missing: run 'npm install' (or 'npm ci') first" >&2
  exit 1
fi

# Every group's system packages at once: one apt-get update at most (scripts/ensure-packages.sh).
bash scripts/ensure-packages.sh

# The upgrade test (test/build/upgrade-from-first.test.ts) compiles the first landed build from
# this repository's history: a shallow clone gets its history first.
if [ "$(git rev-parse --is-shallow-repository)" = "true" ]; then
  echo "== shallow clone: fetching the history the upgrade test builds from (git fetch --unshallow)"
  git fetch --unshallow --quiet || {
    echo "this clone is shallow and 'git fetch --unshallow' failed; the upgrade test needs the full history: clone without --depth" >&2
    exit 1
  }
fi

echo "== lint (biome.jsonc: format and lint rules)"
node_modules/.bin/biome check .

echo "== type-check"
node_modules/.bin/tsc --noEmit -p .

echo "== build the binary"
"$BUN" build/compile.ts

# Every platform's binary, SHA256SUMS, the npm packages and server.json (test/build checks them;
# install.sh, npx and the arm64 tests run them). Bun keeps the foreign runtimes it downloads for
# this in ~/.bun/install/cache, so only the first run on a machine fetches them.
echo "== release build (npm run release)"
started=$SECONDS
"$BUN" build/release.ts
echo "release build: $((SECONDS - started)) s"

# Test files run in parallel worker processes (most of their time is real pods starting and
# answering, so more workers than cores pays). MZM_TEST_JOBS overrides; test/timings.json (per-file
# milliseconds, refreshed by `npm run test:timings`) makes the slowest files start first.
JOBS=${MZM_TEST_JOBS:-4}

# Runs `bun test` with the given arguments, teeing to test-artifacts/$1.log; sets $status,
# $pass and $fail from bun's summary.
run_pass() {
  local log="test-artifacts/$1.log"
  shift
  set +e
  "$BUN" test --timeout 60000 --parallel="$JOBS" --timings=test/timings.json "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  set -e
  pass=$(grep -Eo '^ *[0-9]+ pass$' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
  fail=$(grep -Eo '^ *[0-9]+ fail$' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
}

mkdir -p test-artifacts
echo "== bun test"
started=$SECONDS
run_pass bun-test "$@"
bun_status=$status bun_pass=$pass bun_fail=$fail
echo "bun pass: ${bun_pass} passed, ${bun_fail} failed in $((SECONDS - started)) s"

# The black-box suites once more with every pod, rendezvous and CLI process under Deno
# (test/helpers/pod-process.ts reads MZM_TEST_RUNTIME). Skipped when files were named.
deno_status=0 deno_pass=0 deno_fail=0
if [ "$#" -eq 0 ]; then
  echo "== deno pass: test/integration with pods under Deno"
  started=$SECONDS
  MZM_TEST_RUNTIME=deno run_pass deno-test test/integration
  deno_status=$status deno_pass=$pass deno_fail=$fail
  echo "deno pass: ${deno_pass} passed, ${deno_fail} failed in $((SECONDS - started)) s"
  if [ "$deno_pass" = "0" ] && [ "$deno_status" = "0" ]; then deno_status=1; echo "deno pass: no test ran" >&2; fi
else
  echo "== deno pass skipped (test files named on the command line)"
fi

echo "tests: $((bun_pass + deno_pass)) passed, $((bun_fail + deno_fail)) failed"
if [ "$bun_pass" = "0" ] && [ "$bun_status" = "0" ]; then
  echo "no test ran" >&2
  exit 1
fi
if [ "$bun_status" != "0" ]; then exit "$bun_status"; fi
exit "$deno_status"
