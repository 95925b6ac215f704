"""Shared by the psycopg tests: connections, a fresh database per test file, the three ways an
application sends parameters, and the checks every track() test makes.

Connection settings come from PGHOST (the instance's socket directory), PGPORT and PGUSER,
exported by ../run.sh. Run with Debian's /usr/bin/python3 (python3-psycopg).

The styles, as they reach the server:
  untyped  Python str, psycopg's default: OID 0 (unknown), like node-postgres; None is untyped.
  varchar  what JDBC's setString / setNull(VARCHAR) send: every value, NULL too, typed varchar.
  text     the same with the text OID (psycopg's StrDumper; also what Npgsql sends for a string).
  native   uuid.UUID -> uuid, Jsonb -> jsonb, aware datetime -> timestamptz, int, float,
           list of int -> an integer array; other strings stay untyped str.
"""

import datetime
import json
import os
import secrets
import unittest
import uuid

import psycopg
from psycopg import postgres
from psycopg.adapt import Dumper
from psycopg.types.json import Jsonb
from psycopg.types.string import StrDumper, StrDumperVarchar

NIL_TENANT = uuid.UUID(int=0)


class Varchar(str):
    """A string sent with the varchar OID."""


class Text(str):
    """A string sent with the text OID."""


class _TypedNull:
    """A NULL sent with a type, as JDBC's setNull does."""


class VarcharNull(_TypedNull):
    pass


class TextNull(_TypedNull):
    pass


class _VarcharNullDumper(Dumper):
    oid = postgres.types["varchar"].oid

    def dump(self, obj):
        return None


class _TextNullDumper(Dumper):
    oid = postgres.types["text"].oid

    def dump(self, obj):
        return None


psycopg.adapters.register_dumper(Varchar, StrDumperVarchar)
psycopg.adapters.register_dumper(Text, StrDumper)
psycopg.adapters.register_dumper(VarcharNull, _VarcharNullDumper)
psycopg.adapters.register_dumper(TextNull, _TextNullDumper)


class Style:
    """How one kind of application turns an event's values into bind parameters."""

    def __init__(self, name, text, null, tenant, properties, time, event_id):
        self.name = name
        self.text = text            # name, user_id, session_id and other text
        self.null = null            # a NULL
        self.tenant = tenant        # a uuid.UUID tenant
        self.properties = properties  # a dict
        self.time = time            # an aware datetime
        self.event_id = event_id    # a uuid.UUID

    def __repr__(self):
        return self.name


def _iso(t):
    return t.isoformat()


UNTYPED = Style("untyped", text=str, null=lambda: None, tenant=str, properties=json.dumps, time=_iso, event_id=str)
VARCHAR = Style("varchar", text=Varchar, null=VarcharNull,
                tenant=lambda u: Varchar(u), properties=lambda d: Varchar(json.dumps(d)),
                time=lambda t: Varchar(t.isoformat()), event_id=lambda u: Varchar(u))
TEXT = Style("text", text=Text, null=TextNull,
             tenant=lambda u: Text(u), properties=lambda d: Text(json.dumps(d)),
             time=lambda t: Text(t.isoformat()), event_id=lambda u: Text(u))
NATIVE = Style("native", text=str, null=lambda: None, tenant=lambda u: u, properties=Jsonb,
               time=lambda t: t, event_id=lambda u: u)
STYLES = (UNTYPED, VARCHAR, TEXT, NATIVE)


def connect(dbname, user=None):
    return psycopg.connect(dbname=dbname, user=user or os.environ.get("PGUSER", "postgres"), autocommit=True)


def fresh_database(dbname):
    """A database of its own for one test file, with a freshly created extension."""
    with connect("postgres") as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {dbname}")
    db = connect(dbname)
    db.execute("DROP EXTENSION IF EXISTS telemetry")
    db.execute("CREATE EXTENSION telemetry CASCADE")
    return db


def secret(label):
    """A value no one else sends: refusal messages must never contain what was sent."""
    return f"{label}-SECRET-{secrets.token_hex(4)}"


def ago(seconds):
    """An aware UTC time, to the millisecond."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    return now - datetime.timedelta(seconds=seconds)


class ClientTestCase(unittest.TestCase):
    maxDiff = None

    def assertRefused(self, db, sql, params, sqlstate, forbidden=()):
        """The call fails with sqlstate (or one of a tuple of them), and its message, detail and
        hint contain none of forbidden."""
        sqlstates = (sqlstate,) if isinstance(sqlstate, str) else sqlstate
        with self.assertRaises(psycopg.Error, msg=f"expected SQLSTATE {' or '.join(sqlstates)}") as caught:
            db.execute(sql, params)
        e = caught.exception
        self.assertIn(e.sqlstate, sqlstates, f"expected SQLSTATE {' or '.join(sqlstates)}, got {e.sqlstate}: {e}")
        text = "\n".join(filter(None, [str(e), e.diag.message_primary, e.diag.message_detail, e.diag.message_hint]))
        for value in forbidden:
            self.assertNotIn(value, text, "the error message contains the value sent")
        return e

    def assertStored(self, db, returned, sent, tenant):
        """The event sent (the fields in sent; the others left to their defaults) was stored as
        sent, and track() returned its id. sent holds Python values: str, dict, datetime, UUID."""
        self.assertIsInstance(returned, uuid.UUID, "track() returns the event id")
        if "event_id" in sent:
            self.assertEqual(returned, sent["event_id"], "the client event_id is returned")
        rows = db.execute(
            """SELECT tenant_id, name, properties, user_id, session_id, occurred_at,
                      occurred_at = received_at, flags,
                      occurred_at - (received_at - %s::timestamptz)
                 FROM telemetry.events WHERE event_id = %s""",
            [sent.get("sent_at"), returned]).fetchall()
        self.assertEqual(len(rows), 1, f"expected one stored event with event_id {returned}")
        (row_tenant, name, properties, user_id, session_id, occurred_at, occurred_is_received, flags,
         occurred_as_sent) = rows[0]
        self.assertEqual(row_tenant, tenant, "tenant_id")
        self.assertEqual(name, sent["name"], "name")
        self.assertEqual(properties, sent.get("properties", {}), "properties")
        self.assertEqual(user_id, sent.get("user_id"), "user_id")
        self.assertEqual(session_id, sent.get("session_id"), "session_id")
        if "occurred_at" not in sent:
            self.assertTrue(occurred_is_received, "occurred_at defaults to received_at")
        elif "sent_at" not in sent:
            self.assertEqual(occurred_at, sent["occurred_at"], "occurred_at")
            self.assertEqual(flags & 2, 0, "no clock correction without sent_at")
        else:
            self.assertEqual(occurred_as_sent, sent["occurred_at"], "occurred_at, corrected by received_at - sent_at")
            self.assertEqual(flags & 2, 2, "flag 2: corrected for the client clock")

