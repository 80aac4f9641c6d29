#!/usr/bin/env bash
# onepath data gen | check | resample, end to end: exit codes and what the user reads.
set -u
onepath=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# expect CODE PATTERN CMD...: runs CMD, checks its exit code and that its output matches PATTERN.
expect() {
  local code=$1 pattern=$2; shift 2
  local out rc
  out=$("$@" 2>&1); rc=$?
  [ "$rc" -eq "$code" ] || fail "'$*' exited $rc, expected $code. Output:
$out"
  [ -z "$pattern" ] || grep -qE -- "$pattern" <<<"$out" || fail "'$*' output lacks /$pattern/. Output:
$out"
}

header="ts,open,high,low,close,volume"
good() {  # five clean 15m candles
  printf '%s\n' "$header" \
    "2024-03-01T00:00:00Z,100,101,99,100.5,10" "2024-03-01T00:15:00Z,100.5,101,100,100.8,12" \
    "2024-03-01T00:30:00Z,100.8,101.2,100.1,100.2,11" "2024-03-01T00:45:00Z,100.2,100.9,99.8,100.6,9" \
    "2024-03-01T01:30:00Z,100.6,101,100.2,100.9,10"
}

good >"$work/good.csv"
expect 0 "gaps: 1 \(2 candles missing\)" "$onepath" data check "$work/good.csv"
expect 0 "timeframe 15m \(inferred" "$onepath" data check "$work/good.csv"

# One defect per file; each must be reported with its file line and exit 2.
defect() {  # defect NAME LINE(of the file) REPLACEMENT RULE
  good | awk -v n="$2" -v r="$3" 'NR == n { print r; next } { print }' >"$work/$1.csv"
  expect 2 "line $2 $4" "$onepath" data check --timeframe 15m "$work/$1.csv"
}
defect duplicate 3 "2024-03-01T00:00:00Z,100.5,101,100,100.8,12" ts_duplicate
defect disorder 3 "2024-02-29T23:45:00Z,100.5,101,100,100.8,12" ts_disorder
defect misaligned 3 "2024-03-01T00:16:00Z,100.5,101,100,100.8,12" ts_misaligned
defect low_above_open 3 "2024-03-01T00:15:00Z,100.5,101,100.6,100.8,12" ohlc_inconsistent
defect high_below_close 3 "2024-03-01T00:15:00Z,100.5,100.7,100,100.8,12" ohlc_inconsistent
defect nan_close 4 "2024-03-01T00:30:00Z,100.8,101.2,100.1,nan,11" not_finite
defect empty_close 4 "2024-03-01T00:30:00Z,100.8,101.2,100.1,,11" not_finite
defect inf_volume 4 "2024-03-01T00:30:00Z,100.8,101.2,100.1,100.2,inf" not_finite
defect negative_volume 5 "2024-03-01T00:45:00Z,100.2,100.9,99.8,100.6,-9" volume_negative
# Too few candles to tell a stray timestamp from the timeframe: the error says what to do.
expect 2 "pass --timeframe" "$onepath" data check "$work/misaligned.csv"

# Unreadable values are input errors naming file, line, column and value.
good | sed '3s/100.5,101,/100.5,1O1,/' >"$work/typo.csv"
expect 2 "typo.csv:3: column 'high': value '1O1'" "$onepath" data check "$work/typo.csv"
expect 2 "cannot open|does not exist" "$onepath" data check "$work/none.csv"

# Quality warnings do not fail the check.
{ good | head -1
  for i in $(seq 0 59); do printf '%s,100,100.3,99.9,%s,1000\n' "$(date -u -d "2024-03-01 +$((i * 15)) minutes" +%FT%TZ)" "100.$((i % 3))"; done
  printf '2024-03-01T15:00:00Z,100.1,150,100,149,1000\n'
} >"$work/outlier.csv"
expect 0 "return_outlier" "$onepath" data check "$work/outlier.csv"

# The generator: a folder of symbols, deterministic bytes, usable by check and resample.
expect 0 "SOL +2944 " "$onepath" data gen --out "$work/m1" --symbols BTC,ETH,SOL --bars 3000 --seed 9
expect 0 "" "$onepath" data gen --out "$work/m2" --symbols BTC,ETH,SOL --bars 3000 --seed 9
cmp -s "$work/m1/SOL.csv" "$work/m2/SOL.csv" || fail "same seed gave different bytes"
expect 0 "gaps: 3 \(56 candles missing\)" "$onepath" data check "$work/m1/ETH.csv"
expect 0 "" "$onepath" data resample "$work/m1/BTC.csv" --to 4h --out "$work/btc4h.csv"
expect 0 "timeframe 4h" "$onepath" data check "$work/btc4h.csv"
expect 0 "^ts,open,high,low,close,volume" "$onepath" --log-level warn data resample "$work/good.csv" --to 1h
expect 2 "whole multiple" "$onepath" data resample "$work/good.csv" --to 1h --timeframe 2h
expect 2 "ts_disorder" "$onepath" data resample "$work/disorder.csv" --to 1h

# Logs: JSON lines with an event name on request.
out=$("$onepath" --log-format json data check "$work/good.csv" 2>&1 >/dev/null)
grep -q '"event":"data_check"' <<<"$out" || fail "no JSON data_check event: $out"

# Help teaches, usage errors exit 2, version prints.
expect 0 "Examples" "$onepath" data check --help
expect 0 "Examples" "$onepath" data gen --help
expect 0 "Examples" "$onepath" --help
expect 0 "^onepath [0-9]" "$onepath" --version
expect 2 "" "$onepath" data gen
expect 2 "" "$onepath" data frobnicate
expect 2 "unknown timeframe" "$onepath" data gen --out "$work/x" --timeframe 2m

# data gen does not overwrite without --force.
"$onepath" data gen --out "$work/again" --symbols BTC --bars 300 >/dev/null || fail "data gen into a new folder"
cp "$work/again/BTC.csv" "$work/btc-before.csv"
expect 2 "BTC.csv exists; --force replaces it" "$onepath" data gen --out "$work/again" --symbols BTC --bars 300 --seed 9
cmp -s "$work/again/BTC.csv" "$work/btc-before.csv" || fail "data gen overwrote without --force"
expect 0 "" "$onepath" data gen --out "$work/again" --symbols BTC --bars 300 --seed 9 --force
cmp -s "$work/again/BTC.csv" "$work/btc-before.csv" && fail "--force did not replace the file"

# asking for more than the memory budget is refused up front, saying how much, not swapped then killed
expect 2 "generating 1000000 bars of 1 symbols needs about 84 MB, more than the memory budget of 10 MB" \
  "$onepath" --max-memory 10 data gen --out "$work/huge.csv" --bars 1000000
[ ! -e "$work/huge.csv" ] || fail "a refused generation wrote a file"
printf 'return { { name = "q1", kind = "quantile", period = 1000000, q = 0.5 }, { name = "q2", kind = "quantile", period = 1000000, q = 0.9 } }\n' >"$work/q.lua"
expect 2 "the windows of 2 features .* needs about 123 MB, more than the memory budget of 50 MB" \
  "$onepath" --max-memory 50 enrich --data "$work/again/BTC.csv" --features "$work/q.lua" --out "$work/q.csv"

[ "$failures" -eq 0 ] && echo "cli data: all checks passed"
exit $((failures > 0))
