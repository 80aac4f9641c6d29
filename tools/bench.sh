#!/usr/bin/env bash
# make bench: every user-facing benchmark, one after the other.
set -euo pipefail
onepath=${1:-build/onepath}
"$onepath" bench csv --rows 1000000
"$onepath" bench indicators --plugin "$(dirname "$onepath")/plugins/ta_extra.so"
"$onepath" bench kernel
"$onepath" bench enrich --features scripts/features/talib_common.lua
"$onepath" --log-level warn bench backtest examples/quickstart.toml --set strategy.params.fast=12
"$onepath" --log-level warn bench paper examples/quickstart.toml
"$onepath" --log-level warn bench reload examples/quickstart.toml
"$onepath" bench abi --plugin "$(dirname "$onepath")/plugins/abi_probe.so"
"$onepath" --log-level warn bench journal --rows 1000000
"$onepath" bench infer
