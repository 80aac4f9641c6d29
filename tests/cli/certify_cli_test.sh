#!/usr/bin/env bash
# onepath certify from the command line: the shipped examples are certified with the fixture
# grid, both certificate files are written and the run is journaled; --check says whether a
# certificate still applies and names the file that changed.
set -u
onepath=$(realpath "$1")
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
cd "$work" || exit 1

out=$("$onepath" --log-level warn certify "$root/examples/quickstart.toml" --fixtures --db "$work/j.db" 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q "certificate PASSED: 11 cases, 62 checks" <<<"$out" || fail "quickstart --fixtures: exit $rc, $out"
for f in certificate.json certificate.html; do [ -s "runs/quickstart/certify/$f" ] || fail "no runs/quickstart/certify/$f"; done
grep -q '"passed": true' runs/quickstart/certify/certificate.json || fail "certificate.json does not say passed"
grep -q "Warm-up truth" runs/quickstart/certify/certificate.html || fail "certificate.html has no warm-up table"
"$onepath" runs list --db "$work/j.db" | grep -qE "certify .* complete" || fail "not journaled: $("$onepath" runs list --db "$work/j.db")"
out=$("$onepath" certify --check runs/quickstart/certify/certificate.json 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q "still applies" <<<"$out" || fail "--check of a fresh certificate: exit $rc, $out"

# plugin kinds and a plugin filter (examples/plugins.toml names build/plugins/...)
mkdir tree && ln -s "$root/examples" tree/examples && ln -s "$root/scripts" tree/scripts && ln -s "$(dirname "$onepath")" tree/build
out=$(cd tree && "$onepath" --log-level warn certify examples/plugins.toml --fixtures --no-journal --out "$work/p" 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q "certificate PASSED" <<<"$out" || fail "plugins.toml --fixtures: exit $rc, $out"

# a certified data file changed afterwards
"$onepath" data gen --symbols BTC --bars 800 --out "$work/market" >/dev/null 2>&1 || fail "data gen"
cat >own.toml <<TOML
[data]
files = { BTC = "market/BTC.csv" }
[strategy]
script = "$root/scripts/strategies/ema_crossover.lua"
TOML
"$onepath" --log-level warn certify own.toml --no-journal --out own >/dev/null 2>&1 || fail "certify own.toml"
echo "2099-01-01T00:00:00Z,1,1,1,1,1" >>market/BTC.csv
out=$("$onepath" certify --check own/certificate.json 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q "changed: data .*market/BTC.csv: sha256" <<<"$out" && grep -q "no longer applies" <<<"$out" ||
  fail "--check after a data change: exit $rc, $out"
"$onepath" certify >/dev/null 2>&1; [ $? -eq 2 ] || fail "certify without a config is not bad usage"

[ "$failures" -eq 0 ] && echo "cli certify: all checks passed"
exit $((failures > 0))
