#!/usr/bin/env bash
# Developer build: compiles pycnn._core into pycnn/ (next to the Python
# sources) so tests run from the checkout: `tools/dev_build.sh && pytest`.
# Extra arguments go to CMake, e.g. -DPYCNN_BUILD_TESTS=ON.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${PYCNN_BUILD_DIR:-$root/build/dev}
python=${PYTHON:-python3}
pybind11_dir=$("$python" -m pybind11 --cmakedir)
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -Dpybind11_DIR="$pybind11_dir" -DPython_EXECUTABLE="$(command -v "$python")" "$@" >/dev/null
cmake --build "$build"
