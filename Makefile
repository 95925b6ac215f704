# telemetry: built with PGXS.
#
#   make && sudo make install      build and install into the PostgreSQL 15 of pg_config
#   scripts/test.sh                every test layer against a throwaway instance (README)
#
# src/core is compiled WITHOUT the server include path: any PostgreSQL header there fails the
# build (DESIGN.md §2). src/pg is the glue and sees both.

EXTENSION  = telemetry
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" telemetry.control)

MODULE_big = telemetry
# Every .cpp under src/core and src/pg, in any folder depth: a file in a new domain folder is
# built, and a core one compiled without the server include path, without touching this file
# (test/build/run.sh checks both).
CORE_SRCS  = $(sort $(shell find src/core -name '*.cpp'))
GLUE_SRCS  = $(sort $(shell find src/pg -name '*.cpp'))
OBJS       = $(CORE_SRCS:.cpp=.o) $(GLUE_SRCS:.cpp=.o)

# One install script, concatenated from src/sql/*.sql in name order (pg_partman's layout).
SQL_PARTS  = $(sort $(wildcard src/sql/*.sql))
DATA_built = telemetry--$(EXTVERSION).sql
# Upgrade scripts (telemetry--OLD--NEW.sql, frozen once released), and the install scripts of
# earlier releases, frozen too, which the upgrade test installs before updating.
DATA       = $(sort $(wildcard src/sql/updates/*.sql)) $(sort $(wildcard src/sql/releases/*.sql))
EXTRA_CLEAN = telemetry--$(EXTVERSION).sql results regression.diffs regression.out output_iso tmp_check tmp_check_iso log

# pg_regress: every file in sql/ runs (no test can be forgotten in a schedule). Test databases
# are UTF8, as telemetry requires, whatever the machine's locale.
REGRESS      = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --load-extension=hll --load-extension=telemetry --encoding=UTF8
# Isolation specs live in test/isolation/specs with expected output in test/isolation/expected.
ISOLATION      = $(patsubst test/isolation/specs/%.spec,%,$(sort $(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation --load-extension=hll --load-extension=telemetry --encoding=UTF8
TAP_TESTS   = 1
PROVE_TESTS = test/t/*.pl

PG_CPPFLAGS = -I$(srcdir)/src
# Warnings are errors in every build of the tree (this one, the unit tests, the fuzz targets,
# the benchmark client). A compiler newer than Debian 12's may warn about more: build with
# TELEMETRY_WERROR= to see its warnings without failing. PostgreSQL's headers leave parameters
# unused and fields to their defaults, hence the two -Wno.
TELEMETRY_WERROR ?= -Werror
PG_CXXFLAGS = -std=c++17 -Wno-register -Wextra -Wno-unused-parameter -Wno-missing-field-initializers $(TELEMETRY_WERROR) $(TELEMETRY_CXXFLAGS)
SHLIB_LINK  = -lboost_json -lre2 -lstdc++

# PGXS would also build LLVM bitcode with clang, without our C++ flags (DESIGN.md §2.5).
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# The pure core never sees PostgreSQL's include directories.
$(CORE_SRCS:.cpp=.o): override CPPFLAGS := -I$(srcdir)/src -D_GNU_SOURCE

# Header dependencies: rebuild objects when a header they include changes.
override CXXFLAGS += -MMD -MP
-include $(OBJS:.o=.d)
EXTRA_CLEAN += $(OBJS:.o=.d)

telemetry--$(EXTVERSION).sql: $(SQL_PARTS) telemetry.control
	cat $(SQL_PARTS) > $@

# Each test layer on its own, so scripts/test.sh can run them all and report every failure.
# (installcheck, from PGXS, runs the three in a row and stops at the first that fails.)
.PHONY: installcheck-regress installcheck-isolation installcheck-tap
# The servers the tests start fill freed C heap memory with a pattern (glibc's MALLOC_PERTURB_;
# its per-thread cache off, which would skip it), so a use of C++ memory after it was freed reads
# garbage and fails its test, instead of reading the old values and passing by luck.
installcheck-regress installcheck-isolation installcheck-tap: export MALLOC_PERTURB_ = 85
installcheck-regress installcheck-isolation installcheck-tap: export GLIBC_TUNABLES = glibc.malloc.tcache_count=0
installcheck-regress:
	$(pg_regress_installcheck) $(REGRESS_OPTS) $(REGRESS)
installcheck-isolation:
	$(pg_isolation_regress_installcheck) $(ISOLATION_OPTS) $(ISOLATION)
# TAP clusters take their encoding from the locale: C.UTF-8 (always there on Debian) makes it UTF8.
installcheck-tap: export LANG = C.UTF-8
installcheck-tap: export LC_ALL =
installcheck-tap:
	$(prove_installcheck)
