#!/usr/bin/env bash
# make install into a temporary prefix, build examples/plugin against it with nothing but
# find_package(onepath), and run a backtest that uses the plugin's indicator.
set -u
build=$(realpath "$1")
root=$(realpath "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

DESTDIR="$work/stage" cmake --install "$build" --prefix /opt/onepath >"$work/install.log" 2>&1 || fail "install: $(cat "$work/install.log")"
prefix="$work/stage/opt/onepath"
for f in bin/onepath include/onepath/plugin.h include/onepath/plugin.hpp lib/cmake/onepath/onepathConfig.cmake \
  lib/pkgconfig/onepath.pc lib/onepath/plugins/ta_extra.so; do
  [ -e "$prefix/$f" ] || fail "not installed: $f"
done
if command -v pkg-config >/dev/null; then
  flags=$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags onepath | sed 's/^-I//; s/ *$//')
  [ -f "$flags/onepath/plugin.h" ] || fail "pkg-config --cflags onepath gives '$flags', which has no onepath/plugin.h"
fi

cp -r "$root/examples/plugin" "$work/ex"
rm -rf "$work/ex/build"
generator=""
command -v ninja >/dev/null && generator="-G Ninja"
# shellcheck disable=SC2086
cmake -S "$work/ex" -B "$work/ex/build" $generator -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >"$work/cfg.log" 2>&1 ||
  fail "configure: $(cat "$work/cfg.log")"
cmake --build "$work/ex/build" >"$work/build.log" 2>&1 || fail "build: $(cat "$work/build.log")"
[ -f "$work/ex/build/hma.so" ] || fail "no hma.so"
out=$("$prefix/bin/onepath" plugins inspect "$work/ex/build/hma.so" 2>&1) || fail "inspect: $out"
grep -q "indicators  hma" <<<"$out" || fail "inspect does not list hma: $out"
out=$(cd "$work/ex" && "$prefix/bin/onepath" --log-level warn backtest run.toml --no-progress 2>&1) || fail "backtest: $out"
grep -qE "trades [1-9][0-9]*" <<<"$out" || fail "the plugin strategy made no trades: $out"

[ "$failures" -eq 0 ] && echo "out-of-tree plugin: all checks passed"
exit $((failures > 0))
