-- telemetry: a product-analytics event store inside PostgreSQL.
--
-- This file is built by concatenating src/sql/*.sql in name order (see the Makefile). Every
-- name is schema-qualified and every SECURITY DEFINER function pins
-- search_path = pg_catalog, pg_temp (research/security-anchors.md §3.4).

\echo Use "CREATE EXTENSION telemetry" to load this file. \quit

-- Refuse a database whose encoding is not UTF8: the JSON parser, RE2 and the jsonb codec read
-- and write UTF-8, and so do the error messages and the quarantine's paths.
DO $$
BEGIN
    IF pg_catalog.getdatabaseencoding() OPERATOR(pg_catalog.<>) 'UTF8' THEN
        RAISE EXCEPTION 'telemetry needs a database with encoding UTF8; this one is %', pg_catalog.getdatabaseencoding()
            USING ERRCODE = '55000',
                  HINT = 'CREATE DATABASE ... ENCODING ''UTF8'' TEMPLATE template0, then CREATE EXTENSION telemetry there.';
    END IF;
END
$$;

-- Refuse to install into a schema someone else owns: its owner could replace our objects.
DO $$
BEGIN
    IF (SELECT n.nspowner FROM pg_catalog.pg_namespace n WHERE n.nspname OPERATOR(pg_catalog.=) 'telemetry')
       OPERATOR(pg_catalog.<>) (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER)
       AND NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r
                WHERE r.oid OPERATOR(pg_catalog.=)
                      (SELECT n.nspowner FROM pg_catalog.pg_namespace n WHERE n.nspname OPERATOR(pg_catalog.=) 'telemetry'))
    THEN
        RAISE EXCEPTION 'schema telemetry exists and is owned by another, non-superuser role'
            USING ERRCODE = '42501', HINT = 'Drop it or change its owner before CREATE EXTENSION telemetry.';
    END IF;
END
$$;

REVOKE ALL ON SCHEMA telemetry FROM PUBLIC;
COMMENT ON SCHEMA telemetry IS
    'The objects of the telemetry extension: product-analytics events, their catalog, ingest, quarantine, opt-outs and tenancy (DROP EXTENSION leaves the schema itself). PUBLIC has no privilege on it: grant USAGE to the roles that use telemetry (docs/operations.md, "Privileges").';
