#!/usr/bin/env bash
# The journal end to end: a backtest appears in `runs list`, `runs verify` passes on it,
# one changed candle makes verify report the data change, and a run killed with kill -9
# shows as failed with no results.
set -u
onepath=$(realpath "$1")
root=$2
work=$(mktemp -d)
trap 'kill -9 $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
db="$work/journal.db"

"$onepath" --log-level warn data gen --out "$work/market" --symbols BTC,ETH --bars 4000 --seed 7 >/dev/null || fail "data gen"
cat >"$work/run.toml" <<TOML
[data]
symbols = ["BTC", "ETH"]
dir = "$work/market"
[strategy]
script = "$root/scripts/strategies/ema_crossover.lua"
scripts_root = "$root/scripts"
[output]
db = "$db"
TOML
out=$("$onepath" --log-level warn backtest "$work/run.toml" --no-progress 2>&1) || fail "backtest: $out"
grep -q "journal: run 1" <<<"$out" || fail "no journal line: $out"
"$onepath" runs --db "$db" list | grep -qE "^ +1 .* complete .* BTC,ETH" || fail "run 1 not listed as complete"
out=$("$onepath" runs --db "$db" verify 1 2>&1) || fail "verify failed: $out"
grep -q "VERIFIED" <<<"$out" || fail "verify did not verify: $out"
"$onepath" runs --db "$db" export 1 --format csv --out "$work/t.csv" && [ "$(wc -l <"$work/t.csv")" -gt 1 ] || fail "export csv"
"$onepath" runs --db "$db" export 1 --format json | grep -q '"feature_set_version"' || fail "export json"

# One candle changed: verify reports the data change and exits 1.
sed -i '200s/,\([0-9.]*\),\([0-9.]*\)$/,\1,999999/' "$work/market/ETH.csv"
out=$("$onepath" runs --db "$db" verify 1 2>&1); rc=$?
[ $rc -eq 1 ] || fail "verify on changed data exited $rc"
grep -q "DATA CHANGED" <<<"$out" || fail "verify did not report the data change: $out"

# kill -9 in the middle of a run: it shows as failed and no trade of it is visible.
mkdir -p "$work/s/strategies"
cat >"$work/s/strategies/slow.lua" <<'LUA'
local S = { features = { { name = "e", kind = "ema", period = 5 } } }
function S.on_bar(ctx, bar, f)
  local x = 0
  for i = 1, 2000000 do x = x + i end   -- about 1 ms a bar: the run lasts seconds, long enough to be killed
  if ctx.position == 0 and bar.index % 10 == 0 then ctx:buy{ size = 0.1 } elseif ctx.position > 0 then ctx:close() end
end
return S
LUA
"$onepath" --log-level warn backtest "$work/run.toml" --no-progress --set "strategy.script=$work/s/strategies/slow.lua" \
  --set "strategy.scripts_root=$work/s" >/dev/null 2>&1 &
child=$!
for _ in $(seq 1 200); do   # wait for the run to be recorded as running (a condition, with a bound)
  "$onepath" runs --db "$db" list 2>/dev/null | grep -qE "^ +2 .* running" && break
  sleep 0.05
done
"$onepath" runs --db "$db" list | grep -qE "^ +2 .* running" || fail "run 2 never showed as running"
kill -9 "$child"
wait "$child" 2>/dev/null
out=$("$onepath" runs --db "$db" list)
grep -qE "^ +2 .* failed \(process gone\)" <<<"$out" || fail "killed run not shown as failed: $out"
"$onepath" runs --db "$db" show 2 | grep -q "rows      0 trades, 0 equity marks, 0 decisions, 1 events" || fail "killed run shows results"
"$onepath" runs --db "$db" show 1 | grep -q "decisions, 2 events" || fail "run 1 lacks its start and complete events"
out=$("$onepath" runs --db "$db" verify 2 2>&1); rc=$?
[ $rc -eq 2 ] || fail "verify of a killed run exited $rc: $out"

# Ctrl-C during a backtest: it stops, says so, exits 130, the run is journaled as
# interrupted, and no output file (whole or temporary) is left.
"$onepath" --log-level warn backtest "$work/run.toml" --no-progress --set "strategy.script=$work/s/strategies/slow.lua" \
  --set "strategy.scripts_root=$work/s" --set "output.dir=$work/int" >"$work/int.out" 2>&1 &
