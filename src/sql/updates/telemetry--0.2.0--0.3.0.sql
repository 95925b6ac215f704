-- telemetry 0.2.0 -> 0.3.0: every SQL object of the extension documented with COMMENT ON
-- (CHANGELOG.md). Run by ALTER EXTENSION telemetry UPDATE TO '0.3.0'; test/t/008_upgrade.pl
-- checks that the result is what CREATE EXTENSION telemetry makes, object for object.
--
-- The comments new or changed since 0.2.0, as src/sql/ has them at 0.3.0, copied: an upgrade
-- script is frozen once released, while src/sql/ moves on.

\echo Use "ALTER EXTENSION telemetry UPDATE TO '0.3.0'" to load this file. \quit

-- 00_header.sql
COMMENT ON SCHEMA telemetry IS
    'The objects of the telemetry extension: product-analytics events, their catalog, ingest, quarantine, opt-outs and tenancy (DROP EXTENSION leaves the schema itself). PUBLIC has no privilege on it: grant USAGE to the roles that use telemetry (docs/operations.md, "Privileges").';

-- 05_boundary.sql
COMMENT ON FUNCTION telemetry.table_changed() IS
    'Internal trigger function: the statement trigger of telemetry.tenant_settings, opt_outs and secrets (enabled ALWAYS), which makes every backend reload its cache of the table at its next statement. Raises 39P01 when not called as a trigger.';
COMMENT ON FUNCTION telemetry.self_test(text) IS
    'Internal diagnostic, not granted to PUBLIC (docs/errors.md): drives the path of the C++/PostgreSQL error boundary that kind names, on purpose. A failure kind (domain_error, cpp_exception, bad_alloc, postgres_error, ...) raises the ERROR that failure becomes (22023, XX000, 53200...); ok returns ok, and unwound how many C++ objects were destroyed while a PostgreSQL error was carried through them. An unknown kind raises 22023 with a hint listing every kind; NULL raises 22004.';
COMMENT ON FUNCTION telemetry.self_test_jsonb(text) IS
    'Internal diagnostic (test/t/004_jsonb_codec.pl): NULL when this build''s jsonb reader and writer agree with PostgreSQL on the JSON text document (the bytes jsonb_in makes, and the value read back), else what differs. A document either reader refuses raises that reader''s error (22P02 for text that is not JSON); NULL gives NULL.';

-- 10_ingest_events.sql
COMMENT ON SEQUENCE telemetry.events_id_seq IS
    'The ids of telemetry.events, in ingest order. Dumped with its position, so a restored database goes on from it.';
COMMENT ON TABLE telemetry.events IS 'Accepted events, partitioned by UTC day of occurred_at. Written by telemetry.track(), track_batch() and replay_quarantine(), which check every event against the catalog.';
COMMENT ON COLUMN telemetry.events.id IS 'Ingest order (telemetry.events_id_seq): orders events of the same instant.';
COMMENT ON COLUMN telemetry.events.occurred_at IS 'When the event happened (the partition key): as given, else when it was received; shifted for the client''s clock when sent_at is given, and the time it was received when too far ahead (see flags).';
COMMENT ON COLUMN telemetry.events.received_at IS 'When the database received the event (a replay from quarantine keeps the first time).';
COMMENT ON COLUMN telemetry.events.tenant_id IS 'The tenant; 00000000-0000-0000-0000-000000000000 for single-tenant applications.';
COMMENT ON COLUMN telemetry.events.event_id IS 'The event''s id: a UUIDv7 made at ingest, or the client''s event_id in canonical form (unique per tenant within telemetry.dedup_window_days).';
COMMENT ON COLUMN telemetry.events.sample_weight IS '1 / the sample_rate the event was kept under: multiply by it to scale counts back.';
COMMENT ON COLUMN telemetry.events.flags IS 'What ingest changed, as bits: 1 time in the future stored as received_at, 2 time corrected with sent_at, 4 members omitted, 8 x-pii rewrote properties, 16 a lone UTF-16 surrogate replaced (docs/ingest.md, "Flags").';
COMMENT ON COLUMN telemetry.events.name IS 'The event type (telemetry.event_types.name).';
COMMENT ON COLUMN telemetry.events.user_id IS 'The user, 1 to 256 bytes compared byte for byte (an integral JSON number in a batch becomes its integer text), or NULL.';
COMMENT ON COLUMN telemetry.events.session_id IS 'The session, 1 to 256 bytes compared byte for byte (an integral JSON number in a batch becomes its integer text), or NULL.';
COMMENT ON COLUMN telemetry.events.source IS 'How the event came: server (track()) or client (track_batch()).';
COMMENT ON COLUMN telemetry.events.schema_version IS 'The SchemaVer version of the event type that accepted the event.';
COMMENT ON COLUMN telemetry.events.properties IS 'The event''s properties, a JSON object as stored: after omit and x-pii rewriting, within the type''s max_bytes.';
COMMENT ON FUNCTION telemetry.partitions() IS
    'The partitions of telemetry.events, oldest first: partition, the UTC day of its lower bound, and its bounds [lower_bound, upper_bound). Partitions attached by hand are listed whatever their name (but one bounded by MINVALUE or MAXVALUE is not).';
