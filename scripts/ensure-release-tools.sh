#!/usr/bin/env bash
# Make sure the tools of the release tests (test/build) exist: qemu-user and the arm64 C library
# (the linux-arm64 binary runs under qemu-aarch64-static -L /usr/aarch64-linux-gnu), shellcheck
# and dash (install.sh is POSIX sh), file (binary formats) and Python 3 (plistlib reads the
# launchd agent). Installs the missing Debian packages when running as root; otherwise prints the
# one command to run and stops.
set -euo pipefail

# "path or command" → Debian package
declare -A NEEDS=(
  [qemu-aarch64-static]=qemu-user-static
  [/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1]=libc6-arm64-cross
  [shellcheck]=shellcheck
  [dash]=dash
  [file]=file
  [/usr/bin/python3]=python3
)

missing=()
for need in "${!NEEDS[@]}"; do
  if [[ $need == /* ]]; then
    [ -e "$need" ] && continue
  elif command -v "$need" >/dev/null 2>&1; then
    continue
  fi
  missing+=("${NEEDS[$need]}")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
  exit 0
fi

echo "The release tests (test/build) need Debian packages that are missing." >&2
echo "Install them with:" >&2
echo "sudo apt-get install -y ${missing[*]}"
exit 1
