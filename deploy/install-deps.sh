#!/usr/bin/env bash
# Installs the Debian packages cyclr needs to build, run and test, skipping what is installed.
# Idempotent; needs root (or sudo). Usage: deploy/install-deps.sh [--with-tests]
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libtorch-dev libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev prometheus-cpp-dev
  libgloo-dev libsqlite3-dev libcli11-dev libyaml-cpp-dev zlib1g-dev
  libgtest-dev libbenchmark-dev dataset-fashion-mnist
  # The BLAS LibTorch calls (see use_openblas_openmp below).
  libopenblas0-openmp
)
if [[ "${1:-}" == "--with-tests" ]]; then
  # Reference values and the speed peer (PyTorch), a real Prometheus and a real Slurm for the
  # monitoring and cluster tests; gRPC for Python (the hostile-client test builds stubs from proto/).
  packages+=(python3 python3-torch python3-yaml python3-grpcio prometheus curl slurm-wlm munge)
fi

# Debian's LibTorch calls whatever libblas.so.3 / liblapack.so.3 the alternatives system points
# at; without an optimized one that is netlib's reference BLAS, ~18x slower here (NOTES.md). The
# OpenMP build of OpenBLAS shares libgomp with LibTorch, so a worker's --threads (intra-op
# threads) is also its BLAS thread count; the pthread build keeps a pool of its own (2 threads
# per rank on 2 cores whatever --threads says: oversubscribed) and apt prefers it (priority 100
# vs 95) when both are installed, so the choice is set explicitly, and checked by a test.
use_openblas_openmp() {
  local triplet lib target
  triplet=$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)
  for lib in libblas.so.3 liblapack.so.3; do
    target=/usr/lib/$triplet/openblas-openmp/$lib
    [[ -e $target ]] || continue
    if [[ $(readlink -f "/usr/lib/$triplet/$lib") != "$(readlink -f "$target")" ]]; then
      $SUDO update-alternatives --quiet --set "$lib-$triplet" "$target"
      echo "install-deps: $lib -> $target"
    fi
  done
}

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Waits for another apt (unattended upgrades on a fresh machine) instead of failing at once.
  $SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq
  $SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}"
fi
use_openblas_openmp
