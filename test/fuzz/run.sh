#!/usr/bin/env bash
# The fuzz layer: builds the libFuzzer targets of test/fuzz with clang (AddressSanitizer and
# UndefinedBehaviorSanitizer on, Boost.JSON compiled in so that it is instrumented too) and runs
# each for a bounded time from its seeds (test/fuzz/seeds/<target>, and catalog/ for catalogs).
# Exits non-zero on the first crash, sanitizer report, leak or timeout, keeping the input that
# caused it; replay one with `<build dir>/fuzz_<target> <input>`.
#
#   test/fuzz/run.sh [SECONDS_PER_TARGET]      default 20 (or $TELEMETRY_FUZZ_SECONDS)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
seconds=${1:-${TELEMETRY_FUZZ_SECONDS:-20}}
build=${TELEMETRY_FUZZ_BUILD:-$(mktemp -d "${TMPDIR:-/tmp}/telemetry-fuzz.XXXXXX")}
mkdir -p "$build/obj"

sanitizers="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
cxx=(clang++ -std=c++17 -O1 -g -fno-omit-frame-pointer -Wall -Wextra -Werror $sanitizers -I"$root/src")

echo "fuzz: building in $build"
objects=()
# Every core source, in any folder (the object is named after its path, so two files of one
# name in different domains do not collide).
while IFS= read -r src; do
  rel=${src#"$root"/src/core/}
  obj="$build/obj/${rel//\//__}"
  obj="${obj%.cpp}.o"
  objects+=("$obj")
  "${cxx[@]}" -fsanitize=fuzzer-no-link -c "$src" -o "$obj" &
  # two at a time
  while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n; done
done < <(find "$root/src/core" -name '*.cpp' | sort)
echo '#include <boost/json/src.hpp>' >"$build/boost_json.cpp"
"${cxx[@]}" -fsanitize=fuzzer-no-link -c "$build/boost_json.cpp" -o "$build/obj/boost_json.o" &
wait
objects+=("$build/obj/boost_json.o")

status=0
for target in batch_text schema catalog pii; do
  "${cxx[@]}" -fsanitize=fuzzer "$root/test/fuzz/fuzz_$target.cpp" "${objects[@]}" -lre2 -o "$build/fuzz_$target"
  seeds=("$root/test/fuzz/seeds/$target")
  [ "$target" = catalog ] && seeds+=("$root/catalog")
  mkdir -p "$build/corpus_$target"
  echo "fuzz: $target for ${seconds} s"
  if ! (cd "$build" && ./"fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
          -print_final_stats=1 -artifact_prefix="$build/$target-" "corpus_$target" "${seeds[@]}" >"$build/$target.log" 2>&1); then
    echo "fuzz: $target FAILED; the input is kept as $build/$target-*" >&2
    tail -n 40 "$build/$target.log" >&2
    status=1
  else
    grep -E '^stat::(number_of_executed_units|new_units_added)' "$build/$target.log" | tr '\n' ' '
    echo
  fi
done
[ "$status" -eq 0 ] && [ -z "${TELEMETRY_FUZZ_BUILD:-}" ] && rm -rf "$build"
exit "$status"
