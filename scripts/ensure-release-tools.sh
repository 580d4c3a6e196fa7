#!/usr/bin/env bash
# Make sure the tools of the release tests (test/build) exist: qemu-user and the arm64 C library
# (the linux-arm64 binary runs under qemu-aarch64-static -L /usr/aarch64-linux-gnu), shellcheck
# and dash (install.sh is POSIX sh), file (binary formats) and Python 3 (plistlib reads the
# launchd agent). Installs the missing Debian packages when running as root; otherwise prints the
# one command to run and stops.
# (scripts/ensure-packages.sh does it, with the other groups' packages when run for several.)
exec bash "$(dirname "$0")/ensure-packages.sh" release-tools
