#include "core/catalog/catalog.hpp"

#include <charconv>

#include "core/base/error.hpp"
#include "core/catalog/schema.hpp"

namespace telemetry {

std::optional<EventStatus> parse_event_status(std::string_view text) noexcept {
    if (text == "planned") return EventStatus::planned;
    if (text == "active") return EventStatus::active;
    if (text == "deprecated") return EventStatus::deprecated;
    if (text == "blocked") return EventStatus::blocked;
    return std::nullopt;
}

const char* to_string(EventStatus status) noexcept {
    switch (status) {
        case EventStatus::planned:
            return "planned";
        case EventStatus::active:
            return "active";
        case EventStatus::deprecated:
            return "deprecated";
        case EventStatus::blocked:
            return "blocked";
    }
    return "unknown";
}

std::optional<ViolationPolicy> parse_violation_policy(std::string_view text) noexcept {
    if (text == "reject") return ViolationPolicy::reject;
    if (text == "quarantine") return ViolationPolicy::quarantine;
    if (text == "omit") return ViolationPolicy::omit;
    return std::nullopt;
}

const char* to_string(ViolationPolicy policy) noexcept {
    switch (policy) {
        case ViolationPolicy::reject:
            return "reject";
        case ViolationPolicy::quarantine:
            return "quarantine";
        case ViolationPolicy::omit:
            return "omit";
    }
    return "unknown";
}

std::size_t SchemaVer::write(char* out) const noexcept {
    char* const end = out + max_text;
    char* p = std::to_chars(out, end, model).ptr;
    *p++ = '-';
    p = std::to_chars(p, end, revision).ptr;
    *p++ = '-';
    p = std::to_chars(p, end, addition).ptr;
    return static_cast<std::size_t>(p - out);
}

std::string SchemaVer::str() const {
    char text[max_text];
    return std::string(text, write(text));
}

std::optional<SchemaVer> parse_schema_ver(std::string_view text) noexcept {
    // Three decimal numbers without signs or leading zeros, separated by '-'; MODEL starts at 1.
    std::uint32_t parts[3];
    std::size_t pos = 0;
    for (int i = 0; i < 3; ++i) {
        const std::size_t end = i < 2 ? text.find('-', pos) : text.size();
        if (end == std::string_view::npos || end == pos || end - pos > 9) return std::nullopt;
        const std::string_view digits = text.substr(pos, end - pos);
        if (digits.size() > 1 && digits.front() == '0') return std::nullopt;
        auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), parts[i]);
        if (ec != std::errc() || ptr != digits.data() + digits.size()) return std::nullopt;
        pos = end + 1;
    }
    if (parts[0] == 0) return std::nullopt;
    return SchemaVer{parts[0], parts[1], parts[2]};
}

Catalog::Catalog(std::vector<EventTypeSpec> types) : types_(std::move(types)), compiled_(types_.size()) {
    by_name_.reserve(types_.size());
    for (const EventTypeSpec& t : types_) by_name_.emplace(t.name, &t);
}

const CompiledSchema* Catalog::schema(const EventTypeSpec& type) const {
    Compiled& entry = compiled_.at(static_cast<std::size_t>(&type - types_.data()));
    if (!entry.tried) {
        if (type.schema) {
            entry.schema = type.schema;
        } else {
            try {
                entry.schema = compile_schema(type.schema_json, "$.schema");
            } catch (const DomainError&) {
                entry.schema = nullptr;  // the type refuses its events with a clear reason (ingest.cpp)
            }
        }
        entry.tried = true;
    }
    return entry.schema.get();
}

const EventTypeSpec* Catalog::find(std::string_view name) const noexcept {
    const auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : it->second;
}

}  // namespace telemetry

#include "core/base/no_postgres.hpp"
