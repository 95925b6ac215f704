// See event_sql.hpp.
#include "pg/analytics/event_sql.hpp"

extern "C" {
#include "utils/builtins.h"
#include "utils/jsonb.h"
}

namespace telemetry::pg {

void append_condition(StringInfo sql, const char* alias, Datum name, Datum where) {
    appendStringInfo(sql, "%s.name OPERATOR(pg_catalog.=) %s", alias, quote_literal_cstr(TextDatumGetCString(name)));
    Jsonb* condition = DatumGetJsonbP(where);
    if (JB_ROOT_IS_OBJECT(condition) && JB_ROOT_COUNT(condition) == 0) return;  // no condition
    appendStringInfo(sql, " AND %s.properties OPERATOR(pg_catalog.@>) %s::pg_catalog.jsonb", alias,
                     quote_literal_cstr(JsonbToCString(nullptr, &condition->root, VARSIZE(condition))));
}

void append_masks(StringInfo sql, const Datum* names, const Datum* wheres, int n) {
    if (n == 0) appendStringInfoString(sql, "0::pg_catalog.int8");
    for (int k = 0; k < n; ++k) {
        appendStringInfoString(sql, k == 0 ? "(CASE WHEN " : " OPERATOR(pg_catalog.|) (CASE WHEN ");
        append_condition(sql, "e", names[k], wheres[k]);
        appendStringInfo(sql, " THEN %lld::pg_catalog.int8 ELSE 0 END)", 1LL << k);
    }
}

void append_name_list(StringInfo sql, const char* alias, const Datum* names, int n, const Datum* more, int n_more) {
    appendStringInfo(sql, "%s.name OPERATOR(pg_catalog.=) ANY (ARRAY[", alias);
    for (int i = 0; i < n + n_more; ++i)
        appendStringInfo(sql, "%s%s", i == 0 ? "" : ", ",
                         quote_literal_cstr(TextDatumGetCString(i < n ? names[i] : more[i - n])));
    appendStringInfoString(sql, "]::pg_catalog.text[])");
}

}  // namespace telemetry::pg
