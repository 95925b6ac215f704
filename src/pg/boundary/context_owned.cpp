#include "pg/boundary/context_owned.hpp"

namespace telemetry::pg {

namespace {

void* chunk_from_context(void* context, std::size_t bytes) {
    if (!AllocSizeIsValid(bytes)) throw std::bad_alloc();
    void* p = MemoryContextAllocExtended(static_cast<MemoryContext>(context), bytes, MCXT_ALLOC_NO_OOM);
    if (p == nullptr) throw std::bad_alloc();
    return p;
}

}  // namespace

ChunkSource chunks_from(MemoryContext context) { return {&chunk_from_context, context}; }

}  // namespace telemetry::pg
