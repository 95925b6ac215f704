"""Every public function other than track() and track_batch(), through psycopg 3: untyped always,
native where a parameter is uuid, jsonb, timestamptz, a number or bigint[], text-typed (varchar,
as JDBC's setString sends it) where it is text, and text-typed with the cast JDBC users write
(`%s::uuid`, `%s::jsonb`) where it is not."""

import datetime
import decimal
import json
import time
import unittest
import uuid

import psycopg
from psycopg.types.json import Jsonb
from psycopg.types.numeric import Int8

from client_common import UNTYPED, VARCHAR, ClientTestCase, Varchar, connect, fresh_database, secret

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

    # metrics()
    def test_metrics(self):
        def accepted():
            text = self.one("SELECT telemetry.metrics()")
            for line in text.split("\n"):
                if line.startswith('telemetry_events_total{status="accepted",event_type="client_metered"}'):
                    return float(line.split(" ")[1])
            return 0
        self.db.execute("SELECT telemetry.define_event(%s)", ["client_metered"])
        before = accepted()
        self.db.execute("SELECT telemetry.track(%s, %s)", ["client_metered", '{"n": 1}'])
        self.assertEqual(accepted(), before + 1)

    # health(now timestamptz), alerts(now timestamptz), recent(interval, now timestamptz)
    def test_health_alerts_recent(self):
        at = datetime.datetime(2001, 1, 1, tzinfo=datetime.timezone.utc)  # long before any event
        for style in (UNTYPED, VARCHAR, "native"):
            with self.subTest(style=style):
                cast = "::timestamptz" if style is VARCHAR else ""
                value = at if style == "native" else style.text(at.isoformat())
                checks = dict(self.db.execute(f'SELECT "check", status FROM telemetry.health(%s{cast})', [value]).fetchall())
                self.assertEqual(checks["last_event_age"], "critical")
                alerts = [r[0] for r in self.db.execute(f"SELECT alert FROM telemetry.alerts(%s{cast})", [value]).fetchall()]
                self.assertIn("TelemetryNoEvents", alerts)
        rows = self.db.execute("SELECT event_type, events FROM telemetry.recent(%s::interval)", ["1 hour"]).fetchall()
        self.assertIsInstance(rows, list)
        with self.assertRaises(psycopg.Error) as caught:
            self.db.execute("SELECT * FROM telemetry.recent(%s::interval)", ["2 hours"])
        self.assertEqual(caught.exception.sqlstate, "22023")

    # self_test(kind text), self_test_jsonb(document text)
    def test_self_test(self):
        for style in (UNTYPED, VARCHAR):
            with self.subTest(style=style):
                self.assertEqual(self.one("SELECT telemetry.self_test(%s)", [style.text("ok")]), "ok")
                self.assertIsNone(self.one("SELECT telemetry.self_test_jsonb(%s)", [style.text('{"a": [1, 2.5, "é"]}')]))


# The steps in the order docs/worker.md gives them.
STEPS = ["create_partitions", "advance_rollups", "refresh_rollups", "drop_expired_partitions",
         "delete_expired_tenant_events", "drop_expired_rollups", "purge_event_ids", "trim_maintenance_runs",
         "sample_activity"]
ROLLED = "client_rolled"
DAY = datetime.timedelta(days=1)


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


