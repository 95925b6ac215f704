// Actors by number. The analytics engines' callers (src/pg/analytics) read an actor's events
// unsorted and group them in memory by (actor, time, ingest order): sorting in SQL by a text
// key costs more than the engines themselves. Each distinct actor gets a small number here.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

namespace telemetry::analytics {

class ActorIndex {
public:
    // The actor's number, 0, 1, 2, ... in order of first appearance. Throws std::bad_alloc only.
    int number(std::string_view actor) {
        // The arguments are evaluated before the insertion: a new actor gets the old size.
        return numbers_.try_emplace(std::string(actor), static_cast<int>(numbers_.size())).first->second;
    }
    std::size_t size() const noexcept { return numbers_.size(); }
    // About the memory held, for a caller that bounds it.
    std::size_t bytes() const noexcept { return bytes_per_actor * numbers_.size(); }
    void clear() noexcept { numbers_.clear(); }

    static constexpr std::size_t bytes_per_actor = 96;  // node, key and bucket of a typical short id

private:
    std::unordered_map<std::string, int> numbers_;
};

}  // namespace telemetry::analytics
