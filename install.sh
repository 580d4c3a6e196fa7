#!/bin/sh
# Installs mazemaker, one self-contained binary, for this machine:
#
#   curl -fsSL https://mazemaker.dev/install.sh | sh
#
# It picks the binary for this OS and CPU, downloads it with SHA256SUMS, checks the checksum
# before anything is installed, and puts it in ~/.local/bin (replacing an older one in place).
#
#   MAZEMAKER_RELEASE_URL  where the release files are (default: the latest release,
#                          https://mazemaker.dev/releases/latest; a version: …/releases/v0.1.0)
#   MAZEMAKER_INSTALL_DIR  where `mazemaker` goes (default: ~/.local/bin)
#
# POSIX sh; needs curl or wget, and sha256sum, shasum or openssl.
set -eu

DEFAULT_RELEASE_URL=https://mazemaker.dev/releases/latest

say() { printf '%s\n' "$*"; }
fail() {
  printf 'mazemaker install: %s\n' "$*" >&2
  exit 1
}

# The release name of this platform (linux-x64, darwin-arm64 …), or a refusal that says why.
detect_platform() {
  os=$(uname -s)
  cpu=$(uname -m)
  case "$os" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    MINGW* | MSYS* | CYGWIN* | Windows_NT)
      fail "on Windows, download mazemaker-windows-x64.exe from $release_url/ and check it against SHA256SUMS there (this script is for Linux and macOS)"
      ;;
    *) fail "no mazemaker build for the operating system '$os' (there are builds for Linux, macOS and Windows)" ;;
  esac
  case "$cpu" in
    x86_64 | amd64) cpu=x64 ;;
    aarch64 | arm64) cpu=arm64 ;;
    armv6* | armv7* | armhf)
      fail "no mazemaker build for 32-bit ARM ('$cpu'); on a Raspberry Pi, install a 64-bit OS (Raspberry Pi OS 64-bit)"
      ;;
    *) fail "no mazemaker build for the CPU '$cpu' (there are builds for x86-64 and arm64)" ;;
  esac
  if [ "$os" = darwin ] && [ "$cpu" = x64 ] && [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || echo 0)" = 1 ]; then
    cpu=arm64 # a shell under Rosetta on Apple silicon: the native build is the one to run
  fi
  if [ "$os" = linux ]; then
    if [ "$(getconf LONG_BIT 2>/dev/null || echo 64)" = 32 ]; then
      fail "this system runs a 32-bit userland on a 64-bit CPU; mazemaker needs a 64-bit OS"
    fi
    if ls /lib/ld-musl-* >/dev/null 2>&1; then
      fail "the Linux builds need glibc and this system uses musl (Alpine?); there is no musl build yet"
    fi
  fi
  platform="$os-$cpu"
}

download() { # url file
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 2 -o "$2" "$1" || fail "could not download $1"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$2" "$1" || fail "could not download $1"
  else
    fail "needs curl or wget to download the release"
  fi
}

sha256_of() { # file
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | awk '{ print $1 }'
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | awk '{ print $1 }'
  elif command -v openssl >/dev/null 2>&1; then
    openssl dgst -sha256 -r "$1" | awk '{ print $1 }'
  else
    fail "needs sha256sum, shasum or openssl to check the download"
  fi
}

main() {
  release_url=${MAZEMAKER_RELEASE_URL:-$DEFAULT_RELEASE_URL}
  release_url=${release_url%/}
  install_dir=${MAZEMAKER_INSTALL_DIR:-${HOME:?HOME is not set; set MAZEMAKER_INSTALL_DIR}/.local/bin}
  detect_platform
  asset="mazemaker-$platform"

  tmp=$(mktemp -d 2>/dev/null || mktemp -d -t mazemaker)
  trap 'rm -rf "$tmp"' EXIT
  trap 'exit 130' INT TERM
  say "downloading $asset from $release_url"
  download "$release_url/SHA256SUMS" "$tmp/SHA256SUMS"
  download "$release_url/$asset" "$tmp/$asset"

  expected=$(awk -v f="$asset" '$2 == f || $2 == "*" f { print $1 }' "$tmp/SHA256SUMS")
  [ -n "$expected" ] || fail "SHA256SUMS at $release_url names no $asset; nothing was installed"
  actual=$(sha256_of "$tmp/$asset")
  if [ "$actual" != "$expected" ]; then
    fail "checksum mismatch for $asset: SHA256SUMS says $expected, the download is $actual; nothing was installed"
  fi
  chmod 755 "$tmp/$asset"
  new_version=$("$tmp/$asset" --version 2>/dev/null) || fail "the downloaded $asset does not run on this system; nothing was installed"

  dest="$install_dir/mazemaker"
  old_version=
  if [ -e "$dest" ]; then
    old_version=$("$dest" --version 2>/dev/null || echo "an unknown version")
  fi
  mkdir -p "$install_dir" || fail "cannot create $install_dir"
  # Copied beside the destination, then renamed over it: never a half-written mazemaker, and a
  # running pod keeps its old file until it restarts.
  cp "$tmp/$asset" "$install_dir/.mazemaker.$$" || fail "cannot write to $install_dir"
  mv -f "$install_dir/.mazemaker.$$" "$dest" || fail "cannot replace $dest"

  if [ -n "$old_version" ]; then
    say "replaced $old_version"
    say "    with $new_version at $dest"
    say "a pod that is running still runs the old one until it restarts (mazemaker service install says how)"
  else
    say "installed $new_version at $dest"
  fi
  case ":${PATH:-}:" in
    *":$install_dir:"*) say "$install_dir is on your PATH" ;;
    *)
      say ""
      say "$install_dir is not on your PATH. Add it for new shells:"
      say "    echo 'export PATH=\"$install_dir:\$PATH\"' >> ~/.profile   # zsh: ~/.zprofile"
      say "or run $dest directly."
      ;;
  esac
  say ""
  say "Next:"
  say "    mazemaker serve               # run the pod now (http://127.0.0.1:8765; first run creates ~/.mazemaker)"
  say "    mazemaker service install     # start it at login (systemd --user on Linux, launchd on macOS)"
}

main "$@"