COMMENT ON FUNCTION telemetry.create_partitions(timestamptz, integer, integer) IS
    'Makes the missing daily partitions of telemetry.events, with their primary key and index, for the UTC days from p_days_back (default telemetry.retention_days) before p_now to p_days_ahead (default telemetry.premake_days) after it; returns how many it made. Idempotent; does not block tracking. A day any partition covers is skipped; a day whose usual name is taken gets another name, and one covered only in part is left, each with a WARNING. Errors: p_now NULL or infinite (22008), days back beyond 0..3650 or ahead beyond 0..365 (22023).';

-- 20_catalog.sql
COMMENT ON FUNCTION telemetry.valid_event_name(text) IS
    'The naming rule of event types: true for one or more dot-separated segments of lower-case ASCII letters, digits and underscores, starting with a letter, at most 100 bytes, and not 32 hexadecimal digits (which would read as a tenant''s UUID). Used by the CHECK of telemetry.event_types; granted to PUBLIC.';
COMMENT ON COLUMN telemetry.event_types.name IS 'The event type, following the naming rule (telemetry.valid_event_name()).';
COMMENT ON COLUMN telemetry.event_types.version IS 'SchemaVer MODEL-REVISION-ADDITION of the property schema.';
COMMENT ON COLUMN telemetry.event_types.status IS 'planned (declared, refused for now), active, deprecated (accepted, with a warning once per session) or blocked (refused).';
COMMENT ON COLUMN telemetry.event_types.description IS 'What the event type means: documentation (catalog documents allow up to 1000 bytes).';
COMMENT ON COLUMN telemetry.event_types.sample_rate IS 'The share of actors (user, else session, else the event) whose events are kept, above 0 and at most 1; kept events get sample_weight = 1 / sample_rate.';
COMMENT ON COLUMN telemetry.event_types.max_bytes IS 'The size limit of the properties as stored (compact JSON text after x-pii rewriting), 2 to 65536 bytes.';
COMMENT ON COLUMN telemetry.event_types.on_violation IS 'What happens to an event that breaks its schema: reject (an error), quarantine (kept in telemetry.quarantine, as is one over max_bytes) or omit (the offending members removed).';
COMMENT ON COLUMN telemetry.event_types.schema IS 'The property schema, a JSON-Schema subset (docs/catalog.md, "Property schemas").';
COMMENT ON COLUMN telemetry.event_types.created_at IS 'When the event type was declared.';
COMMENT ON COLUMN telemetry.event_types.updated_at IS 'When load_catalog() last changed the event type (an edit by hand changes it only if it sets it).';
COMMENT ON COLUMN telemetry.event_types.pattern_instructions IS 'The RE2 instructions the schema''s patterns compile to, set by a trigger whatever an INSERT says: the catalog''s total stays within 500,000.';
COMMENT ON FUNCTION telemetry.catalog_changed() IS
    'Internal trigger function: the statement trigger of telemetry.event_types (event_types_changed, enabled ALWAYS), which makes every backend rebuild its catalog cache at its next statement, and this one at once. Raises 39P01 when not called as a trigger.';
