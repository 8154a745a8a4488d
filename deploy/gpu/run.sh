#!/usr/bin/env bash
# The one entry script for a GPU machine (one H200, PyTorch 2.11 CUDA 13 wheel, nvcc 13, CMake,
# ninja, the nvidia-nccl-cu13 wheel; no gRPC/protobuf/prometheus-cpp, no package registry).
# Builds the worker, coordinator and CLI against the wheel's LibTorch and the Debian libraries
# unpacked into deploy/gpu/sysroot (deploy/gpu/gather-debs.sh), then runs on the GPU:
#   1. comm_collectives_test, NCCL instances (world size 1; world size 2 skips on one GPU)
#   2. reducer_cuda_test (deploy/gpu/checks): the Reducer on CUDA tensors over NCCL
#   3. gpu_job_check.py: coordinator + one nccl worker training the cnn (synthetic data), a live
#      `schedule set` mid-run, the applied-LR log equal to the timeline
#   4. gpu_bench.py: samples/s and GPU memory peak, cyclr vs PyTorch DDP (NCCL, world size 1),
#      mlp and cnn at batch 128, 1024, 8192 per rank
# Every result goes into OUT_DIR (logs, results.json, performance-table.md); exits non-zero if
# any check failed.
#
# Usage: deploy/gpu/run.sh [--dry-run] OUT_DIR
#   --dry-run: locate everything and configure, then stop before the build (no GPU needed; on a
#   CPU machine set CYCLR_TORCH_PREFIX to a LibTorch's cmake prefix if python3's torch has none).
# Overrides: CYCLR_TORCH_PREFIX, CYCLR_NCCL_ROOT (folder with include/nccl.h and lib/libnccl.so*),
# CYCLR_CUDA_HOME (toolkit with include/cuda_runtime.h and libcudart), CYCLR_GPU_BUILD (build dir).
set -uo pipefail

dry_run=0
if [[ ${1:-} == --dry-run ]]; then dry_run=1; shift; fi
if [[ $# -ne 1 ]]; then
  echo "usage: $0 [--dry-run] OUT_DIR" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
sysroot=$root/deploy/gpu/sysroot
build=${CYCLR_GPU_BUILD:-$root/build-gpu}
jobs=$(nproc)
started=$(date +%s)
declare -A result=()   # check -> pass|fail|skip
declare -A detail=()

log() { echo "[gpu-run +$(($(date +%s) - started))s] $*" | tee -a "$out/run.log"; }
record() {  # record CHECK pass|fail|skip DETAIL
  result[$1]=$2
  detail[$1]=$3
  log "check $1: $2 ${3:+($3)}"
}
write_results() {
  {
    echo "{"
    echo "  \"dry_run\": $dry_run,"
    echo "  \"seconds\": $(($(date +%s) - started)),"
    echo "  \"checks\": {"
    local first=1 k
    for k in "${!result[@]}"; do
      ((first)) || echo ","
      first=0
      printf '    "%s": {"result": "%s", "detail": %s}' "$k" "${result[$k]}" \
        "$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "${detail[$k]}")"
    done
    echo
    echo "  }"
    echo "}"
  } >"$out/results.json.tmp"
  # Merge the benchmark's own JSON in, when there is one.
  python3 - "$out" <<'EOF'
import json, os, sys
out = sys.argv[1]
r = json.load(open(os.path.join(out, "results.json.tmp")))
b = os.path.join(out, "bench.json")
if os.path.exists(b):
    r["bench"] = json.load(open(b))
json.dump(r, open(os.path.join(out, "results.json"), "w"), indent=2)
os.remove(os.path.join(out, "results.json.tmp"))
EOF
}
finish() {
  write_results
  local failed=0 k
  for k in "${!result[@]}"; do [[ ${result[$k]} == fail ]] && failed=$((failed + 1)); done
  log "done: ${#result[@]} checks, $failed failed; results in $out/results.json"
  exit $((failed > 0 ? 1 : 0))
}

# ---- 0. The machine ------------------------------------------------------------------------
: >"$out/run.log"
{
  echo "date: $(date -u)"; uname -a; echo "cores: $jobs"
  ldd --version 2>&1 | head -1
  command -v nvidia-smi >/dev/null && nvidia-smi
  command -v nvcc >/dev/null && nvcc --version
  cmake --version | head -1; ninja --version 2>/dev/null; c++ --version | head -1
  python3 -c 'import sys, torch; print("python", sys.version.split()[0], "torch", torch.__version__,
"cuda", torch.version.cuda, "available", torch.cuda.is_available())' 2>&1
} >"$out/env.txt" 2>&1
log "machine: $(head -c 2000 "$out/env.txt" | grep -m1 -E 'torch' || echo 'no torch')"

if [[ ! -f $sysroot/MANIFEST ]]; then
  record sysroot fail "$sysroot/MANIFEST missing: run deploy/gpu/gather-debs.sh and carry deploy/gpu/sysroot"
  finish
fi
# The unpacked libraries were built against Debian 12's glibc; an older one cannot load them.
need_glibc=$(sed -n 's/^needs_glibc=//p' "$sysroot/MANIFEST")
have_glibc=$(ldd --version 2>&1 | head -1 | grep -oE '[0-9]+\.[0-9]+$')
if [[ $(printf '%s\n%s\n' "$need_glibc" "$have_glibc" | sort -V | head -1) != "$need_glibc" ]]; then
  record sysroot fail "glibc $have_glibc here, the sysroot needs $need_glibc"
  finish
fi
record sysroot pass "glibc $have_glibc >= $need_glibc; $(du -sm "$sysroot" | cut -f1) MiB"
libdirs=$sysroot/usr/lib/x86_64-linux-gnu:$sysroot/usr/lib
# For the cyclr binaries only (the coordinator passes it on to the workers it starts); Python
# and PyTorch run with the machine's own libraries.
cyclr_ld_path=$libdirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

# ---- 1. LibTorch, CUDA, NCCL -----------------------------------------------------------------
torch_prefix=${CYCLR_TORCH_PREFIX:-$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null)}
if [[ -z $torch_prefix || ! -f $torch_prefix/Torch/TorchConfig.cmake ]]; then
  record locate fail "no TorchConfig.cmake under '$torch_prefix' (set CYCLR_TORCH_PREFIX)"
  finish
