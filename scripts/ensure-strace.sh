#!/usr/bin/env bash
# Make sure strace exists for the durability test (test/adversary/durable-writes.test.ts traces
# the pod's syscalls to prove a write is synced before it is acknowledged). Installs it from
# Debian apt when running as root; otherwise explains the one command to run.
# (scripts/ensure-packages.sh does it, with the other groups' packages when run for several.)
exec bash "$(dirname "$0")/ensure-packages.sh" strace
