#!/usr/bin/env bash
# Builds pycnn._core with AddressSanitizer + UndefinedBehaviorSanitizer into
# build/asan (the normal pycnn/_core*.so is left alone) and lays out
# build/asan/site/pycnn: the checkout's Python sources (symlinked) plus the
# sanitized module. Put build/asan/site first on PYTHONPATH and preload the
# ASan runtime to use it; tests/fuzz/README.md has the full command.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build/asan
PYCNN_BUILD_DIR=$build "$root/tools/dev_build.sh" -DPYCNN_SANITIZE=ON \
  -DCMAKE_CXX_FLAGS=-g -DPYCNN_MODULE_DIR="$build/module" "$@"
site=$build/site/pycnn
rm -rf "$build/site" && mkdir -p "$site"
for entry in "$root"/pycnn/*; do
  case $(basename "$entry") in _core*.so|__pycache__) continue ;; esac
  ln -s "$entry" "$site/"
done
ln -s "$build"/module/_core*.so "$site/"
echo "$build/site"