fi
nccl_root=${CYCLR_NCCL_ROOT:-$(python3 -c 'import nvidia.nccl as n; print(list(n.__path__)[0])' 2>/dev/null)}
if [[ -z $nccl_root && -f /usr/local/cuda/include/nccl.h ]]; then nccl_root=/usr/local/cuda; fi
nccl_lib=$(ls "$nccl_root"/lib/libnccl.so* "$nccl_root"/lib64/libnccl.so* 2>/dev/null | head -1)
if [[ ! -f $nccl_root/include/nccl.h || -z $nccl_lib ]]; then
  record locate fail "no nccl.h + libnccl.so under '$nccl_root' (set CYCLR_NCCL_ROOT)"
  finish
fi
cuda_home=${CYCLR_CUDA_HOME:-${CUDA_HOME:-}}
if [[ -z $cuda_home ]] && command -v nvcc >/dev/null; then
  cuda_home=$(dirname "$(dirname "$(readlink -f "$(command -v nvcc)")")")
fi
[[ -z $cuda_home ]] && cuda_home=/usr/local/cuda
cudart=$(ls "$cuda_home"/lib64/libcudart.so "$cuda_home"/lib/libcudart.so \
            "$cuda_home"/targets/x86_64-linux/lib/libcudart.so "$cuda_home"/lib64/libcudart.so.* \
            2>/dev/null | head -1)
if [[ ! -f $cuda_home/include/cuda_runtime.h || -z $cudart ]]; then
  record locate fail "no cuda_runtime.h + libcudart under '$cuda_home' (set CYCLR_CUDA_HOME)"
  finish
