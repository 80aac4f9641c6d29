#!/usr/bin/env bash
# onepath sweep from the command line: the shipped example runs and writes its files, the
# ranking as JSON; kill -9 mid-sweep and the same command runs only the missing cells, each
# recorded once, with the results of an uninterrupted sweep; [sweep] inside a RUN.toml; bad
# input is exit 2 with the key named.
set -u
onepath=$(realpath "$1")
root=$2
work=$(mktemp -d)
trap 'kill -9 $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
cd "$work" || exit 1

out=$("$onepath" sweep "$root/examples/sweep.toml" --db "$work/j.db" --out "$work/example" 2>&1) || fail "examples/sweep.toml: $out"
grep -q "432 cells (18 points x 2 variants x 3 symbols x 4 folds)" <<<"$out" || fail "example: $out"
[ "$(wc -l <"$work/example/cells.csv")" -eq 433 ] || fail "cells.csv: $(wc -l <"$work/example/cells.csv") lines"
grep -q '"ranking"' "$work/example/ranking.json" || fail "ranking.json"
# the dossier, written by the sweep itself and by sweep report from the journal
for f in report.html report.json choices.csv; do [ -s "$work/example/$f" ] || fail "the sweep wrote no $f"; done
grep -q "the best 3 choices' 36 cells run again: 36 reproduced their recorded ledgers" <<<"$out" || fail "the dossier's lines: $out"
out=$("$onepath" sweep report 1 --db "$work/j.db" --out "$work/report" 2>&1) || fail "sweep report: $out"
grep -q "432 of 432 cells recorded; 36 choices" <<<"$out" && grep -q "deflated Sharpe ratio " <<<"$out" && grep -q "PBO (CSCV) [0-9.]*: " <<<"$out" &&
  grep -q "variant long_cooldown vs base: " <<<"$out" && grep -q "wrote $work/report/report.html" <<<"$out" || fail "sweep report: $out"
