#!/usr/bin/env bash
# Installs the Debian packages cyclr needs to build, run and test, skipping what is installed.
# Idempotent; needs root (or sudo). Usage: deploy/install-deps.sh [--with-tests]
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libtorch-dev libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev prometheus-cpp-dev
  libgloo-dev libsqlite3-dev libcli11-dev libyaml-cpp-dev zlib1g-dev
  libgtest-dev libbenchmark-dev dataset-fashion-mnist
)
if [[ "${1:-}" == "--with-tests" ]]; then
  # Reference values and the speed peer (PyTorch), a real Prometheus and a real Slurm for the
  # monitoring and cluster tests; gRPC for Python (the hostile-client test builds stubs from proto/).
  packages+=(python3 python3-torch python3-yaml python3-grpcio prometheus curl slurm-wlm munge)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