COMMENT ON FUNCTION telemetry.check_event_type() IS
    'Internal trigger function: BEFORE INSERT OR UPDATE of each row of telemetry.event_types (event_types_checked), which gives edits by hand the schema checks of load_catalog() (22023, naming the JSON path) and sets pattern_instructions. Raises 39P01 when not called as a trigger.';
COMMENT ON FUNCTION telemetry.check_catalog_budget() IS
    'Internal trigger function: after each INSERT or UPDATE statement on telemetry.event_types (event_types_within_budget), refuses (54000) a catalog whose patterns compile to more than 500,000 RE2 instructions in all. Raises 39P01 when not called as a trigger.';
COMMENT ON FUNCTION telemetry.catalog_change_refusal(text, text, jsonb, integer, text, jsonb, integer) IS
    'Why load_catalog() refuses to change event type name from the old (version, schema, max_bytes) to the new: a change that would break producers without a new MODEL version, a lower version, or a schema or max_bytes changed under the same version; NULL when the change is allowed (or an argument is NULL). A version that is not SchemaVer MODEL-REVISION-ADDITION raises 22023.';
COMMENT ON FUNCTION telemetry.validate_catalog(jsonb) IS
    'Checks a catalog document and returns its event types, normalised with their defaults (name, version, status, description, sample_rate, max_bytes, on_violation, schema); stores nothing. A problem anywhere refuses the whole document, the first one named with its JSON path: 22023 for a broken rule; 54000 over 4 MiB, 10,000 event types, 32 levels or 500,000 RE2 instructions of patterns; 22004 for NULL.';
COMMENT ON FUNCTION telemetry.load_catalog(jsonb) IS
    'Loads or updates event types from one catalog document (docs/catalog.md), all or nothing; one row per declared type: event_name, action (created, updated or unchanged) and version. Idempotent; types the document does not mention are left as they are. Errors: those of validate_catalog(), a change that would break producers or lowers the version (22023, see catalog_change_refusal()), patterns over the catalog''s budget (54000). Needs privileges on telemetry.event_types.';
COMMENT ON FUNCTION telemetry.define_event(text, jsonb, text, text, text, float8, integer, text) IS
    'Declares or updates one event type: load_catalog() with a document of that one type, whose arguments are its keys, with the same defaults; returns the action (created, updated or unchanged). Errors as load_catalog().';

-- 25_tenancy.sql
COMMENT ON TABLE telemetry.tenant_settings IS 'Per-tenant settings: a tenant needs a row only to change a default. Every backend caches them and reloads after a change (trigger tenant_settings_changed).';
COMMENT ON COLUMN telemetry.tenant_settings.tenant_id IS 'The tenant.';
COMMENT ON COLUMN telemetry.tenant_settings.retention_days IS 'Days of raw events kept for the tenant, 1 to 3650: an older event is refused at ingest (22008). NULL: telemetry.retention_days.';
COMMENT ON COLUMN telemetry.tenant_settings.updated_at IS 'When the row was inserted, unless the INSERT gave another time; an UPDATE changes it only if it sets it.';
COMMENT ON TABLE telemetry.tenant_admins IS 'Who administers which tenant: the role named, and every role that has its privileges, may read the tenant''s quarantine and replay it (given SELECT on telemetry.quarantine and EXECUTE on replay_quarantine()), and no other tenant''s. Written by the extension''s owner; every role may read only the rows naming roles it has the privileges of (row-level security). Roles are kept by name: rename a role here when renaming it, delete its rows before dropping it.';
COMMENT ON COLUMN telemetry.tenant_admins.tenant_id IS 'The tenant administered.';
COMMENT ON COLUMN telemetry.tenant_admins.role_name IS 'The administering role, by name; it must exist when the row is written (42704 otherwise).';
COMMENT ON FUNCTION telemetry.check_tenant_admin() IS
    'Internal trigger function: BEFORE INSERT OR UPDATE of each row of telemetry.tenant_admins (tenant_admins_checked), which refuses a role_name naming no existing role (42704).';

