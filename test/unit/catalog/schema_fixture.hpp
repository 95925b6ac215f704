// What tests of property schemas share: an arena, property documents read as ingest reads them,
// and schemas compiled as the catalog compiles them. Used by the schema tests and the x-pii
// rewrite tests (test/unit/pii).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/catalog/schema.hpp"
#include "core/json/json_text.hpp"

namespace telemetry {

struct SchemaFixture : ::testing::Test {
    HeapChunks chunks;
    Arena arena{chunks.source()};

    // The document's strings may point into the text: keep it in the arena with them.
    JsonValue doc(const std::string& text) { return parse_json_text(arena.copy(text), max_property_depth, arena).root; }
    std::shared_ptr<const CompiledSchema> compile(const std::string& schema) {
        return compile_schema(schema, "$.schema");
    }
};

}  // namespace telemetry
