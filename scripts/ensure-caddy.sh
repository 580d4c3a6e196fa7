#!/usr/bin/env bash
# Make sure the tools of the multi-host tests (test/network) exist: Caddy (the TLS-terminating,
# Access-checking edge of tunnel.test.ts) and nftables (the home router's NAT and port-forward
# in home-server.test.ts), and curl and jq (the product page's own command lines, typed as written
# in seed.test.ts). Installs the Debian packages when running as root; otherwise explains the one
# command to run.
set -euo pipefail

if command -v caddy >/dev/null 2>&1 && command -v nft >/dev/null 2>&1 && command -v curl >/dev/null 2>&1 && command -v jq >/dev/null 2>&1; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y caddy nftables curl jq
  # The package may start its own service; the tests run their own Caddy in a namespace.
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now caddy >/dev/null 2>&1 || true; fi
  exit 0
fi

echo "Caddy, nftables, curl and jq are needed for the multi-host tests (test/network)." >&2
echo "Install it with:" >&2
echo "sudo apt-get install -y caddy nftables curl jq"
exit 1
