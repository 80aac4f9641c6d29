#!/usr/bin/env bash
# onepath ai against the scripted LLM server (tests/ai/mock_llm) on 127.0.0.1: two processes
# sharing one quota ledger make exactly the calls the quota allows; a batch killed with
# kill -9 and run again pays for no task twice; no API key in anything written; bad input
# is exit 2 and journals nothing.
set -u
onepath=$(realpath "$1")
mock=$(realpath "$2")
root=$3
work=$(mktemp -d)
mocks=()
cleanup() {
  for p in "${mocks[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
export ONEPATH_TEST_GEMINI_KEY=gk-test-4f1c9a2e7b ONEPATH_TEST_OPENAI_KEY=sk-test-9d8e7f6a5b

# start_mock NAME [--answer-delay-ms N]: a server; its port in $work/NAME.port once it listens
start_mock() {
  local name=$1
  shift
  "$mock" "$work/$name.port" "$@" >"$work/$name.out" &
  mocks+=($!)
  for _ in $(seq 1 500); do [ -s "$work/$name.port" ] && return; sleep 0.01; done
  fail "mock $name did not start"
}
stop_mock() {  # prints its {"calls": N, ...}, which it writes when it stops
  kill "${mocks[$1]}" 2>/dev/null
  for _ in $(seq 1 500); do [ -s "$work/$2.out" ] && break; sleep 0.01; done
  cat "$work/$2.out"
}

write_config() {  # FILE PORT LEDGER
  cat >"$1" <<TOML
[ai]
ledger = "$3"
concurrency = 10
[ai.retry]
time_scale = 0.001
[[ai.providers]]
name = "gemini-free"
wire = "gemini"
base_url = "http://127.0.0.1:$2"
key_env = "ONEPATH_TEST_GEMINI_KEY"
tier = "free"
models = { default = "gemini-2.0-flash" }
requests_per_day = 70
[[ai.providers]]
name = "openai"
wire = "openai"
base_url = "http://127.0.0.1:$2"
key_env = "ONEPATH_TEST_OPENAI_KEY"
tier = "paid"
models = { default = "gpt-4o-mini" }
requests_per_day = 50
price_in = 0.15
price_out = 0.60
TOML
}
tasks() {  # FILE N PREFIX
  for i in $(seq 1 "$2"); do echo "{\"prompt\": \"$3 $i\", \"max_tokens\": 16}"; done >"$1"
}

# --- two processes, one ledger, quotas allowing 120 of 200 tasks ---
start_mock shared
write_config "$work/ai.toml" "$(cat "$work/shared.port")" "$work/ledger.db"
tasks "$work/a.jsonl" 100 alpha
tasks "$work/b.jsonl" 100 beta
"$onepath" ai run "$work/a.jsonl" --config "$work/ai.toml" --db "$work/j.db" --out "$work/a.out" >"$work/a.log" 2>&1 &
pa=$!
"$onepath" ai run "$work/b.jsonl" --config "$work/ai.toml" --db "$work/j.db" --out "$work/b.out" >"$work/b.log" 2>&1 &
pb=$!
wait $pa
wait $pb
answered=$(cat "$work/a.out" "$work/b.out" | grep -c '"ok":true')
[ "$answered" -eq 120 ] || fail "two processes answered $answered tasks, not 120"
[ "$(wc -l <"$work/a.out")" -eq 100 ] && [ "$(wc -l <"$work/b.out")" -eq 100 ] || fail "a result line per task"
sed -n 37p "$work/a.out" | grep -q '"index":36' || fail "line 37 is not task 36: $(sed -n 37p "$work/a.out")"
grep '"ok":true' "$work/a.out" | head -1 | grep -qE '"text":"echo: alpha [0-9]+"' || fail "answers: $(head -1 "$work/a.out")"
quota=$("$onepath" ai quota --config "$work/ai.toml" --json 2>&1)
grep -q '"reservations": 0' <<<"$quota" || fail "reservations left after the runs: $quota"
grep -q '"requests_today": 70' <<<"$quota" && grep -q '"requests_today": 50' <<<"$quota" || fail "ledger use: $quota"
table=$("$onepath" ai quota --config "$work/ai.toml" 2>&1) || fail "ai quota: $table"
grep -qE "gemini-free +1 +gemini +70/70" <<<"$table" || fail "quota table: $table"
calls=$(stop_mock 0 shared)
grep -q '"calls": 120' <<<"$calls" || fail "the providers got $calls, not exactly 120 calls"
runs=$("$onepath" runs list --db "$work/j.db" 2>&1)
[ "$(grep -c ' ai  ' <<<"$runs")" -eq 2 ] || fail "two ai runs in the journal: $runs"
# every call is a journal event with a correlation id; the journal has no key
events=$("$onepath" runs show 1 --db "$work/j.db" 2>&1)
for key in "$ONEPATH_TEST_GEMINI_KEY" "$ONEPATH_TEST_OPENAI_KEY"; do
  if grep -rqa -- "$key" "$work"/*.out "$work"/*.log "$work"/*.db* <<<"$quota$table$events"; then fail "the key $key was written"; fi
  if grep -qa -- "$key" <<<"$quota$table$events"; then fail "the key $key was printed"; fi
done

# --- kill -9 mid-batch, run again: no task paid twice ---
# The first server answers 20 calls and then never again: the batch is stuck mid-way,
# whatever the machine's speed, until it is killed; a second server answers the rerun.
start_mock stuck --stall-after 20
write_config "$work/ai2.toml" "$(cat "$work/stuck.port")" "$work/ledger2.db"
tasks "$work/c.jsonl" 80 gamma
"$onepath" ai run "$work/c.jsonl" --config "$work/ai2.toml" --no-journal --out "$work/c.out" >"$work/c1.log" 2>&1 &
pc=$!
for _ in $(seq 1 3000); do
  n=$("$onepath" ai quota --config "$work/ai2.toml" --json 2>/dev/null | grep -o '"requests_today": [0-9]*' | awk '{s += $2} END {print s + 0}')
  [ "$n" -ge 20 ] && break
  sleep 0.05
done
kill -0 $pc 2>/dev/null || fail "the batch ended although its server stalled: $(cat "$work/c1.log")"
kill -9 $pc
wait $pc 2>/dev/null
[ ! -e "$work/c.out" ] || fail "a killed batch left a results file"
start_mock slow
write_config "$work/ai2.toml" "$(cat "$work/slow.port")" "$work/ledger2.db"
"$onepath" ai run "$work/c.jsonl" --config "$work/ai2.toml" --no-journal --out "$work/c.out" >"$work/c2.log" 2>&1 || fail "the rerun: $(cat "$work/c2.log")"
[ "$(grep -c '"ok":true' "$work/c.out")" -eq 80 ] || fail "the rerun did not answer all 80"
cached=$(grep -c '"cached":true' "$work/c.out")
[ "$cached" -ge 20 ] || fail "only $cached answers came from the first run"
quota=$("$onepath" ai quota --config "$work/ai2.toml" --json 2>&1)
total=$(grep -o '"requests_today": [0-9]*' <<<"$quota" | awk '{s += $2} END {print s + 0}')
[ "$total" -eq 80 ] || fail "the ledger counts $total calls for 80 tasks: $quota"
grep -q '"reservations": 0' <<<"$quota" || fail "the killed process's reservations were kept: $quota"

# --- Lua in a paper session: ai.submit returns at once, the answer comes on a later bar;
# a backtest is refused unless it replays recorded answers ---
start_mock lua
cat >"$work/run.toml" <<TOML
[[plugins]]
path = "ai_router"
params = { record = "answers.jsonl" }
[data]
symbols = ["BTC", "ETH"]
timeframe = "15m"
[data.generate]
bars = 300
seed = 3
[strategy]
script = "$root/tests/ai/ai_strategy.lua"
scripts_root = "$root/scripts"
[output]
db = "$work/j.db"
[paper]
port = -1
speed = 180000
dir = "paper"
[ai]
ledger = "ledger3.db"
[[ai.providers]]
name = "local"
wire = "openai-compatible"
base_url = "http://127.0.0.1:$(cat "$work/lua.port")"
models = { default = "llama3.2" }
TOML
out=$(cd "$work" && "$onepath" paper run.toml --no-progress 2>&1) || fail "a paper session with ai: $out"
answers=$(grep "ai answer on bar" <<<"$out")
[ "$(grep -c "for bar 30: echo: advice for" <<<"$answers")" -eq 2 ] || fail "two answers expected: $out"
while read -r bar; do [ "$bar" -gt 30 ] || fail "an answer arrived on bar $bar, not after bar 30"; done < <(grep -o "on bar [0-9]*" <<<"$answers" | grep -o "[0-9]*$")
[ "$(wc -l <"$work/answers.jsonl")" -eq 2 ] || fail "the answers were not recorded: $(cat "$work/answers.jsonl")"
out=$(cd "$work" && "$onepath" backtest run.toml --no-progress --set output.dir=bt 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q "ai.submit is refused in a backtest" <<<"$out" || fail "a backtest calling ai.submit: exit $rc, $out"
sed 's/params = { record = "answers.jsonl" }/params = { recorded = "answers.jsonl" }/' "$work/run.toml" >"$work/replay.toml"
out=$(cd "$work" && "$onepath" backtest replay.toml --no-progress --set output.dir=bt 2>&1) || fail "a backtest replaying answers: $out"
grep -q "ai answer on bar 31 for bar 30: echo: advice for BTC at bar 30" <<<"$out" || fail "the recorded answer was not replayed on the next bar: $out"
[ "$(grep -o '"calls": [0-9]*' <<<"$(stop_mock 3 lua)")" = '"calls": 2' ] || fail "the backtest called a provider"

# --- explain: a journaled decision's audit record, asked of a model, journaled with the run ---
start_mock explain
cat >"$work/bt.toml" <<TOML
[data]
symbols = ["BTC"]
timeframe = "15m"
[data.generate]
bars = 2000
seed = 4
[strategy]
script = "$root/scripts/strategies/ema_crossover.lua"
scripts_root = "$root/scripts"
[output]
db = "$work/j.db"
dir = "btout"
TOML
out=$(cd "$work" && "$onepath" --log-level warn backtest bt.toml --no-progress 2>&1) || fail "backtest for explain: $out"
bt=$(grep -o 'journal: run [0-9]*' <<<"$out" | grep -o '[0-9]*$')
write_config "$work/ai3.toml" "$(cat "$work/explain.port")" "$work/ledger4.db"
out=$("$onepath" explain "$bt" 3 --db "$work/j.db" --prompt-only 2>&1) || fail "explain --prompt-only: $out"
grep -q "Decision 3 of" <<<"$out" && grep -qE "^  ema_slow = [0-9.]+" <<<"$out" || fail "the audit record lacks the decision or named features: $out"
events() { "$onepath" runs show "$bt" --db "$work/j.db" | grep -o '[0-9]* events' | grep -o '[0-9]*'; }
before=$(events)
out=$("$onepath" explain "$bt" 3 --db "$work/j.db" --config "$work/ai3.toml" 2>&1) || fail "explain: $out"
grep -q "echo: Run $bt (backtest)" <<<"$out" || fail "explain did not print the model's answer: $out"
[ "$(events)" -eq $((before + 2)) ] || fail "explain's call and its explain event are not in the run's journal ($before, then $(events) events)"
"$onepath" explain "$bt" 999999 --db "$work/j.db" --config "$work/ai3.toml" >"$work/out" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "decisions: DECISION is a number from 1 to" "$work/out" || fail "explain of a decision that is not there: exit $rc, $(cat "$work/out")"

# --- bad input: exit 2, the file and line named, nothing journaled ---
printf '{"prompt": "ok"}\n{"promt": "typo"}\n' >"$work/bad.jsonl"
"$onepath" ai run "$work/bad.jsonl" --config "$work/ai.toml" --db "$work/j.db" >"$work/out" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "bad.jsonl:2: unknown key 'promt'" "$work/out" || fail "a bad task: exit $rc, $(cat "$work/out")"
[ "$("$onepath" runs list --db "$work/j.db" | grep -c ' ai  ')" -eq 2 ] || fail "a refused batch was journaled"
"$onepath" ai run "$work/a.jsonl" --config "$work/none.toml" >"$work/out" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "no AI config at" "$work/out" || fail "a missing config: exit $rc, $(cat "$work/out")"
sed 's/wire = "gemini"/wire = "gemeni"/' "$work/ai.toml" >"$work/typo.toml"
"$onepath" ai quota --config "$work/typo.toml" >"$work/out" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "ai.providers\[0\].wire: 'gemeni' is not one of" "$work/out" || fail "a bad wire: exit $rc, $(cat "$work/out")"

# --- a sandboxed script's calls: no file, a bounded queue, waits within its time limit ---
start_mock hostile --stall-after 0
sed -e "s|^script = .*|script = \"$root/tests/ai/hostile_ai_strategy.lua\"|" -e 's|params = { record = "answers.jsonl" }|params = {}|' \
  -e "s|lua.port|hostile.port|" -e "s|ledger3.db|ledger4.db|" -e 's|^bars = 300|bars = 20|' "$work/run.toml" >"$work/hostile.toml"
out=$(cd "$work" && "$onepath" paper hostile.toml --no-progress --set strategy.timeout_ms=1000 --set paper.dir=hostile 2>&1) || fail "the hostile ai script: $out"
grep -q 'file: false .*a script cannot submit a file' <<<"$out" || fail "a script read a file through ai.submit: $out"
grep -q 'root:' <<<"$out" && fail "the file's content leaked: $out"
grep -q 'queue: false .*a script may queue at most 1000' <<<"$out" || fail "a script queued without bound: $out"
grep -q 'poll returned within the callback' <<<"$out" || fail "ai.poll waited past the script's time limit: $out"

[ $failures -eq 0 ] && echo "ai CLI: all checks passed"
exit $((failures > 0))
