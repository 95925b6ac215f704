"""telemetry.track() through psycopg 3, in each style (untyped, varchar, text, native): every
documented call shape, multi-tenant and single-tenant, positional and named, stores exactly what
was sent; return values (duplicate, opted out, sampled out, quarantined) and refusals (SQLSTATE,
no value in the message)."""

import re
import secrets
import unittest
import uuid

from psycopg.types.json import Jsonb

from client_common import (NATIVE, NIL_TENANT, STYLES, ClientTestCase, ago, fresh_database,
                           secret)

# The call shapes: SQL and the event field each placeholder carries ("user_id:null": a NULL).
MULTI = [
    ("5 positional (the ORM call)", "track(%s, %s, %s, %s, %s)", "tenant name properties user_id session_id"),
    ("5 positional, user and session NULL", "track(%s, %s, %s, %s, %s)", "tenant name properties user_id:null session_id:null"),
    ("3 positional", "track(%s, %s, %s)", "tenant name properties"),
    ("4 positional", "track(%s, %s, %s, %s)", "tenant name properties user_id"),
    ("6 positional", "track(%s, %s, %s, %s, %s, %s)", "tenant name properties user_id session_id occurred_at"),
    ("7 positional", "track(%s, %s, %s, %s, %s, %s, %s)", "tenant name properties user_id session_id occurred_at event_id"),
    ("8 positional", "track(%s, %s, %s, %s, %s, %s, %s, %s)",
     "tenant name properties user_id session_id occurred_at event_id sent_at"),
    ("3 positional, event_id =>", "track(%s, %s, %s, event_id => %s)", "tenant name properties event_id"),
    ("3 positional, occurred_at =>", "track(%s, %s, %s, occurred_at => %s)", "tenant name properties occurred_at"),
    ("4 positional, occurred_at => sent_at =>", "track(%s, %s, %s, %s, occurred_at => %s, sent_at => %s)",
     "tenant name properties user_id occurred_at sent_at"),
    ("3 positional, user_id =>", "track(%s, %s, %s, user_id => %s)", "tenant name properties user_id"),
    ("3 positional, session_id => event_id =>", "track(%s, %s, %s, session_id => %s, event_id => %s)",
     "tenant name properties session_id event_id"),
    ("all named", "track(tenant_id => %s, name => %s, properties => %s, user_id => %s, session_id => %s, "
     "occurred_at => %s, event_id => %s, sent_at => %s)",
     "tenant name properties user_id session_id occurred_at event_id sent_at"),
    ("tenant, name, properties named", "track(tenant_id => %s, name => %s, properties => %s)", "tenant name properties"),
    ("named, another order", "track(name => %s, event_id => %s, properties => %s, tenant_id => %s)",
     "name event_id properties tenant"),
]

SINGLE = [
    ("1 positional", "track(%s)", "name"),
    ("2 positional", "track(%s, %s)", "name properties"),
    ("3 positional", "track(%s, %s, %s)", "name properties user_id"),
    ("4 positional (the ORM call)", "track(%s, %s, %s, %s)", "name properties user_id session_id"),
    ("4 positional, user and session NULL", "track(%s, %s, %s, %s)", "name properties user_id:null session_id:null"),
    ("5 positional", "track(%s, %s, %s, %s, %s)", "name properties user_id session_id occurred_at"),
    ("6 positional", "track(%s, %s, %s, %s, %s, %s)", "name properties user_id session_id occurred_at event_id"),
    ("7 positional", "track(%s, %s, %s, %s, %s, %s, %s)", "name properties user_id session_id occurred_at event_id sent_at"),
    ("3 positional, event_id => (name, properties, user_id, event_id)", "track(%s, %s, %s, event_id => %s)",
     "name properties user_id event_id"),
    ("2 positional, occurred_at =>", "track(%s, %s, occurred_at => %s)", "name properties occurred_at"),
    ("2 positional, session_id =>", "track(%s, %s, session_id => %s)", "name properties session_id"),
    ("2 positional, user_id => sent_at => occurred_at =>", "track(%s, %s, user_id => %s, sent_at => %s, occurred_at => %s)",
     "name properties user_id sent_at occurred_at"),
    ("all named", "track(name => %s, properties => %s, user_id => %s, session_id => %s, occurred_at => %s, "
     "event_id => %s, sent_at => %s)", "name properties user_id session_id occurred_at event_id sent_at"),
    ("name named", "track(name => %s)", "name"),
]

