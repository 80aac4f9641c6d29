#!/usr/bin/env bash
# The user's desk end to end (issue 16): quiet / verbose / NO_COLOR / JSON errors, --json
# summaries, numbers for people, indicators and strategies listed, init, completion, data
# ranges and several files per symbol, a folder per run, the progress line.
set -u
onepath=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
cd "$work" || exit 1
cfg="$root/examples/quickstart.toml"
small=(--set data.generate.bars=3000 --set "strategy.script=$root/scripts/strategies/ema_crossover.lua")
on_tty() { script -qec "$*" /dev/null; }  # a pseudo-terminal: progress bars and colours

# -q: the summary on stdout, nothing on stderr; -v: debug events; both: a usage error.
"$onepath" -q backtest "$cfg" "${small[@]}" >q.out 2>q.err || fail "-q backtest failed: $(cat q.err)"
grep -q "trades [0-9]" q.out || fail "-q hid the summary: $(cat q.out)"
[ ! -s q.err ] || fail "-q still wrote to stderr: $(cat q.err)"
"$onepath" data gen --out market --symbols BTC,ETH --bars 2000 >/dev/null 2>&1 || fail "data gen"
"$onepath" -v data check market/BTC.csv 2>&1 | grep -q "data_gap" || fail "-v shows no debug events"
"$onepath" data check market/BTC.csv 2>&1 | grep -q "data_gap" && fail "debug events without -v"
out=$("$onepath" -q -v runs list 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "contradict" <<<"$out" || fail "-q -v: exit $rc, $out"

# NO_COLOR: no escape codes on a terminal; without it the level is coloured.
esc=$(printf '\033')
on_tty "'$onepath' data check market/BTC.csv --timeframe 1h" >color.out 2>&1
grep -q "$esc\[" color.out || fail "no colour on a terminal (the check for NO_COLOR would prove nothing)"
on_tty "NO_COLOR=1 '$onepath' data check market/BTC.csv --timeframe 1h" >nocolor.out 2>&1
grep -q "$esc\[" nocolor.out && fail "NO_COLOR: escape codes on the terminal: $(od -c nocolor.out | head -3)"

# --log-format json: every line on stderr is JSON, the final error included.
for args in "backtest $work/none.toml" "backtes x" "runs --db $work/none.db list" "data check market/BTC.csv --timefrane 1h"; do
  "$onepath" --log-format json $args >/dev/null 2>json.err; rc=$?
  [ $rc -eq 2 ] || fail "--log-format json $args: exit $rc"
  [ -s json.err ] || fail "--log-format json $args: no error at all"
  grep -v '^{.*}$' json.err && fail "--log-format json $args: a line that is not JSON"
  grep -q '"exit_code":2' json.err || fail "--log-format json $args: the final error lacks its exit code: $(cat json.err)"
done

# A folder per run by default: the second run does not overwrite the first.
printf '[data]\nsymbols = ["BTC", "ETH"]\n[data.generate]\nbars = 3000\n[strategy]\nscript = "%s"\n' "$root/scripts/strategies/ema_crossover.lua" >mine.toml
"$onepath" -q backtest mine.toml "${small[@]}" >/dev/null 2>&1 || fail "first run"
"$onepath" -q backtest mine.toml "${small[@]}" --set strategy.params.fast=9 >/dev/null 2>&1 || fail "second run"
[ -s runs/mine/2/trades.csv ] && [ -s runs/mine/3/trades.csv ] || fail "no runs/mine/2 and runs/mine/3 (run 1 is the quickstart): $(find runs -name trades.csv)"
cmp -s runs/mine/2/trades.csv runs/mine/3/trades.csv && fail "the two runs' folders hold the same ledger"
out=$("$onepath" -q backtest mine.toml "${small[@]}" --no-journal 2>&1) || fail "--no-journal: $out"
grep -qE "wrote runs/mine/[0-9]{8}T[0-9]{6}" <<<"$out" || fail "--no-journal: not a folder named by the time: $out"

# --json summaries, full precision; people's numbers in runs show and compare.
"$onepath" -q backtest mine.toml "${small[@]}" --json >bt.json 2>&1 || fail "backtest --json: $(cat bt.json)"
grep -q '^{"run_id": 4, ' bt.json && grep -q '"metrics": {' bt.json && grep -q '"seconds": {"total": ' bt.json || fail "backtest --json: $(head -c 300 bt.json)"
"$onepath" runs list --json >list.json || fail "runs list --json"
[ "$(grep -o '"id": [0-9]*, "kind"' list.json | wc -l)" = 4 ] || fail "runs list --json lists $(grep -c '"id"' list.json) runs: $(head -c 300 list.json)"
"$onepath" runs show 1 --json >show.json || fail "runs show --json"
grep -q '^{"run": {"id": 1, ' show.json && grep -q '"files": \[{"sha256": ' show.json || fail "runs show --json: $(head -c 300 show.json)"
full=$(grep -o '"final_equity": [0-9.]*' show.json | head -1 | grep -o '[0-9.]*$')
"$onepath" runs show 1 >show.txt
grep -qE "^  final_equity +[0-9]+\.[0-9]{2}$" show.txt || fail "runs show: money not to the cent: $(grep final_equity show.txt)"
grep -qE "^  sharpe +-?[0-9]\.?[0-9]{0,3}$|^  sharpe +-?[0-9]{2}\.?[0-9]{0,2}$" show.txt || fail "runs show: sharpe not to 4 digits: $(grep sharpe show.txt)"
[ "${#full}" -gt 8 ] || fail "--json lost precision: final_equity $full"
"$onepath" runs compare 2 3 >cmp.txt
grep -q "feature_set_version" cmp.txt && grep -qE "^total_return +-?[0-9.e-]+ +-?[0-9.e-]+ +\*$" cmp.txt || fail "runs compare: $(cat cmp.txt)"
"$onepath" runs list | grep -q "$work/mine.toml" || fail "runs list cut the config's name: $("$onepath" runs list)"

# The catalogue.
out=$("$onepath" indicators) || fail "indicators"
for k in sma ema rsi bbands stoch calendar; do grep -q "^$k " <<<"$out" || fail "indicators lacks $k"; done
out=$("$onepath" indicators ema) || fail "indicators ema"
grep -q "param    period     required" <<<"$out" && grep -q "param    seed       default \"sma\"" <<<"$out" && grep -q "warm-up  11 candles" <<<"$out" || fail "indicators ema: $out"
out=$("$onepath" indicators emma 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "known: sma ema" <<<"$out" || fail "indicators emma: exit $rc, $out"
out=$("$onepath" strategies) || fail "strategies"
grep -q "params: fast=12, size=0.2, slow=26" <<<"$out" && grep -q "ema_crossover_9_21 .*fast=9, slow=21" <<<"$out" || fail "strategies: $out"

# init: a project that runs as is.
"$onepath" init proj >init.out || fail "init: $(cat init.out)"
(cd proj && "$onepath" -q backtest run.toml >../proj.out 2>&1) || fail "the new project does not run: $(cat proj.out)"
[ -s proj/runs/1/trades.csv ] || fail "the new project wrote no trades.csv"
sdk=$(grep -o '"/[^"]*sdk/lua"' proj/.luarc.json | tr -d '"')
[ -f "$sdk/onepath.lua" ] || fail ".luarc.json does not point at sdk/lua: $(cat proj/.luarc.json)"
out=$("$onepath" init proj 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "not an empty folder" <<<"$out" || fail "init over a project: exit $rc, $out"

# completion bash, from the command tree.
"$onepath" completion bash >completion.sh || fail "completion bash"
complete_words() { bash -c "source completion.sh; COMP_WORDS=($1); COMP_CWORD=$2; _onepath; echo \"\${COMPREPLY[*]}\""; }
[ "$(complete_words 'onepath backt' 1)" = "backtest" ] || fail "completion: 'backt' -> '$(complete_words 'onepath backt' 1)'"
[ "$(complete_words 'onepath runs l' 2)" = "list" ] || fail "completion: 'runs l'"
complete_words 'onepath runs list --' 3 | grep -q -- "--db" || fail "completion: runs list options lack --db"
complete_words 'onepath --log-level warn data ch' 4 | grep -q "check" || fail "completion after a global option"

# [data] start / end, and several files or a glob per symbol.
head -1 market/BTC.csv >BTC-a.csv; sed -n '2,1001p' market/BTC.csv >>BTC-a.csv
head -1 market/BTC.csv >BTC-b.csv; sed -n '1002,$p' market/BTC.csv >>BTC-b.csv
one=(--set "strategy.script=$root/scripts/strategies/ema_crossover.lua")
printf '[data]\nsymbols = ["BTC"]\nfiles = { BTC = "%s" }\n[strategy]\nscript = "x"\n[output]\ndir = ""\n' "market/BTC.csv" >whole.toml
printf '[data]\nsymbols = ["BTC"]\nfiles = { BTC = "%s" }\n[strategy]\nscript = "x"\n[output]\ndir = ""\n' "BTC-*.csv" >glob.toml
printf '[data]\nsymbols = ["BTC"]\nfiles = { BTC = ["BTC-b.csv", "BTC-a.csv"] }\n[strategy]\nscript = "x"\n[output]\ndir = ""\n' >list.toml
a=$("$onepath" -q backtest whole.toml "${one[@]}" --no-journal --json | grep -o '"candles": [0-9]*, "feature_set_version"[^}]*' | head -1)
for t in glob list; do
  b=$("$onepath" -q backtest $t.toml "${one[@]}" --no-journal --json 2>&1 | grep -o '"candles": [0-9]*, "feature_set_version"[^}]*' | head -1)
  [ -n "$a" ] && [ "$a" = "$b" ] || fail "$t.toml differs from the whole file: '$a' vs '$b'"
done
"$onepath" -q backtest whole.toml "${one[@]}" --no-journal --json | grep -o '"total_return": [^,]*' >whole.ret
"$onepath" -q backtest glob.toml "${one[@]}" --no-journal --json | grep -o '"total_return": [^,]*' >glob.ret
cmp -s whole.ret glob.ret || fail "a glob of two halves gives another return than the whole file"
mkdir -p elsewhere
(cd elsewhere && "$onepath" -q backtest ../glob.toml "${one[@]}" --no-journal --json | grep -o '"total_return": [^,]*') >elsewhere.ret 2>&1
cmp -s whole.ret elsewhere.ret || fail "a glob is not found beside its config from another folder: $(cat elsewhere.ret)"
out=$("$onepath" -q backtest glob.toml "${one[@]}" --no-journal --set 'data.files.BTC=["BTC-a.csv","market/BTC.csv"]' 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "may not overlap" <<<"$out" || fail "overlapping files: exit $rc, $out"
out=$("$onepath" -q backtest glob.toml "${one[@]}" --no-journal --set 'data.files.BTC=nothing-*.csv' 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "no file matches" <<<"$out" || fail "a glob matching nothing: exit $rc, $out"
start=$(sed -n '501p' market/BTC.csv | cut -d, -f1); end=$(sed -n '1501p' market/BTC.csv | cut -d, -f1)
out=$("$onepath" -q backtest whole.toml "${one[@]}" --no-journal --json --set "data.start=$start" --set "data.end=$end" 2>&1)
grep -q '"candles": 1000,' <<<"$out" || fail "[data] start/end: $(head -c 300 <<<"$out")"
out=$("$onepath" -q backtest whole.toml "${one[@]}" --no-journal --set "data.start=$end" --set "data.end=$start" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "is not after start" <<<"$out" || fail "end before start: exit $rc, $out"
out=$("$onepath" -q backtest whole.toml "${one[@]}" --no-journal --set "data.start=2030-01-01" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "no candles in \[data\] start..end" <<<"$out" || fail "a range without data: exit $rc, $out"

out=$("$onepath" backtest mine.toml --no-progress --no-journal --set data.generate.bars=20 --set output.dir= 2>&1) || fail "a short run: $out"
grep -q "data_shorter_than_warmup symbol=BTC candles=20 first_values=[0-9]* warmup_bars=[0-9]* settled_by=" <<<"$out" || fail "no warning for data shorter than the warm-up: $out"

# The progress line on a terminal ends with a newline, and the summary's time is the wall time.
on_tty "'$onepath' backtest mine.toml --set data.generate.bars=3000 --set strategy.script=$root/scripts/strategies/ema_crossover.lua" >tty.out 2>&1
tr -d '\r' <tty.out | grep -qE '100%.*ETA [0-9]+s *$' || fail "the progress line does not end at 100 % with a newline: $(tr '\r' '\n' <tty.out | tail -3)"
grep -qE "in [0-9.]+ s: run [0-9.]+ s .*data [0-9.]+ s, journal [0-9.]+ s, files [0-9.]+ s" tty.out || fail "the summary does not split the time: $(grep backtest tty.out)"

[ $failures -eq 0 ] && echo "desk CLI: all checks passed"
[ $failures -eq 0 ]
