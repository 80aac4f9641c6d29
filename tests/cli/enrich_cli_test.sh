#!/usr/bin/env bash
# onepath enrich end to end: batch and stream give byte-identical files on generated data
# with gaps; errors name the file and exit 2.
set -u
onepath=$1
features=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

"$onepath" --log-level warn data gen --out "$work" --symbols BTC,SOL --bars 6000 --scenario stress --seed 5 >/dev/null || fail "data gen"
for s in BTC SOL; do
  "$onepath" --log-level warn enrich --data "$work/$s.csv" --features "$features" --out "$work/$s.batch.csv" --mode batch >/dev/null || fail "batch $s"
  "$onepath" --log-level warn enrich --data "$work/$s.csv" --features "$features" --out "$work/$s.stream.csv" --mode stream >/dev/null || fail "stream $s"
  "$onepath" --log-level warn enrich --data "$work/$s.csv" --features "$features" --out "$work/$s.mt.csv" --threads 4 >/dev/null || fail "threads $s"
  cmp -s "$work/$s.batch.csv" "$work/$s.stream.csv" || fail "$s: batch and stream files differ"
  cmp -s "$work/$s.batch.csv" "$work/$s.mt.csv" || fail "$s: multi-threaded batch differs"
  [ "$(wc -l <"$work/$s.batch.csv")" -eq "$(wc -l <"$work/$s.csv")" ] || fail "$s: one row per candle expected"
done
out=$("$onepath" --log-level warn enrich --data "$work/BTC.csv" --features "$features" --out "$work/x.csv" --shadow 2>&1)
grep -q "agree on all" <<<"$out" || fail "shadow did not report agreement: $out"

printf 'return {{ name = "e", kind = "ema" }}\n' >"$work/bad.lua"
out=$("$onepath" enrich --data "$work/BTC.csv" --features "$work/bad.lua" --out "$work/y.csv" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "bad feature file exited $rc"
grep -q "bad.lua: entry 1 ('e'): ema: parameter 'period' is required" <<<"$out" || fail "bad feature file message: $out"
[ ! -e "$work/y.csv" ] || fail "an output was written despite the error"
head -3 "$work/BTC.csv" >"$work/short.csv"; sed -n 3p "$work/BTC.csv" >>"$work/short.csv"
out=$("$onepath" enrich --data "$work/short.csv" --features "$features" --out "$work/z.csv" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "duplicate candle exited $rc: $out"
grep -q "short.csv:4: ts_duplicate" <<<"$out" || fail "duplicate candle message: $out"

# a feature longer than the data: its column is all NaN, and the user is told which and why
head -51 "$work/BTC.csv" >"$work/fifty.csv"
printf 'return { { name = "sma200", kind = "sma", period = 200 }, { name = "ema5", kind = "ema", period = 5 } }\n' >"$work/long.lua"
out=$("$onepath" enrich --data "$work/fifty.csv" --features "$work/long.lua" --out "$work/long.csv" 2>&1) || fail "enrich long: $out"
grep -q 'feature_never_ready feature="sma200 (its first value needs about 200 candles)" candles=50' <<<"$out" || fail "no warning for sma200: $out"
grep -q "ema5" <<<"$(grep feature_never_ready <<<"$out")" && fail "ema5 is ready, yet warned about"

[ "$failures" -eq 0 ] && echo "cli enrich: all checks passed"
exit $((failures > 0))
