// A bump allocator for the JSON documents of one call.
//
// Everything the ingest path builds (parsed documents, decisions, encoded jsonb) is plain data
// allocated here. In the extension the chunks come from a PostgreSQL memory context, so nothing
// allocated here has a destructor that a PostgreSQL error could skip, and it is all freed
// with the context. The Arena itself is trivially destructible for the same reason.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <string_view>
#include <type_traits>

namespace telemetry {

// Where chunks come from: returns `bytes` bytes aligned for any type, or throws std::bad_alloc.
struct ChunkSource {
    void* (*allocate)(void* context, std::size_t bytes);
    void* context;
};

class Arena {
public:
    explicit Arena(ChunkSource source) noexcept : source_(source) {}

    void* allocate(std::size_t bytes, std::size_t align = alignof(std::max_align_t));

    // An uninitialised array of n trivially destructible T.
    template <typename T>
    T* allocate_array(std::size_t n) {
        static_assert(std::is_trivially_destructible_v<T>, "arena memory is never destroyed");
        if (n > SIZE_MAX / sizeof(T)) throw std::bad_alloc();
        return static_cast<T*>(allocate(sizeof(T) * (n ? n : 1), alignof(T)));
    }

    std::string_view copy(std::string_view text);

private:
    ChunkSource source_;
    char* cursor_ = nullptr;
    char* end_ = nullptr;
    std::size_t next_chunk_ = 2048;
};
static_assert(std::is_trivially_destructible_v<Arena>);

// Chunks from the C++ heap, all freed when this goes away. For unit tests and tools; the
// extension uses a memory context instead.
class HeapChunks {
public:
    HeapChunks() = default;
    HeapChunks(const HeapChunks&) = delete;
    HeapChunks& operator=(const HeapChunks&) = delete;
    ~HeapChunks();

    ChunkSource source() noexcept { return {&HeapChunks::allocate_chunk, this}; }

private:
    static void* allocate_chunk(void* self, std::size_t bytes);
    struct Chunk;
    Chunk* chunks_ = nullptr;
};

}  // namespace telemetry
