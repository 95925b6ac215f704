-- Privileges: nothing is granted to PUBLIC but what is harmless (docs/operations.md, "Privileges").

-- Nothing is callable by PUBLIC. Grant what each role needs (README, "Privileges").
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA telemetry FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA telemetry FROM PUBLIC;

-- The naming rule is harmless and is used by CHECK constraints, which need EXECUTE.
GRANT EXECUTE ON FUNCTION telemetry.valid_event_name(text) TO PUBLIC;
-- The default of the named text form of track() is evaluated as the caller: it returns NULL.
GRANT EXECUTE ON FUNCTION telemetry.unset_argument() TO PUBLIC;
-- Row-level security shows each role only the rows naming its own roles; the quarantine's
-- policy reads this table as the querying role.
GRANT SELECT ON telemetry.tenant_admins TO PUBLIC;
