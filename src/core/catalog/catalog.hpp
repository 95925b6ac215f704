// The event catalog: which event types exist and the rules each one carries.
//
// The catalog is data, not code (DESIGN.md §3). It is stored in telemetry.event_types, loaded
// from JSON documents (catalog_document.hpp), and cached per backend as a Catalog for lookups
// on the ingest path.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace telemetry {

class CompiledSchema;

// planned: declared, not yet sent (track() refuses it); active: accepted; deprecated: accepted
// with a warning, so producers can be moved off it; blocked: refused.
enum class EventStatus { planned, active, deprecated, blocked };

// What happens to an event that breaks its property schema.
enum class ViolationPolicy { reject, quarantine, omit };

std::optional<EventStatus> parse_event_status(std::string_view text) noexcept;
const char* to_string(EventStatus status) noexcept;
std::optional<ViolationPolicy> parse_violation_policy(std::string_view text) noexcept;
const char* to_string(ViolationPolicy policy) noexcept;

// SchemaVer (Snowplow): MODEL-REVISION-ADDITION. MODEL changes when existing producers would
// break, REVISION when some historical data may not validate, ADDITION for compatible additions.
struct SchemaVer {
    std::uint32_t model = 1;
    std::uint32_t revision = 0;
    std::uint32_t addition = 0;

    std::string str() const;
    // The same text written to OUT (at least max_text bytes, no terminating NUL): its length.
    // Without an allocation, for the ingest path.
    static constexpr std::size_t max_text = 32;  // three 10-digit numbers and two '-'
    std::size_t write(char* out) const noexcept;
    friend bool operator==(const SchemaVer& a, const SchemaVer& b) {
        return a.model == b.model && a.revision == b.revision && a.addition == b.addition;
    }
    friend bool operator<(const SchemaVer& a, const SchemaVer& b) {
        if (a.model != b.model) return a.model < b.model;
        if (a.revision != b.revision) return a.revision < b.revision;
        return a.addition < b.addition;
    }
};
std::optional<SchemaVer> parse_schema_ver(std::string_view text) noexcept;

inline constexpr std::int32_t default_max_bytes = 2048;
inline constexpr std::int32_t largest_max_bytes = 65536;

// One event type, as a catalog document declares it and as telemetry.event_types stores it.
struct EventTypeSpec {
    std::string name;
    SchemaVer version;
    EventStatus status = EventStatus::active;
    std::string description;
    double sample_rate = 1.0;  // in (0, 1]
    std::int32_t max_bytes = default_max_bytes;
    ViolationPolicy on_violation = ViolationPolicy::reject;
    std::string schema_json = R"({"type":"object"})";  // the property schema, as JSON text
    // Compiled when a catalog document is parsed (which checks it); a Catalog built from stored
    // rows leaves it empty and compiles it on first use (Catalog::schema).
    std::shared_ptr<const CompiledSchema> schema;
};

// The per-backend lookup structure. Its types are immutable once built; a catalog change builds
// a new one. Property schemas are compiled the first time an event of their type arrives, so a
// backend pays (in time and memory: RE2 programs) only for the types it actually sees, however
// large the catalog.
class Catalog {
public:
    explicit Catalog(std::vector<EventTypeSpec> types);

    const EventTypeSpec* find(std::string_view name) const noexcept;
    std::size_t size() const noexcept { return types_.size(); }

    // The compiled schema of `type` (one of this catalog's), compiled on first use; nullptr when
    // it does not compile (the catalog's checks refuse such schemas, so only a row edited with
    // every trigger disabled can have one). Throws only std::bad_alloc.
    const CompiledSchema* schema(const EventTypeSpec& type) const;

private:
    struct Compiled {
        std::shared_ptr<const CompiledSchema> schema;
        bool tried = false;
    };
    std::vector<EventTypeSpec> types_;
    std::unordered_map<std::string_view, const EventTypeSpec*> by_name_;
    mutable std::vector<Compiled> compiled_;  // one per type, filled on first use
};

}  // namespace telemetry