-- 30_ingest.sql
COMMENT ON FUNCTION telemetry.unset_argument() IS
    'Internal: returns NULL. The default of every argument of the named text form of track(), by which that form tells the arguments a call left out from those given as NULL; not meant to be called otherwise. Granted to PUBLIC: a default is evaluated as the caller.';
COMMENT ON FUNCTION telemetry.track_batch(uuid, text, timestamptz) IS
    'Records a client''s batch (a JSON array of at most 10,000 events, 16 MiB, 1,000,000 JSON values), parsed once here; one row per event with its status (accepted, duplicate, quarantined, rejected, sampled_out, opted_out), id, reason and SQLSTATE, in order (index from 0). One bad event never refuses the others; only the batch as a whole is an error: NULL tenant_id or events (22004), not JSON (22P02), not a JSON array (22023), over its limits (54000).';

-- 31_ingest_dedup_ledger.sql
COMMENT ON TABLE telemetry.event_ids IS 'The dedup ledger: the event_ids clients sent, per tenant, recorded in the event''s transaction. An id seen within telemetry.dedup_window_days is a duplicate; purge_event_ids() removes older entries. Ids made by track() are never recorded.';
COMMENT ON COLUMN telemetry.event_ids.tenant_id IS 'The tenant.';
COMMENT ON COLUMN telemetry.event_ids.event_id IS 'A client''s event_id, in canonical form.';
COMMENT ON COLUMN telemetry.event_ids.seen_at IS 'When the id was received (renewed when it comes again after the window).';
COMMENT ON FUNCTION telemetry.purge_event_ids(timestamptz) IS
    'Deletes the dedup ledger''s entries (telemetry.event_ids) seen more than telemetry.dedup_window_days before p_now, which no longer count; returns how many. Run it at least weekly, as create_partitions().';

-- 35_ingest_quarantine.sql
COMMENT ON SEQUENCE telemetry.quarantine_id_seq IS
    'The ids of telemetry.quarantine (its bigserial id). Dumped with its position, so a restored database goes on from it.';