child=$!
for _ in $(seq 1 200); do
  "$onepath" runs --db "$db" list 2>/dev/null | grep -qE " running " && break
  sleep 0.05
done
kill -INT "$child"
wait "$child"; rc=$?
[ $rc -eq 130 ] && grep -q "^interrupted" "$work/int.out" || fail "Ctrl-C: exit $rc, $(cat "$work/int.out")"
"$onepath" runs --db "$db" list | grep -qE " interrupted " || fail "the run is not journaled as interrupted: $("$onepath" runs --db "$db" list)"
[ -z "$(ls -A "$work/int" 2>/dev/null)" ] || fail "an interrupted backtest left files: $(ls -A "$work/int")"
# data gen: the same, and no temporary file left behind
"$onepath" data gen --out "$work/big" --symbols BTC,ETH,SOL --bars 2000000 >/dev/null 2>"$work/gen.err" &
child=$!
for _ in $(seq 1 100); do ls "$work/big" 2>/dev/null | grep -q tmp && break; sleep 0.05; done
kill -INT "$child"
wait "$child"; rc=$?
[ $rc -eq 130 ] || fail "Ctrl-C during data gen: exit $rc, $(cat "$work/gen.err")"
! ls "$work/big" 2>/dev/null | grep -q "\.tmp\." || fail "data gen left temporary files: $(ls "$work/big")"

