// libFuzzer target: a whole catalog document, as load_catalog() receives it.
//
// parse_catalog_document() is noexcept: it refuses a document with a reason or returns its
// event types, never crashes and never touches memory it should not (ASan, UBSan). Between any
// two event types of a document, the compatibility rules also run, as they do when a catalog
// changes a type.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/catalog/catalog_document.hpp"
#include "core/base/error.hpp"
#include "core/catalog/schema_compat.hpp"

using namespace telemetry;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::vector<EventTypeSpec> events;
    const Error error = capture_errors([&] { events = parse_catalog_document(text); });
    if (failed(error)) {
        if (error.message.empty() || error.sqlstate == sqlstate::internal_error)
            std::abort();  // a refusal always says why
        return 0;
    }
    for (std::size_t i = 1; i < events.size(); ++i) {
        const EventTypeSpec& before = events[i - 1];
        const EventTypeSpec& after = events[i];
        if (before.schema && after.schema) (void)breaking_changes(before.schema->root(), after.schema->root());
    }
    return 0;
}
