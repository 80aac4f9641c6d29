#!/usr/bin/env bash
# The benchmarks' reports (not their timings, which belong to `make bench`): every figure
# the README quotes is a field, medians say how many runs, the cold run is apart, and the
# indicators and the enrichment are set beside their plain C loops.
set -u
onepath=$1
root=$2
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
has() {  # has JSON FIELD-PATTERN...
  local json=$1; shift
  for p in "$@"; do grep -qE "\"$p\":" <<<"$json" || fail "no $p in: ${json:0:300}"; done
}
num='-?[0-9.]+(e[-+]?[0-9]+)?'
out=$("$onepath" bench indicators --kind ema --bars 2000 --runs 3 --json) || fail "bench indicators: $out"
has "$out" ns_per_update ref_ns_per_update ratio cold_ns_per_update runs
grep -qE "\"ref_ns_per_update\":$num,\"ratio\":$num," <<<"$out" || fail "ema has no plain-loop figure: $out"
grep -q '"runs":3' <<<"$out" || fail "the run count: $out"
out=$("$onepath" bench indicators --kind wma --bars 2000 --runs 1 --json) || fail "bench indicators wma: $out"
grep -q '"ref_ns_per_update":null,"ratio":null' <<<"$out" || fail "a kind without a plain loop claims one: $out"
out=$("$onepath" bench enrich --features "$root/scripts/features/talib_common.lua" --bars 2000 --runs 1 --json) || fail "bench enrich: $out"
has "$out" stream_ns_per_candle ref_sum_ns stream_ratio stream_cold_ns_per_candle batch_ns_per_candle runs
grep -qE "\"ref_sum_ns\":$num,\"stream_ratio\":$num," <<<"$out" || fail "talib_common has no plain-loop sum: $out"
out=$("$onepath" bench kernel --bars 2000 --runs 1 --json) || fail "bench kernel: $out"
has "$out" bars_per_second orders_per_second cold_bars_per_second cold_orders_per_second runs
out=$("$onepath" bench csv --rows 2000 --runs 1 --json) || fail "bench csv: $out"
has "$out" seconds cold_seconds rows_per_second runs
[ $failures -eq 0 ] && echo "bench CLI: all checks passed"
[ $failures -eq 0 ]
