#!/usr/bin/env bash
# The build layer: checks on the tree itself, not on what it does.
#
#  1. The build follows folders (DESIGN.md §1). In a scratch copy of the tree, a probe file in a
#     new src/core subfolder must be compiled into telemetry.so by the Makefile, without the
#     server include path (a PostgreSQL include there fails the build), be in the CMake glob of
#     the core library, and be read by the purity test (test/unit/core_purity_test.cpp), which
#     must fail on it when it includes a PostgreSQL header or lacks the closing guard. A probe
#     in a new src/pg subfolder must be built too.
#  2. Formatting: every C++ file of src/ and test/ is as .clang-format says (clang-format 14).
#  3. One name per domain (DESIGN.md §1, the table of docs/development.md): each folder of
#     src/core has its test/unit folder and back; each domain folder is in that table; each
#     numbered SQL part is named after a domain (NN_<domain>[_<topic>].sql); each glue domain
#     has its page in docs/ (the boundary's is errors.md).
#
#   test/build/run.sh            both
#   test/build/run.sh format     only the formatting check (format-fix: rewrite the files)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

fail() { echo "build: FAILED: $*" >&2; exit 1; }

# Our C++ (and C) sources; not a git command, so that a copy of the tree without .git works too.
cxx_files() {
  find src test bench \( -name node_modules -prune \) -o -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.c' \) -print | sort
}

check_format() {
  command -v clang-format-14 >/dev/null || fail "clang-format-14 is missing (scripts/setup.sh installs it)"
  local files report
  files=$(cxx_files | wc -l)
  [ "$files" -gt 50 ] || fail "found only $files C++ files to check"
  # --Werror: a file not as .clang-format says fails, and so does a .clang-format clang-format
  # cannot read (which would otherwise check nothing).
  if ! report=$(cxx_files | xargs -r clang-format-14 --dry-run --Werror 2>&1); then
    printf '%s\n' "$report" | grep -E '^[^ ]+:[0-9]+:[0-9]+: (error|warning)' | cut -d: -f1 | sort | uniq -c >&2
    fail "files are not formatted as .clang-format says (or it cannot be read); run: test/build/run.sh format-fix"
  fi
  echo "build: formatting: $files files as .clang-format says"
}

case "${1:-all}" in
  format) check_format; exit 0 ;;
  format-fix) cxx_files | xargs clang-format-14 -i; exit 0 ;;
  all) ;;
  *) fail "unknown argument $1 (format, format-fix)" ;;
esac

check_format

