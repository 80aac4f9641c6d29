#!/usr/bin/env bash
# onepath backtest end to end: outputs, determinism, config errors with key paths, script
# failures with exit 1 and nothing written.
set -u
onepath=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
expect() {  # expect CODE PATTERN CMD...
  local code=$1 pattern=$2; shift 2
  local out rc
  out=$("$@" 2>&1); rc=$?
  [ "$rc" -eq "$code" ] || fail "'$*' exited $rc, expected $code: $out"
  [ -z "$pattern" ] || grep -qE -- "$pattern" <<<"$out" || fail "'$*' output lacks /$pattern/: $out"
}
cfg="$root/examples/quickstart.toml"
bt() { "$onepath" --log-level warn backtest "$cfg" --no-progress --set data.generate.bars=3000 --set "strategy.script=$root/scripts/strategies/ema_crossover.lua" "$@"; }

expect 0 "trades [0-9]+" bt --set "output.dir=$work/a"
for f in trades.csv equity.csv metrics.json; do [ -s "$work/a/$f" ] || fail "no $f"; done
bt --set "output.dir=$work/b" >/dev/null 2>&1
cmp -s "$work/a/trades.csv" "$work/b/trades.csv" || fail "two runs of the same config gave different ledgers"
cmp -s "$work/a/equity.csv" "$work/b/equity.csv" || fail "two runs gave different equity curves"
grep -q '"fill_mode": "next_open"' "$work/a/metrics.json" || fail "metrics.json lacks the fill mode"
# --no-journal skips the journal, nothing else: the output files are written.
expect 0 "wrote .*trades.csv" bt --no-journal --set "output.dir=$work/nj"
for f in trades.csv equity.csv metrics.json; do [ -s "$work/nj/$f" ] || fail "--no-journal wrote no $f"; done
cmp -s "$work/a/trades.csv" "$work/nj/trades.csv" || fail "--no-journal gave another ledger"
expect 0 "comparison only" bt --set execution.fill=close
expect 0 "" bt --set strategy.params.fast=9 --set execution.costs=clean

expect 2 "error: --set execution.fil=close: unknown key 'execution.fil'" bt --set execution.fil=close
expect 2 "'execution.taker_fee_bps' must be a number" bt --set execution.taker_fee_bps=cheap
expect 2 "'execution.fill' must be one of" bt --set execution.fill=later
expect 2 "no param 'fats' to set" bt --set strategy.params.fats=3
printf '[data]\nsymbols = ["BTC"]\n[data.generate]\nbars = 100\n' >"$work/nostrat.toml"
expect 2 "'strategy.script' is required" "$onepath" backtest "$work/nostrat.toml"
printf '[data\n' >"$work/broken.toml"
expect 2 "broken.toml:1:" "$onepath" backtest "$work/broken.toml"

# A script that fails: exit 1, the message names the script, the line and the callback,
# and no output is written.
mkdir -p "$work/s/strategies"
printf 'local S = {params = {fast = 1, slow = 2}, features = {{name = "e", kind = "ema", period = 3}}}\nfunction S.on_bar(ctx, bar, f)\n  if bar.index > 50 then error("boom") end\nend\nreturn S\n' >"$work/s/strategies/boom.lua"
expect 1 "boom.lua:3: boom" bt --set "strategy.script=$work/s/strategies/boom.lua" --set "output.dir=$work/c"
[ ! -e "$work/c" ] || fail "a failed run wrote outputs"
printf 'local S = {params = {fast = 1, slow = 2}, features = {{name = "e", kind = "ema", period = 3}}}\nfunction S.on_bar(ctx, bar, f)\n  if bar.index > 50 then while true do end end\nend\nreturn S\n' >"$work/s/strategies/spin.lua"
expect 1 "spin.lua: on_bar ran longer than 300 ms" bt --set "strategy.script=$work/s/strategies/spin.lua" --set strategy.timeout_ms=300

# A CLI that forgives: unknown commands named with a suggestion, commands of commands
# given alone list what they have, help COMMAND.
expect 2 "unknown command 'backtes'; did you mean 'backtest'\?" "$onepath" backtes "$cfg"
expect 2 "unknown command 'lst'; did you mean 'list'\?" "$onepath" runs --db "$work/none.db" lst
# an unknown option is named (CLI11 alone read '--timefrane 15m' as a file '15m'), with the closest one
expect 2 "unknown option --timefrane; did you mean --timeframe\? \('onepath data check --help' lists them\)" "$onepath" data check "$cfg" --timefrane 15m
expect 2 "unknown option --log-levl; did you mean --log-level\?" "$onepath" --log-levl warn runs list
expect 2 "unknown option --no-jornal; did you mean --no-journal\?" "$onepath" backtest "$cfg" --no-jornal
expect 2 "Subcommands:.*" "$onepath" runs
expect 2 "prune" "$onepath" runs
expect 0 "Usage: backtest" "$onepath" help backtest
expect 0 "Usage: runs list" "$onepath" help runs list

# A full disk while the files are written (a file size limit stands in for it): exit 1, the
# run failed in the journal, no file of the set left.
out=$(trap '' XFSZ; ulimit -f 400; "$onepath" --log-level warn backtest "$cfg" --no-progress --db "$work/full.db" \
  --set data.generate.bars=20000 --set "output.dir=$work/full" 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q "its files could not be written" <<<"$out" || fail "a full disk: exit $rc, $out"
[ -e "$work/full" ] && fail "a full disk left files: $(ls "$work/full")"
"$onepath" runs list --db "$work/full.db" | grep -q "failed" || fail "a full disk: the run is not failed: $("$onepath" runs list --db "$work/full.db")"

# Someone else's folder: a config run from there takes nothing of it (issue 23). Its
# scripts/ and plugins/ would stop the run or write a mark if they were loaded.
mkdir -p "$work/evil/scripts/strategies" "$work/evil/plugins" "$work/proj"
echo 'error("loaded from the current folder")' >"$work/evil/scripts/strategies/ema_crossover.lua"
printf 'int mark(void) __attribute__((constructor));\nint mark(void) { return system("touch %s/evil/ran"); }\n' "$work" >"$work/evil/mark.c"
cc -shared -fPIC -include stdlib.h -o "$work/evil/plugins/ta_extra.so" "$work/evil/mark.c" 2>/dev/null || fail "cannot build the trap plugin"
cp "$cfg" "$work/proj/run.toml"   # its scripts are relative: shipped names
printf '[[plugins]]\npath = "plugins/ta_extra.so"\n' | cat - "$work/proj/run.toml" >"$work/proj/with_plugin.toml"
cd "$work/evil" || exit 1
expect 0 "trades [0-9]+" "$onepath" --log-level warn backtest "$work/proj/run.toml" --no-progress --no-journal \
  --set data.generate.bars=2000 --set "output.dir=$work/evil/out"
expect 2 "proj/plugins/ta_extra.so" "$onepath" --log-level warn backtest "$work/proj/with_plugin.toml" --no-progress --no-journal \
  --set data.generate.bars=2000 --set "output.dir=$work/evil/out2"
cd - >/dev/null || exit 1
[ -e "$work/evil/ran" ] && fail "a plugin in the current folder was loaded"

[ "$failures" -eq 0 ] && echo "cli backtest: all checks passed"
exit $((failures > 0))
