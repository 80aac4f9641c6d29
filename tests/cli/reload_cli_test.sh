#!/usr/bin/env bash
# Hot reload from outside a running paper session: an edit on disk is picked up by itself,
# `onepath reload` asks for one (exit 0 swapped, 1 rejected with the reason), /status and
# the journal show them.
set -u
onepath=$(realpath "$1")
root=$2
work=$(mktemp -d)
trap 'kill -9 $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
cd "$work" || exit 1
mkdir s
cp "$root/scripts/strategies/ema_crossover.lua" s/strategy.lua
cat >run.toml <<TOML
[data]
symbols = ["BTC", "ETH"]
[data.generate]
bars = 20000
seed = 2
[strategy]
script = "s/strategy.lua"
scripts_root = "s"
[output]
db = "$work/j.db"
[paper]
speed = 40000     # a 15m candle every 22 ms: the session runs for minutes
port = 0
TOML
wait_for() {  # wait_for FILE PATTERN: until the log says so (10 s at most)
  for _ in $(seq 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  return 1
}

"$onepath" paper run.toml --no-progress >out.txt 2>err.txt &
pid=$!
wait_for err.txt paper_start || fail "the session did not start: $(cat err.txt)"
wait_for runs/run/paper/http.url http || fail "no http.url"

# An edit on disk: picked up without being asked.
echo "-- tuned" >>s/strategy.lua
wait_for err.txt strategy_reloaded || fail "the edit was not picked up: $(cat err.txt)"
grep -q "trigger=\"file change\"" err.txt || fail "not a file-change reload: $(grep strategy_reload err.txt)"

# onepath reload with no byte changed: nothing swapped, no migrate (exit 0) ...
out=$("$onepath" reload run.toml 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q '"result": "unchanged"' <<<"$out" || fail "onepath reload of unchanged files: exit $rc, $out"
# ... a second edit, picked up by itself ...
echo "-- tuned again" >>s/strategy.lua
for _ in $(seq 200); do [ "$(grep -c strategy_reloaded err.txt)" -ge 2 ] && break; sleep 0.05; done
[ "$(grep -c strategy_reloaded err.txt)" -ge 2 ] || fail "the second edit was not picked up: $(grep strategy_reload err.txt)"
# ... and a broken edit rejected (exit 1) with file and line, the old strategy still trading.
printf 'local S = {\nS.params =\n' >s/strategy.lua
out=$("$onepath" reload run.toml 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q 'strategy.lua:2:' <<<"$out" || fail "a broken edit: exit $rc, $out"
url=$(cat runs/run/paper/http.url)
port=${url##*:}
status=$(exec 3<>"/dev/tcp/127.0.0.1/$port"; printf 'GET /status HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' "$port" >&3; cat <&3)
grep -q '"rejected": [1-9]' <<<"$status" || fail "/status does not count the rejection: $status"
grep -q '"swapped": [2-9]' <<<"$status" || fail "/status does not count the swaps: $status"
grep -q '"trigger": "onepath reload"' <<<"$status" || fail "/status does not name onepath reload as the last trigger: $status"
# Control needs the session's token (in its folder, mode 0600), even on loopback.
[ "$(stat -c %a runs/run/paper/control.token)" = 600 ] || fail "control.token is not 0600: $(stat -c %a runs/run/paper/control.token)"
denied=$(exec 3<>"/dev/tcp/127.0.0.1/$port"; printf 'POST /control/stop HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\nContent-Length: 0\r\n\r\n' "$port" >&3; cat <&3)
grep -q "^HTTP/1.1 401" <<<"$denied" || fail "a control request without the token was not refused: $denied"
kill -INT $pid
wait $pid || fail "the session exited $?: $(tail -5 err.txt)"
grep -q "paper session stopped" out.txt || fail "not stopped: $(cat out.txt)"
out=$("$onepath" reload run.toml 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "no running paper session" <<<"$out" || fail "reload with no session: exit $rc, $out"

# A session killed -9 leaves its http.url: reload says so and removes it.
echo "http://127.0.0.1:1" >runs/run/paper/http.url
echo "stale" >runs/run/paper/control.token
out=$("$onepath" reload run.toml 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "was left by a session that ended; removed" <<<"$out" || fail "a stale http.url: exit $rc, $out"
[ -e runs/run/paper/http.url ] && fail "the stale http.url was kept"

# paper --help teaches reload
help=$("$onepath" paper --help)
grep -q "/control/reload" <<<"$help" && grep -q "onepath reload RUN.toml" <<<"$help" && grep -q "on_error" <<<"$help" ||
  fail "paper --help does not teach reload: $help"

[ "$failures" -eq 0 ] && echo "cli reload: all checks passed"
exit $((failures > 0))
