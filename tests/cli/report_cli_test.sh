#!/usr/bin/env bash
# onepath report end to end: a backtest's HTML report opened in headless Chromium (Debian's
# chromium). Every chart must draw (the page marks <body data-charts-drawn="N">), no script
# error may happen, nothing may be fetched, and a screenshot is kept for a person to look at.
set -u
onepath=$1
root=$2
out_dir=${3:-.}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
command -v chromium >/dev/null || { echo "FAIL: chromium is not installed ('make deps' installs it)"; exit 1; }

db="$work/j.db"
"$onepath" -q backtest "$root/examples/quickstart.toml" --no-progress --db "$db" --set data.generate.bars=4000 \
  --set "strategy.script=$root/scripts/strategies/ema_crossover.lua" --set "output.dir=$work/out/{run}" --set output.report=true >"$work/bt.out" 2>&1 \
  || fail "backtest: $(cat "$work/bt.out")"
[ -s "$work/out/1/report.html" ] || fail "[output] report = true wrote no report.html: $(cat "$work/bt.out")"
grep -q "report.html" "$work/bt.out" || fail "the summary does not name report.html"

out=$("$onepath" report 1 --db "$db" 2>&1) || fail "report: $out"
report="$work/report-1.html"
[ -s "$report" ] || fail "no $report: $out"
grep -q "<link\| src=" "$report" && fail "the report fetches something (a <link> or a src=)"
grep -q "sourceMappingURL" "$report" && fail "the report names a source map to fetch"
expected=6  # equity, drawdown, BTC, ETH, SOL prices, trade returns

browse() {  # browse FILE ARGS...: headless, no profile of the user's, no network
  local file=$1; shift
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$work/profile" --no-first-run \
    --proxy-server="127.0.0.1:9" --enable-logging=stderr --v=0 --virtual-time-budget=10000 "$@" "file://$file"
}
for page in "$report" "$work/out/1/report.html"; do
  dom=$(browse "$page" --dump-dom 2>"$work/console.log")
  drawn=$(grep -o 'data-charts-drawn="[0-9]*"' <<<"$dom" | grep -o '[0-9]*')
  [ "${drawn:-0}" = "$expected" ] || fail "$page: $drawn of $expected charts drew"
  grep -q 'data-errors=' <<<"$dom" && fail "$page: script errors: $(grep -o 'data-errors="[0-9]*"' <<<"$dom")"
  grep 'CONSOLE' "$work/console.log" && fail "$page: the console is not silent (the page logs nothing of its own)"
done
browse "$report" --window-size=1200,2600 --screenshot="$out_dir/report-screenshot.png" 2>/dev/null
[ -s "$out_dir/report-screenshot.png" ] || fail "no screenshot"

# A run that is not there, a journal that is not there: exit 2, nothing written.
out=$("$onepath" report 7 --db "$db" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "no run 7" <<<"$out" || fail "report of a missing run: exit $rc, $out"
out=$("$onepath" report 1 --db "$work/nope.db" 2>&1); rc=$?
[ $rc -eq 2 ] && [ ! -e "$work/nope.db" ] || fail "report on a missing journal: exit $rc, $out"
out=$(ONEPATH_DYGRAPHS="$work/none" "$onepath" report 1 --db "$db" --out "$work/x.html" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "libjs-dygraphs" <<<"$out" && [ ! -e "$work/x.html" ] || fail "without the charting library: exit $rc, $out"

[ $failures -eq 0 ] && echo "report CLI: all checks passed (screenshot: $out_dir/report-screenshot.png)"
[ $failures -eq 0 ]
