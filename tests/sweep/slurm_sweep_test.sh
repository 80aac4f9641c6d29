#!/usr/bin/env bash
# onepath sweep on a real Slurm cluster (run inside with_postgres.sh and with_slurm.sh): a
# sweep of 216 cells goes to a 4-task job array that claims cells from the PostgreSQL
# journal; one worker is frozen while it holds a cell and killed with -9, another task is
# scancel'ed; every cell is recorded exactly once, the dead worker's cell is claimed again
# after its lease, and the cells equal the local executor's bit for bit.
set -u
onepath=$(realpath "$1")
root=$2
dsn=${ONEPATH_TEST_PG_DSN:?run inside tests/store/with_postgres.sh}
work=$(mktemp -d)
trap 'kill -9 $(jobs -p) 2>/dev/null; [ -n "${KEEP:-}" ] && cp -r "$work" /tmp/slurm-keep; rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
sql() { psql "$dsn" -Atqc "$1"; }
cd "$work" || exit 1

# A strategy that does the EMA crossover's work and then spins, so a cell lasts long enough
# (~30 ms) for a worker to be caught holding one.
cat >slow.lua <<'LUA'
local S = {}
S.params = { fast = 12, slow = 26, spin = 3000 }
S.features = function(p)
  return { { name = "ema_fast", kind = "ema", period = p.fast }, { name = "ema_slow", kind = "ema", period = p.slow } }
end
function S.on_bar(ctx, bar, f)
  local x = 0
  for i = 1, S.params.spin do x = x + i % 7 end
  if f.ema_slow ~= f.ema_slow or x < 0 then return end
  local above = f.ema_fast > f.ema_slow
  if ctx.state.above ~= nil and above ~= ctx.state.above then
    if above and ctx.position <= 0 then ctx:buy{ size = 0.2, sl_pct = 0.03, tp_pct = 0.08 }
    elseif not above and ctx.position > 0 then ctx:close() end
  end
  ctx.state.above = above
end
return S
LUA
cat >run.toml <<TOML
[data]
symbols = ["BTC", "ETH", "SOL"]
timeframe = "15m"
[data.generate]
bars = 20000
start = "2024-01-01"
scenario = "volatile"
seed = 3
[strategy]
script = "$work/slow.lua"
[execution]
initial_cash = 10000
TOML
cat >sweep.toml <<TOML
[sweep]
run = "run.toml"
[sweep.space]
"strategy.params.fast" = { from = 6, to = 16, step = 2 }
"strategy.params.slow" = [30, 40]
[sweep.folds]
train = 0
test = 3000
TOML

"$onepath" sweep sweep.toml --no-journal --workers 2 --out local --no-progress >local.log 2>&1 || fail "the local sweep: $(cat local.log)"
grep -q "216 cells (12 points x 1 variants x 3 symbols x 6 folds)" local.log || fail "the local sweep: $(cat local.log)"

# Usage: the Slurm executor needs a PostgreSQL journal
out=$("$onepath" sweep sweep.toml --executor slurm --db "$work/j.db" 2>&1)
[ $? -eq 2 ] && grep -q "needs the sweep in a PostgreSQL journal" <<<"$out" || fail "--executor slurm with SQLite: $out"

