#!/usr/bin/env bash
# The shipped Prometheus alerting rules: promtool (Debian's prometheus, which make deps
# installs) accepts them, and every onepath_* series they name is one a paper session exports.
set -u
root=$1
rules=$root/examples/alerts/onepath.rules.yml
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
command -v promtool >/dev/null || { echo "FAIL: promtool not found (apt-get install prometheus; make deps does)"; exit 1; }
out=$(promtool check rules "$rules" 2>&1) || fail "promtool check rules: $out"
grep -q "SUCCESS: 8 rules found" <<<"$out" || fail "promtool: $out"
# A broken rule is refused (the check can fail).
broken=$(mktemp)
trap 'rm -f "$broken"' EXIT
sed 's/expr: onepath_entries_paused == 1/expr: onepath_entries_paused ==/' "$rules" >"$broken"
promtool check rules "$broken" >/dev/null 2>&1 && fail "promtool accepted a rule with a broken expression"
for name in $(grep -o 'onepath_[a-z_]*' "$rules" | sed 's/_bucket$//' | sort -u); do
  grep -q "\"$name" "$root/host/run/paper.cpp" || fail "the rules name $name, which a paper session does not export"
done
[ $failures -eq 0 ] && echo "alert rules: all checks passed"
exit $((failures > 0))
