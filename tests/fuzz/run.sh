#!/usr/bin/env bash
# Runs one fuzz target: tests/fuzz/run.sh TARGET [SECONDS] [libFuzzer flags...]
#   TARGET: conv_dense_gemm | pool_batchnorm | elementwise_losses_optim | load_model
# Corpus, findings and crash artifacts go to build/fuzz/ (kept between runs).
# PYCNN_FUZZ_ASAN=1 uses the sanitizer build from tests/fuzz/build_asan.sh.
# Findings (a result or error that breaks the promise) are logged to
# build/fuzz/findings_TARGET.txt and fuzzing goes on; crashes, hangs,
# out-of-memory and sanitizer reports stop the run and leave an artifact.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
target=$1 seconds=${2:-600}
shift $(( $# < 2 ? $# : 2 ))
out=$root/build/fuzz
mkdir -p "$out/$target" "$out/artifacts"
if [[ $target == load_model && ! -e $out/${target}_seeds ]]; then
  python "$root/tests/fuzz/fuzz_load_model.py" -seeds "$out/${target}_seeds"
fi
seeds=() max_len=1024
[[ -d $out/${target}_seeds ]] && seeds=("$out/${target}_seeds") max_len=16384
if [[ ${PYCNN_FUZZ_ASAN:-0} == 1 ]]; then
  export PYTHONPATH=$root/build/asan/site${PYTHONPATH:+:$PYTHONPATH}
  # libstdc++ is preloaded too so ASan can intercept C++ exceptions.
  export LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libstdc++.so)"
  export ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1:max_allocation_size_mb=2048
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
cd "$out"
PYCNN_FUZZ_FINDINGS=$out/findings_$target.txt exec python "$root/tests/fuzz/fuzz_$target.py" \
  -max_total_time="$seconds" -rss_limit_mb=4096 -timeout=20 -max_len=$max_len -print_final_stats=1 \
  -artifact_prefix="$out/artifacts/${target}_" "$@" "$out/$target" "${seeds[@]}"
