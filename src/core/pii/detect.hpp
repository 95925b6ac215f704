// PII detection: what a string or a property key shows of personal data, found by hand-written
// linear-time scanners with validators that keep false positives low
// (../shared/research/security-anchors.md §1.5; docs/pii.md). Nothing here changes a value: the
// callers (the ingest policy, telemetry.pii_scan()) decide what to do with a finding.
//
// Detection runs on a normalised copy (normalise()): fullwidth forms folded to ASCII, zero-width
// and format characters removed, percent-encoding decoded once. Every scanner is linear in the
// length of its input: no backtracking regular expression, no nested rescans.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace telemetry::pii {

// What was found. The first group is seen in values; the second only in key names (a value
// cannot show that it is a name, a street address or a birth date), and password and secret
// keys (whatever their value looks like).
enum class Detector : unsigned char {
    email,
    phone,
    payment_card,
    iban,
    ip_address,
    us_ssn,
    jwt,
    private_key,
    api_key,
    // key names only
    password,
    secret,
    person_name,
    street_address,
    birth_date,
};
inline constexpr int detector_count = 14;

// Its name in reports and redaction tags: "email", "phone", "payment_card", "iban",
// "ip_address", "us_ssn", "jwt", "private_key", "api_key", "password", "secret", "person_name",
// "street_address", "birth_date".
std::string_view detector_name(Detector detector) noexcept;

// A finding in a value: the detector and the byte span [begin, end) in the normalised text.
struct Finding {
    Detector detector;
    std::size_t begin;
    std::size_t end;
};

// The copy detection runs on. Throws std::bad_alloc only.
std::string normalise(std::string_view text);
// Whether normalise() could change `text`: false for text without '%' and without a byte that
// starts a character it folds (most values), which the detectors can then scan as it is.
bool needs_normalising(std::string_view text) noexcept;

// What a value needs before scan_value(), found in one pass: nothing (no scanner could find
// anything in it: most short values of an analytics payload, "partner", "eu-west-1", "pro"),
// a scan as it is, or normalise() first (needs_normalising()). The bounds are scan_value()'s.
enum class Prescan : unsigned char { nothing, scan, normalise_then_scan };
Prescan prescan(std::string_view text) noexcept;

// Appends every finding in `normalised` (normalise()'s output), in order of position; spans of
// different detectors may overlap. Throws std::bad_alloc only.
void scan_value(std::string_view normalised, std::vector<Finding>& out);

// The detector a property key names, case- and separator-insensitively ("E-Mail",
// "email_address", "userEmail", "phoneNumber", "ssn", "dob", "birthDate", "first_name",
// "street", "password", "api_key", "access_token"), or false when it names none.
bool classify_key(std::string_view key, Detector& detector) noexcept;

}  // namespace telemetry::pii
