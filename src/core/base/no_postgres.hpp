// Included as the LAST line of every .cpp file in src/core.
//
// src/core is plain C++17: it never sees PostgreSQL headers, so it can be unit-tested alone and
// can never call a PostgreSQL function that longjmps over its destructors (DESIGN.md §2).
// Placed last, this check fails the build if anything the file included, directly or not,
// pulled in a PostgreSQL header. The build also compiles src/core without the server include
// path, and test/unit/core_purity_test.cpp checks that every core source ends with this line.
#pragma once

#if defined(POSTGRES_H) || defined(C_H) || defined(FMGR_H) || defined(PG_CONFIG_H)
#error "src/core must not include PostgreSQL headers (see DESIGN.md §2)"
#endif
