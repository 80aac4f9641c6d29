#!/usr/bin/env bash
# Models from the command line: the example trains and backtests, training twice writes the
# same bytes, the registry promotes and rolls back and feeds a strategy, a feature set that
# computes the inputs otherwise is refused, drift reports and --strict fails on it.
set -u
onepath=$(realpath "$1")
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
mkdir -p "$work/tree/examples"
cp -r "$root/scripts" "$work/tree/scripts"
cp -r "$root/examples/ml" "$work/tree/examples/ml"   # the model is written beside the config
cd "$work/tree" || exit 1
db="$work/j.db"

out=$("$onepath" train examples/ml/run.toml --db "$db" --no-progress 2>&1) || fail "train: $out"
[ "$(grep -cE '^ +[1-4] +[0-9]+ +[0-9]+ ' <<<"$out")" -eq 4 ] || fail "four folds expected: $out"
grep -qE "^mean +0\.[0-9]{3} " <<<"$out" || fail "no mean AUC: $out"
grep -q "registered as ml_up version 1" <<<"$out" || fail "not registered: $out"
[ -s examples/ml/models/ml_up.json ] && [ -s examples/ml/models/ml_up.manifest.json ] || fail "model or manifest missing"
"$onepath" train examples/ml/run.toml --no-journal --no-progress --set train.out=models/again.json >/dev/null 2>&1 || fail "second training"
cmp -s examples/ml/models/ml_up.json examples/ml/models/again.json || fail "training twice gave different model bytes"

out=$("$onepath" backtest examples/ml/run.toml --db "$db" --no-progress 2>&1) || fail "backtest: $out"
grep -qE "trades [1-9]" <<<"$out" || fail "the model strategy made no trades: $out"
! grep -q "model_in_sample" <<<"$out" || fail "the example's backtest (after its training window) warns in sample: $out"

# the registry
"$onepath" train examples/ml/run.toml --db "$db" --no-progress --set train.seed=9 >/dev/null 2>&1 || fail "third training"
"$onepath" models promote ml_up 1 --db "$db" >/dev/null || fail "promote 1"
"$onepath" models promote ml_up 2 --db "$db" >/dev/null || fail "promote 2"
out=$("$onepath" models rollback ml_up --db "$db" 2>&1) || fail "rollback: $out"
grep -q "ml_up version 1 is in production again" <<<"$out" || fail "rollback: $out"
"$onepath" models list --db "$db" | grep -qE "^ml_up +1 +production" || fail "list: $("$onepath" models list --db "$db")"
a=$("$onepath" backtest examples/ml/run.toml --no-journal --db "$db" --no-progress --set data.generate.seed=12 --set strategy.params.model=ml_up 2>&1 | grep "^  trades")
# version 1 is kept whole although models/ml_up.json now holds version 2: it trades as its copy models/again.json
b=$("$onepath" backtest examples/ml/run.toml --no-journal --no-progress --set data.generate.seed=12 --set strategy.params.model=models/again.json 2>&1 | grep "^  trades")
[ -n "$a" ] && [ "$a" = "$b" ] || fail "the registry's production version 1 traded otherwise than its bytes: '$a' vs '$b'"
"$onepath" backtest examples/ml/run.toml --no-journal --db "$db" --no-progress --set strategy.params.model=ml_up@7 >"$work/out" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "no such version (versions 1 to 2)" "$work/out" || fail "an unknown version: exit $rc, $(cat "$work/out")"

# a feature set computing an input otherwise is refused
sed 's/name = "rsi14",   kind = "rsi",             period = 14/name = "rsi14",   kind = "rsi",             period = 21/' scripts/features/ml_basic.lua >scripts/features/ml_other.lua
"$onepath" backtest examples/ml/run.toml --no-journal --no-progress --set strategy.params.inputs=features.ml_other --set "strategy.scripts_root=$PWD/scripts" >"$work/out" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "enrichment_config_mismatch" "$work/out" || fail "a changed feature set: exit $rc, $(cat "$work/out")"
grep -q "input 'rsi14' was trained as \[name=rsi14;kind=rsi;period=14\], this set computes \[name=rsi14;kind=rsi;period=21\]" "$work/out" ||
  fail "the mismatch does not name the input that changed: $(cat "$work/out")"

