"""Personal data through psycopg 3 with bind parameters: undeclared e-mail addresses redacted and
an e-mail user id hashed under the default policy; a tenant that chose reject refuses with 23514
naming the path and the detector, never the value, through track(), track_batch() (per event)
and an INSERT of the application's own (the trigger)."""

import json
import re
import unittest
import uuid

from psycopg.types.json import Jsonb

from client_common import ClientTestCase, connect, fresh_database

DATABASE = "client_python_pii"


class PiiTest(ClientTestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = fresh_database(DATABASE)
        cls.redacting = uuid.uuid4()
        cls.strict = uuid.uuid4()
        cls.db.execute("SELECT telemetry.define_event(%s, %s)",
                       ["contact_requested", Jsonb({"type": "object", "properties": {
                           "topic": {"type": "string"}, "note": {"type": "string"}}})])
        cls.db.execute("SELECT telemetry.set_pii_policy(%s, %s)", [cls.strict, "reject"])

    @classmethod
    def tearDownClass(cls):
        cls.db.close()
        with connect("postgres") as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")

    def stored(self, event_id):
        return self.db.execute("SELECT properties, user_id, flags FROM telemetry.events WHERE event_id = %s",
                               [event_id]).fetchone()

    def test_redacted_and_hashed_by_default(self):
        sql = "SELECT telemetry.track(%s, %s, %s, %s, %s)"
        event_id = self.db.execute(sql, [self.redacting, "contact_requested",
                                         Jsonb({"topic": "billing", "note": "write to ann.py@example.com"}),
                                         "Ann.Py@example.com", "s1"], prepare=True).fetchone()[0]
        properties, user_id, flags = self.stored(event_id)
        self.assertEqual(properties, {"topic": "billing", "note": "[redacted:email]"})
        self.assertRegex(user_id, r"^h1:[A-Za-z0-9_-]{22}$")
        self.assertEqual(flags, 32 | 64)
        again = self.db.execute(sql, [self.redacting, "contact_requested", Jsonb({}), "ann.py@example.com", "s2"],
                                prepare=True).fetchone()[0]
        self.assertEqual(self.stored(again)[1], user_id, "the same person is the same hashed user")

    def test_reject_names_path_and_detector(self):
        e = self.assertRefused(self.db, "SELECT telemetry.track(%s, %s, %s)",
                               [self.strict, "contact_requested", Jsonb({"note": "write to ann.py@example.com"})],
                               "23514", forbidden=["ann.py@example.com"])
        self.assertIn("$.note: personal data (email)", e.diag.message_primary)

    def test_batch_refuses_that_event_alone(self):
        rows = self.db.execute(
            "SELECT status, reason FROM telemetry.track_batch(%s, %s) ORDER BY index",
            [self.strict, json.dumps([{"name": "contact_requested", "properties": {"topic": "a"}},
                                      {"name": "contact_requested", "properties": {"note": "call +44 20 7946 0958"}},
                                      {"name": "contact_requested", "properties": {"topic": "b"}}])]).fetchall()
        self.assertEqual([r[0] for r in rows], ["accepted", "rejected", "accepted"])
        self.assertRegex(rows[1][1], re.escape("$.properties.note: personal data (phone)"))
        self.assertNotIn("7946", rows[1][1])

    def test_insert_meets_the_trigger(self):
        insert = """INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, source,
                                                  schema_version, properties)
                    VALUES (now(), now(), %s, gen_random_uuid(), 'contact_requested', 'app', '1-0-0', %s)
                    RETURNING properties, flags"""
        self.assertRefused(self.db, insert, [self.strict, Jsonb({"note": "ann.py@example.com"})], "23514",
                           forbidden=["ann.py@example.com"])
        row = self.db.execute(insert, [self.redacting, Jsonb({"note": "ann.py@example.com"})]).fetchone()
        self.assertEqual(row, ({"note": "[redacted:email]"}, 32))


if __name__ == "__main__":
    unittest.main()
