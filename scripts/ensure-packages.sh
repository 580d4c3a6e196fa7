#!/usr/bin/env bash
# Make sure the system tools of the named test groups exist (every group when none is named):
#   chromium       /usr/bin/chromium, for the panel's end-to-end tests (test/e2e)
#   caddy          Caddy, nftables, curl and jq, for the multi-host tests (test/network)
#   release-tools  qemu-user, the arm64 C library, shellcheck, dash, file, Python 3 (test/build)
#   strace         strace, for the durability test (test/adversary/durable-writes.test.ts)
# Whatever is missing is installed from Debian apt in one go (one apt-get update, one apt-get
# install) when running as root; otherwise the one command to run is printed and the script stops.
# `npm test` runs it once for every group, so a CI run updates the package lists at most once.
set -euo pipefail

# "path or command" → Debian package, and why, per group.
declare -A NEEDS WHY
NEEDS[chromium]="/usr/bin/chromium=chromium"
WHY[chromium]="Chromium is needed at /usr/bin/chromium for the panel end-to-end tests (test/e2e)."
NEEDS[caddy]="caddy=caddy nft=nftables curl=curl jq=jq"
WHY[caddy]="Caddy, nftables, curl and jq are needed for the multi-host tests (test/network)."
NEEDS[release-tools]="qemu-aarch64-static=qemu-user-static /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1=libc6-arm64-cross shellcheck=shellcheck dash=dash file=file /usr/bin/python3=python3"
WHY[release-tools]="The release tests (test/build) need Debian packages that are missing."
NEEDS[strace]="strace=strace"
WHY[strace]="strace is needed for the durability test (test/adversary/durable-writes.test.ts)."

groups=("$@")
[ "${#groups[@]}" -eq 0 ] && groups=(chromium caddy release-tools strace)

missing=()
reasons=()
for group in "${groups[@]}"; do
  if [ -z "${NEEDS[$group]+set}" ]; then
    echo "unknown group: $group (known: ${!NEEDS[*]})" >&2
    exit 2
  fi
  lacking=0
  for pair in ${NEEDS[$group]}; do
    need=${pair%%=*}
    if [[ $need == /* ]]; then
      [ -e "$need" ] && continue
    elif command -v "$need" >/dev/null 2>&1; then
      continue
    fi
    missing+=("${pair#*=}")
    lacking=1
  done
  [ "$lacking" -eq 1 ] && reasons+=("${WHY[$group]}")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
  # Caddy's package may start its own service; the tests run their own Caddy in a namespace.
  if [[ " ${missing[*]} " == *" caddy "* ]] && command -v systemctl >/dev/null 2>&1; then systemctl disable --now caddy >/dev/null 2>&1 || true; fi
  exit 0
fi

printf '%s\n' "${reasons[@]}" >&2
echo "Install them with:" >&2
echo "sudo apt-get install -y ${missing[*]}"
exit 1
