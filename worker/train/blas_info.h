// BlasInfo: which BLAS LibTorch resolved in this process, and its thread count.
//
// Debian's LibTorch calls whatever libblas.so.3 the alternatives system points at. Netlib's
// reference BLAS (the default with only libtorch-dev installed) runs SGEMM ~18x slower than
// OpenBLAS on the same core, which decides CPU throughput more than anything cyclr does, so the
// worker names its BLAS at start, warns loudly on the reference one, and reports it to the
// coordinator (cyclr_worker_info). Detection reads the loaded objects (dl_iterate_phdr) and, for
// OpenBLAS, its own config string; nothing here links a BLAS itself.
#pragma once

#include <string>

namespace cyclr {

struct BlasInfo {
  // "openblas-openmp" | "openblas-pthread" | "openblas" | "reference" | "blis" | "mkl" |
  // "atlas" | "unknown" (no libblas loaded, or a library we do not recognise).
  std::string kind = "unknown";
  std::string path;    // the resolved file of the loaded libblas.so.3, "" if none
  std::string config;  // OpenBLAS's openblas_get_config(), "" otherwise
  int threads = 0;     // the BLAS's own thread count where it has one (OpenBLAS), else 0

  bool reference() const { return kind == "reference"; }
  // "openblas-openmp (OpenBLAS 0.3.21 ..., /usr/lib/.../libblas.so.3), 1 thread"
  std::string Describe() const;
};

// Inspects the running process. Cheap; call after LibTorch is loaded (it always is in the worker).
BlasInfo DetectBlas();

// Classifies a resolved library path (exposed for tests).
std::string BlasKindOfPath(const std::string& resolved_path);

// Gives OpenBLAS exactly `threads` threads: the pthread variant keeps a pool of its own that
// torch::set_num_threads does not reach; the OpenMP one shares libgomp's count. No-op for other
// BLAS libraries. Returns the BLAS's thread count afterwards (0 if it has none).
int SetBlasThreads(int threads);

// The one warning line printed when the reference BLAS is in use.
std::string ReferenceBlasWarning();

}  // namespace cyclr
