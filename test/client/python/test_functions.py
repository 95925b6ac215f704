"""Every public function other than track() and track_batch(), through psycopg 3: untyped always,
native where a parameter is uuid, jsonb, timestamptz, a number or bigint[], text-typed (varchar,
as JDBC's setString sends it) where it is text, and text-typed with the cast JDBC users write
(`%s::uuid`, `%s::jsonb`) where it is not."""

import datetime
import json
import unittest
import uuid

from psycopg.types.json import Jsonb
from psycopg.types.numeric import Int8

from client_common import UNTYPED, VARCHAR, ClientTestCase, Varchar, fresh_database, secret

SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
RELAXED = {"type": "object", "properties": {"n": {}}}


def catalog(*names, version="1-0-0"):
    return {"events": [{"name": n, "version": version, "schema": SCHEMA, "description": "client layer"} for n in names]}


class FunctionsTest(ClientTestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = fresh_database("client_py_functions")

    @classmethod
    def tearDownClass(cls):
        cls.db.close()

    def one(self, sql, params=()):
        return self.db.execute(sql, params).fetchone()[0]

    def event_type(self, name):
        return self.db.execute("""SELECT version, status, description, sample_rate, max_bytes, on_violation, schema
                                    FROM telemetry.event_types WHERE name = %s""", [name]).fetchone()

    # load_catalog(document jsonb)
    def check_load_catalog(self, sql, make):
        document = catalog("client_loaded_a", "client_loaded_b")
        document["events"][0]["name"] += "_" + uuid.uuid4().hex[:8]
        document["events"][1]["name"] += "_" + uuid.uuid4().hex[:8]
        names = [e["name"] for e in document["events"]]
        rows = self.db.execute(sql, [make(document)]).fetchall()
        self.assertEqual(sorted(rows), sorted((n, "created", "1-0-0") for n in names))
        rows = self.db.execute(sql, [make(document)]).fetchall()
        self.assertEqual(sorted(rows), sorted((n, "unchanged", "1-0-0") for n in names))

    def test_load_catalog_untyped(self):
        self.check_load_catalog("SELECT * FROM telemetry.load_catalog(%s)", json.dumps)

    def test_load_catalog_native(self):
        self.check_load_catalog("SELECT * FROM telemetry.load_catalog(%s)", Jsonb)

    def test_load_catalog_varchar_with_cast(self):
        self.check_load_catalog("SELECT * FROM telemetry.load_catalog(%s::jsonb)", lambda d: Varchar(json.dumps(d)))

    def test_load_catalog_refusal(self):
        bad = secret("description")
        document = {"events": [{"name": "client_refused", "sample_rte": 1, "description": bad}]}
        self.assertRefused(self.db, "SELECT * FROM telemetry.load_catalog(%s)", [json.dumps(document)], "22023", [bad])

    # validate_catalog(document jsonb)
    def test_validate_catalog_untyped(self):
        rows = self.db.execute("SELECT name, version, status, sample_rate, max_bytes, on_violation, schema "
                               "FROM telemetry.validate_catalog(%s)", [json.dumps(catalog("client_valid"))]).fetchall()
        self.assertEqual(rows, [("client_valid", "1-0-0", "active", 1.0, 2048, "reject", SCHEMA)])
        self.assertIsNone(self.event_type("client_valid"), "validate_catalog stores nothing")

    def test_validate_catalog_native(self):
        rows = self.db.execute("SELECT name FROM telemetry.validate_catalog(%s)", [Jsonb(catalog("client_valid"))]).fetchall()
        self.assertEqual(rows, [("client_valid",)])

    def test_validate_catalog_varchar_with_cast(self):
        rows = self.db.execute("SELECT name FROM telemetry.validate_catalog(%s::jsonb)",
                               [Varchar(json.dumps(catalog("client_valid")))]).fetchall()
        self.assertEqual(rows, [("client_valid",)])

    # define_event(name, schema, status, version, description, sample_rate, max_bytes, on_violation)
    def test_define_event_untyped_name_only(self):
        self.assertEqual(self.one("SELECT telemetry.define_event(%s)", ["client_defined_u1"]), "created")
        self.assertEqual(self.event_type("client_defined_u1"), ("1-0-0", "active", "", 1.0, 2048, "reject", {"type": "object"}))

    def test_define_event_untyped_all_positional(self):
        params = ["client_defined_u8", json.dumps(SCHEMA), "deprecated", "2-1-0", "eight", "0.5", "4096", "quarantine"]
        self.assertEqual(self.one("SELECT telemetry.define_event(%s, %s, %s, %s, %s, %s, %s, %s)", params), "created")
        self.assertEqual(self.event_type("client_defined_u8"), ("2-1-0", "deprecated", "eight", 0.5, 4096, "quarantine", SCHEMA))

    def test_define_event_untyped_named(self):
        sql = "SELECT telemetry.define_event(%s, on_violation => %s, sample_rate => %s, schema => %s)"
        self.assertEqual(self.one(sql, ["client_defined_un", "omit", "0.25", json.dumps(SCHEMA)]), "created")
        self.assertEqual(self.event_type("client_defined_un"), ("1-0-0", "active", "", 0.25, 2048, "omit", SCHEMA))

    def test_define_event_native(self):
        params = ["client_defined_n", Jsonb(SCHEMA), "active", "1-0-0", "native", 0.5, 4096, "quarantine"]
        self.assertEqual(self.one("SELECT telemetry.define_event(%s, %s, %s, %s, %s, %s, %s, %s)", params), "created")
        self.assertEqual(self.event_type("client_defined_n"), ("1-0-0", "active", "native", 0.5, 4096, "quarantine", SCHEMA))
        self.assertEqual(self.one("SELECT telemetry.define_event(%s, %s, %s, %s, %s, %s, %s, %s)", params), "unchanged")

    def test_define_event_varchar(self):
        self.assertEqual(self.one("SELECT telemetry.define_event(%s)", [Varchar("client_defined_v1")]), "created")
        sql = "SELECT telemetry.define_event(%s, %s::jsonb, status => %s, description => %s)"
        params = [Varchar("client_defined_v4"), Varchar(json.dumps(SCHEMA)), Varchar("planned"), Varchar("varchar")]
        self.assertEqual(self.one(sql, params), "created")
        self.assertEqual(self.event_type("client_defined_v4"), ("1-0-0", "planned", "varchar", 1.0, 2048, "reject", SCHEMA))

    def test_define_event_refusal(self):
        for style in (UNTYPED, VARCHAR):
            with self.subTest(style=style):
                bad = secret("Bad Name")
                self.assertRefused(self.db, "SELECT telemetry.define_event(%s)", [style.text(bad)], "22023", [bad])

    # valid_event_name(name text)
    def test_valid_event_name(self):
        for style in (UNTYPED, VARCHAR):
            with self.subTest(style=style):
                self.assertIs(self.one("SELECT telemetry.valid_event_name(%s)", [style.text("signup_completed")]), True)
                self.assertIs(self.one("SELECT telemetry.valid_event_name(%s)", [style.text("Signup Completed")]), False)

    # catalog_change_refusal(name, old_version, old_schema, old_max_bytes, new_version, new_schema, new_max_bytes)
    def check_change_refusal(self, sql, text, json_doc, integer):
        def call(new_version, new_schema):
            return self.one(sql, [text("client_changed"), text("1-0-0"), json_doc(SCHEMA), integer(2048),
                                  text(new_version), json_doc(new_schema), integer(2048)])
        self.assertIsNone(call("1-0-0", SCHEMA), "nothing changed")
        self.assertIsNone(call("2-0-0", RELAXED), "a new MODEL version may change anything")
        refusal = call("1-0-0", RELAXED)
        self.assertIsInstance(refusal, str)
        self.assertIn("client_changed", refusal)

    def test_catalog_change_refusal_untyped(self):
        self.check_change_refusal("SELECT telemetry.catalog_change_refusal(%s, %s, %s, %s, %s, %s, %s)", str, json.dumps, str)

    def test_catalog_change_refusal_native(self):
        self.check_change_refusal("SELECT telemetry.catalog_change_refusal(%s, %s, %s, %s, %s, %s, %s)", str, Jsonb, int)

    def test_catalog_change_refusal_varchar_with_casts(self):
        self.check_change_refusal(
            "SELECT telemetry.catalog_change_refusal(%s, %s, %s::jsonb, %s::integer, %s, %s::jsonb, %s::integer)",
            Varchar, lambda d: Varchar(json.dumps(d)), lambda n: Varchar(str(n)))

    # replay_quarantine(tenant_id uuid, ids bigint[] DEFAULT NULL)
    def check_replay(self, label, sql, tenant_param, ids_param):
        """Quarantines an event of a type of its own, replays it (still refused), relaxes the type,
        replays it again (accepted, moved to telemetry.events)."""
        name = f"client_replayed_{label}"
        tenant = uuid.uuid4()
        self.db.execute("SELECT telemetry.define_event(%s, %s, on_violation => %s)", [name, Jsonb(SCHEMA), "quarantine"])
        self.assertIsNone(self.one("SELECT telemetry.track(%s, %s, %s, %s, %s)", [tenant, name, Jsonb({"n": "x"}), None, None]))
        qid = self.one("SELECT id FROM telemetry.quarantine WHERE tenant_id = %s AND name = %s", [tenant, name])

        def replay():
            params = [tenant_param(tenant)] + ([ids_param([qid])] if ids_param else [])
            return self.db.execute(sql, params).fetchall()
        rows = replay()
        self.assertEqual([(r[0], r[1]) for r in rows], [(qid, "quarantined")])
        event_id = rows[0][2]
        self.db.execute("SELECT telemetry.define_event(%s, %s, version => %s, on_violation => %s)",
                        [name, Jsonb(RELAXED), "2-0-0", "quarantine"])
        self.assertEqual([(r[0], r[1], r[2]) for r in replay()], [(qid, "accepted", event_id)])
        stored = self.db.execute("SELECT tenant_id, name, properties FROM telemetry.events WHERE event_id = %s",
                                 [event_id]).fetchall()
        self.assertEqual(stored, [(tenant, name, {"n": "x"})])

    def test_replay_quarantine_untyped(self):
        self.check_replay("u", "SELECT * FROM telemetry.replay_quarantine(%s, %s)", str,
                          lambda ids: "{" + ",".join(map(str, ids)) + "}")

    def test_replay_quarantine_untyped_all_of_a_tenant(self):
        self.check_replay("ua", "SELECT * FROM telemetry.replay_quarantine(%s)", str, None)

    def test_replay_quarantine_native_list_of_int(self):
        self.check_replay("n", "SELECT * FROM telemetry.replay_quarantine(%s, %s)", lambda u: u, list)

    def test_replay_quarantine_native_bigint_array(self):
        self.check_replay("n8", "SELECT * FROM telemetry.replay_quarantine(%s, %s)", lambda u: u,
                          lambda ids: [Int8(i) for i in ids])

    def test_replay_quarantine_varchar_with_casts(self):
        self.check_replay("v", "SELECT * FROM telemetry.replay_quarantine(%s::uuid, %s::bigint[])", Varchar,
                          lambda ids: Varchar("{" + ",".join(map(str, ids)) + "}"))

    def test_replay_quarantine_named(self):
        self.check_replay("named", "SELECT * FROM telemetry.replay_quarantine(tenant_id => %s, ids => %s)", str,
                          lambda ids: "{" + ",".join(map(str, ids)) + "}")

    # opt_out(tenant_id uuid, user_id text), opt_in(tenant_id uuid, user_id text)
    def check_opt_out_in(self, sql_out, sql_in, tenant_param, user_param):
        tenant, user = uuid.uuid4(), f"user-é-{uuid.uuid4()}"
        params = [tenant_param(tenant), user_param(user)]
        self.assertIs(self.one(sql_out, params), True)
        self.assertIs(self.one(sql_out, params), False, "already opted out")
        self.assertEqual(self.db.execute("SELECT count(*) FROM telemetry.opt_outs WHERE tenant_id = %s AND user_id = %s",
                                         [tenant, user]).fetchone()[0], 1)
        self.assertIs(self.one(sql_in, params), True)
        self.assertIs(self.one(sql_in, params), False, "not opted out any more")

    def test_opt_out_opt_in_untyped(self):
        self.check_opt_out_in("SELECT telemetry.opt_out(%s, %s)", "SELECT telemetry.opt_in(%s, %s)", str, str)

    def test_opt_out_opt_in_native(self):
        self.check_opt_out_in("SELECT telemetry.opt_out(%s, %s)", "SELECT telemetry.opt_in(%s, %s)", lambda u: u, str)

    def test_opt_out_opt_in_varchar_with_cast(self):
        self.check_opt_out_in("SELECT telemetry.opt_out(%s::uuid, %s)", "SELECT telemetry.opt_in(%s::uuid, %s)",
                              Varchar, Varchar)

    def test_opt_out_opt_in_named(self):
        tenant, user = uuid.uuid4(), "user-named"
        self.assertIs(self.one("SELECT telemetry.opt_out(tenant_id => %s, user_id => %s)", [str(tenant), user]), True)
        self.assertIs(self.one("SELECT telemetry.opt_in(user_id => %s, tenant_id => %s)", [user, str(tenant)]), True)

    # purge_event_ids(p_now timestamptz DEFAULT now())
    def test_purge_event_ids(self):
        def remember():
            event_id = uuid.uuid4()
            self.db.execute("SELECT telemetry.define_event(%s)", ["client_purged"])
            self.db.execute("SELECT telemetry.track(%s, %s, event_id => %s)", ["client_purged", Jsonb({}), event_id])
        remember()
        self.assertEqual(self.one("SELECT telemetry.purge_event_ids()"), 0, "nothing is older than the window")
        far = datetime.datetime(2100, 1, 1, tzinfo=datetime.timezone.utc)
        for label, param in (("untyped", far.isoformat()), ("native", far), ("varchar with cast", Varchar(far.isoformat()))):
            with self.subTest(style=label):
                remember()
                sql = "SELECT telemetry.purge_event_ids(%s::timestamptz)" if label.startswith("varchar") \
                    else "SELECT telemetry.purge_event_ids(%s)"
                self.assertGreaterEqual(self.one(sql, [param]), 1)
                self.assertEqual(self.one("SELECT count(*) FROM telemetry.event_ids"), 0)
        remember()
        self.assertEqual(self.one("SELECT telemetry.purge_event_ids(p_now => %s)", [far.isoformat()]), 1)

    # create_partitions(p_now, p_days_back, p_days_ahead) and partitions()
    def check_partitions(self, sql, params, days):
        self.assertEqual(self.one(sql, params), len(days))
        self.assertEqual(self.one(sql, params), 0, "idempotent")
        listed = {r[0] for r in self.db.execute("SELECT day FROM telemetry.partitions()").fetchall()}
        self.assertTrue(set(days) <= listed, "partitions() lists the new days")

    def test_create_partitions_untyped(self):
        self.check_partitions("SELECT telemetry.create_partitions(%s, %s, %s)", ["2031-03-01T12:00:00Z", "0", "1"],
                              [datetime.date(2031, 3, 1), datetime.date(2031, 3, 2)])

    def test_create_partitions_native(self):
        when = datetime.datetime(2031, 4, 1, 12, tzinfo=datetime.timezone.utc)
        self.check_partitions("SELECT telemetry.create_partitions(%s, %s, %s)", [when, 1, 0],
                              [datetime.date(2031, 3, 31), datetime.date(2031, 4, 1)])

    def test_create_partitions_named(self):
        self.check_partitions("SELECT telemetry.create_partitions(p_now => %s, p_days_ahead => %s, p_days_back => %s)",
                              ["2031-05-01 00:00:00+00", "2", "0"],
                              [datetime.date(2031, 5, 1), datetime.date(2031, 5, 2), datetime.date(2031, 5, 3)])

    def test_create_partitions_varchar_with_casts(self):
        self.check_partitions("SELECT telemetry.create_partitions(%s::timestamptz, %s::integer, %s::integer)",
                              [Varchar("2031-06-01T00:00:00Z"), Varchar("0"), Varchar("0")], [datetime.date(2031, 6, 1)])

    def test_create_partitions_defaults(self):
        self.assertEqual(self.one("SELECT telemetry.create_partitions()"), 0, "CREATE EXTENSION made them")
        today = datetime.datetime.now(datetime.timezone.utc).date()
        listed = {r[0] for r in self.db.execute("SELECT day FROM telemetry.partitions()").fetchall()}
        self.assertIn(today, listed)

    # ingest_counters()
    def test_ingest_counters(self):
        def counters():
            return dict(self.db.execute("SELECT status, events FROM telemetry.ingest_counters()").fetchall())
        self.db.execute("SELECT telemetry.define_event(%s)", ["client_counted"])
        before = counters()
        self.assertEqual(set(before), {"accepted", "duplicate", "quarantined", "rejected", "sampled_out", "opted_out"})
        self.db.execute("SELECT telemetry.track(%s, %s)", ["client_counted", "{}"])
        self.assertGreaterEqual(counters()["accepted"], before["accepted"] + 1)

    # self_test(kind text), self_test_jsonb(document text)
    def test_self_test(self):
        for style in (UNTYPED, VARCHAR):
            with self.subTest(style=style):
                self.assertEqual(self.one("SELECT telemetry.self_test(%s)", [style.text("ok")]), "ok")
                self.assertIsNone(self.one("SELECT telemetry.self_test_jsonb(%s)", [style.text('{"a": [1, 2.5, "é"]}')]))


if __name__ == "__main__":
    unittest.main()
