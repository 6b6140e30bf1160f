#!/usr/bin/env bash
# Installs the Debian packages cml needs to build and test. Idempotent: does
# nothing when everything is already present. --fuzz adds what `make fuzz`
# needs: clang and its runtime libraries (libclang_rt.fuzzer and the
# sanitizer runtimes come from libclang-rt-dev, i.e. libclang-rt-<N>-dev).
# --arm64 adds what `make test-arm64` needs: the aarch64 cross toolchain,
# qemu-user, and the arm64 multiarch builds of the libraries cml links
# (dpkg --add-architecture arm64 first; nothing is removed to get them).
set -euo pipefail
# Whatever the OS: when the tools and libraries are already there, there is
# nothing to do (packages from Fedora, Homebrew or a source build count).
have_tools() {
  command -v cmake >/dev/null && command -v pkg-config >/dev/null && command -v cc >/dev/null &&
    command -v protoc-c >/dev/null && pkg-config --exists libprotobuf-c libcjson &&
    { [ "${1:-}" != "--fuzz" ] || command -v clang >/dev/null; } &&
    { [ "${1:-}" != "--arm64" ] || { command -v aarch64-linux-gnu-gcc >/dev/null &&
      command -v qemu-aarch64 >/dev/null; }; }
}
if [ "${SKIP_DEPS:-0}" = 1 ] || { have_tools "${1:-}" && ! command -v apt-get >/dev/null; }; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "install-deps: no apt-get here; install cmake, pkg-config, a C11 compiler, protobuf-c" >&2
  echo "  (library + protoc-c) and cJSON, e.g. Fedora: cmake pkgconf protobuf-c-devel" >&2
  echo "  protobuf-c-compiler cjson-devel; Homebrew: cmake pkg-config protobuf-c cjson;" >&2
  echo "  then run make with SKIP_DEPS=1" >&2
  exit 1
fi
pkgs=(build-essential cmake pkg-config libprotobuf-c-dev protobuf-c-compiler libcjson-dev zlib1g-dev python3
      python3-venv python3-dev) # the last two: the Python package (make test-python)
if [ "${1:-}" = "--fuzz" ]; then
  pkgs+=(clang libclang-rt-dev)
fi
if [ "${1:-}" = "--arm64" ]; then
  pkgs+=(crossbuild-essential-arm64 qemu-user libprotobuf-c-dev:arm64 libcjson-dev:arm64 zlib1g-dev:arm64)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
if [ "${1:-}" = "--arm64" ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
  $SUDO dpkg --add-architecture arm64
fi
$SUDO apt-get update -qq
no_remove=()
[ "${1:-}" = "--arm64" ] && no_remove=(--no-remove) # NAME:arm64 must not displace NAME
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${no_remove[@]}" "${missing[@]}"