check_layout() {
  local problems=() d part name domain
  for d in src/core/*/; do d=$(basename "$d"); [ -d "test/unit/$d" ] || problems+=("src/core/$d has no test/unit/$d"); done
  for d in test/unit/*/; do d=$(basename "$d"); [ -d "src/core/$d" ] || problems+=("test/unit/$d has no src/core/$d"); done
  for d in src/core/*/ src/pg/*/; do
    d=$(basename "$d")
    grep -q "^| \`$d\` " docs/development.md || problems+=("the domain $d is not in the table of docs/development.md")
  done
  for part in src/sql/[0-9]*.sql; do
    name=$(basename "$part" .sql); domain=${name#*_}; domain=${domain%%_*}
    case $domain in header | privileges) continue ;; esac  # the schema itself, and the grants of every domain
    [ -d "src/core/$domain" ] || [ -d "src/pg/$domain" ] || problems+=("$part is named after no domain of src/core or src/pg")
  done
  for d in src/pg/*/; do
    d=$(basename "$d")
    [ "$d" = boundary ] && d=errors
    [ -f "docs/$d.md" ] || problems+=("src/pg/$(basename "$d") has no page docs/$d.md")
  done
  if [ ${#problems[@]} -gt 0 ]; then
    printf '  %s\n' "${problems[@]}" >&2
    fail "the domains' names differ between the trees"
  fi
  echo "build: layout: each domain has one name in src/core, src/pg, src/sql, test/unit and docs"
}
check_layout

scratch=$(mktemp -d "${TMPDIR:-/tmp}/telemetry-build.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
# The sources with whatever objects the last build left, so that make only compiles the probes.
mkdir -p "$scratch/test"
cp -a Makefile CMakeLists.txt telemetry.control src "$scratch"/
cp -a test/unit "$scratch/test/"
# The purity test of this tree, built afresh (a stale binary would check with old rules).
{ cmake -S . -B build/unit >/dev/null && cmake --build build/unit -j"$(nproc)" >/dev/null; } || fail "the unit tests do not build"
purity() { TELEMETRY_PURITY_ROOT=$scratch build/unit/telemetry_unit_tests --gtest_filter='CorePurity.*' >"$scratch/purity.log" 2>&1; }

probe_dir=$scratch/src/core/zz_new_domain
mkdir -p "$probe_dir" "$scratch/src/pg/zz_new_domain"

# A core file that includes a PostgreSQL header: the build and the purity test both refuse it.
printf '#include "postgres.h"\nint telemetry_core_probe() { return 1; }\n#include "core/base/no_postgres.hpp"\n' >"$probe_dir/probe.cpp"
if make -C "$scratch" -s >"$scratch/make.log" 2>&1; then
  fail "a core file in a new folder that includes postgres.h was built (is the core source list recursive, and compiled without the server include path?)"
fi
grep -q 'postgres.h' "$scratch/make.log" || { cat "$scratch/make.log" >&2; fail "the build failed for another reason than the probe's include"; }
purity && fail "the purity test passed a core file in a new folder that includes postgres.h"
grep -q 'zz_new_domain/probe.cpp" includes a PostgreSQL header' "$scratch/purity.log" || fail "the purity test did not name the probe"

# A pure core file without the closing guard line: the purity test refuses it.
printf 'int telemetry_core_probe() { return 1; }\n' >"$probe_dir/probe.cpp"
purity && fail "the purity test passed a core file in a new folder that lacks the closing guard"
grep -q 'zz_new_domain/probe.cpp" must end with' "$scratch/purity.log" || fail "the purity test did not name the probe without its guard"

# Pure files, in a new core folder and a new glue folder: built into telemetry.so, listed by CMake,
# and passed by the purity test.
printf 'extern "C" int telemetry_core_probe() { return 1; }\n#include "core/base/no_postgres.hpp"\n' >"$probe_dir/probe.cpp"
printf '#include "pg/boundary/pg_headers.hpp"\nextern "C" int telemetry_glue_probe() { return 2; }\n' >"$scratch/src/pg/zz_new_domain/probe.cpp"
make -C "$scratch" -s >"$scratch/make.log" 2>&1 || { cat "$scratch/make.log" >&2; fail "the pure probes did not build"; }
# (Into a file first: grep -q quits at the first match, and under pipefail nm's SIGPIPE, once
# the symbol list outgrows a pipe's buffer, would fail the check.)
nm -D --defined-only "$scratch/telemetry.so" >"$scratch/symbols.txt"
for symbol in telemetry_core_probe telemetry_glue_probe; do
  grep -qw "$symbol" "$scratch/symbols.txt" || fail "$symbol (a file in a new folder) is not in telemetry.so"
done
purity || { cat "$scratch/purity.log" >&2; fail "the purity test refused a pure core file in a new folder"; }
cmake -S "$scratch" -B "$scratch/cmake" >/dev/null 2>&1 || fail "cmake could not configure the scratch copy"
grep -rqs 'zz_new_domain/probe.cpp' "$scratch/cmake/CMakeFiles/telemetry_core.dir/" ||
  fail "the CMake glob of the core library does not reach a new src/core folder"

echo "build: a file in a new src/core folder is built without the server include path, globbed by CMake and checked for purity; one in a new src/pg folder is built"
