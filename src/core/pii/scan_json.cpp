#include "core/pii/scan_json.hpp"

#include <algorithm>
#include <string_view>

namespace telemetry::pii {

namespace {

// RFC 6901: "~" is written "~0" and "/" "~1".
void append_token(std::string& path, std::string_view token) {
    path.push_back('/');
    for (char c : token) {
        if (c == '~') path += "~0";
        else if (c == '/') path += "~1";
        else path.push_back(c);
    }
}

}  // namespace

bool names_a_version(std::string_view key) noexcept {
    static constexpr std::string_view word = "version";
    for (std::size_t i = 0; i + word.size() <= key.size(); ++i) {
        const bool starts_word =
            i == 0 || !((key[i - 1] | 0x20) >= 'a' && (key[i - 1] | 0x20) <= 'z') || (key[i] >= 'A' && key[i] <= 'Z');
        if (!starts_word) continue;
        std::size_t j = 0;
        while (j < word.size() && (key[i + j] | 0x20) == word[j]) ++j;
        if (j == word.size()) return true;
    }
    return false;
}

bool integer_text(const JsonNumber& n, std::string& out) {
    if (n.negative || !n.is_integral() || n.point > 32) return false;
    out.assign(n.digits.begin(), n.digits.end());
    out.append(static_cast<std::size_t>(n.point) - n.digits.size(), '0');
    return true;
}

namespace {

class Walker {
public:
    Walker(const ScanBudget& budget, JsonScan& result) : budget_(budget), result_(result) {}

    // Returns false once the budget is spent. `version`: the value is under a key that names a
    // version (a dotted quad there is not an IP address).
    bool walk(const JsonValue& v, std::string& path, bool version = false) {
        switch (v.kind) {
            case JsonKind::string:
                return scan_string(v.string, path, version);
            case JsonKind::number: {
                std::string text;
                if (v.number == nullptr || !integer_text(*v.number, text)) return true;
                return scan_string(text, path, version);
            }
            case JsonKind::array:
                for (std::uint32_t i = 0; i < v.count; ++i) {
                    const std::size_t mark = path.size();
                    append_token(path, std::to_string(i));
                    const bool more = walk(v.elements[i], path, version);
                    path.resize(mark);
                    if (!more) return false;
                }
                return true;
            case JsonKind::object:
                for (std::uint32_t i = 0; i < v.count; ++i) {
                    const JsonMember& m = v.members[i];
                    const std::size_t mark = path.size();
                    // A key is scanned like a value; one that shows personal data (an e-mail
                    // address as a key) is written "~redacted" in the pointer, which no key can
                    // be (RFC 6901 escapes "~" as "~0"), so that no report shows it.
                    bool more = charge(m.key.size(), path);
                    if (more) {
                        key_findings_.clear();
                        scan_value(normalise(m.key), key_findings_);
                        if (key_findings_.empty()) {
                            append_token(path, m.key);
                        } else {
                            path += "/~redacted";
                            for (const Finding& f : key_findings_) add(path, f.detector);
                        }
                        Detector d;
                        if (classify_key(m.key, d)) add(path, d);
                        more = walk(m.value, path, names_a_version(m.key));
                    } else {
                        append_token(path, "~redacted");  // where the scan stopped, without the key
                        result_.stopped_at = path;
                    }
                    path.resize(mark);
                    if (!more) return false;
                }
                return true;
            case JsonKind::too_deep:
            case JsonKind::too_large:
                // Not read (deeper than the reader's limit): the scan is not complete.
                result_.complete = false;
                if (result_.stopped_at.empty()) result_.stopped_at = path;
                return true;
            default:
                return true;  // null, boolean
        }
    }

private:
    const ScanBudget& budget_;
    JsonScan& result_;
    std::size_t strings_ = 0;
    std::size_t bytes_ = 0;
    std::vector<Finding> findings_;
    std::vector<Finding> key_findings_;

    bool charge(std::size_t bytes, const std::string& path) {
        ++strings_;
        bytes_ += bytes;
        if (strings_ > budget_.max_strings || bytes_ > budget_.max_bytes) {
            result_.complete = false;
            result_.stopped_at = path;
            return false;
        }
        return true;
    }

    bool scan_string(std::string_view text, const std::string& path, bool version) {
        if (!charge(text.size(), path)) return false;
        findings_.clear();
        if (needs_normalising(text)) scan_value(normalise(text), findings_);
        else scan_value(text, findings_);
        for (const Finding& f : findings_)
            if (!(version && f.detector == Detector::ip_address)) add(path, f.detector);
        return true;
    }

    // One finding per path and detector.
    void add(const std::string& path, Detector d) {
        for (auto it = result_.findings.rbegin(); it != result_.findings.rend() && it->path == path; ++it)
            if (it->detector == d) return;
        result_.findings.push_back(PathFinding{path, d});
    }
};

}  // namespace

JsonScan scan_json(const JsonValue& document, const ScanBudget& budget) {
    JsonScan result;
    std::string path;
    Walker(budget, result).walk(document, path);
    return result;
}

}  // namespace telemetry::pii

#include "core/base/no_postgres.hpp"