fi
# worker/comm takes one CYCLR_CUDA_ROOT for CUDA and NCCL: compose one from the toolkit and the
# wheel's NCCL (symlinks; the wheel's nccl.h shadows any in the toolkit).
fake=$build/cuda-nccl-root
rm -rf "$fake"
mkdir -p "$fake/include" "$fake/lib64"
for f in "$cuda_home"/include/*; do ln -s "$f" "$fake/include/"; done
for f in "$nccl_root"/include/*; do ln -sf "$f" "$fake/include/"; done
for f in "$(dirname "$cudart")"/libcudart.so*; do ln -s "$f" "$fake/lib64/"; done
ln -sf "$nccl_lib" "$fake/lib64/libnccl.so"
nccl_libdir=$(dirname "$nccl_lib")
cyclr_ld_path=$cyclr_ld_path:$nccl_libdir
record locate pass "torch $torch_prefix; nccl $nccl_lib; cuda $cuda_home ($cudart)"

# Symbols the wheel's libtorch_cpu exports that the Debian libraries define too: if gloo or
# protobuf are exported by both, which copy a call lands in depends on load order (ODR).
torch_cpu=$(ls "$torch_prefix"/../../lib/libtorch_cpu.so 2>/dev/null | head -1)
if [[ -n $torch_cpu ]]; then
  {
    echo "gloo symbols exported by $torch_cpu: $(nm -D --defined-only "$torch_cpu" 2>/dev/null | c++filt | grep -c ' gloo::')"
    echo "protobuf symbols exported by $torch_cpu: $(nm -D --defined-only "$torch_cpu" 2>/dev/null | c++filt | grep -c ' google::protobuf::')"
  } >"$out/torch-exports.txt"
  log "$(tr '\n' ';' <"$out/torch-exports.txt")"
fi

# ---- 2. Configure ----------------------------------------------------------------------------
# protoc and grpc_cpp_plugin from the sysroot need its libraries: wrap protoc (it starts the
# plugin, which inherits the environment).
mkdir -p "$build/tools"
cat >"$build/tools/protoc" <<EOF
#!/bin/sh
LD_LIBRARY_PATH="$libdirs\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "$sysroot/usr/bin/protoc" "\$@"
EOF
chmod +x "$build/tools/protoc"
link_flags="-L$sysroot/usr/lib/x86_64-linux-gnu -L$sysroot/usr/lib -Wl,-rpath-link,$libdirs"
cmake_args=(
  -S "$root/deploy/gpu" -B "$build" -G Ninja
  -DCMAKE_BUILD_TYPE=Release
  "-DCMAKE_PREFIX_PATH=$sysroot/usr;$torch_prefix"
  "-DCMAKE_CXX_FLAGS=-isystem $sysroot/usr/include"
  "-DCMAKE_EXE_LINKER_FLAGS=$link_flags"
  "-DCMAKE_SHARED_LINKER_FLAGS=$link_flags"
  "-DProtobuf_PROTOC_EXECUTABLE=$build/tools/protoc"
  -DCYCLR_WITH_NCCL=ON "-DCYCLR_CUDA_ROOT=$fake"
  -DCYCLR_BUILD_TESTS=ON -DCYCLR_BUILD_BENCH=OFF -DCYCLR_BUILD_FUZZERS=OFF
  "-DCUDAToolkit_ROOT=$cuda_home" "-DCMAKE_CUDA_COMPILER=$cuda_home/bin/nvcc"
  # The wheel's TorchConfig looks for these; cyclr needs neither cuDNN nor the arch list.
  -DTORCH_CUDA_ARCH_LIST=9.0
)
# CYCLR_GPU_IGNORE_USR=1 (the CPU rehearsal): find nothing under /usr, as on the GPU machine.
[[ ${CYCLR_GPU_IGNORE_USR:-0} == 1 ]] && cmake_args+=(-DCMAKE_IGNORE_PREFIX_PATH=/usr)
log "configure: cmake ${cmake_args[*]}"
rm -f "$build/CMakeCache.txt"  # no stale choices from an earlier configure
if ! cmake "${cmake_args[@]}" >"$out/configure.log" 2>&1; then
  record configure fail "see configure.log: $(grep -m1 -A3 'CMake Error' "$out/configure.log" | tr '\n' ' ' | cut -c1-400)"
  finish
fi
# Where each dependency was found (all but LibTorch and CUDA must be in the sysroot).
grep -E '^(gRPC_DIR|Protobuf_INCLUDE_DIR|Protobuf_LIBRARY_RELEASE|Protobuf_PROTOC_EXECUTABLE|prometheus-cpp_DIR|absl_DIR|yaml-cpp_DIR|GTest_DIR|CLI11_DIR|SQLite3_INCLUDE_DIR|SQLite3_LIBRARY|ZLIB_LIBRARY_RELEASE|OPENSSL_SSL_LIBRARY|Torch_DIR|CYCLR_NCCL_LIB|CYCLR_CUDART_LIB|CYCLR_CUDA_ROOT|civetweb_DIR|c-ares_DIR|re2_DIR)[:=]' \
  "$build/CMakeCache.txt" >"$out/found.txt"
outside=$(grep -vE "Torch_DIR|CYCLR_|$sysroot|-NOTFOUND|$root/deploy/gpu|$build/tools" "$out/found.txt" | tr '\n' ' ')
if [[ -n $outside ]]; then
  record configure fail "found outside the sysroot: $outside"
else
  record configure pass "$(wc -l <"$out/found.txt") dependencies, all from the sysroot (found.txt)"
fi

targets=(cyclr-worker cyclr-coordinator cyclrctl comm_collectives_test reducer_cuda_test)
if ((dry_run)); then
  log "dry run: would now build ${targets[*]} with -j$jobs, then run the GPU checks"
  finish
fi

# ---- 3. Build only what the checks need ------------------------------------------------------
t0=$(date +%s)
if ! cmake --build "$build" -j "$jobs" --target "${targets[@]}" >"$out/build.log" 2>&1; then
  record build fail "see build.log: $(grep -m3 -E 'error|Error' "$out/build.log" | tr '\n' ' ' | cut -c1-400)"
  finish
fi
record build pass "$((${#targets[@]})) targets in $(($(date +%s) - t0)) s with -j$jobs"
bin=$build/bin
ldd "$bin/cyclr-worker" >"$out/ldd-worker.txt" 2>&1

# ---- 4. NCCL collectives, world size 1 -------------------------------------------------------
run_gtest() {  # run_gtest CHECK BINARY FILTER
  local name=$1 exe=$2 filter=$3
  LD_LIBRARY_PATH=$cyclr_ld_path timeout 300 "$exe" --gtest_filter="$filter" \
    --gtest_output="xml:$out/$name.xml" >"$out/$name.log" 2>&1
  local rc=$?
  local ran skipped
  ran=$(grep -c '^\[       OK \]' "$out/$name.log")
  skipped=$(grep -c '^\[  SKIPPED \]' "$out/$name.log")
  if ((rc != 0)); then
    record "$name" fail "exit $rc; $(grep -m3 -E 'FAILED|Failure' "$out/$name.log" | tr '\n' ' ' | cut -c1-300)"
  elif ((ran == 0)); then
    record "$name" fail "nothing ran ($skipped skipped): $(grep -m1 -A1 'SKIPPED' "$out/$name.log" | tr '\n' ' ' | cut -c1-200)"
  else
    record "$name" pass "$ran passed, $skipped skipped"
  fi
}
run_gtest nccl_collectives "$build/tests/comm_collectives_test" 'Nccl/*'
run_gtest reducer_cuda "$build/tests/reducer_cuda_test" '*'

# ---- 5. A real job: coordinator + one CUDA worker, live schedule set ---------------------------
LD_PATH_FOR_CYCLR=$cyclr_ld_path timeout 300 python3 "$root/deploy/gpu/gpu_job_check.py" \
  --bin "$bin" --out "$out/job" >"$out/job.log" 2>&1
rc=$?
record job_nccl_cuda "$([[ $rc == 0 ]] && echo pass || echo fail)" "$(tail -1 "$out/job.log" | cut -c1-400)"

# ---- 6. Throughput and memory: cyclr vs PyTorch DDP ------------------------------------------
LD_PATH_FOR_CYCLR=$cyclr_ld_path timeout 420 python3 "$root/deploy/gpu/gpu_bench.py" \
  --bin "$bin" --out "$out" >"$out/bench.log" 2>&1
rc=$?
record bench "$([[ $rc == 0 ]] && echo pass || echo fail)" "$(tail -1 "$out/bench.log" | cut -c1-400)"

finish
