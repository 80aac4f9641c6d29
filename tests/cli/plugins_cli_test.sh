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

[ "$failures" -eq 0 ] && echo "cli plugins: all checks passed"
exit $((failures > 0))
