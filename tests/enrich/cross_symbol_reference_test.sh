#!/usr/bin/env bash
# Features of another symbol against an independent reference: a plain awk script computes
# BTC's columns from BTC's candles and joins them onto ETH's bars by exact close time (a bar
# BTC does not have gives NaN; `lag` 2 reads the bar two hours earlier), on generated hourly
# data with gaps in both symbols. onepath enrich must give the same values, batch and stream.
set -u
onepath=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

"$onepath" --log-level warn data gen --out "$work" --symbols BTC,ETH --bars 3000 --timeframe 1h --seed 3 --ts-format ms >/dev/null || fail "data gen"
for s in BTC ETH; do  # the test means something only when both have gaps
  gaps=$(awk -F, 'NR > 2 && $1 - prev > 3600000 { g++ } NR > 1 { prev = $1 } END { print g + 0 }' "$work/$s.csv")
  [ "$gaps" -gt 0 ] || fail "$s has no gaps: the generated data no longer tests a missing bar"
done
cat >"$work/features.lua" <<'LUA'
return {
  { name = "ret_4", kind = "returns", period = 4 },
  { name = "btc_ret_4", kind = "returns", period = 4, symbol = "BTC" },
  { name = "btc_ret_4_l2", kind = "returns", period = 4, symbol = "BTC", lag = 2 },
  { name = "btc_sma", kind = "sma", period = 10, symbol = "BTC" },
}
LUA
for mode in batch stream; do
  "$onepath" --log-level warn enrich --data "$work/ETH.csv" --with BTC="$work/BTC.csv" --features "$work/features.lua" --mode $mode \
    --out "$work/$mode.csv" >/dev/null || fail "enrich --mode $mode"
done
cmp -s "$work/batch.csv" "$work/stream.csv" || fail "batch and stream files differ"

# The reference: BTC's rows by time; ETH's rows in order; NaN where BTC has no bar.
awk -F, -v tf=3600000 '
  FNR == 1 { next }
  FILENAME ~ /BTC.csv$/ {
    n++; c[n] = $5 + 0; row[sprintf("%.0f", $1)] = n  # integral keys: a number would become "1.70925e+12"
    r4[n] = n > 4 ? c[n] / c[n - 4] - 1 : "nan"
    if (n >= 10) { s = 0; for (k = n - 9; k <= n; k++) s += c[k]; sma[n] = s / 10 } else sma[n] = "nan"
    next
  }
  {
    m++; e[m] = $5 + 0; t = sprintf("%.0f", $1); t2 = sprintf("%.0f", $1 - 2 * tf)
    own = m > 4 ? e[m] / e[m - 4] - 1 : "nan"
    j = (t in row) ? row[t] : 0; j2 = (t2 in row) ? row[t2] : 0
    printf "%s,%s,%s,%s\n", (own == "nan" ? own : sprintf("%.17g", own)), (j ? r4[j] == "nan" ? "nan" : sprintf("%.17g", r4[j]) : "nan"),
      (j2 ? r4[j2] == "nan" ? "nan" : sprintf("%.17g", r4[j2]) : "nan"), (j ? sma[j] == "nan" ? "nan" : sprintf("%.17g", sma[j]) : "nan")
  }' "$work/BTC.csv" "$work/ETH.csv" >"$work/reference.csv"

tail -n +2 "$work/batch.csv" | cut -d, -f2- | paste -d'|' - "$work/reference.csv" | awk -F'|' '
  function bad(v) { return v == "" || v == "nan" }
  {
    split($1, got, ","); split($2, want, ",")
    for (k = 1; k <= 4; k++) {
      compared++
      if (bad(got[k]) != bad(want[k])) { print "row " NR " column " k ": onepath " got[k] ", reference " want[k]; wrong++; continue }
      if (bad(got[k])) { nans++; continue }
      d = got[k] - want[k]; if (d < 0) d = -d; w = want[k] < 0 ? -want[k] : want[k]
      if (d > 1e-12 * w && d > 1e-15) { print "row " NR " column " k ": onepath " got[k] ", reference " want[k]; wrong++ }
    }
  }
  END { print compared " values compared, " nans " NaN in both"; exit wrong > 0 }' >"$work/compare.txt" || fail "onepath differs from the reference: $(head -5 "$work/compare.txt")"
cat "$work/compare.txt" | tail -1
[ "$(wc -l <"$work/reference.csv")" -eq "$(($(wc -l <"$work/batch.csv") - 1))" ] || fail "one row per ETH candle expected"

# Errors: the symbol read must be given; --with must be SYMBOL=FILE.
out=$("$onepath" enrich --data "$work/ETH.csv" --features "$work/features.lua" --out "$work/x.csv" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "no --with exited $rc"
grep -q "read symbol 'BTC'; give its candles with --with BTC=FILE" <<<"$out" || fail "no --with message: $out"
out=$("$onepath" enrich --data "$work/ETH.csv" --with "$work/BTC.csv" --features "$work/features.lua" --out "$work/x.csv" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "give SYMBOL=FILE" <<<"$out" || fail "a --with without SYMBOL=: rc $rc, $out"
printf 'return {{ name = "x", kind = "returns", period = 4, lag = 1 }}\n' >"$work/lag.lua"
out=$("$onepath" enrich --data "$work/ETH.csv" --features "$work/lag.lua" --out "$work/x.csv" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "'lag' shifts another symbol's feature" <<<"$out" || fail "lag without symbol: rc $rc, $out"

[ $failures -eq 0 ] && echo "cross-symbol reference: all checks passed"
exit $((failures > 0))
