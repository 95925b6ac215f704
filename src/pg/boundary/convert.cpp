#include "pg/boundary/convert.hpp"

namespace telemetry::pg {

std::int64_t finite_time(TimestampTz t, const char* what) {
    if (TIMESTAMP_NOT_FINITE(t))
        ereport(ERROR, (errcode(ERRCODE_DATETIME_FIELD_OVERFLOW), errmsg("%s must be a finite timestamp", what)));
    return to_unix_us(t);
}

std::optional<std::int64_t> time_from_text(const std::optional<std::string_view>& value, const char* what) {
    if (!value) return std::nullopt;
    char* cstring = pnstrdup(value->data(), value->size());
    MemoryContext context = CurrentMemoryContext;
    volatile TimestampTz t = 0;
    ErrorData* volatile error = nullptr;
    PG_TRY();
    {
        t = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in, CStringGetDatum(cstring),
                                                    ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(context);
        error = CopyErrorData();
        FlushErrorState();
    }
    PG_END_TRY();
    if (error != nullptr) {
        // Only what the input function says of the input is ours to reword (its message
        // quotes the value); anything else (out of memory, a cancel) goes on as it was.
        if (ERRCODE_TO_CATEGORY(error->sqlerrcode) != ERRCODE_DATA_EXCEPTION) ReThrowError(error);
        ereport(ERROR, (errcode(ERRCODE_INVALID_DATETIME_FORMAT), errmsg("%s is not a timestamp", what),
                        errhint("Send an ISO 8601 timestamp with its offset, such as 2026-11-21T10:00:00Z.")));
    }
    return finite_time(t, what);
}

std::optional<pg_uuid_t> uuid_from_text(const std::optional<std::string_view>& value, const char* what) {
    if (!value) return std::nullopt;
    const std::optional<Uuid> id = parse_uuid(*value);
    if (!id)
        ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION), errmsg("%s: expected a UUID", what),
                        errhint("Such as 0192d5b4-1c2e-7a3b-9c4d-5e6f708192a3.")));
    return to_pg_uuid(*id);
}

ArrayType* to_text_array(const PathList& paths) {
    Datum* elements = static_cast<Datum*>(palloc(sizeof(Datum) * (paths.count > 0 ? paths.count : 1)));
    for (std::size_t i = 0; i < paths.count; ++i) elements[i] = text_datum(paths.items[i]);
    return construct_array(elements, static_cast<int>(paths.count), TEXTOID, -1, false, TYPALIGN_INT);
}

PathList path_list_from(ArrayType* array) {
    Datum* elements;
    bool* nulls;
    int count;
    deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &elements, &nulls, &count);
    auto* views = static_cast<std::string_view*>(palloc(sizeof(std::string_view) * (count > 0 ? count : 1)));
    std::size_t kept = 0;
    for (int k = 0; k < count; ++k)
        if (!nulls[k]) views[kept++] = text_view(DatumGetTextPP(elements[k]));
    return PathList{views, kept};
}

}  // namespace telemetry::pg
