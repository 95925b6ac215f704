#include "core/analytics/sessions.hpp"

#include <algorithm>
#include <limits>
#include <utility>

namespace telemetry::analytics {

namespace {

constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();

// later - earlier (earlier <= later) without overflow: timestamps far apart (4713 BC to AD 294276)
// differ by more than int64 holds, which unsigned arithmetic takes exactly.
std::uint64_t distance(std::int64_t earlier, std::int64_t later) noexcept {
    return static_cast<std::uint64_t>(later) - static_cast<std::uint64_t>(earlier);
}

// A duration in microseconds, saturated (only a client session spanning millennia reaches it).
std::int64_t duration(std::int64_t first, std::int64_t last) noexcept {
    if (last <= first) return 0;
    const std::uint64_t d = distance(first, last);
    return d > static_cast<std::uint64_t>(int64_max) ? int64_max : static_cast<std::int64_t>(d);
}

}  // namespace

bool splits_at(const SessionSpec& spec, std::int64_t previous, std::int64_t next) noexcept {
    return next > previous && distance(previous, next) > static_cast<std::uint64_t>(spec.inactivity);
}

// An earlier event e < read_from is more than `inactivity` before first_read whenever first_read
// is at least `inactivity` after read_from, so then it cannot continue into first_read.
bool may_continue_from_before(const SessionSpec& spec, std::int64_t first_read, std::int64_t read_from) noexcept {
    return first_read < read_from || distance(read_from, first_read) < static_cast<std::uint64_t>(spec.inactivity);
}

// A session starting at s < range_to keeps only events at most s + max_length (exactly 24 hours
// continues), so all of them are before range_to + max_length.
std::int64_t read_to(const SessionSpec& spec) noexcept {
    if (spec.range_to > int64_max - spec.max_length) return int64_max;
    return spec.range_to + spec.max_length;
}

SessionTotals::SessionTotals(SessionSpec spec) : spec_(std::move(spec)) {
    auto& starts = spec_.bucket_starts;
    if (starts.empty()) starts.push_back(spec_.range_from);
    std::sort(starts.begin(), starts.end());
    starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
    totals_.resize(starts.size());
}

// A finished session: counted when it starts in the range and in a bucket.
void SessionTotals::count(std::int64_t first, std::int64_t last, std::int64_t events) {
    if (first < spec_.range_from || first >= spec_.range_to) return;
    const auto& starts = spec_.bucket_starts;
    const auto after = std::upper_bound(starts.begin(), starts.end(), first);
    if (after == starts.begin()) return;  // before the first bucket
    Totals& t = totals_[static_cast<std::size_t>(after - starts.begin()) - 1];
    t.durations.push_back(duration(first, last));
    if (events == 1) ++t.bounces;
}

void SessionTotals::add_event(std::int64_t time) {
    if (open_) {
        // Both rules against the open session; the cap counts from its first event, so a steady
        // stream is cut every max_length from where its run began, never at midnight.
        const bool gap = splits_at(spec_, last_, time);
        const bool too_long = time > first_ && distance(first_, time) > static_cast<std::uint64_t>(spec_.max_length);
        if (!gap && !too_long) {
            last_ = std::max(last_, time);
            ++events_;
            return;
        }
        count(first_, last_, events_);
    }
    open_ = true;
    first_ = last_ = time;
    events_ = 1;
}

void SessionTotals::end_actor() {
    if (open_) count(first_, last_, events_);
    open_ = false;
}

void SessionTotals::add_actor_events(const std::int64_t* times, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) add_event(times[i]);
    end_actor();
}

// Taken as given (not split): only whether it starts in the range and where.
void SessionTotals::add_client_session(std::int64_t first, std::int64_t last, std::int64_t events) {
    count(first, std::max(first, last), events);
}

std::vector<SessionTotals::Bucket> SessionTotals::buckets() {
    std::vector<Bucket> out;
    out.reserve(totals_.size());
    for (std::size_t i = 0; i < totals_.size(); ++i) {
        std::vector<std::int64_t>& d = totals_[i].durations;
        Bucket b{spec_.bucket_starts[i], static_cast<std::int64_t>(d.size()), totals_[i].bounces, 0.0, 0.0, 0.0};
        if (!d.empty()) {
            // Bounces are in here with 0: the average is over every session (FUNNELS.md).
            double sum = 0;
            for (std::int64_t x : d) sum += static_cast<double>(x);
            const double n = static_cast<double>(d.size());
            b.avg_seconds = sum / n / 1e6;
            // The exact median: the middle value, or of an even count the mean of the two middle
            // ones (the largest of the lower half after nth_element).
            const std::size_t m = d.size() / 2;
            std::nth_element(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(m), d.end());
            double median = static_cast<double>(d[m]);
            if (d.size() % 2 == 0) {
                const std::int64_t lower = *std::max_element(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(m));
                median = (static_cast<double>(lower) + median) / 2;
            }
            b.median_seconds = median / 1e6;
            b.bounce_rate = static_cast<double>(b.bounces) / n;
        }
        out.push_back(b);
    }
    return out;
}

}  // namespace telemetry::analytics

#include "core/base/no_postgres.hpp"
