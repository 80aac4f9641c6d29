#!/usr/bin/env bash
# make fuzz: the mutation fuzzer (tests/fuzz) under AddressSanitizer + UBSan, longer than
# the bounded ctest run and with a random seed. An input that crashes it is kept as a new
# corpus file (tests/fuzz/corpus/crash-SEED.EXT): the bounded run replays the corpus from
# then on, and the file is the regression test to fix against.
set -euo pipefail
build=${1:-build-asan}
cases=${FUZZ_CASES:-200000}
seed=${FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
root=$(cd "$(dirname "$0")/.." && pwd)
last=$(mktemp -u /tmp/onepath-fuzz-last.XXXXXX)
export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0"
echo "fuzz: seed $seed, $cases cases ($build)"
if "$build/tests/onepath_fuzz" "$root/tests/fuzz/corpus" --seed "$seed" --cases "$cases" --last "$last"; then
  rm -f "$last".*
  exit 0
fi
for f in "$last".*; do
  keep="$root/tests/fuzz/corpus/crash-$seed.${f##*.}"
  cp "$f" "$keep"
  echo "fuzz: the input that failed is kept as $keep (reproduce: $build/tests/onepath_fuzz tests/fuzz/corpus --seed $seed --cases $cases)"
done
exit 1
