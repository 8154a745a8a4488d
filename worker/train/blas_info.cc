#include "worker/train/blas_info.h"

#include <dlfcn.h>
#include <link.h>
#include <stdlib.h>

#include <climits>
#include <cstring>

namespace cyclr {
namespace {

int FindLibblas(struct dl_phdr_info* info, size_t, void* data) {
  const char* name = info->dlpi_name;
  if (name && std::strstr(name, "libblas.so")) {
    *static_cast<std::string*>(data) = name;
    return 1;
  }
  return 0;
}

template <typename Fn>
Fn Symbol(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, name));
}

}  // namespace

std::string BlasKindOfPath(const std::string& p) {
  if (p.empty()) return "unknown";
  if (p.find("openblas-openmp") != std::string::npos) return "openblas-openmp";
  if (p.find("openblas-pthread") != std::string::npos) return "openblas-pthread";
  if (p.find("openblas") != std::string::npos) return "openblas";
  if (p.find("blis") != std::string::npos) return "blis";
  if (p.find("mkl") != std::string::npos) return "mkl";
  if (p.find("atlas") != std::string::npos) return "atlas";
  // Debian's netlib package installs /usr/lib/<triplet>/blas/libblas.so.3.
  if (p.find("/blas/libblas.so") != std::string::npos) return "reference";
  return "unknown";
}

BlasInfo DetectBlas() {
  BlasInfo info;
  std::string loaded;
  dl_iterate_phdr(FindLibblas, &loaded);
  if (!loaded.empty()) {
    char resolved[PATH_MAX];
    info.path = realpath(loaded.c_str(), resolved) ? resolved : loaded;
  }
  info.kind = BlasKindOfPath(info.path);
  if (auto config = Symbol<char* (*)()>("openblas_get_config")) {
    if (const char* c = config()) info.config = c;
    if (info.kind == "unknown") info.kind = "openblas";
  }
  if (auto get = Symbol<int (*)()>("openblas_get_num_threads")) info.threads = get();
  return info;
}

int SetBlasThreads(int threads) {
  // The pthread build sizes its own pool from this; the OpenMP build sets libgomp's count,
  // which torch::set_num_threads has set to the same value already.
  auto set = Symbol<void (*)(int)>("openblas_set_num_threads");
  if (set && threads > 0) set(threads);
  auto get = Symbol<int (*)()>("openblas_get_num_threads");
  return get ? get() : 0;
}

std::string BlasInfo::Describe() const {
  std::string out = kind + " (";
  if (!config.empty()) out += config + ", ";
  out += path.empty() ? "no libblas loaded" : path;
  out += ")";
  if (threads > 0) out += ", " + std::to_string(threads) + (threads == 1 ? " thread" : " threads");
  return out;
}

std::string ReferenceBlasWarning() {
  return "WARNING: LibTorch is using the reference BLAS (netlib), ~18x slower than OpenBLAS on "
         "this CPU: install libopenblas0-openmp (deploy/install-deps.sh does) so that "
         "libblas.so.3 resolves to it";
}

}  // namespace cyclr
