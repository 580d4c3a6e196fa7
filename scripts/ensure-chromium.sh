#!/usr/bin/env bash
# Make sure a Chromium binary exists at /usr/bin/chromium for the panel's end-to-end tests.
# Installs it from Debian apt when running as root; otherwise explains the one command to run.
set -euo pipefail

CHROMIUM_PATH=/usr/bin/chromium

if [ -x "$CHROMIUM_PATH" ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
  exit 0
fi

echo "Chromium is needed at $CHROMIUM_PATH for the panel end-to-end tests (test/e2e)." >&2
echo "Install it with:" >&2
echo "sudo apt-get install -y chromium"
exit 1