# bench infer on a given model reports that model's depth (trained with max_depth = 4)
out=$("$onepath" bench infer --model examples/ml/models/ml_up.json --json 2>&1) || fail "bench infer --model: $out"
grep -q '"depth":4,' <<<"$out" || fail "bench infer --model --json depth: $out"

# certify: the example as it is (after the training window) passes, with the fixture grid; the
# model on its own training months is in sample (a failure; a backtest warns)
out=$("$onepath" --log-level warn certify examples/ml/run.toml --fixtures --no-journal --out "$work/cert" 2>&1) ||
  fail "certify examples/ml/run.toml --fixtures: $out"
grep -q "certificate PASSED: 11 cases" <<<"$out" && [ -s "$work/cert/certificate.json" ] && [ -s "$work/cert/certificate.html" ] || fail "certify ml: $out"
"$onepath" --log-level warn certify examples/ml/run.toml --no-journal --out "$work/cert" --set data.start=2024-01-01 >"$work/out" 2>&1; rc=$?
[ $rc -eq 1 ] && grep -q "FAILED: model score: .*was trained on this data" "$work/out" || fail "certify in sample: exit $rc, $(cat "$work/out")"
"$onepath" backtest examples/ml/run.toml --no-journal --no-progress --set data.start=2024-01-01 2>&1 | grep -q "model_in_sample" ||
  fail "a backtest in sample does not warn"

# NAME VERSION and NAME@VERSION alike, everywhere
"$onepath" models show ml_up 2 --db "$db" | grep -q "^ml_up version 2" || fail "models show NAME VERSION: $("$onepath" models show ml_up 2 --db "$db" 2>&1)"
"$onepath" models show ml_up@2 --db "$db" | grep -q "^ml_up version 2" || fail "models show NAME@VERSION"
"$onepath" models promote ml_up@2 --db "$db" | grep -q "ml_up version 2 is in production" || fail "models promote NAME@VERSION"
"$onepath" models promote ml_up --db "$db" >/dev/null 2>&1; [ $? -eq 2 ] || fail "promote without a version was not bad usage"

# a config only for training needs no [strategy]; running it says why it cannot
sed '/^\[strategy/,/^\[/{/^\[train\]/!d}' examples/ml/run.toml >examples/ml/train_only.toml
grep -q "^\[strategy" examples/ml/train_only.toml && fail "the test's train-only config still has a [strategy]"
"$onepath" train examples/ml/train_only.toml --no-journal --no-progress --set train.out=models/train_only.json >"$work/out" 2>&1 ||
  fail "train without [strategy]: $(cat "$work/out")"
"$onepath" backtest examples/ml/train_only.toml --no-journal --no-progress >"$work/out" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "the config has no \[strategy\]" "$work/out" || fail "a backtest without [strategy]: exit $rc, $(cat "$work/out")"

# drift
"$onepath" data gen --symbols BTC --bars 4000 --seed 3 --scenario quiet --out "$work/quiet.csv" >/dev/null 2>&1
out=$("$onepath" drift examples/ml/models/ml_up.json --data "$work/quiet.csv" 2>&1) || fail "drift: $out"
grep -qE "^natr14 +[0-9]+ +[0-9.]+ +[0-9.]+ +drifted" <<<"$out" || fail "a quiet market's volatility did not drift: $out"
"$onepath" drift ml_up --db "$db" --data "$work/quiet.csv" --strict >/dev/null 2>&1 && fail "drift --strict passed a drifted input"
"$onepath" drift ml_up 1 --db "$db" --data "$work/quiet.csv" >/dev/null 2>&1 || fail "drift NAME VERSION"
# another timeframe than the model's is refused, not measured
"$onepath" data resample "$work/quiet.csv" --to 1h --out "$work/quiet_1h.csv" >/dev/null 2>&1 || fail "resample"
"$onepath" drift examples/ml/models/ml_up.json --data "$work/quiet_1h.csv" >"$work/out" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "1h candles, but examples/ml/models/ml_up.json was trained on 15m candles" "$work/out" ||
  fail "drift across timeframes: exit $rc, $(cat "$work/out")"

[ $failures -eq 0 ] && echo "models CLI: all checks passed"
exit $((failures > 0))