"$onepath" sweep sweep.toml --executor slurm --db "$dsn" --tasks 4 --lease 2 --sbatch=--cpus-per-task=1 --out slurm --no-progress >slurm.log 2>&1 &
submitter=$!
# Freeze a worker while it holds a cell, then kill it.
victim="" held=""
for _ in $(seq 1 600); do
  w=$(sql "SELECT worker FROM sweep_queue WHERE state = 'claimed' ORDER BY cell LIMIT 1" 2>/dev/null)
  if [ -n "$w" ] && [ "$(sql "SELECT COUNT(*) FROM sweep_queue WHERE state = 'done'")" -ge 8 ]; then
    pid=${w##*:}
    kill -STOP "$pid" 2>/dev/null || continue
    held=$(sql "SELECT cell FROM sweep_queue WHERE state = 'claimed' AND worker = '$w' LIMIT 1")
    if [ -n "$held" ]; then victim=$w; kill -9 "$pid"; break; fi
    kill -CONT "$pid"
  fi
  sleep 0.05
done
[ -n "$victim" ] || fail "no worker was caught holding a cell: $(cat slurm.log)"
job=$(sed -n 's/^submitted Slurm job \([0-9]*\):.*/\1/p' slurm.log | head -1)
[ -n "$job" ] || fail "no job id in the submitter's output: $(cat slurm.log)"
# scancel another task of the array while it runs: it stops after the cell in hand
victim_task=$(grep -l "worker $victim:" slurm/slurm-"${job}"_*.out 2>/dev/null | sed 's/.*_\([0-9]*\)\.out/\1/')
for t in 0 1 2 3; do
  [ "$t" = "$victim_task" ] && continue
  squeue --noheader --array --jobs="$job" --format=%i | grep -qx "${job}_$t" && { scancel "${job}_$t"; break; }
done
status=$("$onepath" sweep status 1 --db "$dsn" 2>&1)
grep -q "queue: .* waiting, .* claimed by" <<<"$status" || fail "sweep status while it runs: $status"
out=$("$onepath" sweep report 1 --db "$dsn" --out running --best 1 2>&1) || fail "sweep report while it runs: $out"
grep -q "of 216 cells recorded" <<<"$out" && [ -s running/report.html ] || fail "sweep report while it runs: $out"

wait $submitter
rc=$?
[ $rc -eq 0 ] || fail "the Slurm sweep exited $rc: $(cat slurm.log)"
grep -q "216 cells (12 points x 1 variants x 3 symbols x 6 folds)" slurm.log || fail "the Slurm sweep: $(cat slurm.log)"
grep -q "submitted Slurm job $job: 4 array tasks for 216 cells" slurm.log || fail "4 array tasks: $(cat slurm.log)"
[ "$(ls slurm/slurm-"${job}"_*.out | wc -l)" -eq 4 ] || fail "task outputs: $(ls slurm)"
[ "$(sql "SELECT COUNT(*) || ' ' || COUNT(DISTINCT cell) FROM sweep_cells WHERE run_id = 1")" = "216 216" ] ||
  fail "cells recorded: $(sql "SELECT COUNT(*) || ' ' || COUNT(DISTINCT cell) FROM sweep_cells WHERE run_id = 1")"
[ "$(sql "SELECT COUNT(*) FROM sweep_queue WHERE run_id = 1 AND state = 'done'")" = "216" ] || fail "queue: $(sql "SELECT state, COUNT(*) FROM sweep_queue GROUP BY state")"
if [ -n "$held" ]; then
  again=$(sql "SELECT attempts || ' ' || worker FROM sweep_queue WHERE run_id = 1 AND cell = $held")
  [ "${again%% *}" -ge 2 ] && [ "${again#* }" != "$victim" ] || fail "the killed worker's cell $held: $again (killed: $victim)"
fi
cmp -s local/cells.csv slurm/cells.csv || fail "the Slurm cells differ from the local ones: $(diff local/cells.csv slurm/cells.csv | head -5)"
[ "$(grep -o '"sets":\[[^]]*\]' local/ranking.json | head -3)" = "$(grep -o '"sets":\[[^]]*\]' slurm/ranking.json | head -3)" ] || fail "rankings differ"
status=$("$onepath" sweep status 1 --db "$dsn" 2>&1)
grep -q "complete, 216 cells recorded" <<<"$status" && grep -q "0 waiting, 0 claimed by 0 workers, 216 done ([1-9] claimed again" <<<"$status" ||
  fail "sweep status after: $status"

[ $failures -eq 0 ] && echo "slurm sweep: all checks passed (killed $victim holding cell $held; job $job)"
exit $((failures > 0))
