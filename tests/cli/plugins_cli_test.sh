#!/usr/bin/env bash
# Plugins from the command line: the documented examples run, plugins list / inspect show
# what plugins add, bad plugin files are exit 2 with the file named.
set -u
onepath=$(realpath "$1")
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
plugins=$(dirname "$onepath")/plugins

# examples/plugins.toml names build/plugins/...: run it from a tree whose build/ is this one.
mkdir -p "$work/tree"
ln -s "$root/examples" "$work/tree/examples"
ln -s "$root/scripts" "$work/tree/scripts"
ln -s "$(dirname "$onepath")" "$work/tree/build"
out=$(cd "$work/tree" && "$onepath" --log-level warn backtest examples/plugins.toml --no-progress --set output.db="$work/j.db" 2>&1) ||
  fail "examples/plugins.toml: $out"
grep -qE "trades [1-9]" <<<"$out" || fail "examples/plugins.toml made no trades: $out"
grep -qE "decisions [0-9]+ \([0-9]+ placed\)" <<<"$out" || fail "no decisions line: $out"
out=$(cd "$work/tree" && "$onepath" plugins list --config examples/plugins.toml 2>&1) || fail "plugins list: $out"
grep -qE "supertrend +/.*/ta_extra.so" <<<"$out" || fail "plugins list lacks supertrend: $out"
grep -qE "vol_regime +/.*/regime.so" <<<"$out" || fail "plugins list lacks vol_regime: $out"
grep -qE "ema +built-in" <<<"$out" || fail "plugins list lacks the built-in ema: $out"
out=$("$onepath" plugins inspect "$plugins/csv_tail.so" 2>&1) || fail "inspect: $out"
grep -q "feeds       csv_tail" <<<"$out" || fail "inspect csv_tail: $out"

printf 'not a plugin\n' >"$work/fake.so"
"$onepath" plugins inspect "$work/fake.so" >/dev/null 2>"$work/err"; rc=$?
[ $rc -eq 2 ] && grep -q "fake.so: not a loadable plugin" "$work/err" || fail "a fake plugin: exit $rc, $(cat "$work/err")"
cat >"$work/bad.toml" <<TOML
[[plugins]]
path = "$work/fake.so"
[data]
symbols = ["BTC"]
[data.generate]
bars = 100
[strategy]
script = "$root/scripts/strategies/ema_crossover.lua"
TOML
"$onepath" backtest "$work/bad.toml" --no-journal >/dev/null 2>"$work/err"; rc=$?
[ $rc -eq 2 ] && grep -q "fake.so: not a loadable plugin" "$work/err" || fail "a config with a fake plugin: exit $rc, $(cat "$work/err")"
sed -i 's/^\[strategy\]/[[filters]]\nkind = "vol_regim"\n[strategy]/; s|path = .*|path = "'"$plugins"'/regime.so"|' "$work/bad.toml"
"$onepath" backtest "$work/bad.toml" --no-journal >/dev/null 2>"$work/err"; rc=$?
[ $rc -eq 2 ] && grep -q '"vol_regime"' "$work/err" || fail "a misspelt plugin filter kind: exit $rc, $(cat "$work/err")"

# enrich and indicators take plugin kinds: --plugin (repeatable), or a config's [[plugins]].
"$onepath" --log-level warn data gen --out "$work/market" --symbols BTC --bars 600 >/dev/null || fail "data gen"
printf 'return { { name = "k", kind = "kama", period = 10 }, { name = "st", kind = "supertrend" } }\n' >"$work/pf.lua"
"$onepath" enrich --data "$work/market/BTC.csv" --features "$work/pf.lua" --out "$work/no.csv" >/dev/null 2>"$work/err"; rc=$?
[ $rc -eq 2 ] && grep -q "unknown indicator kind 'kama'" "$work/err" || fail "enrich without the plugin: exit $rc, $(cat "$work/err")"
for mode in batch stream; do
  "$onepath" --log-level warn enrich --data "$work/market/BTC.csv" --features "$work/pf.lua" --out "$work/pf.$mode.csv" --mode $mode \
    --plugin "$plugins/ta_extra.so" --plugin "$plugins/regime.so" >/dev/null 2>"$work/err" || fail "enrich --plugin ($mode): $(cat "$work/err")"
done
cmp -s "$work/pf.batch.csv" "$work/pf.stream.csv" || fail "enrich with plugin kinds: batch and stream differ"
head -1 "$work/pf.batch.csv" | grep -q "^ts,k,st_value,st_direction$" || fail "enrich --plugin columns: $(head -1 "$work/pf.batch.csv")"
(cd "$work/tree" && "$onepath" --log-level warn enrich --data "$work/market/BTC.csv" --features "$work/pf.lua" --out "$work/pf.config.csv" \
  --config examples/plugins.toml >/dev/null 2>"$work/err") || fail "enrich --config: $(cat "$work/err")"
cmp -s "$work/pf.batch.csv" "$work/pf.config.csv" || fail "enrich --config differs from --plugin"
out=$("$onepath" indicators --plugin "$plugins/ta_extra.so" kama 2>&1) || fail "indicators --plugin: $out"
grep -q "origin   .*ta_extra.so" <<<"$out" || fail "indicators --plugin kama: $out"

# A kind with a required function missing: refused when loaded, naming it (it segfaulted once).
test_plugins=$(dirname "$onepath")/tests/plugins
"$onepath" plugins inspect "$test_plugins/test_null_update.so" >/dev/null 2>"$work/err"; rc=$?
[ $rc -eq 2 ] && grep -q "kind 'test_null_update' has no 'update' function" "$work/err" || fail "a NULL update: exit $rc, $(cat "$work/err")"

# A plugin's update failing is the plugin's failure: exit 1, its file, kind and message, the run journaled failed.
{
  echo "ts,open,high,low,close,volume"
  for i in $(seq 10 59); do echo "2024-01-01T00:${i}:00Z,12,14,11,$([ "$i" = 40 ] && echo 13 || echo 12.5),100"; done
} >"$work/fails.csv"
cat >"$work/fails.toml" <<TOML
[[plugins]]
path = "$test_plugins/test_update_fails.so"
[data]
files = { X = "$work/fails.csv" }
timeframe = "1m"
[strategy]
script = "$work/fails.lua"
[output]
db = "$work/fails.db"
TOML
printf 'local S = { features = { { name = "t", kind = "test_failing" } } }\nfunction S.on_bar(ctx, bar, f) end\nreturn S\n' >"$work/fails.lua"
"$onepath" backtest "$work/fails.toml" --no-progress >/dev/null 2>"$work/err"; rc=$?
[ $rc -eq 1 ] && grep -q "plugin .*test_update_fails.so: indicator kind 'test_failing' failed at the candle of 2024-01-01T00:40:00Z: the lookup table is exhausted" "$work/err" ||
  fail "a failing plugin update: exit $rc, $(cat "$work/err")"
"$onepath" runs list --db "$work/fails.db" 2>&1 | grep -q "failed" || fail "the failed run is not in the journal: $("$onepath" runs list --db "$work/fails.db" 2>&1)"

[ "$failures" -eq 0 ] && echo "cli plugins: all checks passed"
exit $((failures > 0))
