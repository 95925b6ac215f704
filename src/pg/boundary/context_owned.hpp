// C++ memory owned by PostgreSQL memory contexts (DESIGN.md §1): objects (context_owned<T>), and
// the chunks of an Arena (chunks_from).
//
// Engine state that lives across database reads (a funnel over an SPI cursor, rows fetched a
// batch at a time) cannot be a stack object: an ereport between two fetches (a cancel, a
// statement timeout, an error in the query) longjmps past its frame and its destructor never
// runs, leaking whatever it holds on the C++ heap. Made with make_context_owned(), the object
// lives in memory of the context and is destroyed by the context's reset callback, whenever the
// context is reset or deleted: by the caller once the work is done, or by PostgreSQL's error
// cleanup when the transaction or subtransaction aborts.
//
// Use a context that error cleanup deletes (a child of the function's CurrentMemoryContext, or
// of a portal's), never TopMemoryContext. The destructor of T runs inside PostgreSQL's cleanup:
// it must not throw (destructors are noexcept) and must not call PostgreSQL. It runs after the
// context's children are deleted: T must not hold memory of a child context (an Arena on one)
// that its destructor reads.
#pragma once

#include <new>
#include <type_traits>
#include <utility>

#include "core/base/arena.hpp"
#include "pg/boundary/pg_headers.hpp"

namespace telemetry::pg {

// An Arena whose chunks come from a memory context: freed with it, nothing to destroy. A chunk
// that cannot be had is std::bad_alloc.
ChunkSource chunks_from(MemoryContext context);

template <typename T>
class context_owned {
public:
    context_owned(const context_owned&) = delete;
    context_owned& operator=(const context_owned&) = delete;

private:
    template <typename U, typename... Args>
    friend U* make_context_owned(MemoryContext context, Args&&... args);

    // Constructs T in `context`; a throwing constructor frees the memory and rethrows.
    template <typename... Args>
    static T* make(MemoryContext context, Args&&... args) {
        static_assert(alignof(context_owned) <= MAXIMUM_ALIGNOF, "memory contexts align to MAXIMUM_ALIGNOF only");
        void* memory = MemoryContextAllocExtended(context, sizeof(context_owned), MCXT_ALLOC_NO_OOM);
        if (memory == nullptr) throw std::bad_alloc();
        context_owned* holder;
        try {
            holder = new (memory) context_owned(std::forward<Args>(args)...);
        } catch (...) {
            pfree(memory);
            throw;
        }
        // Only links the callback into the context: it cannot fail.
        MemoryContextRegisterResetCallback(context, &holder->callback_);
        return &holder->object_;
    }

    template <typename... Args>
    explicit context_owned(Args&&... args) : object_(std::forward<Args>(args)...) {
        callback_.func = &destroy;
        callback_.arg = this;
    }

    static void destroy(void* holder) noexcept { static_cast<context_owned*>(holder)->~context_owned(); }

    MemoryContextCallback callback_;  // first: PostgreSQL links it while object_ lives
    T object_;
};

// A T owned by `context`, destroyed when the context is reset or deleted. Call it in a core
// phase (run_core_phase): it throws std::bad_alloc when memory runs out, and what T's
// constructor throws.
template <typename T, typename... Args>
T* make_context_owned(MemoryContext context, Args&&... args) {
    static_assert(std::is_nothrow_destructible_v<T>, "its destructor runs inside PostgreSQL's error cleanup");
    return context_owned<T>::make(context, std::forward<Args>(args)...);
}

}  // namespace telemetry::pg
