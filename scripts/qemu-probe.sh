#!/usr/bin/env bash
# Whether qemu-user can run this suite's aarch64 binaries here: builds
# scripts/qemu_probe.c with the cross compiler into BUILD_DIR and runs it
# under qemu-aarch64 with a time limit. Exit 0: it can; 1: it cannot (the
# reason on stderr).   usage: qemu-probe.sh BUILD_DIR
set -u
dir="${1:?usage: qemu-probe.sh BUILD_DIR}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cc=aarch64-linux-gnu-gcc
command -v "$cc" >/dev/null || { echo "qemu-probe: $cc not found" >&2; exit 1; }
command -v qemu-aarch64 >/dev/null || { echo "qemu-probe: qemu-aarch64 not found" >&2; exit 1; }
mkdir -p "$dir"
"$cc" -O1 -pthread "$here/qemu_probe.c" -o "$dir/qemu_probe" || exit 1
timeout 60 qemu-aarch64 -L /usr/aarch64-linux-gnu "$dir/qemu_probe"
rc=$?
if [ "$rc" -ne 0 ]; then
    if [ "$rc" -eq 124 ]; then why="hung for 60 s in pthread_create"; else why="exit status $rc"; fi
    echo "qemu-probe: $(qemu-aarch64 --version | head -1) on kernel $(uname -r) cannot run" \
         "a threaded aarch64 binary ($why)" >&2
    exit 1
fi