# Read-only commands create nothing: no journal is "no journal at PATH", exit 2.
mkdir "$work/empty"
out=$(cd "$work/empty" && "$onepath" runs list 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "no journal at runs/onepath.db" <<<"$out" || fail "runs list in an empty folder: exit $rc, $out"
out=$(cd "$work/empty" && "$onepath" runs --db typo/x.db show 1 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "no journal at typo/x.db" <<<"$out" || fail "runs --db typo: exit $rc, $out"
[ -z "$(ls -A "$work/empty")" ] || fail "a read-only command created: $(ls -A "$work/empty")"

# A run that never started (bad data) is not journaled; an output folder that cannot be
# written is found before the run.
before=$("$onepath" runs --db "$db" list | wc -l)
printf 'ts,open,high,low,close,volume\n2024-01-01T00:00:00Z,1,1,1,1,1\n2024-01-01T00:00:00Z,1,1,1,1,1\n' >"$work/dup.csv"
out=$("$onepath" --log-level warn backtest "$work/run.toml" --no-progress --set "data.files.BTC=$work/dup.csv" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "bad data: exit $rc, $out"
touch "$work/a-file"
out=$("$onepath" --log-level warn backtest "$work/run.toml" --no-progress --set "output.dir=$work/a-file" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "cannot be a folder" <<<"$out" || fail "output.dir is a file: exit $rc, $out"
[ "$("$onepath" runs --db "$db" list | wc -l)" -eq "$before" ] || fail "input errors were journaled: $("$onepath" runs --db "$db" list)"

# runs delete: all named runs exist, or nothing is deleted.
out=$("$onepath" runs --db "$db" delete 2 99 2>&1); rc=$?
[ $rc -eq 2 ] && "$onepath" runs --db "$db" show 2 >/dev/null || fail "delete with an unknown id: exit $rc, $out"
"$onepath" runs --db "$db" delete 2 | grep -q "deleted run 2" || fail "delete 2"
out=$("$onepath" runs --db "$db" show 2 2>&1); rc=$?
[ $rc -eq 2 ] || fail "run 2 still there: $out"

# verify gives the same answer from anywhere: a run of a project with relative paths,
# verified from another folder and from a subfolder.
mkdir -p "$work/proj/strategies" "$work/proj/sub"
cp -r "$work/market" "$work/proj/market"
cp "$root/scripts/strategies/ema_crossover.lua" "$work/proj/strategies/"
printf '[data]\nsymbols = ["BTC"]\ndir = "market"\n[strategy]\nscript = "strategies/ema_crossover.lua"\nscripts_root = "."\n[output]\ndb = "%s"\n' "$db" >"$work/proj/run.toml"
out=$(cd "$work/proj" && "$onepath" --log-level warn backtest run.toml --no-progress 2>&1) || fail "project backtest: $out"
pid=$(grep -o 'journal: run [0-9]*' <<<"$out" | grep -o '[0-9]*$')
for where in / "$work/proj/sub"; do
  out=$(cd "$where" && "$onepath" runs --db "$db" verify "$pid" 2>&1) || fail "verify from $where: $out"
  grep -q "VERIFIED" <<<"$out" || fail "verify from $where: $out"
done

# runs export --out: a symlink stays a symlink, a FIFO is streamed to, '-' and /dev/stdout are stdout.
touch "$work/real.csv"
ln -s "$work/real.csv" "$work/link.csv"
"$onepath" runs --db "$db" export 1 --out "$work/link.csv" || fail "export to a symlink"
[ -L "$work/link.csv" ] && [ "$(wc -l <"$work/real.csv")" -gt 1 ] || fail "the symlink was replaced or its target not written"
mkfifo "$work/fifo"
cat "$work/fifo" >"$work/from-fifo.csv" &
reader=$!
"$onepath" runs --db "$db" export 1 --out "$work/fifo" || fail "export to a FIFO"
wait $reader
[ -p "$work/fifo" ] && cmp -s "$work/from-fifo.csv" "$work/real.csv" || fail "the FIFO was replaced or got other bytes"
[ "$("$onepath" runs --db "$db" export 1 --out - | wc -l)" -eq "$(wc -l <"$work/real.csv")" ] || fail "--out - is not stdout"
[ "$("$onepath" runs --db "$db" export 1 --out /dev/stdout | wc -l)" -eq "$(wc -l <"$work/real.csv")" ] || fail "--out /dev/stdout"

# The journal shows what a run was: show prints the config and the files' SHA-256; compare
# diffs them before the metrics; verify names the file that changed since the run.
out=$("$onepath" runs --db "$db" show "$pid")
grep -q "files (SHA-256):" <<<"$out" && grep -q "proj/strategies/ema_crossover.lua" <<<"$out" && grep -q 'dir = .market.' <<<"$out" ||
  fail "runs show lacks the config or the files: $out"
out=$(cd "$work/proj" && "$onepath" --log-level warn backtest run.toml --no-progress --set strategy.params.fast=9 2>&1) || fail "second run: $out"
pid2=$(grep -o 'journal: run [0-9]*' <<<"$out" | grep -o '[0-9]*$')
out=$("$onepath" runs --db "$db" compare "$pid" "$pid2")
grep -q "^config: differ" <<<"$out" && grep -q "+ *fast = 9" <<<"$out" && grep -q "^files: identical" <<<"$out" || fail "compare: $out"
sed -i 's/size = S.params.size/size = S.params.size \/ 2/' "$work/proj/strategies/ema_crossover.lua"
out=$("$onepath" runs --db "$db" verify "$pid" 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q "changed since the run: .*proj/strategies/ema_crossover.lua" <<<"$out" || fail "verify after an edit: exit $rc, $out"

# runs prune: the newest N stay.
total=$("$onepath" runs --db "$db" list --limit 1000 | tail -n +2 | wc -l)
out=$("$onepath" runs --db "$db" prune --keep 2 --dry-run) || fail "prune --dry-run: $out"
[ "$("$onepath" runs --db "$db" list --limit 1000 | tail -n +2 | wc -l)" -eq "$total" ] || fail "a dry run deleted runs"
"$onepath" runs --db "$db" prune --keep 2 >/dev/null || fail "prune --keep 2"
[ "$("$onepath" runs --db "$db" list --limit 1000 | tail -n +2 | wc -l)" -eq 2 ] || fail "prune kept other than 2: $("$onepath" runs --db "$db" list)"
out=$("$onepath" runs --db "$db" prune 2>&1); rc=$?
[ $rc -eq 2 ] || fail "prune without a rule: exit $rc, $out"

# Options on either side of the subcommand: runs list --db X, --log-level after the command.
"$onepath" runs list --db "$db" | grep -qE "^ +[0-9]+ +backtest" || fail "runs list --db X"
out=$("$onepath" runs --db "$db" list --log-level warn 2>&1) || fail "--log-level after the subcommand: $out"

[ "$failures" -eq 0 ] && echo "cli journal: all checks passed"
exit $((failures > 0))
