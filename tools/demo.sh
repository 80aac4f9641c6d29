#!/usr/bin/env bash
# The main job on generated data: a backtest of ema_crossover on a generated BTC / ETH /
# SOL market (examples/quickstart.toml), after a look at the data it trades.
set -euo pipefail
onepath=${1:-build/onepath}
out=build/demo
rm -rf "$out"
echo "== The market: a volatile BTC/ETH/SOL, 15m, 20000 bars from 2024-01-01 (seed 3), checked"
"$onepath" --log-level warn data gen --out "$out" --symbols BTC,ETH,SOL --scenario volatile --seed 3 --bars 20000 --start 2024-01-01
"$onepath" --log-level warn data check --max-listed 1 "$out/BTC.csv"
echo
echo "== Backtest: examples/quickstart.toml (scripts/strategies/ema_crossover.lua)"
"$onepath" --log-level warn backtest examples/quickstart.toml --no-progress