class MaintenanceAndRollupsTest(ClientTestCase):
    """run_maintenance(), its steps, the status and the rollups, through psycopg: str (untyped),
    aware datetime (timestamptz), date, int, uuid.UUID and named arguments. Each test runs the
    maintenance it needs itself (unittest orders tests by name)."""

    DATABASE = "client_py_maintenance"

    @classmethod
    def setUpClass(cls):
        # A database of its own: the rollup threshold only moves forward, and the run history, the
        # status and the rollups belong to the database.
        cls.db = fresh_database(cls.DATABASE)
        cls.db.execute("SELECT telemetry.define_event(%s)", [ROLLED])

    @classmethod
    def tearDownClass(cls):
        cls.db.close()

    def one(self, sql, params=()):
        return self.db.execute(sql, params).fetchone()[0]

    def today(self):
        """The server's UTC day, to which a run with p_now = now moves the threshold."""
        return self.one("SELECT (now() AT TIME ZONE 'UTC')::date")

    def pending(self):
        return self.db.execute("SELECT tenant_id, first_day, last_day, reason FROM telemetry.rollup_invalidations "
                               "ORDER BY 1, 2").fetchall()

    def cells(self, tenant):
        return self.db.execute("""SELECT day, name, events, raw_events, users, sessions FROM telemetry.daily_rollups
                                   WHERE tenant_id = %s ORDER BY day, name""", [tenant]).fetchall()

    def call(self, sql, params=(), conn=None):
        """Runs a CALL on conn; returns the steps it recorded in maintenance_runs, in the order they
        ran, and the notices it sent (a skipped run says so in a NOTICE, a failed step in a WARNING)."""
        conn = conn or self.db
        before = self.one("SELECT coalesce(max(run_id), 0) FROM telemetry.maintenance_runs")
        notices = []

        def handler(diag):
            notices.append(f"{diag.severity}: {diag.message_primary}")
        conn.add_notice_handler(handler)
        try:
            cursor = conn.execute(sql, params)
            self.assertEqual(cursor.statusmessage, "CALL")
        finally:
            conn.remove_notice_handler(handler)
        rows = self.db.execute("""SELECT run_id, step, status, rows_affected, sqlstate, message
                                    FROM telemetry.maintenance_runs WHERE run_id > %s ORDER BY run_id, started_at""",
                               [before]).fetchall()
        return rows, notices

    def assertRun(self, sql, params=(), conn=None):
        """The CALL made one run, not skipped, in which every step succeeded, in run order."""
        rows, notices = self.call(sql, params, conn)
        self.assertEqual(notices, [], "neither skipped nor a step failed")
        self.assertEqual([(r[1], r[2], r[4], r[5]) for r in rows], [(s, "succeeded", None, None) for s in STEPS],
                         "one run: every step, in run order, succeeded")
        self.assertEqual(len({r[0] for r in rows}), 1, "all in one run")
        for r in rows:
            self.assertIsNotNone(r[3], f"{r[1]} records what it returned")
        return {r[1]: r[3] for r in rows}

    def run_now(self):
        return self.assertRun("CALL telemetry.run_maintenance(%s)", [utc_now()])

    def close_and_wait(self, conn):
        """Closes a connection and waits for its server process to end: a session-level advisory
        lock it may hold is released only then."""
        pid = conn.info.backend_pid
        conn.close()
        for _ in range(100):
            if self.one("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid]) == 0:
                break
            time.sleep(0.1)

    def track_at(self, tenant, occurred_at, people):
        """Tracks events for tenant at occurred_at, one per (user_id, session_id)."""
        for user, session in people:
            self.assertIsNotNone(self.one("SELECT telemetry.track(%s, %s, %s, %s, %s, %s)",
                                          [tenant, ROLLED, Jsonb({}), user, session, occurred_at]), "tracked")

    def refused_in_transaction(self, conn):
        """CALL run_maintenance() in the transaction block psycopg opens by default: 2D000, in
        e.sqlstate and e.diag.sqlstate; the connection is usable after the ROLLBACK."""
        conn.autocommit = False
        e = self.assertRefused(conn, "CALL telemetry.run_maintenance(%s)", [utc_now()], "2D000")
        self.assertIsInstance(e, psycopg.errors.InvalidTransactionTermination)
        self.assertEqual(e.diag.sqlstate, "2D000")
        self.assertEqual(e.diag.message_primary, "invalid transaction termination")
        conn.rollback()
        self.assertEqual(conn.execute("SELECT 1").fetchone(), (1,))
        conn.commit()
        conn.autocommit = True

    # run_maintenance(p_now timestamptz DEFAULT NULL), a procedure
    def test_run_maintenance_aware_datetime(self):
        day = self.today()
        # The days it closes: from the threshold (the first run: from the oldest partition) to yesterday.
        closed = self.one("""SELECT %s - coalesce((SELECT threshold FROM telemetry.rollup_state),
                                                  (SELECT min(day) FROM telemetry.partitions()))""", [day])
        done = self.assertRun("CALL telemetry.run_maintenance(%s)", [utc_now()])
        self.assertEqual(done["advance_rollups"], closed)
        self.assertEqual(self.one("SELECT telemetry.rollup_watermark()"), day, "rolled up to today")

    def test_run_maintenance_untyped_str_and_named(self):
        self.assertRun("CALL telemetry.run_maintenance(%s)", [utc_now().isoformat()])
        self.assertRun("CALL telemetry.run_maintenance(p_now => %s)", [utc_now()])

    def test_run_maintenance_no_argument(self):
        self.assertRun("CALL telemetry.run_maintenance()")
        self.assertEqual(self.one("SELECT telemetry.rollup_watermark()"), self.today())

    def test_run_maintenance_in_transaction_block(self):
        conn = connect(self.DATABASE)
        try:
            self.refused_in_transaction(conn)
            self.assertEqual(self.one("SELECT count(*) FROM telemetry.maintenance_runs WHERE status = 'running'"), 0,
                             "the refused run left no step running")
            # The same in conn.transaction(), which rolls back on the error.
            with self.assertRaises(psycopg.errors.InvalidTransactionTermination):
                with conn.transaction():
                    conn.execute("CALL telemetry.run_maintenance(%s)", [utc_now()])
            self.assertEqual(conn.execute("SELECT 1").fetchone(), (1,))
            self.assertRun("CALL telemetry.run_maintenance(%s)", [utc_now()], conn)
        finally:
            self.close_and_wait(conn)

    # run_maintenance() takes its session-level run lock only after its first COMMIT: refused in
    # a transaction block, it holds nothing, and another session's run is not skipped (a lock
    # held past the ROLLBACK would skip every other run, the worker's too, while this
    # connection lives).
    def test_run_maintenance_in_transaction_block_leaves_no_lock(self):
        conn = connect(self.DATABASE)
        try:
            self.refused_in_transaction(conn)
            self.assertRun("CALL telemetry.run_maintenance()")
        finally:
            self.close_and_wait(conn)

    # maintenance_status (a view)
    def test_maintenance_status(self):
        self.run_now()
        day = self.today()
        rows = self.db.execute("""SELECT step, last_success_at, last_failure_at, consecutive_failures, next_attempt_at,
                                         watermark, threshold, pending_invalidations
                                    FROM telemetry.maintenance_status""").fetchall()
        self.assertEqual([r[0] for r in rows], STEPS)
        for step, success, failure, failures, next_attempt, watermark, threshold, pending in rows:
            with self.subTest(step=step):
                self.assertIsInstance(success, datetime.datetime)
                self.assertIsNotNone(success.tzinfo)
                self.assertEqual((failure, failures, next_attempt), (None, 0, None), "no failure")
                self.assertEqual((watermark, threshold, pending), (day, day, 0), "rolled up to today, nothing pending")

    # daily_rollups, read with a tenant bind parameter
    def test_daily_rollups(self):
        tenant = uuid.uuid4()
        at = utc_now() - DAY
        self.track_at(str(tenant), at, [("u1", "s1"), ("u1", "s1"), ("u2", "s2"), ("u3", None), (None, None)])
        self.run_now()
        for label, param in (("str", str(tenant)), ("uuid.UUID", tenant)):
            with self.subTest(tenant=label):
                rows = self.db.execute("""SELECT day, name, events, raw_events, users, sessions, users_hll,
                                                 hll_cardinality(users_hll)
                                            FROM telemetry.daily_rollups WHERE tenant_id = %s""", [param]).fetchall()
                self.assertEqual([r[:6] for r in rows],
                                 [(at.date(), ROLLED, decimal.Decimal(5), 5, 3, 2)])
                users_hll, cardinality = rows[0][6:]
                # hll has no loader in psycopg: its text output, the bytes in hex.
                self.assertIsInstance(users_hll, str)
                self.assertRegex(users_hll, r"^\\x[0-9a-f]+$")
                self.assertEqual(cardinality, 3.0, "hll_cardinality(users_hll) equals users (exact at this size)")
                self.assertEqual(self.one("SELECT hll_cardinality(%s::hll)", [users_hll]), 3.0,
                                 "the sketch as the driver read it, sent back")

    # advance_rollups(p_now timestamptz DEFAULT now()), rollup_watermark()
    def test_advance_rollups_and_watermark(self):
        self.run_now()
        day = self.today()

        def threshold():
            return self.one("SELECT threshold FROM telemetry.rollup_state")
        self.assertEqual(self.one("SELECT telemetry.advance_rollups(%s)", [utc_now()]), 0, "already at today")
        self.assertEqual(self.one("SELECT telemetry.advance_rollups(%s)", ["2001-01-01T00:00:00Z"]), 0, "it never moves back")
        self.assertEqual(threshold(), day)
        # Two days ahead, in a transaction rolled back (a later threshold would close today for the
        # other tests): two days closed, logged, not yet materialized.
        with self.db.transaction() as tx:
            self.assertEqual(self.one("SELECT telemetry.advance_rollups(p_now => %s)", [utc_now() + 2 * DAY]), 2)
            self.assertEqual(threshold(), day + 2 * DAY)
            self.assertEqual(self.one("SELECT telemetry.rollup_watermark()"), day, "the days closed are not materialized yet")
            self.assertRefused(self.db, "SELECT telemetry.refresh_rollups(%s)", [utc_now()], "55000")
            raise psycopg.Rollback(tx)
        self.assertEqual((threshold(), self.one("SELECT telemetry.rollup_watermark()")), (day, day))

    # invalidate_rollups(p_tenant_id uuid, p_from date, p_to date), refresh_rollups(p_now, p_max_days)
    def test_invalidate_and_refresh_rollups(self):
        tenant = uuid.uuid4()
        at = utc_now() - DAY
        day = at.date()
        self.track_at(tenant, at, [("u1", "s1"), ("u2", "s2"), ("u3", "s3")])
        self.run_now()
        self.assertEqual(self.pending(), [])
        rolled = self.cells(tenant)
        self.assertEqual([(c[0],) + c[2:] for c in rolled], [(day, 3, 3, 3, 3)])

        # A cell gone wrong without the events changing (as after a change that fired no trigger):
        # nothing logs it; logged by hand, the next refresh recomputes it from the events.
        def spoil():
            self.db.execute("UPDATE telemetry.daily_rollups SET events = 0, raw_events = 0, users = 0, sessions = 0 "
                            "WHERE tenant_id = %s", [tenant])
        spoil()
        self.assertEqual(self.pending(), [])
        # A str tenant and date objects.
        self.db.execute("SELECT telemetry.invalidate_rollups(%s, %s, %s)", [str(tenant), day, day])
        self.assertEqual(self.pending(), [(tenant, day, day, "manual")])
        self.assertEqual(self.one("SELECT telemetry.refresh_rollups(%s, %s)", [utc_now(), 1]), 1, "one cell written")
        self.assertEqual(self.pending(), [], "the log is taken")
        self.assertEqual(self.cells(tenant), rolled, "recomputed from the events")

        # A uuid.UUID tenant, str days, named arguments.
        spoil()
        self.db.execute("SELECT telemetry.invalidate_rollups(p_tenant_id => %s, p_from => %s, p_to => %s)",
                        [tenant, day.isoformat(), day.isoformat()])
        self.assertEqual(self.pending(), [(tenant, day, day, "manual")])
        self.assertEqual(self.one("SELECT telemetry.refresh_rollups(p_now => %s, p_max_days => %s)",
                                  [utc_now().isoformat(), "100"]), 1)
        self.assertEqual(self.cells(tenant), rolled)

    def test_refresh_and_invalidate_rollups_refusals(self):
        e = self.assertRefused(self.db, "SELECT telemetry.refresh_rollups(%s, 0)", [utc_now()], "22023")
        self.assertEqual(e.diag.sqlstate, "22023")
        self.assertRefused(self.db, "SELECT telemetry.refresh_rollups(%s, %s)", [utc_now(), 0], "22023")
        tenant = uuid.uuid4()
        day = self.today()
        for label, params in (("date", [str(tenant), day, day - DAY]),
                              ("str", [tenant, day.isoformat(), (day - DAY).isoformat()])):
            with self.subTest(days=label):
                e = self.assertRefused(self.db, "SELECT telemetry.invalidate_rollups(%s, %s, %s)", params, "22023")
                self.assertEqual(e.diag.sqlstate, "22023")
        self.assertEqual([p for p in self.pending() if p[0] == tenant], [], "nothing logged")

    # drop_expired_partitions(p_now timestamptz DEFAULT now())
    def test_drop_expired_partitions(self):
        self.run_now()

        def partitions():
            return [r[0] for r in self.db.execute("SELECT day FROM telemetry.partitions() ORDER BY day")]
        before = partitions()
        self.assertEqual(self.one("SELECT telemetry.drop_expired_partitions(%s)", [utc_now()]), 0,
                         "none is past telemetry.retention_days")
        self.assertEqual(partitions(), before)
        self.assertEqual(self.one("SELECT telemetry.drop_expired_partitions(p_now => %s)", [(utc_now() + DAY).isoformat()]), 1)
        self.assertEqual(partitions(), before[1:], "the oldest partition is dropped")

    # delete_expired_tenant_events(p_now timestamptz DEFAULT now(), p_batch_size integer DEFAULT 10000)
    def test_delete_expired_tenant_events(self):
        tenant = uuid.uuid4()
        at = utc_now() - 2 * DAY
        self.track_at(tenant, at, [("u1", "s1"), ("u2", "s2")])
        self.run_now()
        rolled = self.cells(tenant)
        self.assertEqual([(c[0], c[3]) for c in rolled], [(at.date(), 2)])
        self.db.execute("INSERT INTO telemetry.tenant_settings (tenant_id, retention_days) VALUES (%s, 1)", [tenant])
        self.assertEqual(self.one("SELECT telemetry.delete_expired_tenant_events(%s, %s)", [utc_now(), 1]), 1, "one per batch")
        self.assertEqual(self.one("SELECT telemetry.delete_expired_tenant_events(%s, %s)", [utc_now().isoformat(), "10"]), 1)
        self.assertEqual(self.one("SELECT telemetry.delete_expired_tenant_events(p_now => %s, p_batch_size => %s)",
                                  [utc_now(), 10]), 0)
        self.assertEqual(self.one("SELECT count(*) FROM telemetry.events WHERE tenant_id = %s", [tenant]), 0)
        self.run_now()
        self.assertEqual(self.cells(tenant), rolled, "the rollups keep the days deleted (frozen)")

    # drop_expired_rollups(p_now timestamptz DEFAULT now(), p_batch_size integer DEFAULT 100000)
    def test_drop_expired_rollups(self):
        tenant = uuid.uuid4()
        old = [datetime.date(2001, 1, 1), datetime.date(2001, 1, 2)]
        self.db.execute("""INSERT INTO telemetry.daily_rollups
                               (tenant_id, day, name, events, raw_events, users, users_hll, sessions, refreshed_at)
                           SELECT %s, d, %s, 1, 1, 0, hll_empty(15, 5), 0, now() FROM unnest(%s::date[]) d""",
                        [tenant, ROLLED, old])
        others = self.one("SELECT count(*) FROM telemetry.daily_rollups WHERE tenant_id <> %s", [tenant])
        self.assertEqual(self.one("SELECT telemetry.drop_expired_rollups(%s, %s)", [utc_now(), 1]), 1)
        self.assertEqual([c[0] for c in self.cells(tenant)], old[1:], "the oldest first")
        self.assertEqual(self.one("SELECT telemetry.drop_expired_rollups(%s, %s)", [utc_now().isoformat(), "100"]), 1)
        self.assertEqual(self.one("SELECT telemetry.drop_expired_rollups(p_now => %s, p_batch_size => %s)",
                                  [utc_now(), 100]), 0)
        self.assertEqual(self.one("SELECT count(*) FROM telemetry.daily_rollups"), others)

    # trim_maintenance_runs(p_now timestamptz DEFAULT now(), p_keep_per_step integer DEFAULT 1000)
    def test_trim_maintenance_runs(self):
        self.run_now()
        self.run_now()
        self.assertEqual(self.one("SELECT telemetry.trim_maintenance_runs(%s, %s)", [utc_now(), 1000]), 0,
                         "nothing older than 30 days")
        self.assertEqual(self.one("SELECT telemetry.trim_maintenance_runs(%s, %s)",
                                  [datetime.datetime(2100, 1, 1, tzinfo=datetime.timezone.utc), 1000]), 0,
                         "a later p_now does not erase the history")
        expected = self.one("""SELECT count(*) - count(DISTINCT (step, status)) FROM telemetry.maintenance_runs
                                WHERE status <> 'running'""")
        self.assertGreaterEqual(expected, len(STEPS))
        self.assertEqual(self.one("SELECT telemetry.trim_maintenance_runs(p_now => %s, p_keep_per_step => %s)",
                                  [utc_now().isoformat(), "1"]), expected)
        self.assertIs(self.one("SELECT count(*) = count(DISTINCT (step, status)) FROM telemetry.maintenance_runs"), True,
                      "one row left per step and status")


if __name__ == "__main__":
    unittest.main()
