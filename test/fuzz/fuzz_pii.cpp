// libFuzzer target: PII detection (core/pii/detect.hpp) over any bytes.
//
// Property values and keys are whatever clients send: normalise() takes any bytes (invalid
// UTF-8, cut-off percent escapes, lone format characters), scan_value() reports findings inside
// the normalised text and in order of position, each scanner reports only its own detector, and
// classify_key() answers for any key, never touching memory it should not (ASan, UBSan). The
// same bytes read as a properties document go through the ingest policy (policy.hpp) under every
// action: reject and allow change nothing, and a second pass of redact, hash or drop over what
// the first stored changes nothing (restores and re-runs are idempotent).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/arena.hpp"
#include "core/catalog/schema.hpp"
#include "core/json/json_text.hpp"
#include "core/pii/detect.hpp"
#include "core/pii/policy.hpp"
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

    // prescan() rules out only what the scanners would find nothing in.
    if (prescan(input) == Prescan::nothing && !findings.empty()) std::abort();
    if (prescan(input) != Prescan::normalise_then_scan && normalised != input) std::abort();

    // Each scanner alone: its own detector only, in bounds, in order.
    for (const ScannerOf& s : scanners) {
        std::vector<Finding> one;
        s.scan(normalised, one);
        check_findings(one, normalised);
        for (const Finding& f : one)
            if (f.detector != s.detector) std::abort();
    }

    // The same bytes as a properties document, and as a user id, under every action.
    {
        telemetry::HeapChunks chunks;
        telemetry::Arena arena(chunks.source());
        telemetry::ParsedText parsed;
        bool is_json = true;
        try {
            parsed = telemetry::parse_json_text(arena.copy(input), telemetry::max_property_depth, arena);
        } catch (const telemetry::DomainError&) {
            is_json = false;  // not JSON: the parser's own fuzz target covers that
        }
        if (is_json && parsed.first_problem() == nullptr) {
            const telemetry::PiiHashKey key{"fuzz master key", "0123456789abcdef"};
            for (int a = 0; a < telemetry::undeclared_pii_action_count; ++a) {
                const auto action = static_cast<telemetry::UndeclaredPii>(a);
                const auto once =
                    telemetry::apply_undeclared_pii(nullptr, parsed.root, input, std::nullopt, action, key, arena);
                const bool changes =
                    action != telemetry::UndeclaredPii::reject && action != telemetry::UndeclaredPii::allow;
                if (!changes && (once.properties_changed || once.user_id_changed)) std::abort();
                if (once.rejected != (action == telemetry::UndeclaredPii::reject && !once.decisions.empty()))
                    std::abort();
                if (!changes) continue;
                const auto twice = telemetry::apply_undeclared_pii(nullptr, *once.properties, once.user_id,
                                                                   std::nullopt, action, key, arena);
                if (twice.properties_changed || twice.user_id_changed || !twice.decisions.empty()) std::abort();
            }
        }
    }

    // The same bytes as a property key.
    Detector detector = Detector::email;
    if (classify_key(input, detector)) {
        if (static_cast<unsigned>(detector) >= static_cast<unsigned>(detector_count)) std::abort();
    }
    return 0;
}
