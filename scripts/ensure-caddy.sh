#!/usr/bin/env bash
# Make sure Caddy exists for the multi-host tests (test/net/tunnel.test.ts: the TLS-terminating,
# Access-checking edge in front of a pod). Installs the Debian package when running as root;
# otherwise explains the one command to run.
set -euo pipefail

if command -v caddy >/dev/null 2>&1; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y caddy
  # The package may start its own service; the tests run their own Caddy in a namespace.
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now caddy >/dev/null 2>&1 || true; fi
  exit 0
fi

echo "Caddy is needed for the multi-host tests (test/net)." >&2
echo "Install it with:" >&2
echo "sudo apt-get install -y caddy"
exit 1