COMMENT ON COLUMN telemetry.quarantine.id IS 'The row''s id: replay_quarantine()''s ids and quarantine_id.';
COMMENT ON COLUMN telemetry.quarantine.tenant_id IS 'The tenant: row-level security shows its rows to its admins (telemetry.tenant_admins).';
COMMENT ON COLUMN telemetry.quarantine.event_id IS 'The event''s id, kept when it is replayed.';
COMMENT ON COLUMN telemetry.quarantine.name IS 'The event type.';
COMMENT ON COLUMN telemetry.quarantine.properties IS 'The properties as kept: after x-pii rewriting (see pii_rewritten_paths), at most 64 KB of JSON.';
COMMENT ON COLUMN telemetry.quarantine.user_id IS 'The user, as in telemetry.events, or NULL.';
COMMENT ON COLUMN telemetry.quarantine.session_id IS 'The session, as in telemetry.events, or NULL.';
COMMENT ON COLUMN telemetry.quarantine.occurred_at IS 'When the event happened, as ingest settled it (see telemetry.events.occurred_at).';
COMMENT ON COLUMN telemetry.quarantine.received_at IS 'When the database received the event, kept when it is replayed.';
COMMENT ON COLUMN telemetry.quarantine.source IS 'How the event came: server (track()) or client (track_batch()), kept when it is replayed.';
COMMENT ON COLUMN telemetry.quarantine.sample_weight IS '1 / the sample_rate the event was kept under.';
COMMENT ON COLUMN telemetry.quarantine.flags IS 'What ingest changed, as in telemetry.events.flags.';
COMMENT ON COLUMN telemetry.quarantine.schema_version IS 'The version of the event type that refused the event (the latest replay''s, when one refused it again).';
COMMENT ON COLUMN telemetry.quarantine.sqlstate IS 'The SQLSTATE of the refusal: 23514 for the schema, 54000 for the size; a replay that refuses the event again sets its own.';
COMMENT ON COLUMN telemetry.quarantine.reason IS 'Why the event was refused, as the error message would say; a replay that refuses the event again sets its own.';
COMMENT ON COLUMN telemetry.quarantine.json_path IS 'Where in the properties the (first) violation is, as a JSON path ($ is the properties themselves, as for max_bytes); a replay that rejects the event for a reason without a path leaves it.';
COMMENT ON COLUMN telemetry.quarantine.rule IS 'The broken rule: a schema keyword (type, required, pattern...) or max_bytes; a replay that rejects the event for a reason without a rule leaves it.';
COMMENT ON COLUMN telemetry.quarantine.replay_attempts IS 'How many replays have refused the event again.';
COMMENT ON FUNCTION telemetry.replay_quarantine(uuid, bigint[]) IS
    'Sends a tenant''s quarantined events (ids: those rows, NULL: all; at most 10,000 per call, in id order) through ingest again with today''s catalog; one row per event: quarantine_id, status, id (its event_id), reason. accepted: moved to telemetry.events, once; quarantined or rejected: the row stays with the new reason and one more replay_attempts; sampled_out or opted_out: the row is deleted. For the tenant''s admins (telemetry.tenant_admins), superusers and roles with UPDATE on telemetry.quarantine, else 42501; 22004 for a NULL tenant_id.';

-- 40_pii.sql
COMMENT ON TABLE telemetry.secrets IS 'Internal: the random key behind x-pii "hash" (row pii_hash_key), made at CREATE EXTENSION and used unless the setting telemetry.pii_hash_key is set. Readable by the owner only and not dumped: a restored database gets a new key.';
COMMENT ON COLUMN telemetry.secrets.name IS 'Which secret: pii_hash_key.';
COMMENT ON COLUMN telemetry.secrets.value IS 'The secret (64 hexadecimal digits for pii_hash_key).';
COMMENT ON TABLE telemetry.opt_outs IS 'Users who opted out: none of their events is stored, by any path (track(), track_batch(), replay_quarantine()). Change it with opt_out() and opt_in(); every backend keeps answers about it, renewed after each change (trigger opt_outs_changed).';
COMMENT ON COLUMN telemetry.opt_outs.tenant_id IS 'The tenant.';
COMMENT ON COLUMN telemetry.opt_outs.user_id IS 'The user, compared byte for byte with the events'' user_id.';
COMMENT ON COLUMN telemetry.opt_outs.opted_out_at IS 'When the user opted out.';
COMMENT ON FUNCTION telemetry.opt_out(uuid, text) IS
    'Opts a tenant''s user out: from now on none of the user''s events is stored, by any path (events already stored stay). True when the user was opted out now, false when already. 22004 for a NULL tenant_id, or a NULL or empty user_id. Needs privileges on telemetry.opt_outs.';
COMMENT ON FUNCTION telemetry.opt_in(uuid, text) IS
    'Undoes opt_out(): the user''s events are stored again from now on. True when the user was opted out, false when not. 22004 for a NULL tenant_id or user_id. Needs privileges on telemetry.opt_outs.';

-- 70_observe.sql
COMMENT ON FUNCTION telemetry.ingest_counters() IS
    'Events by what ingest decided (status: accepted, duplicate, quarantined, rejected, sampled_out, opted_out) since the server started: for the whole server when the library is in shared_preload_libraries, else this backend''s own. Decisions count whether or not their transaction committed.';
