#!/usr/bin/env bash
# Seed corpora for the fuzz targets, from the real fixtures in
# tests/fixtures. usage: make_seeds.sh BUILD_DIR OUT_DIR
#   OUT_DIR/pte      model.pte files (also the fuzz_program corpus)
#   OUT_DIR/payload  raw Core ML delegate payloads + metadata.json files
#   OUT_DIR/mlmodel  u32 LE len | model.mlmodel | weight.bin (fuzz_mlmodel's format)
#   OUT_DIR/milblob  weight.bin files
#   OUT_DIR/npy      the fixtures' .npy inputs and references
# Files over MAX_SEED bytes (default 256 KiB) are left out: large seeds slow
# every execution down (mobilenet's weights add nothing the small models lack).
set -euo pipefail
build=$1
out=$2
root="$(cd "$(dirname "$0")/../.." && pwd)"
max=${MAX_SEED:-262144}
rm -rf "$out"
mkdir -p "$out"/{pte,payload,mlmodel,milblob,npy,tmp}

small() { [ "$(stat -c %s "$1")" -le "$max" ]; }

for dir in "$root"/tests/fixtures/*/; do
  name=$(basename "$dir")
  pte=$dir/model.pte
  [ -f "$pte" ] || continue
  small "$pte" && cp "$pte" "$out/pte/$name.pte"
  for npy in "$dir"*.npy; do
    [ -f "$npy" ] && small "$npy" && cp "$npy" "$out/npy/${name}_$(basename "$npy")"
  done
  "$build/fuzz/dump_payloads" "$pte" "$out/payload" "$name"
  x="$out/tmp/$name"
  "$build/cml" extract "$pte" -o "$x" >/dev/null 2>&1 && [ -d "$x" ] || continue
  i=0
  while IFS= read -r -d '' model; do
    i=$((i + 1))
    cdir=$(dirname "$model")
    weight=$cdir/weights/weight.bin
    meta=$(dirname "$(dirname "$(dirname "$cdir")")")/metadata.json
    [ -f "$meta" ] && cp "$meta" "$out/payload/${name}_${i}_metadata.json"
    if [ -f "$weight" ] && small "$weight"; then
      cp "$weight" "$out/milblob/${name}_${i}.bin"
    else
      weight=/dev/null
    fi
    python3 - "$model" "$weight" "$out/mlmodel/${name}_${i}.bin" <<'PY'
import struct, sys
model = open(sys.argv[1], "rb").read()
weight = open(sys.argv[2], "rb").read()
open(sys.argv[3], "wb").write(struct.pack("<I", len(model)) + model + weight)
PY
  done < <(find "$x" -name model.mlmodel -print0 | sort -z)
done
rm -rf "$out/tmp"
# Payloads over the size cap go too (mobilenet's).
find "$out" -type f -size +"$max"c -delete
for d in "$out"/*/; do echo "seeds: $(basename "$d"): $(ls "$d" | wc -l) files"; done
