#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, ASan + UBSan) in build-fuzz and runs each for
# N seconds over a copy of its seed corpus (the committed corpus is never written). Exits 1 if any
# target crashed, broke an invariant or ran out of time or memory, naming the target and the
# input that did it (rerun one with: build-fuzz/fuzz/<target>_fuzzer <input>).
# Usage: tests/fuzz/run.sh [--seconds N] [TARGET...]   (default: 15 s each, every target)
# CI runs the default from tests/run.sh; a longer search: tests/fuzz/run.sh --seconds 600
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=15
targets=()
while (($#)); do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --seconds=*) seconds=${1#*=}; shift ;;
    -h | --help) sed -n '2,7p' "$0"; exit 0 ;;
    -*) echo "fuzz: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: --seconds wants a positive integer" >&2; exit 2; }

# clang and libFuzzer's runtime, installed the way deploy/install-deps.sh installs the rest.
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
missing=()
for p in clang libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "fuzz: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq
  $SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}"
fi

build=build-fuzz
generator=()
if command -v ninja >/dev/null; then generator=(-G Ninja); fi
if [[ ! -f $build/CMakeCache.txt ]]; then
  CC=clang CXX=clang++ cmake -S . -B "$build" "${generator[@]}" -DCYCLR_BUILD_FUZZERS=ON \
    -DCYCLR_BUILD_TESTS=OFF -DCYCLR_BUILD_BENCH=OFF >"$build.configure.log" 2>&1 ||
    { cat "$build.configure.log"; exit 1; }
fi
if ((${#targets[@]} == 0)); then
  targets=(spec_flags spec_file job_file request state_rows idx)
  # The checkpoint target needs LibTorch (CYCLR_BUILD_WORKER, the default).
  if grep -q '^CYCLR_BUILD_WORKER:BOOL=ON' "$build/CMakeCache.txt"; then targets+=(checkpoint); fi
fi
cmake --build "$build" -j2 --target "${targets[@]/%/_fuzzer}"

# Findings are errors: ASan/UBSan abort (libFuzzer saves the input); leaks are LibTorch's and
# protobuf's process-lifetime caches, not per input, so LeakSanitizer is off.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:symbolize=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
failed=()
for t in "${targets[@]}"; do
  dir=$build/fuzz-run/$t
  rm -rf "$dir"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp -r "tests/fuzz/corpus/$t/." "$dir/corpus/"
  # Rows and requests carry texts whose limits lie past libFuzzer's default 4 KiB inputs.
  max_len=()
  case $t in request | state_rows) max_len=(-max_len=16384) ;; esac
  start=$(date +%s)
  if "$build/fuzz/${t}_fuzzer" "$dir/corpus" -max_total_time="$seconds" -rss_limit_mb=2048 \
    -timeout=25 "${max_len[@]}" -artifact_prefix="$dir/artifacts/" -print_final_stats=1 \
    >"$dir/log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log")
    echo "fuzz: $t ok: ${runs:-?} inputs in $(($(date +%s) - start)) s," \
      "$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log") exec/s"
  else
    tail -n 60 "$dir/log"
    echo "fuzz: $t FAILED (log: $dir/log); reproducer:"
    ls -d "$dir"/artifacts/* 2>/dev/null | sed 's/^/  /' || echo "  (none written)"
    failed+=("$t")
  fi
done
if ((${#failed[@]})); then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}"
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${seconds} s each without a finding"
