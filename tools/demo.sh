#!/usr/bin/env bash
# The main job on generated data: a three-symbol market, checked. Later issues turn this
# into a backtest.
set -euo pipefail
onepath=${1:-build/onepath}
out=build/demo
rm -rf "$out"
echo "== Generating a volatile BTC/ETH/SOL market (15m, 10000 bars from 2024-03-01, seed 3)"
"$onepath" --log-level warn data gen --out "$out" --symbols BTC,ETH,SOL --scenario volatile --seed 3
for s in BTC ETH SOL; do
  echo
  echo "== Checking $s"
  "$onepath" --log-level warn data check --max-listed 3 "$out/$s.csv"
done
echo
echo "== Resampling BTC to 1h"
"$onepath" --log-level warn data resample "$out/BTC.csv" --to 1h --out "$out/BTC_1h.csv"
"$onepath" --log-level warn data check --max-listed 2 "$out/BTC_1h.csv"
