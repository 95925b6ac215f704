// Which catalog changes break existing producers.
//
// A producer that sends events valid under the old schema must not start getting them refused
// without a new MODEL version (SchemaVer): removing a declared property, narrowing what a
// property accepts (type, enum, lengths, bounds, pattern, items), making a property required,
// refusing undeclared properties, tagging a property x-pii "reject", or lowering max_bytes.
// Widening is not breaking. telemetry.load_catalog() refuses a breaking change unless MODEL
// goes up, and any schema change unless the version goes up at all.
#pragma once

#include <string>
#include <vector>

#include "core/catalog/catalog.hpp"
#include "core/catalog/schema.hpp"

namespace telemetry {

// Human-readable breaking changes from `before` to `after`, e.g.
// "$.plan: type narrowed (a string is no longer accepted)". Empty when compatible.
std::vector<std::string> breaking_changes(const SchemaNode& before, const SchemaNode& after);

struct CatalogChange {
    SchemaVer version;
    std::string_view schema_json;
    std::int32_t max_bytes;
};

// Why changing an event type from `before` to `after` is refused, or "" when it is allowed.
// The message names the event type, the changes and the version the change needs.
std::string refuse_catalog_change(const std::string& name, const CatalogChange& before, const CatalogChange& after);

}  // namespace telemetry
