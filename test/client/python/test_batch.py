"""telemetry.track_batch() through psycopg 3, in each style: a client's batch with a good, a
repeated, an already seen, an invalid and an unknown event gets one status per event, in order,
adding up to the input count, and stores exactly the accepted ones."""

import json
import re
import unittest
import uuid

from psycopg.types.json import Jsonb

from client_common import NATIVE, NIL_TENANT, STYLES, ClientTestCase, ago, fresh_database, secret

SHAPES = [
    ("positional", "track_batch(%s, %s)", False),
    ("positional_sent_at", "track_batch(%s, %s, %s)", True),
    ("named", "track_batch(tenant_id => %s, events => %s)", False),
    ("named_sent_at", "track_batch(tenant_id => %s, events => %s, sent_at => %s)", True),
]


class BatchTest(ClientTestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = fresh_database("client_py_batch")
        cls.db.execute("SELECT telemetry.define_event(%s, %s)", ["client_checked", Jsonb({
            "type": "object",
            "properties": {"plan": {"type": "string", "enum": ["free", "pro"]}, "n": {"type": "integer"},
                           "note": {"type": "string"}},
            "additionalProperties": False})])

    @classmethod
    def tearDownClass(cls):
        cls.db.close()

    def check_batch(self, tenant, call, make_params, with_sent_at):
        """Sends the batch with make_params(tenant, events, sent_at) and checks every row."""
        seen_before = uuid.uuid4()
        self.db.execute("SELECT telemetry.track(%s, %s, %s, event_id => %s)",
                        [tenant, "client_checked", Jsonb({"plan": "free"}), seen_before])
        bad_value = secret("plan")
        first = str(uuid.uuid4())
        occurred = ago(3600)
        events = [
            {"name": "client_checked", "event_id": first, "occurred_at": occurred.isoformat(),
             "properties": {"plan": "pro", "n": 1}, "user_id": "user-1", "session_id": "session-1"},
            {"name": "client_checked", "event_id": first, "properties": {"plan": "pro", "n": 1}},
            {"name": "client_checked", "event_id": str(seen_before), "properties": {"plan": "free"}},
            {"name": "client_checked", "properties": {"plan": bad_value}},
            {"name": "client_never_declared", "properties": {}},
            {"name": "client_checked", "properties": {"note": "naïve ☃ 日本"}, "user_id": "user-2"},
        ]
        sent_at = ago(600) if with_sent_at else None
        rows = self.db.execute(f'SELECT "index", status, id, reason, sqlstate FROM telemetry.{call}',
                               make_params(tenant, events, sent_at)).fetchall()

        self.assertEqual([r[0] for r in rows], list(range(len(events))), "one row per event, in order")
        self.assertEqual([r[1] for r in rows], ["accepted", "duplicate", "duplicate", "rejected", "rejected", "accepted"])
        self.assertEqual([r[4] for r in rows], [None, None, None, "23514", "42704", None])
        self.assertEqual(rows[0][2], uuid.UUID(first), "the client's event_id")
        self.assertEqual(rows[1][2], uuid.UUID(first), "a duplicate has the client's id")
        self.assertEqual(rows[2][2], seen_before, "a duplicate has the client's id")
        self.assertIsInstance(rows[5][2], uuid.UUID, "an accepted event has an id")
        for r in rows:
            self.assertNotIn(bad_value, r[3] or "", "a reason contains the value sent")

        stored = self.db.execute(
            """SELECT event_id, name, properties, user_id, session_id, occurred_at, flags,
                      occurred_at - (received_at - %s::timestamptz)
                 FROM telemetry.events WHERE tenant_id = %s AND source = 'client' AND event_id = ANY(%s)
                ORDER BY id""", [sent_at, tenant, [rows[0][2], rows[5][2]]]).fetchall()
        self.assertEqual(len(stored), 2, "the two accepted events are stored, once")
        self.assertEqual(stored[0][1:5], ("client_checked", {"plan": "pro", "n": 1}, "user-1", "session-1"))
        self.assertEqual(stored[1][1:5], ("client_checked", {"note": "naïve ☃ 日本"}, "user-2", None))
        if with_sent_at:
            self.assertEqual(stored[0][7], occurred, "occurred_at, corrected by received_at - sent_at")
            self.assertEqual(stored[0][6] & 2, 2, "flag 2: corrected for the client clock")
        else:
            self.assertEqual(stored[0][5], occurred, "occurred_at")
        count = self.db.execute("SELECT count(*) FROM telemetry.events WHERE tenant_id = %s AND event_id = %s",
                                [tenant, seen_before]).fetchone()[0]
        self.assertEqual(count, 1, "the event seen before is stored once")

    def test_not_json_is_refused_as_a_whole(self):
        for style in STYLES:
            with self.subTest(style=style):
                bad = secret("not json")
                params = [style.tenant(uuid.uuid4()), style.text(bad)]
                if style is NATIVE:
                    params[1] = bad  # an untyped string: the text form
                self.assertRefused(self.db, "SELECT * FROM telemetry.track_batch(%s, %s)", params, "22P02", [bad])


def _slug(text):
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _batch_test(call, with_sent_at, mode, tenant_param, events_param, time_param):
    def test(self):
        tenant = uuid.uuid4() if mode == "multi" else NIL_TENANT

        def make(tenant, events, sent_at):
            params = [tenant_param(tenant), events_param(events)]
            return params + [time_param(sent_at)] if with_sent_at else params
        self.check_batch(tenant, call, make, with_sent_at)
    return test


for _style in STYLES:
    for _label, _call, _with_sent_at in SHAPES:
        for _mode in ("multi", "single"):
            setattr(BatchTest, f"test_{_style}_{_mode}_{_label}", _batch_test(
                _call, _with_sent_at, _mode, _style.tenant, _style.properties, _style.time))
            if _style is NATIVE:  # a uuid.UUID tenant with the batch as a plain string: the text form
                setattr(BatchTest, f"test_native_str_events_{_mode}_{_label}", _batch_test(
                    _call, _with_sent_at, _mode, _style.tenant, json.dumps, _style.time))


if __name__ == "__main__":
    unittest.main()
