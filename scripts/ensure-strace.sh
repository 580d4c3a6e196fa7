#!/usr/bin/env bash
# Make sure strace exists for the durability test (test/adversary/durable-writes.test.ts traces
# the pod's syscalls to prove a write is synced before it is acknowledged). Installs it from
# Debian apt when running as root; otherwise explains the one command to run.
set -euo pipefail

if command -v strace >/dev/null 2>&1; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y strace
  exit 0
fi

echo "strace is needed for the durability test (test/adversary/durable-writes.test.ts)." >&2
echo "Install it with:" >&2
echo "sudo apt-get install -y strace"
exit 1
