#include <cstring>
#include <new>
#include <string>

#include "core/ingest/batch.hpp"
#include "core/json/jsonb.hpp"
#include "core/catalog/schema.hpp"
#include "pg/catalog/catalog_cache.hpp"
#include "pg/observe/counters.hpp"
#include "pg/boundary/convert.hpp"
#include "pg/ingest/dedup_ledger.hpp"
#include "pg/ingest/event_store.hpp"
#include "pg/boundary/guard.hpp"
#include "pg/ingest/ingest_context.hpp"
#include "pg/ingest/pipeline.hpp"
#include "pg/ingest/quarantine_store.hpp"
#include "pg/boundary/search_path.hpp"
#include "pg/pii/pii_policies.hpp"
#include "pg/settings.hpp"
#include "pg/tenancy/database_secrets.hpp"

namespace telemetry::pg {

namespace {

constexpr int decide_chunk = 512;  // events decided between two checks for interrupts

// Core phase: decide items [from, to). No PostgreSQL call may raise in here.
void decide_range(const Catalog& catalog, const IngestSettings& settings, PipelineCall& call, int from, int to) {
    core_phase_or_raise([&] {
        for (int i = from; i < to; ++i) {
            PipelineItem& item = call.items[i];
            item.decision = decide(catalog, settings, item.in, *call.arena);
            const IngestDecision& d = item.decision;
            if (d.status != IngestStatus::accepted && d.status != IngestStatus::quarantined) continue;
            char version[SchemaVer::max_text];
            item.schema_version = call.arena->copy(std::string_view(version, d.type->version.write(version)));
            if (d.properties_rewritten || item.original_properties == nullptr)
                item.encoded_properties = encode_jsonb(*d.properties, *call.arena);
        }
    });
}

void refuse(PipelineItem& item, const char* state, const char* reason) {
    item.decision.status = IngestStatus::rejected;
    item.decision.sqlstate = state;
    item.decision.reason = reason;
}

int compare_item_ids(const void* a, const void* b) {
    const PipelineItem* x = *static_cast<PipelineItem* const*>(a);
    const PipelineItem* y = *static_cast<PipelineItem* const*>(b);
    const int c = std::memcmp(x->in.event_id->data(), y->in.event_id->data(), 16);
    if (c != 0) return c;
    return x < y ? -1 : (x > y ? 1 : 0);  // earlier item first
}

bool kept(const PipelineItem& item) {
    return item.decision.status == IngestStatus::accepted || item.decision.status == IngestStatus::quarantined;
}

// Client event_ids: within the call, the first of equal ids is the event, later ones are
// duplicates; then the ledger says which were seen before.
void deduplicate(PipelineCall& call) {
    PipelineItem** with_ids = static_cast<PipelineItem**>(palloc(sizeof(PipelineItem*) * (call.n > 0 ? call.n : 1)));
    int m = 0;
    for (int i = 0; i < call.n; ++i)
        if (call.items[i].client_event_id && kept(call.items[i])) with_ids[m++] = &call.items[i];
    if (m == 0) return;
    qsort(with_ids, m, sizeof(PipelineItem*), compare_item_ids);
    pg_uuid_t* ids = static_cast<pg_uuid_t*>(palloc(sizeof(pg_uuid_t) * m));
    PipelineItem** firsts = static_cast<PipelineItem**>(palloc(sizeof(PipelineItem*) * m));
    int distinct = 0;
    for (int k = 0; k < m; ++k) {
        if (k > 0 && std::memcmp(with_ids[k]->in.event_id->data(), with_ids[k - 1]->in.event_id->data(), 16) == 0) {
            with_ids[k]->decision.status = IngestStatus::duplicate;
            with_ids[k]->decision.reason = "the same event_id appears earlier in this batch";
            continue;
        }
        ids[distinct] = to_pg_uuid(*with_ids[k]->in.event_id);
        firsts[distinct++] = with_ids[k];
    }
    bool* is_new = static_cast<bool*>(palloc(sizeof(bool) * distinct));
    record_event_ids(call.tenant, ids, distinct, call.now, is_new);
    for (int k = 0; k < distinct; ++k) {
        if (is_new[k]) continue;
        firsts[k]->decision.status = IngestStatus::duplicate;
        firsts[k]->decision.reason = "this event_id was already received";
    }
}

Jsonb* stored_properties(const PipelineItem& item) {
    if (!item.encoded_properties.empty()) return as_jsonb(item.encoded_properties);
    return item.original_properties;
}

// An item kept (accepted or quarantined) as the row the stores take.
StoredEvent stored_event(const PipelineCall& call, const PipelineItem& item) {
    StoredEvent e;
    e.tenant_id = call.tenant;
    e.event_id = to_pg_uuid(*item.in.event_id);
    e.name = to_text(*item.in.name);
    e.properties = stored_properties(item);
    e.user_id = to_text_or_null(item.decision.user_id);  // hashed when it showed personal data
    e.session_id = to_text_or_null(item.decision.session_id);
    e.occurred_at = from_unix_us(item.decision.occurred_at_us);
    e.received_at = item.received_at;
    e.sample_weight = item.decision.sample_weight;
    e.flags = static_cast<int16>(item.decision.flags);
    e.source = cstring_to_text(item.source);
    e.schema_version = to_text(item.schema_version);
    return e;
}

void write_accepted(PipelineCall& call) {
    StoredEvent* rows = static_cast<StoredEvent*>(palloc(sizeof(StoredEvent) * (call.n > 0 ? call.n : 1)));
    int m = 0;
    for (int i = 0; i < call.n; ++i)
        if (call.items[i].decision.status == IngestStatus::accepted) rows[m++] = stored_event(call, call.items[i]);
    write_events(rows, m);
}

void write_quarantined(const PipelineCall& call, const PipelineItem& item) {
    const IngestDecision& d = item.decision;
    QuarantineRow row;
    row.event = stored_event(call, item);
    row.sqlstate = cstring_to_text(d.sqlstate);
    row.reason = to_text(d.quarantine_reason);
    row.json_path = to_text(d.violation_path);
    row.rule = to_text(d.violation_rule);
    row.pii_rewritten_paths = to_text_array(d.pii_rewritten_paths);
    insert_quarantine_row(row);
}

}  // namespace

const JsonValue* decode_properties(Jsonb* jsonb, Arena& arena) {
    const JsonbBytes bytes = jsonb_bytes(jsonb);
    return core_phase_or_raise([&] { return read_properties_jsonb(bytes.data, bytes.size, arena); });
}

void run_pipeline(PipelineCall& call) {
    // 1. What the decisions depend on besides the catalog.
    IngestSettings settings;
    settings.now_us = to_unix_us(call.now);
    settings.retention_us = static_cast<std::int64_t>(tenant_retention_days(call.tenant)) * USECS_PER_DAY;
    settings.future_tolerance_us = static_cast<std::int64_t>(future_tolerance_seconds) * USECS_PER_SEC;
    settings.tenant_id = uuid_bytes(call.tenant);
    settings.pii_master_key = pii_master_key();
    settings.pii_policy = tenant_pii_policy(call.tenant);
    if (tenant_has_opt_outs(call.tenant)) {
        for (int i = 0; i < call.n; ++i) {
            IncomingEvent& in = call.items[i].in;
            if (!*in.read_sqlstate && in.user_id && !in.user_id->empty())
                in.opted_out = is_opted_out(call.tenant, *in.user_id);
        }
    }

    // 2. The decisions, against one catalog version for the whole statement.
    const Catalog& catalog = current_catalog();
    for (int from = 0; from < call.n; from += decide_chunk) {
        const int to = from + decide_chunk < call.n ? from + decide_chunk : call.n;
        decide_range(catalog, settings, call, from, to);
        CHECK_FOR_INTERRUPTS();
    }

    // 3. Every accepted event needs a partition for its day. Before deduplication: an event
    //    refused here must not leave its id in the ledger, or its retry would be a "duplicate".
    for (int i = 0; i < call.n; ++i) {
        PipelineItem& item = call.items[i];
        if (item.decision.status == IngestStatus::accepted &&
            !partition_accepts(from_unix_us(item.decision.occurred_at_us))) {
            refuse(item, "22008", "occurred_at falls on a day without a partition of telemetry.events");
            item.decision.hint = "SELECT telemetry.create_partitions() makes the missing days.";
        }
    }

    // 4. Deduplication by client event_id.
    if (call.deduplicate) deduplicate(call);

    // 5. Writes, then the counts.
    write_accepted(call);
    if (call.write_quarantine)
        for (int i = 0; i < call.n; ++i)
            if (call.items[i].decision.status == IngestStatus::quarantined) write_quarantined(call, call.items[i]);
    DecisionTally tally(settings.now_us);
    for (int i = 0; i < call.n; ++i) {
        const IngestDecision& d = call.items[i].decision;
        tally.add(d);
        for (std::uint32_t k = 0; k < d.pii_decision_count; ++k)
            count_pii_decision(d.pii_decisions[k].detector, d.pii_decisions[k].action);
    }
    count_ingest_decisions(tally, call.tenant.data);
}

}  // namespace telemetry::pg
