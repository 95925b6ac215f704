// PII detection over a JSON document (detect.hpp): every key and every string (and integral
// number) value, in objects and arrays at any depth, within a work budget. What
// telemetry.pii_scan() reports, and what the ingest policy acts on (docs/pii.md).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/json/json.hpp"
#include "core/pii/detect.hpp"

namespace telemetry::pii {

// How much one document may cost: strings (keys and values) scanned and their bytes. Past
// either, the scan stops and says where.
struct ScanBudget {
    std::size_t max_strings = 10000;
    std::size_t max_bytes = 1 << 20;
};

// A detector's finding at a JSON Pointer (RFC 6901: "/user/email", "/items/0"; "" the root).
// A key's own name (classify_key) is reported at the member's pointer, like its value's. A key
// that itself shows personal data (an e-mail address as a key) is written "~redacted" in the
// pointer (no key can be: RFC 6901 escapes "~"), so that no report carries it.
struct PathFinding {
    std::string path;
    Detector detector;
};

struct JsonScan {
    std::vector<PathFinding> findings;  // document order; one per path and detector
    bool complete = true;               // false: the budget ran out, or a container was too deep to read
    std::string stopped_at;             // the pointer of the first value not scanned
};

// A key that names a version ("appVersion", "os_version", "VERSION"): a dotted quad under it is
// a version, not an address (10.2.3.4 is both). The word must start the key or follow a
// separator or a lower-case letter then its capital ("conversionRate" names no version).
bool names_a_version(std::string_view key) noexcept;

// The decimal text of an integral non-negative number (card and phone numbers sent as JSON
// numbers): its digits then the zeros its exponent adds; other numbers are not scanned.
bool integer_text(const JsonNumber& n, std::string& out);

// Throws std::bad_alloc only.
JsonScan scan_json(const JsonValue& document, const ScanBudget& budget = ScanBudget{});

}  // namespace telemetry::pii