cmp -s "$work/example/report.json" "$work/report/report.json" || fail "sweep report and the sweep wrote different dossiers: $(diff "$work/example/report.json" "$work/report/report.json" | head -4)"
[ "$(tr -d ' \n' <"$work/report/report.json" | grep -o '"heatmaps":\[{"column_values"' | wc -l)" -eq 1 ] || fail "report.json heatmaps"
[ "$(wc -l <"$work/report/choices.csv")" -eq 37 ] || fail "choices.csv: $(wc -l <"$work/report/choices.csv") lines"
out=$("$onepath" sweep report 99 --db "$work/j.db" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "no sweep run 99" <<<"$out" || fail "report of no such sweep: exit $rc, $out"
"$onepath" sweep status 1 --db "$work/j.db" | grep -q "sweep run 1 .*: complete, 432 cells recorded" || fail "status: $("$onepath" sweep status 1 --db "$work/j.db" 2>&1)"
json=$("$onepath" sweep "$root/examples/sweep.toml" --no-journal --json --workers 1 --out "$work/one" 2>&1) || fail "--json: $json"
grep -q '^{"aggregate":"mean",.*"ranking":\[{' <<<"$json" || fail "--json: $json"
cmp -s "$work/example/cells.csv" "$work/one/cells.csv" || fail "1 worker and the default gave other cells"

# sweep best: the first choice's keys on the swept RUN.toml, a RUN.toml that runs
out=$("$onepath" sweep best 1 --db "$work/j.db" --out "$work/best.toml" 2>&1) || fail "sweep best: $out"
grep -q "wrote $work/best.toml: choice 1 of sweep run 1 (sharpe = " <<<"$out" || fail "sweep best: $out"
first=$(tr -d ' \n' <"$work/example/ranking.json" | grep -o '"sets":\[[^]]*\]' | head -1)
[ "$(grep -o '"[a-z_.0-9]*=[^"]*"' <<<"$first" | wc -l)" -eq 4 ] || fail "the first choice's keys: $first"
for kv in $(grep -o '"[a-z_.0-9]*=[^"]*"' <<<"$first" | tr -d '"'); do
  grep -q "^#   $kv$" "$work/best.toml" || fail "best.toml does not name $kv: $(head -8 "$work/best.toml")"
  k=${kv%%=*} v=${kv#*=}
  grep -q "^ *${k##*.} = $v$" "$work/best.toml" || fail "best.toml does not set $kv: $(cat "$work/best.toml")"
done
grep -q "^\[sweep\]" "$work/best.toml" && fail "best.toml kept a [sweep] table"
"$onepath" backtest "$work/best.toml" --no-journal --set output.dir= >/dev/null 2>&1 || fail "a backtest of best.toml: $("$onepath" backtest "$work/best.toml" --no-journal 2>&1 | tail -2)"

# kill -9 in the middle, then the same command: only the missing cells run
cat >"$work/long.toml" <<TOML
[sweep]
run = "$root/examples/quickstart.toml"
[sweep.space]
"strategy.params.fast" = { from = 6, to = 16, step = 2 }
"strategy.params.slow" = [30, 40]
[sweep.folds]
train = 0
test = 500
TOML
"$onepath" sweep "$work/long.toml" --no-journal --workers 2 --out "$work/straight" >/dev/null 2>&1 || fail "the long sweep, uninterrupted"
total=$(($(wc -l <"$work/straight/cells.csv") - 1))
"$onepath" sweep "$work/long.toml" --db "$work/k.db" --workers 1 --out "$work/killed" >"$work/k1.log" 2>&1 &
pid=$!
n=0
for _ in $(seq 1 2000); do
  n=$("$onepath" sweep status 1 --db "$work/k.db" --json 2>/dev/null | grep -o '"cells_recorded":[0-9]*' | cut -d: -f2)
  [ "${n:-0}" -ge 40 ] && break
  sleep 0.02
done
kill -0 $pid 2>/dev/null || fail "the sweep ended before it could be killed ($n of $total recorded): $(cat "$work/k1.log")"
kill -9 $pid
wait $pid 2>/dev/null
# its worker processes die with it (none is left running cells for no one)
for _ in $(seq 1 100); do pgrep -f "sweep $work/long.toml --db $work/k.db" >/dev/null || break; sleep 0.05; done
pgrep -f "sweep $work/long.toml --db $work/k.db" >/dev/null && fail "worker processes outlived the killed sweep: $(pgrep -af "long.toml")"
"$onepath" sweep status 1 --db "$work/k.db" | grep -q "failed (process gone)" || fail "a killed sweep: $("$onepath" sweep status 1 --db "$work/k.db" 2>&1)"
out=$("$onepath" sweep best 1 --db "$work/k.db" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "run it to the end first" <<<"$out" || fail "sweep best of an unfinished sweep: exit $rc, $out"
out=$("$onepath" sweep "$work/long.toml" --db "$work/k.db" --workers 2 --out "$work/resumed" 2>&1) || fail "the resumed sweep: $out"
grep -q "resuming sweep run 1: [0-9]* cells recorded" <<<"$out" || fail "not resumed: $out"
before=$(grep -o "resuming sweep run 1: [0-9]*" <<<"$out" | grep -o "[0-9]*$")
grep -q "journal: run 1 ($((total - before)) cells run now, $before recorded before)" <<<"$out" || fail "cells run again: $out"
"$onepath" sweep status 1 --db "$work/k.db" | grep -q "complete, $total cells recorded" || fail "after the resume: $("$onepath" sweep status 1 --db "$work/k.db" 2>&1)"
cmp -s "$work/straight/cells.csv" "$work/resumed/cells.csv" || fail "a resumed sweep's cells differ from an uninterrupted one's"

# Ctrl-C: the workers stop after their cells, exit 130, the run is interrupted and resumes
"$onepath" sweep "$work/long.toml" --db "$work/c.db" --workers 2 --out "$work/ctrlc" >"$work/c1.log" 2>&1 &
pid=$!
for _ in $(seq 1 2000); do
  n=$("$onepath" sweep status 1 --db "$work/c.db" --json 2>/dev/null | grep -o '"cells_recorded":[0-9]*' | cut -d: -f2)
  [ "${n:-0}" -ge 20 ] && break
  sleep 0.02
done
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 130 ] || fail "Ctrl-C: exit $rc: $(cat "$work/c1.log")"
"$onepath" sweep status 1 --db "$work/c.db" | grep -q ": interrupted, " || fail "Ctrl-C: $("$onepath" sweep status 1 --db "$work/c.db" 2>&1)"
out=$("$onepath" sweep "$work/long.toml" --db "$work/c.db" --workers 2 --out "$work/ctrlc" 2>&1) || fail "resumed after Ctrl-C: $out"
cmp -s "$work/straight/cells.csv" "$work/ctrlc/cells.csv" || fail "a sweep resumed after Ctrl-C differs from an uninterrupted one"

# [sweep] inside the RUN.toml: the backtest ignores it, the sweep reads it
sed "s|scripts/strategies|$root/scripts/strategies|; s|scripts/filters|$root/scripts/filters|" "$root/examples/quickstart.toml" >"$work/inside.toml"
printf '\n[sweep]\nsymbols = "all"\n[sweep.space]\n"strategy.params.fast" = [8, 12]\n' >>"$work/inside.toml"
"$onepath" backtest "$work/inside.toml" --no-journal --set output.dir= >/dev/null 2>&1 || fail "a backtest of a RUN.toml with [sweep]: $("$onepath" backtest "$work/inside.toml" --no-journal 2>&1 | tail -2)"
out=$("$onepath" sweep "$work/inside.toml" --no-journal --out "$work/inside" 2>&1) || fail "[sweep] inside: $out"
grep -q "2 cells (2 points x 1 variants x 1 market x 1 folds)" <<<"$out" || fail "[sweep] inside: $out"

# bad input: exit 2, the key named
printf '[sweep]\nrun = "%s"\nobjectiv = "sharpe"\n' "$root/examples/quickstart.toml" >"$work/bad.toml"
out=$("$onepath" sweep "$work/bad.toml" --no-journal 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "unknown key 'sweep.objectiv'" <<<"$out" || fail "a misspelt key: exit $rc, $out"
printf '[sweep]\nrun = "%s"\n[sweep.space]\n"data.timeframe" = ["1h"]\n' "$root/examples/quickstart.toml" >"$work/bad.toml"
out=$("$onepath" sweep "$work/bad.toml" --no-journal 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "cannot change \[data\]" <<<"$out" || fail "a data key: exit $rc, $out"

[ $failures -eq 0 ] && echo "sweep CLI: all checks passed"
exit $((failures > 0))
