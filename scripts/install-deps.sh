#!/usr/bin/env bash
# Installs the Debian packages cml needs to build and test. Idempotent: does
# nothing when everything is already present. --fuzz adds what `make fuzz`
# needs: clang and its runtime libraries (libclang_rt.fuzzer and the
# sanitizer runtimes come from libclang-rt-dev, i.e. libclang-rt-<N>-dev).
set -euo pipefail
pkgs=(build-essential cmake pkg-config libprotobuf-c-dev protobuf-c-compiler libcjson-dev python3)
if [ "${1:-}" = "--fuzz" ]; then
  pkgs+=(clang libclang-rt-dev)
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
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
