#!/usr/bin/env bash
# Regenerates tests/extract_reference.sha256: the SHA-256 of every file that
# upstream's own extraction (executorch's extract_coreml_models, i.e. the
# executorchcoreml unflatten) writes for each delegated fixture. The suite
# (test_extract_reference) checks that `cml extract` writes the same files
# with the same bytes. Needs the fixture toolchain's Python:
#   PYTHON=.venv-fixtures/bin/python bash tests/make_extract_reference.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv-fixtures/bin/python}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$PYTHON" tests/coreml_unflatten_ref.py "$out" tests/fixtures >/dev/null
(cd "$out" && find . -type f | LC_ALL=C sort | sed 's|^\./||' | xargs -d '\n' sha256sum) \
  > tests/extract_reference.sha256
wc -l tests/extract_reference.sha256