# What each field is, to turn its value into a parameter of a style.
KIND = {"tenant": "tenant", "name": "text", "properties": "properties", "user_id": "text", "session_id": "text",
        "occurred_at": "time", "sent_at": "time", "event_id": "event_id"}


def new_event(tenant):
    tag = secrets.token_hex(3)
    return {
        "tenant": tenant,
        "name": "client_checked",
        "properties": {"plan": "pro", "n": 42, "note": f'naïve ☃ 日本 "quoted" {tag}'},
        "user_id": f"user-é-{tag}",
        "session_id": f"session-{tag}",
        "occurred_at": ago(3600),
        "event_id": uuid.uuid4(),
        "sent_at": ago(600),
    }


def bind(style, fields, event, spell_tenant=str):
    """The parameters of a shape in a style, and the event fields they send."""
    params, sent = [], {}
    for field in fields.split():
        key, _, modifier = field.partition(":")
        if modifier == "null":
            params.append(style.null())
            continue
        value = event[key]
        if key == "tenant" and style is not NATIVE:
            params.append(style.tenant(spell_tenant(str(value))))
        else:
            params.append(getattr(style, KIND[key])(value))
        if key != "tenant":
            sent[key] = value
    return params, sent


class TrackTest(ClientTestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = fresh_database("client_py_track")
        cls.db.execute("SELECT telemetry.define_event(%s, %s)", ["client_checked", Jsonb({
            "type": "object",
            "properties": {"plan": {"type": "string", "enum": ["free", "pro"]}, "n": {"type": "integer"},
                           "note": {"type": "string"}},
            "additionalProperties": False})])
        cls.db.execute("SELECT telemetry.define_event(%s, %s, on_violation => %s)", [
            "client_quarantined",
            Jsonb({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}), "quarantine"])
        cls.db.execute("SELECT telemetry.define_event(%s, sample_rate => %s)", ["client_sampled", 0.000001])

    @classmethod
    def tearDownClass(cls):
        cls.db.close()

    def track(self, call, params):
        return self.db.execute(f"SELECT telemetry.{call}", params).fetchone()[0]


def _slug(text):
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _add(name, fn):
    name = f"test_{name}"
    assert not hasattr(TrackTest, name), name
    setattr(TrackTest, name, fn)


def _shape_test(style, mode, call, fields):
    def test(self):
        tenant = uuid.uuid4() if mode == "multi" else NIL_TENANT
        params, sent = bind(style, fields, new_event(tenant))
        self.assertStored(self.db, self.track(call, params), sent, tenant)
    return test


for _style in STYLES:
    for _n, (_label, _call, _fields) in enumerate(MULTI):
        _add(f"{_style}_multi_{_n:02}_{_slug(_label)}", _shape_test(_style, "multi", _call, _fields))
    for _n, (_label, _call, _fields) in enumerate(SINGLE):
        _add(f"{_style}_single_{_n:02}_{_slug(_label)}", _shape_test(_style, "single", _call, _fields))


# Spaces around user_id and session_id are part of the values: stored as sent, whichever
# parameter type a form declares.
def _spaces_test(style, mode, call, fields):
    def test(self):
        tenant = uuid.uuid4() if mode == "multi" else NIL_TENANT
        event = dict(new_event(tenant), user_id=" user with spaces  ", session_id="  session ")
        params, sent = bind(style, fields, event)
        self.assertStored(self.db, self.track(call, params), sent, tenant)
    return test


for _style in STYLES:
    for _mode, (_label, _call, _fields) in (("multi", MULTI[0]), ("multi", MULTI[12]), ("single", SINGLE[3]),
                                            ("single", SINGLE[8])):
        _add(f"{_style}_{_mode}_spaces_kept_{_slug(_label)}", _spaces_test(_style, _mode, _call, _fields))


# A native call mixes types: a UUID tenant and Jsonb properties with plain (untyped) strings.
def _mixed_test(call, make, mode):
    def test(self):
        tenant = uuid.uuid4() if mode == "multi" else NIL_TENANT
        event = new_event(tenant)
        params, sent = make(event)
        self.assertStored(self.db, self.track(call, params), sent, tenant)
    return test


_add("native_mixed_uuid_str_jsonb_str_str", _mixed_test(
    "track(%s, %s, %s, %s, %s)",
    lambda e: ([e["tenant"], e["name"], Jsonb(e["properties"]), e["user_id"], e["session_id"]],
               {k: e[k] for k in ("name", "properties", "user_id", "session_id")}), "multi"))
_add("native_mixed_str_jsonb_str_str", _mixed_test(
    "track(%s, %s, %s, %s)",
    lambda e: ([e["name"], Jsonb(e["properties"]), e["user_id"], e["session_id"]],
               {k: e[k] for k in ("name", "properties", "user_id", "session_id")}), "single"))
_add("native_mixed_uuid_str_jsonb_named_event_id_str", _mixed_test(
    "track(%s, %s, %s, event_id => %s)",
    lambda e: ([e["tenant"], e["name"], Jsonb(e["properties"]), str(e["event_id"])],
               {k: e[k] for k in ("name", "properties", "event_id")}), "multi"))
_add("native_mixed_str_str_jsonb_str_str", _mixed_test(
    "track(%s, %s, %s, %s, %s)",
    lambda e: ([str(e["tenant"]), e["name"], Jsonb(e["properties"]), e["user_id"], e["session_id"]],
               {k: e[k] for k in ("name", "properties", "user_id", "session_id")}), "multi"))


# Every spelling of a tenant uuid that PostgreSQL's uuid type accepts, as untyped and text.
SPELLINGS = {
    "upper_case": str.upper,
    "braces": lambda u: "{" + u + "}",
    "no_hyphens": lambda u: u.replace("-", ""),
    "braces_upper_no_hyphens": lambda u: "{" + u.replace("-", "").upper() + "}",
}


def _spelling_test(style, spell, call, fields):
    def test(self):
        tenant = uuid.uuid4()
        params, sent = bind(style, fields, new_event(tenant), spell)
        self.assertStored(self.db, self.track(call, params), sent, tenant)
    return test


for _style in (s for s in STYLES if s is not NATIVE):
    for _spelling, _spell in SPELLINGS.items():
        for _n, (_call, _fields) in enumerate([
                ("track(%s, %s, %s, %s, %s)", "tenant name properties user_id session_id"),
                ("track(%s, %s, %s)", "tenant name properties"),
                ("track(%s, %s, %s, event_id => %s)", "tenant name properties event_id")]):
            _add(f"{_style}_tenant_spelling_{_spelling}_{_n}", _spelling_test(_style, _spell, _call, _fields))


# Return values: the same id for a duplicate, NULL when opted out, sampled out or quarantined.
def _return_value_tests(style):
    def shape(mode, tenant, name, properties, user, event_id=None):
        args = [style.text(name), style.properties(properties), style.text(user) if user else style.null(),
                style.null()]
        tail = ""
        if event_id is not None:
            args.append(style.event_id(event_id))
            tail = ", event_id => %s"
        if mode == "multi":
            return f"track(%s, %s, %s, %s, %s{tail})", [style.tenant(tenant)] + args
        # Single-tenant, named arguments follow three positional ones (name, properties, user_id).
        return ("track(%s, %s, %s, session_id => %s, event_id => %s)" if tail else "track(%s, %s, %s, %s)"), args

    def tenant_of(mode):
        return uuid.uuid4() if mode == "multi" else NIL_TENANT

    for mode in ("multi", "single"):
        def duplicate(self, mode=mode):
            tenant, event_id = tenant_of(mode), uuid.uuid4()
            call, params = shape(mode, tenant, "client_checked", {"plan": "free"}, f"user-{event_id}", event_id)
            self.assertEqual(self.track(call, params), event_id)
            self.assertEqual(self.track(call, params), event_id)
            count = self.db.execute("SELECT count(*) FROM telemetry.events WHERE event_id = %s", [event_id]).fetchone()[0]
            self.assertEqual(count, 1)

        def opted_out(self, mode=mode):
            tenant, user = tenant_of(mode), secret("opted-out")
            self.assertTrue(self.db.execute("SELECT telemetry.opt_out(%s, %s)", [tenant, user]).fetchone()[0])
            call, params = shape(mode, tenant, "client_checked", {}, user)
            self.assertIsNone(self.track(call, params))
            count = self.db.execute("SELECT count(*) FROM telemetry.events WHERE user_id = %s", [user]).fetchone()[0]
            self.assertEqual(count, 0)

        def sampled_out(self, mode=mode):
            call, params = shape(mode, tenant_of(mode), "client_sampled", {}, f"user-{uuid.uuid4()}")
            self.assertIsNone(self.track(call, params))

        def quarantined(self, mode=mode):
            tenant, user = tenant_of(mode), f"user-{uuid.uuid4()}"
            call, params = shape(mode, tenant, "client_quarantined", {"n": "not a number"}, user)
            self.assertIsNone(self.track(call, params))
            count = self.db.execute("SELECT count(*) FROM telemetry.quarantine WHERE tenant_id = %s AND user_id = %s",
                                    [tenant, user]).fetchone()[0]
            self.assertEqual(count, 1)

        for what, fn in (("duplicate_returns_same_id", duplicate), ("opted_out_returns_null", opted_out),
                         ("sampled_out_returns_null", sampled_out), ("quarantined_returns_null", quarantined)):
            _add(f"{style}_{mode}_{what}", fn)


for _style in STYLES:
    _return_value_tests(_style)


# Refusals: the rule's SQLSTATE, and never the value sent in the message.
def _refusal_tests(style):
    tenant = uuid.uuid4()
    s, t, p, n = style.text, style.tenant, style.properties, style.null
    cases = [
        ("unknown_type_multi", "42704", lambda v: ("track(%s, %s, %s, %s, %s)",
                                                   [t(tenant), s("client_never_declared"), p({}), s("u"), s("s")])),
        ("unknown_type_single", "42704", lambda v: ("track(%s, %s)", [s("client_never_declared"), p({})])),
        ("schema_violation_multi", "23514", lambda v: ("track(%s, %s, %s, %s, %s)",
                                                       [t(tenant), s("client_checked"), p({"plan": v}), s("u"), s("s")])),
        ("schema_violation_single", "23514", lambda v: ("track(%s, %s, %s, %s)",
                                                        [s("client_checked"), p({"plan": v}), s("u"), s("s")])),
        ("bad_name_multi", "42602", lambda v: ("track(%s, %s, %s)", [t(tenant), s(f"Bad Name {v}"), p({})])),
        ("bad_name_single", "42602", lambda v: ("track(%s, %s)", [s(f"Bad Name {v}"), p({})])),
        ("empty_user_id_multi", "22023", lambda v: ("track(%s, %s, %s, %s, %s)",
                                                    [t(tenant), s("client_checked"), p({}), s(""), n()])),
        ("empty_user_id_single", "22023", lambda v: ("track(%s, %s, %s, %s)", [s("client_checked"), p({}), s(""), n()])),
        ("properties_not_an_object_multi", "22023", lambda v: ("track(%s, %s, %s, %s, %s)",
                                                               [t(tenant), s("client_checked"), p([1, 2]), s("u"), s("s")])),
    ]
    if style is not NATIVE:  # values that a native type could not even hold
        cases += [
            ("malformed_event_id_multi", "22P02", lambda v: ("track(%s, %s, %s, event_id => %s)",
                                                             [t(tenant), s("client_checked"), p({}), s(v)])),
            ("malformed_event_id_single", "22P02", lambda v: ("track(%s, %s, %s, event_id => %s)",
                                                              [s("client_checked"), p({}), s("u"), s(v)])),
            # A first argument that does not read as a UUID makes the call single-tenant: refused as
            # a malformed uuid or as a bad event name, never stored.
            ("malformed_tenant_named", ("22P02", "42602"), lambda v: ("track(tenant_id => %s, name => %s, properties => %s)",
                                                           [s(v), s("client_checked"), p({})])),
            ("malformed_occurred_at_multi", "22007", lambda v: ("track(%s, %s, %s, occurred_at => %s)",
                                                                [t(tenant), s("client_checked"), p({}), s(v)])),
        ]
    for what, sqlstate, make in cases:
        def test(self, make=make, sqlstate=sqlstate):
            value = secret("value")
            call, params = make(value)
            self.assertRefused(self.db, f"SELECT telemetry.{call}", params, sqlstate, [value])
        _add(f"{style}_refused_{what}", test)


for _style in STYLES:
    _refusal_tests(_style)


if __name__ == "__main__":
    unittest.main()
