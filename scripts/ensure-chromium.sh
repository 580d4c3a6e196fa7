#!/usr/bin/env bash
# Make sure a Chromium binary exists at /usr/bin/chromium for the panel's end-to-end tests.
# Installs it from Debian apt when running as root; otherwise explains the one command to run.
# (scripts/ensure-packages.sh does it, with the other groups' packages when run for several.)
exec bash "$(dirname "$0")/ensure-packages.sh" chromium
