#!/usr/bin/env bash
# examples/cross_asset end to end: an ETH model with BTC's features trained, its gates
# printed and passed, a second version refused by a gate (exit 1), forced with the reason
# journaled, rolled back; a paper session scores version 2 in the shadow of version 1 and
# the shadow gate reads it; the backtest trades ETH only and certify passes.
set -u
onepath=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
cp -r "$root/examples/cross_asset" "$work/"
cd "$work"
run() { "$onepath" --log-level warn "$@"; }
cfg=cross_asset/run.toml
small=(--set data.generate.bars=16000 --set train.end=2024-04-15 --set data.start=2024-04-15)  # the example's months, fewer

run train $cfg "${small[@]}" >train1.txt 2>&1 || fail "train: $(tail -3 train1.txt)"
grep -q "registered as eth_up version 1" train1.txt || fail "version 1 not registered: $(tail -3 train1.txt)"
grep -q '"other_symbols"' cross_asset/models/eth_up.manifest.json && grep -q '"symbol": "BTC"' cross_asset/models/eth_up.manifest.json ||
  fail "the manifest does not record BTC's data"
out=$(run models promote eth_up 1 2>&1); rc=$?
[ $rc -eq 0 ] || fail "promote 1 exited $rc: $out"
for gate in "signals per fold" "auc variance over folds" "auc over the champion" "leakage (no-purge variant)"; do
  grep -q "^  $gate .* pass" <<<"$out" || fail "gate '$gate' not printed as passed: $out"
done
grep -q "eth_up version 1 is in production" <<<"$out" || fail "promote 1: $out"

run train $cfg "${small[@]}" --set train.seed=8 --set train.max_depth=3 >train2.txt 2>&1 || fail "train 2"
out=$(run models promote eth_up 2 2>&1); rc=$?
[ $rc -eq 1 ] || fail "a version failing a gate was promoted (exit $rc): $out"
grep -q "auc over the champion .* FAIL" <<<"$out" && grep -q "refused: 1 of 4 gates failed" <<<"$out" || fail "refusal not explained: $out"
run models list | grep -q "eth_up .* 1  production" || fail "the refusal changed production"
out=$(run models promote eth_up 2 --force "trying it in paper" 2>&1) || fail "forced promote failed: $out"
grep -q "forced past 1 failed gate: trying it in paper" <<<"$out" || fail "forced: $out"
out=$(run models rollback eth_up 2>&1) || fail "rollback: $out"
grep -q "eth_up version 1 is in production again" <<<"$out" || fail "rollback: $out"
out=$(run models history eth_up 2>&1) || fail "history: $out"
[ "$(awk 'NR > 1 { print $2 }' <<<"$out" | tr '\n' ' ')" = "promoted refused promoted_by_force rolled_back " ] || fail "journaled: $out"
grep -q "promoted_by_force .* 2 .*trying it in paper" <<<"$out" || fail "the reason is not journaled: $out"

# The challenger in the shadow of the champion in a paper session; the shadow gate reads it.
run paper $cfg "${small[@]}" --set paper.speed=max --set paper.port=-1 --set strategy.params.shadow=eth_up@2 >paper.txt 2>&1 ||
  fail "paper with a shadow: $(tail -3 paper.txt)"
sed -e 's/^min_improvement.*//' -e 's/^leakage_check.*/shadow_candles = 1000/' $cfg >cross_asset/shadow.toml
out=$(run models promote eth_up 2 --config cross_asset/shadow.toml 2>&1); rc=$?
grep -Eq "^  shadow auc vs champion +0\.[0-9]+ vs 0\.[0-9]+ over [0-9]+ candles" <<<"$out" || fail "the shadow gate did not read the paper session: $out"
run models rollback eth_up >/dev/null 2>&1
run backtest $cfg "${small[@]}" >bt.txt 2>&1 || fail "backtest: $(tail -3 bt.txt)"
dir=$(ls -d runs/run/*/ | head -1)
[ -n "$dir" ] && [ "$(tail -n +2 "$dir/trades.csv" | cut -d, -f1 | sort -u)" = "ETH" ] || fail "the backtest traded another symbol than ETH"
out=$(run certify $cfg "${small[@]}" 2>&1) || fail "certify: $(tail -5 <<<"$out")"

[ $failures -eq 0 ] && echo "cross_asset example: all checks passed"
exit $((failures > 0))
