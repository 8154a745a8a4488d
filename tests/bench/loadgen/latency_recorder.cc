#include "tests/bench/loadgen/latency_recorder.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace cyclr::bench {

double Quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  double rank = std::ceil(q * static_cast<double>(sorted.size()));
  size_t i = static_cast<size_t>(std::max(1.0, rank)) - 1;
  return sorted[std::min(i, sorted.size() - 1)];
}

void LatencyRecorder::Record(double millis) {
  std::lock_guard<std::mutex> lock(mu_);
  millis_.push_back(millis);
}

void LatencyRecorder::RecordError(const std::string& code) {
  std::lock_guard<std::mutex> lock(mu_);
  ++errors_[code];
}

void LatencyRecorder::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  millis_.clear();
  errors_.clear();
}

LatencySummary LatencyRecorder::Summarize() const {
  std::vector<double> sorted;
  LatencySummary s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    sorted = millis_;
    s.errors_by_code = errors_;
  }
  for (const auto& [code, n] : s.errors_by_code) s.errors += n;
  std::sort(sorted.begin(), sorted.end());
  s.count = static_cast<int64_t>(sorted.size());
  if (sorted.empty()) return s;
  s.p50_ms = Quantile(sorted, 0.50);
  s.p90_ms = Quantile(sorted, 0.90);
  s.p99_ms = Quantile(sorted, 0.99);
  s.p999_ms = Quantile(sorted, 0.999);
  s.max_ms = sorted.back();
  s.mean_ms = std::accumulate(sorted.begin(), sorted.end(), 0.0) / static_cast<double>(s.count);
  return s;
}

}  // namespace cyclr::bench
