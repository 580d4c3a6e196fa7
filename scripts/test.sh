#!/usr/bin/env bash
# The one test command (`npm test`): system packages, type-check, compiled binary, every test.
set -euo pipefail
cd "$(dirname "$0")/.."
BUN=node_modules/.bin/bun
if [ ! -x "$BUN" ]; then
  echo "node_modules is missing: run 'npm install' (or 'npm ci') first" >&2
  exit 1
fi

bash scripts/ensure-chromium.sh

echo "== type-check"
node_modules/.bin/tsc --noEmit -p .

echo "== build the binary"
"$BUN" build/compile.ts

echo "== bun test"
mkdir -p test-artifacts
set +e
"$BUN" test --timeout 60000 "$@" 2>&1 | tee test-artifacts/bun-test.log
status=${PIPESTATUS[0]}
set -e
pass=$(grep -Eo '^ *[0-9]+ pass$' test-artifacts/bun-test.log | tail -1 | grep -Eo '[0-9]+' || echo 0)
fail=$(grep -Eo '^ *[0-9]+ fail$' test-artifacts/bun-test.log | tail -1 | grep -Eo '[0-9]+' || echo 0)
echo "tests: ${pass} passed, ${fail} failed"
if [ "$pass" = "0" ] && [ "$status" = "0" ]; then
  echo "no test ran" >&2
  exit 1
fi
exit "$status"
