"""Benchmark drivers for docs/performance.md (run by tests/bench/run_all.sh)."""
