#include "core/base/arena.hpp"

#include <cstdlib>
#include <cstring>

namespace telemetry {

void* Arena::allocate(std::size_t bytes, std::size_t align) {
    const std::uintptr_t at = reinterpret_cast<std::uintptr_t>(cursor_);
    const std::uintptr_t aligned = (at + align - 1) & ~(static_cast<std::uintptr_t>(align) - 1);
    if (cursor_ != nullptr && aligned + bytes >= aligned && aligned + bytes <= reinterpret_cast<std::uintptr_t>(end_)) {
        cursor_ = reinterpret_cast<char*>(aligned + bytes);
        return reinterpret_cast<void*>(aligned);
    }
    // A new chunk: large requests get one of their own, so the current chunk keeps its room.
    if (bytes > SIZE_MAX / 2) throw std::bad_alloc();
    const std::size_t needed = bytes + align;
    if (needed > next_chunk_ / 4) return source_.allocate(source_.context, bytes);
    char* chunk = static_cast<char*>(source_.allocate(source_.context, next_chunk_));
    cursor_ = chunk;
    end_ = chunk + next_chunk_;
    if (next_chunk_ < 64 * 1024) next_chunk_ *= 2;
    return allocate(bytes, align);
}

std::string_view Arena::copy(std::string_view text) {
    if (text.empty()) return {};
    char* out = static_cast<char*>(allocate(text.size(), 1));
    std::memcpy(out, text.data(), text.size());
    return {out, text.size()};
}

struct HeapChunks::Chunk {
    Chunk* next;
    alignas(std::max_align_t) unsigned char data[1];
};

void* HeapChunks::allocate_chunk(void* self, std::size_t bytes) {
    auto* owner = static_cast<HeapChunks*>(self);
    void* raw = std::malloc(offsetof(Chunk, data) + bytes);
    if (raw == nullptr) throw std::bad_alloc();
    Chunk* chunk = static_cast<Chunk*>(raw);
    chunk->next = owner->chunks_;
    owner->chunks_ = chunk;
    return chunk->data;
}

HeapChunks::~HeapChunks() {
    while (chunks_ != nullptr) {
        Chunk* next = chunks_->next;
        std::free(chunks_);
        chunks_ = next;
    }
}

}  // namespace telemetry

#include "core/base/no_postgres.hpp"
