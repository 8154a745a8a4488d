// Every limit on what a client, a worker, a file or the state store may hand cyclr, in one place.
//
// Boundary checks (the RPC services, the state-store loader, the CLI, the worker's readers) use
// these constants and nothing else, so docs/limits.md can list them once. Each value is chosen so
// that arithmetic on accepted values cannot overflow (step + steps < 2^41 fits int64 and is exact
// in a double), and so that the largest message the coordinator builds from accepted values stays
// well under gRPC's default 4 MiB (a timeline of kMaxRevisionsPerJob revisions with text fields
// at their maximum is ~2.3 MB).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/schedule_spec.h"  // kMaxSteps

namespace cyclr::limits {

// Steps: any step index, step count, effective step, total_steps, preview start.
inline constexpr int64_t kMaxStep = kMaxSteps;       // 2^40
inline constexpr int64_t kMaxPreviewSteps = 100000;  // points in one PreviewSchedule
inline constexpr int32_t kMaxEpochs = 1000000;
// Fields of a JobSpec that size a worker's memory or its disk use.
inline constexpr int32_t kMaxBatchSize = 1 << 20;    // samples per worker and step
inline constexpr int32_t kMaxThreads = 1024;         // intra-op threads (absolute; see below)
inline constexpr int32_t kMaxCheckpointKeep = 1000;  // newest checkpoints kept
inline constexpr int32_t kMaxRestarts = 1000;        // worker-group restarts of one job

// Sizes of free-text and path fields, in bytes.
inline constexpr size_t kMaxNameBytes = 63;     // job names ([a-z0-9][a-z0-9-]{0,62})
inline constexpr size_t kMaxTextBytes = 1024;   // reason, author, host, stop reason
inline constexpr size_t kMaxErrorBytes = 4096;  // a worker's reported error (truncated by it)
inline constexpr size_t kMaxPathBytes = 4096;   // data_dir, checkpoint_dir, resume_from (PATH_MAX)
// Enum-like text (a policy, a scale mode, an anneal or decay name): the longest valid one is 15.
inline constexpr size_t kMaxEnumBytes = 64;
// A stored job's reason: a worker's error plus the coordinator's context around it.
inline constexpr size_t kMaxReasonBytes = kMaxErrorBytes + kMaxTextBytes;
// How much of a rejected value an error message echoes (a 10 kB name is not repeated whole).
inline constexpr size_t kMaxEchoBytes = 80;

// Per job.
inline constexpr int64_t kMaxRevisionsPerJob = 1000;
inline constexpr int kMaxWorkersPerJob = 64;
inline constexpr size_t kMaxStoreKeyBytes = 512;
inline constexpr size_t kMaxStoreValueBytes = 64 * 1024;     // Gloo addresses, NCCL ids: < 1 KB
inline constexpr size_t kMaxStoreBytesPerJob = 1024 * 1024;  // keys + values of one job
inline constexpr int kMaxStoreKeysPerGet = 1024;
inline constexpr int kMaxReportsPerRequest = 10000;
// Points of one LR range test's loss curve: its ramp's steps (a GetLossCurve reply stays ~1.3 MB).
inline constexpr int64_t kMaxCurvePoints = 50000;  // step/epoch/applied entries in one report

// Processes: Linux's PID_MAX_LIMIT (a registration's pid, a stored worker pid).
inline constexpr int32_t kMaxPid = 4194304;

// Per coordinator (defaults of flags: --max-jobs, --max-local-workers).
inline constexpr int kDefaultMaxJobs = 1000;
inline constexpr int kDefaultMaxLocalWorkers = 64;
inline constexpr int kMaxStoreWaiters = 256;  // concurrent StoreGet waits (RESOURCE_EXHAUSTED)
inline constexpr std::chrono::milliseconds kMaxStoreTimeout{600000};
// A job with every field at its maximum is ~17 kB: 100 of them stay under 2 MB.
inline constexpr int kDefaultListPageSize = 50;
inline constexpr int kMaxListPageSize = 100;
// Timing flags of the coordinator (--register-timeout-ms, --retain): at most a week / ten years.
inline constexpr int64_t kMaxTimeoutMs = int64_t{7} * 24 * 3600 * 1000;
inline constexpr int64_t kMaxRetainMs = int64_t{3650} * 24 * 3600 * 1000;

// Per worker process.
inline constexpr int kMaxThreadsPerCore = 4;  // --threads <= cores x this

// Files a worker reads.
inline constexpr int kMaxIdxDims = 4;
inline constexpr int64_t kMaxIdxBytes = int64_t{1} << 34;  // an IDX file's data (FMNIST's: 47 MB)
// Examples of the synthetic dataset (its train_limit/test_limit): 2^20 images are 3.3 GB.
inline constexpr int64_t kMaxSyntheticExamples = int64_t{1} << 20;

// Job and schedule files: cyclrctl's `launch -f` and `--spec`, cyclr-worker's `--standalone`.
inline constexpr size_t kMaxSpecFileBytes = 1024 * 1024;
// Nesting of maps and lists in such a file (the deepest real one has 2 levels).
inline constexpr int kMaxSpecFileDepth = 16;

// The longest prefix of `value` of at most `max` bytes that does not split a UTF-8 sequence
// (proto3 string fields must stay valid UTF-8, or the receiver cannot parse the message). The
// worker cuts its error to kMaxErrorBytes with this before reporting it.
inline std::string_view CutUtf8(std::string_view value, size_t max) {
  if (value.size() <= max) return value;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(value[n]) & 0xC0) == 0x80) --n;
  return value.substr(0, n);
}

// A client-supplied value for an error message: quoted, and cut to kMaxEchoBytes with the full
// length noted ("\"aaaa...\" (10240 bytes)"), so a huge or binary value never floods a reply.
// The cut never splits a UTF-8 sequence (the message may end up in a proto string field).
inline std::string Echo(std::string_view value) {
  std::string out = "\"";
  size_t n = CutUtf8(value, kMaxEchoBytes).size();
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(value[i]);
    out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
  }
  out += value.size() > kMaxEchoBytes ? "...\" (" + std::to_string(value.size()) + " bytes)" : "\"";
  return out;
}

}  // namespace cyclr::limits
