"""An application's calls, through a real driver with bind parameters: psycopg 3 sends Python
strings untyped, as node-postgres sends every parameter, so PostgreSQL picks the form of track()
from the values (docs/api.md, "The forms, and choosing between them"). Run by scripts/demo.sh."""
import json
import os
import uuid

import psycopg

TENANT = "6a1f0c3e-0000-4000-8000-000000000001"

with psycopg.connect(host=os.environ["PGHOST"], port=os.environ["PGPORT"], user="postgres", dbname="demo",
                     autocommit=True) as conn:
    # The call an ORM makes: five untyped parameters, the first a tenant's UUID.
    event_id = conn.execute("SELECT telemetry.track(%s, %s, %s, %s, %s)",
                            [TENANT, "message_sent", json.dumps({"length": 12, "timeSinceLastMs": 800}),
                             "learner-0002", "session-driver"]).fetchone()[0]
    print(f"{'track(%s, %s, %s, %s, %s), five strings':<52} -> {event_id} (multi-tenant: the first is a UUID)")
    # A retry with the client's own event id, by name, spelled as its SDK spells it.
    client_id = "{" + str(uuid.UUID("0192d5b4-7d6e-7000-8000-00000000d0a1")).upper() + "}"
    for attempt in (1, 2):
        got = conn.execute("SELECT telemetry.track(%s, %s, %s, event_id => %s)",
                           [TENANT, "message_sent", json.dumps({"length": 3, "timeSinceLastMs": None}), client_id]).fetchone()[0]
        print(f"{'track(%s, %s, %s, event_id => %s), attempt ' + str(attempt):<52} -> {got}")
    # Native types: a uuid.UUID and Jsonb go to the typed form.
    got = conn.execute("SELECT telemetry.track(%s, %s, %s, %s, %s)",
                       [uuid.UUID(TENANT), "message_sent", psycopg.types.json.Jsonb({"length": 5, "timeSinceLastMs": 40}),
                        "learner-0002", None]).fetchone()[0]
    print(f"{'track(%s, %s, %s, %s, %s), uuid.UUID and Jsonb':<52} -> {got} (the typed form)")
    # A refusal reaches the application with its SQLSTATE, and never the value.
    try:
        conn.execute("SELECT telemetry.track(%s, %s, %s, %s, %s)",
                     [TENANT, "message_sent", json.dumps({"length": "secret-value", "timeSinceLastMs": 1}), "learner-0002", None])
    except psycopg.Error as e:
        print(f"{'a refused event':<52} -> {e.sqlstate}: {e.diag.message_primary}")
    rows = conn.execute("SELECT count(*) FILTER (WHERE session_id = 'session-driver'), "
                        "count(*) FILTER (WHERE event_id = '0192d5b4-7d6e-7000-8000-00000000d0a1') "
                        "FROM telemetry.events").fetchone()
    print(f"stored: {rows[0]} event of the ORM call, {rows[1]} of the retried one (retried twice, stored once)")
