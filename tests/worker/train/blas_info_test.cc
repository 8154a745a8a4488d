// The BLAS this test binary resolves is the one the worker resolves: both link LibTorch the same
// way, so a test machine set up by deploy/install-deps.sh must not be on the reference BLAS.
#include "worker/train/blas_info.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace cyclr {
namespace {

TEST(BlasInfo, ClassifiesDebianPaths) {
  EXPECT_EQ(BlasKindOfPath("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0"), "reference");
  EXPECT_EQ(BlasKindOfPath("/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3"),
            "openblas-openmp");
  EXPECT_EQ(BlasKindOfPath("/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3"),
            "openblas-pthread");
  EXPECT_EQ(BlasKindOfPath("/usr/lib/x86_64-linux-gnu/blis-openmp/libblas.so.3"), "blis");
  EXPECT_EQ(BlasKindOfPath(""), "unknown");
}

TEST(BlasInfo, TheInstalledSetupIsNotOnTheReferenceBlas) {
  torch::Tensor a = torch::ones({64, 64});
  (void)torch::mm(a, a);  // LibTorch (and its libblas.so.3) is loaded and used
  BlasInfo info = DetectBlas();
  EXPECT_FALSE(info.path.empty()) << "no libblas.so.3 loaded: " << info.Describe();
  EXPECT_FALSE(info.reference()) << ReferenceBlasWarning() << "; found " << info.Describe();
  EXPECT_EQ(info.kind, "openblas-openmp") << info.Describe();
}

TEST(BlasInfo, OpenBlasGetsExactlyTheWorkersThreads) {
  BlasInfo info = DetectBlas();
  if (info.kind.rfind("openblas", 0) != 0) GTEST_SKIP() << info.Describe();
  torch::set_num_threads(1);
  EXPECT_EQ(SetBlasThreads(1), 1);
  torch::Tensor a = torch::ones({256, 256});
  (void)torch::mm(a, a);
  EXPECT_EQ(DetectBlas().threads, 1);
}

}  // namespace
}  // namespace cyclr
