"""An application role that is not a superuser, granted only USAGE on schema telemetry and EXECUTE
on track() and track_batch(), tracks through psycopg 3 with untyped, text-typed and native
parameters, and can do nothing else."""

import json
import unittest
import uuid

import psycopg
from psycopg.types.json import Jsonb

from client_common import (NATIVE, NIL_TENANT, UNTYPED, VARCHAR, ClientTestCase, connect, fresh_database,
                           secret)

DATABASE = "client_py_app_role"
ROLE = "client_app_py"


class AppRoleTest(ClientTestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = fresh_database(DATABASE)
        cls.db.execute(f"DROP ROLE IF EXISTS {ROLE}")
        cls.db.execute(f"CREATE ROLE {ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT")
        cls.db.execute(f"GRANT USAGE ON SCHEMA telemetry TO {ROLE}")
        # Every overload of track() and track_batch(), whichever the installed version has.
        for (signature,) in cls.db.execute(
                """SELECT p.oid::regprocedure::text FROM pg_proc p
                    WHERE p.pronamespace = 'telemetry'::regnamespace AND p.proname IN ('track', 'track_batch')"""):
            cls.db.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {ROLE}")
        # EXECUTE is not enough: the role ingests for every tenant these tests use (docs/security.md).
        # Service also reads; this application role must have nothing but the ingest functions.
        cls.db.execute(f"SELECT telemetry.grant_tenant_access('{ROLE}', NULL, 'service')")
        cls.db.execute(f"REVOKE SELECT ON telemetry.events, telemetry.event_types FROM {ROLE}")
        cls.db.execute(f"REVOKE EXECUTE ON FUNCTION telemetry.partitions() FROM {ROLE}")
        cls.db.execute("SELECT telemetry.define_event(%s, %s)", ["client_checked", Jsonb({
            "type": "object", "properties": {"plan": {"type": "string", "enum": ["free", "pro"]}}})])
        cls.app = connect(DATABASE, user=ROLE)

    @classmethod
    def tearDownClass(cls):
        cls.app.close()
        cls.db.close()
        with connect("postgres") as admin:  # the role's grants go with its database
            admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
            admin.execute(f"DROP ROLE IF EXISTS {ROLE}")

    def test_is_not_a_superuser(self):
        self.assertEqual(self.app.execute("SELECT current_user, usesuper FROM pg_user WHERE usename = current_user")
                         .fetchone(), (ROLE, False))

    def stored(self, event_id):
        return self.db.execute("SELECT tenant_id, name, properties, user_id, session_id FROM telemetry.events "
                               "WHERE event_id = %s", [event_id]).fetchall()

    def check_track(self, style):
        tenant = uuid.uuid4()
        t, s, p, n = style.tenant, style.text, style.properties, style.null
        calls = [
            ("track(%s, %s, %s, %s, %s)", [t(tenant), s("client_checked"), p({"plan": "pro"}), s("u1"), s("s1")],
             (tenant, "client_checked", {"plan": "pro"}, "u1", "s1")),
            ("track(%s, %s, %s, %s, %s)", [t(tenant), s("client_checked"), p({}), n(), n()],
             (tenant, "client_checked", {}, None, None)),
            ("track(%s, %s, %s)", [t(tenant), s("client_checked"), p({})], (tenant, "client_checked", {}, None, None)),
            ("track(%s, %s, %s, %s)", [s("client_checked"), p({}), s("u4"), s("s4")],
             (NIL_TENANT, "client_checked", {}, "u4", "s4")),
            ("track(%s, %s)", [s("client_checked"), p({"plan": "free"})],
             (NIL_TENANT, "client_checked", {"plan": "free"}, None, None)),
            ("track(tenant_id => %s, name => %s, properties => %s, user_id => %s)",
             [t(tenant), s("client_checked"), p({}), s("u6")], (tenant, "client_checked", {}, "u6", None)),
        ]
        for call, params, expected in calls:
            with self.subTest(style=style, call=call):
                event_id = self.app.execute(f"SELECT telemetry.{call}", params).fetchone()[0]
                self.assertEqual(self.stored(event_id), [expected])
        with self.subTest(style=style, call="event_id =>"):
            event_id = uuid.uuid4()
            params = [t(tenant), s("client_checked"), p({}), style.event_id(event_id)]
            self.assertEqual(self.app.execute("SELECT telemetry.track(%s, %s, %s, event_id => %s)", params)
                             .fetchone()[0], event_id)
        with self.subTest(style=style, call="refused"):
            bad = secret("plan")
            self.assertRefused(self.app, "SELECT telemetry.track(%s, %s, %s, %s, %s)",
                               [t(tenant), s("client_checked"), p({"plan": bad}), s("u"), s("s")], "23514", [bad])

    def test_track_untyped(self):
        self.check_track(UNTYPED)

    def test_track_varchar(self):
        self.check_track(VARCHAR)

    def test_track_native(self):
        self.check_track(NATIVE)

    def test_track_batch(self):
        events = [{"name": "client_checked", "properties": {"plan": "pro"}}, {"name": "client_never_declared"}]
        for style, make in ((UNTYPED, json.dumps), (VARCHAR, lambda e: VARCHAR.text(json.dumps(e))),
                            (NATIVE, Jsonb)):
            with self.subTest(style=style):
                rows = self.app.execute('SELECT "index", status, sqlstate FROM telemetry.track_batch(%s, %s)',
                                        [style.tenant(uuid.uuid4()), make(events)]).fetchall()
                self.assertEqual(rows, [(0, "accepted", None), (1, "rejected", "42704")])

    def test_nothing_else(self):
        for sql, params in (
                ("INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, source, "
                 "schema_version, properties) VALUES (now(), now(), %s, %s, 'client_checked', 'server', '1-0-0', '{}')",
                 [uuid.uuid4(), uuid.uuid4()]),
                ("SELECT count(*) FROM telemetry.events", []),
                ("SELECT telemetry.define_event(%s)", ["client_sneaked_in"]),
                ("SELECT telemetry.opt_in(%s, %s)", [str(uuid.uuid4()), "u"])):
            with self.subTest(sql=sql):
                with self.assertRaises(psycopg.errors.InsufficientPrivilege):
                    self.app.execute(sql, params)


if __name__ == "__main__":
    unittest.main()
