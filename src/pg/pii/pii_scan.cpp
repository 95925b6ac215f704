// telemetry.pii_scan(properties jsonb) (src/sql/40_pii.sql): what the PII detectors
// (core/pii/detect, core/pii/scan_json) find in a document, as (JSON Pointer, detector) rows,
// never the values. Changes nothing: a DBA's audit of events stored before detection ran.
#include <cstring>
#include <string>

#include "core/json/jsonb.hpp"
#include "core/pii/scan_json.hpp"
#include "pg/boundary/context_owned.hpp"
#include "pg/boundary/convert.hpp"
#include "pg/boundary/guard.hpp"

extern "C" {
#include "utils/jsonb.h"
}

namespace telemetry::pg {
namespace {

// The rows, copied out of the scan into palloc'd memory before PostgreSQL is called again.
struct ScanRows {
    int count = 0;
    char** paths = nullptr;
    const char** detectors = nullptr;
};

}  // namespace
}  // namespace telemetry::pg

// pii_scan(properties jsonb) RETURNS TABLE (path text, detector text). A scan that ran out of
// its budget ends with the row (pointer where it stopped, 'scan_incomplete').
TELEMETRY_FUNCTION(telemetry_pii_scan) {
    using namespace telemetry;
    using namespace telemetry::pg;
    InitMaterializedSRF(fcinfo, 0);
    if (PG_ARGISNULL(0)) return (Datum)0;
    Jsonb* document = PG_GETARG_JSONB_P(0);
    MemoryContext call_memory = AllocSetContextCreate(CurrentMemoryContext, "telemetry.pii_scan", ALLOCSET_SMALL_SIZES);
    Arena arena(chunks_from(call_memory));
    const ScanRows rows = core_phase_or_raise([&] {
        const JsonbBytes bytes = jsonb_bytes(document);
        const JsonValue value = decode_jsonb(bytes.data, bytes.size, 64, arena);
        const pii::JsonScan scan = pii::scan_json(value);
        ScanRows out;
        const std::size_t n = scan.findings.size() + (scan.complete ? 0 : 1);
        out.paths = static_cast<char**>(palloc_or_throw(sizeof(char*) * (n + 1)));
        out.detectors = static_cast<const char**>(palloc_or_throw(sizeof(char*) * (n + 1)));
        for (const pii::PathFinding& f : scan.findings) {
            out.paths[out.count] = pstrdup_or_throw(f.path);
            out.detectors[out.count] = pii::detector_name(f.detector).data();  // static strings
            ++out.count;
        }
        if (!scan.complete) {
            out.paths[out.count] = pstrdup_or_throw(scan.stopped_at);
            out.detectors[out.count] = "scan_incomplete";
            ++out.count;
        }
        return out;
    });
    ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    for (int i = 0; i < rows.count; ++i) {
        Datum out[2] = {CStringGetTextDatum(rows.paths[i]), CStringGetTextDatum(rows.detectors[i])};
        bool nulls[2] = {false, false};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, nulls);
    }
    MemoryContextDelete(call_memory);
    return (Datum)0;
}
