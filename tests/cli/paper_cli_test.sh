#!/usr/bin/env bash
# Paper sessions end to end: the same trades as the backtest on the same data (Eq. 5);
# kill -9 at random points of a replay, restarted each time, ends with the ledger of a
# session never killed; SIGINT stops with a snapshot and the same command resumes; the
# generated feed runs until Ctrl-C; a pause file holds new entries.
set -u
onepath=$(realpath "$1")
root=$2
work=$(mktemp -d)
trap 'kill -9 $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
db="$work/journal.db"
cd "$work" || exit 1

cat >run.toml <<TOML
[data]
symbols = ["BTC", "ETH", "SOL"]
timeframe = "15m"
[data.generate]
bars = 6000
scenario = "stress"
seed = 5
[strategy]
script = "$root/scripts/strategies/ema_crossover.lua"
scripts_root = "$root/scripts"
[strategy.params]
fast = 5
slow = 13
[[filters]]
script = "$root/scripts/filters/max_entries_per_day.lua"
params = { limit = 3 }
[output]
db = "$db"
[paper]
port = -1
snapshot_every = 50
TOML
run_id() { grep -o 'journal: run [0-9]*' <<<"$1" | grep -o '[0-9]*$'; }
ledger() { "$onepath" runs --db "$db" export "$1" --format json | sed 1d; }  # all but the run's own header
rows() { "$onepath" runs --db "$db" show "$1" | grep "rows" | sed 's/, [0-9]* events//'; }  # events differ: resumes
started() { for _ in $(seq 200); do grep -q paper_start "$1" 2>/dev/null && return; sleep 0.05; done; }

# Eq. 5 from the command line: a replay at full speed is the backtest, trade for trade.
out=$("$onepath" --log-level warn backtest run.toml --no-progress 2>&1) || fail "backtest: $out"
bt=$(run_id "$out")
out=$("$onepath" --log-level warn paper run.toml --set paper.speed=max --set paper.dir=ref --no-progress 2>&1) || fail "paper: $out"
grep -q "paper session complete" <<<"$out" || fail "the replay did not complete: $out"
ref=$(run_id "$out")
"$onepath" runs --db "$db" compare "$bt" "$ref" | grep -q "trades: identical" || fail "paper and backtest trades differ"
[ "$(ledger "$bt" | sed 1,2d)" = "$(ledger "$ref" | sed 1,2d)" ] || fail "paper and backtest equity or trades differ"
[ "$(rows "$bt")" = "$(rows "$ref")" ] || fail "rows differ: $(rows "$bt") / $(rows "$ref")"
"$onepath" runs --db "$db" list | grep -qE "^ +$ref .* complete" || fail "the paper run is not listed as complete"
# a replay keeps its data's fingerprint and its files' SHA-256, as a backtest does, and verifies as one
out=$("$onepath" runs --db "$db" verify "$ref" 2>&1) || fail "runs verify of a paper replay: $out"
grep -q "trades identical" <<<"$out" && grep -q "hashes identical" <<<"$out" || fail "runs verify of a paper replay: $out"
"$onepath" runs --db "$db" show "$ref" | grep -q "strategy.lua\|\.lua" || fail "the paper run keeps no file SHA-256: $("$onepath" runs --db "$db" show "$ref")"

# kill -9 at random points of a paced replay (about 4 s end to end), restarted each
# time; the last start runs to the end.
kills=0
for attempt in 1 2 3 4; do
  "$onepath" --log-level warn paper run.toml --set paper.speed=1350000 --no-progress >"out.$attempt" 2>&1 &
  pid=$!
  if [ $attempt -lt 4 ]; then
    # a random point after the first snapshot exists (a slow, sanitized start may take longer
    # than the whole window of a fixed sleep: then no kill left anything to resume from)
    for _ in $(seq 600); do [ -s runs/run/paper/session.snapshot ] && break; sleep 0.05; done
    sleep "0.$((RANDOM % 6))"
    kill -9 $pid 2>/dev/null && kills=$((kills + 1))
    wait $pid 2>/dev/null
  else
    wait $pid || fail "the last start exited $?: $(cat "out.$attempt")"
  fi
done
[ $kills -eq 3 ] || fail "only $kills of 3 kills landed"
final=$(run_id "$(cat out.4)")
grep -q "paper session complete after .* (resumed)" out.4 || fail "the last start did not resume and complete: $(cat out.4)"
[ -n "$final" ] && [ "$(ledger "$final")" = "$(ledger "$ref")" ] || fail "the ledger after kill -9 differs from the uninterrupted one"
[ -n "$final" ] && [ "$(rows "$final")" = "$(rows "$ref")" ] || fail "rows after kill -9: $(rows "$final") / $(rows "$ref")"

# SIGINT: stop between candles, snapshot, exit 0, the run marked stopped; the same command resumes.
"$onepath" paper run.toml --set paper.speed=2700000 --set paper.dir=sig --no-progress >sig.out 2>sig.err &
pid=$!
started sig.err
kill -INT $pid
wait $pid; rc=$?
[ $rc -eq 0 ] || fail "SIGINT exit code $rc: $(cat sig.out sig.err)"
grep -q "paper session stopped" sig.out || fail "no stopped line: $(cat sig.out)"
[ -f sig/session.snapshot ] || fail "no snapshot after SIGINT"
id=$(run_id "$(cat sig.out)")
"$onepath" runs --db "$db" list | grep -qE "^ +$id .* stopped" || fail "run $id not marked stopped"
out=$("$onepath" paper run.toml --set paper.speed=2700000 --set paper.dir=sig --no-progress 2>&1) || fail "resume: $out"
grep -q "paper_resume" <<<"$out" || fail "the second start did not resume: $out"
[ "$(run_id "$out")" = "$id" ] || fail "the resumed session is not run $id"

# The generated feed in real time until Ctrl-C, exit 0 with a snapshot; a second start resumes.
for round in 1 2; do
  "$onepath" paper run.toml --set paper.feed=generated --set paper.dir=gen --no-progress >gen.out 2>gen.err &
  pid=$!
  started gen.err
  kill -INT $pid
  wait $pid || fail "generated round $round exited $?: $(cat gen.out gen.err)"
  [ -f gen/session.snapshot ] || fail "generated round $round left no snapshot"
  [ $round -eq 1 ] || grep -q paper_resume gen.err || fail "the generated feed did not resume: $(cat gen.err)"
done

# A snapshot of another config is refused (exit 2) with what to do.
"$onepath" --log-level warn paper run.toml --set paper.feed=generated --set paper.dir=gen --set strategy.params.fast=6 --no-progress \
  >/dev/null 2>err.txt
rc=$?
[ $rc -eq 2 ] && grep -q "another configuration" err.txt || fail "foreign snapshot: exit $rc, $(cat err.txt)"

# The kill switch from a file: present from the start, every entry is held.
touch hold
out=$("$onepath" --log-level warn paper run.toml --set paper.speed=max --set paper.dir=held --set paper.pause_file=hold --no-progress 2>&1) ||
  fail "paused paper: $out"
grep -q "(0 placed), 0 trades" <<<"$out" || fail "entries were placed while paused: $out"

[ "$failures" -eq 0 ] && echo "cli paper: all checks passed"
exit $((failures > 0))
