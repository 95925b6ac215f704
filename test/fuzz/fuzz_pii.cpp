// libFuzzer target: PII detection (core/pii/detect.hpp) over any bytes.
//
// Property values and keys are whatever clients send: normalise() takes any bytes (invalid
// UTF-8, cut-off percent escapes, lone format characters), scan_value() reports findings inside
// the normalised text and in order of position, each scanner reports only its own detector, and
// classify_key() answers for any key, never touching memory it should not (ASan, UBSan).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/pii/detect.hpp"
#include "core/pii/scanners.hpp"

using namespace telemetry::pii;

namespace {

// Findings in bounds of `text`, of a known detector, in order of position.
void check_findings(const std::vector<Finding>& findings, std::string_view text) {
    for (std::size_t i = 0; i < findings.size(); ++i) {
        const Finding& f = findings[i];
        if (static_cast<unsigned>(f.detector) >= static_cast<unsigned>(detector_count)) std::abort();
        if (!(f.begin < f.end) || f.end > text.size()) std::abort();
        if (i > 0 && findings[i - 1].begin > f.begin) std::abort();
        if (detector_name(f.detector).empty()) std::abort();
    }
}

using Scanner = void (*)(std::string_view, std::vector<Finding>&);

struct ScannerOf {
    Scanner scan;
    Detector detector;
};

const ScannerOf scanners[] = {
    {find_emails, Detector::email},
    {find_phones, Detector::phone},
    {find_ip_addresses, Detector::ip_address},
    {find_payment_cards, Detector::payment_card},
    {find_ibans, Detector::iban},
    {find_us_ssns, Detector::us_ssn},
    {find_jwts, Detector::jwt},
    {find_private_keys, Detector::private_key},
    {find_api_keys, Detector::api_key},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    const std::string normalised = normalise(input);
    std::vector<Finding> findings;
    scan_value(normalised, findings);
    check_findings(findings, normalised);
    for (const Finding& f : findings) {
        // Key-name detectors are never seen in a value.
        if (static_cast<int>(f.detector) >= static_cast<int>(Detector::password)) std::abort();
    }

    // Each scanner alone: its own detector only, in bounds, in order.
    for (const ScannerOf& s : scanners) {
        std::vector<Finding> one;
        s.scan(normalised, one);
        check_findings(one, normalised);
        for (const Finding& f : one)
            if (f.detector != s.detector) std::abort();
    }

    // The same bytes as a property key.
    Detector detector = Detector::email;
    if (classify_key(input, detector)) {
        if (static_cast<unsigned>(detector) >= static_cast<unsigned>(detector_count)) std::abort();
    }
    return 0;
}
