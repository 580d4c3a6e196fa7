#!/usr/bin/env bash
# Make sure the tools of the multi-host tests (test/network) exist: Caddy (the TLS-terminating,
# Access-checking edge of tunnel.test.ts) and nftables (the home router's NAT and port-forward
# in home-server.test.ts), and curl and jq (the product page's own command lines, typed as written
# in seed.test.ts). Installs the Debian packages when running as root; otherwise explains the one
# command to run.
# (scripts/ensure-packages.sh does it, with the other groups' packages when run for several.)
exec bash "$(dirname "$0")/ensure-packages.sh" caddy
