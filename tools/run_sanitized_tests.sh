#!/usr/bin/env bash
# Runs the test suite against pycnn._core built with AddressSanitizer and
# UndefinedBehaviorSanitizer (-DPYCNN_SANITIZE=ON). Any sanitizer error aborts
# the run with a report; a leak from pycnn's own code fails it.
#
#   tools/run_sanitized_tests.sh                      # the whole suite + C++ tests
#   tools/run_sanitized_tests.sh tests/test_conv2d.py -k same   # a subset (pytest args)
#
# Nothing of the normal developer build is touched: the checkout's files are
# copied (modification times kept, so rebuilds are incremental) into
# $PYCNN_SANITIZE_DIR (default build/sanitize/), the extension is compiled
# into that copy, and pytest runs there. A pytest plugin
# (tools/sanitized_pytest_plugin.py) checks that the imported pycnn._core is
# the staged one. tests/test_cpp.py (which builds the C++ tests with its own
# flags) is deselected; instead the C++ unit tests are built with the same
# sanitizer flags and run by ctest, unless PYCNN_SANITIZE_CPP=0 or pytest
# arguments were given.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${PYCNN_SANITIZE_DIR:-$root/build/sanitize}
python=${PYTHON:-python3}
tree=$work/tree
build=$work/cmake

run_cpp=${PYCNN_SANITIZE_CPP:-1}
[ $# -gt 0 ] && run_cpp=${PYCNN_SANITIZE_CPP:-0}
cpp_tests=OFF
[ "$run_cpp" = 1 ] && cpp_tests=ON

# ---- stage a copy of the checkout ------------------------------------------
mkdir -p "$tree"
find "$tree" -mindepth 1 -maxdepth 1 ! -name pycnn -exec rm -rf {} +
find "$tree" -name '*.py' -delete 2>/dev/null || true
(cd "$root" && git ls-files -z -co --exclude-standard) |
  (cd "$root" && tar --null -T - -cf -) | tar -xpf - -C "$tree"
mkdir -p "$tree/tools"
cp -p "$root/tools/sanitized_pytest_plugin.py" "$tree/tools/"

# ---- build the sanitized extension into the copy ---------------------------
pybind11_dir=$("$python" -m pybind11 --cmakedir)
cmake -S "$tree" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPYCNN_SANITIZE=ON -DPYCNN_BUILD_TESTS=$cpp_tests \
  -Dpybind11_DIR="$pybind11_dir" -DPython_EXECUTABLE="$(command -v "$python")" >/dev/null
cmake --build "$build"
core=$(ls "$tree"/pycnn/_core*.so)

# ---- sanitizer runtime and options -----------------------------------------
# Python itself is not instrumented, so the ASan runtime must be loaded first.
libasan=$(gcc -print-file-name=libasan.so)
libubsan=$(gcc -print-file-name=libubsan.so)
[ -f "$libasan" ] || { echo "libasan.so not found (gcc -print-file-name=libasan.so)" >&2; exit 2; }
preload=$libasan
[ -f "$libubsan" ] && preload="$preload:$libubsan"
suppressions=$root/tools/lsan_suppressions.txt
asan_options="detect_leaks=1:halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=1"
asan_options="$asan_options:strict_init_order=1:check_initialization_order=1:allocator_may_return_null=1"
# An absurd allocation fails at once instead of paging in the machine's memory.
asan_options="$asan_options:max_allocation_size_mb=8192"
ubsan_options="halt_on_error=1:abort_on_error=1:print_stacktrace=1"
lsan_options="suppressions=$suppressions:print_suppressions=0"

status=0
if [ "$run_cpp" = 1 ]; then
  echo "== C++ unit tests (ctest, sanitized) =="
  ASAN_OPTIONS=$asan_options UBSAN_OPTIONS=$ubsan_options LSAN_OPTIONS=$lsan_options \
    ctest --test-dir "$build" --output-on-failure || status=$?
fi

echo "== pytest against $core =="
cd "$tree"
# PYTHONMALLOC=malloc: every Python allocation goes through the checked
# malloc, so an overrun of a small NumPy buffer cannot hide in a pymalloc pool.
env LD_PRELOAD="$preload" PYTHONMALLOC=malloc \
  ASAN_OPTIONS="$asan_options" UBSAN_OPTIONS="$ubsan_options" LSAN_OPTIONS="$lsan_options" \
  PYCNN_EXPECT_CORE="$core" PYTHONPATH="$tree/tools${PYTHONPATH:+:$PYTHONPATH}" \
  "$python" -m pytest -p sanitized_pytest_plugin --deselect tests/test_cpp.py::test_cpp_unit_tests \
  -p no:cacheprovider "$@" || status=$?
exit $status
