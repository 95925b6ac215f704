-- The plain way, for comparison: the design documents' own events table and indexes.
CREATE TABLE plain_events (
    id          bigserial PRIMARY KEY,
    tenant_id   uuid        NOT NULL,
    name        text        NOT NULL,
    properties  jsonb       NOT NULL,
    user_id     text,
    session_id  text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON plain_events (tenant_id, name, created_at DESC);
CREATE INDEX ON plain_events (tenant_id, created_at DESC);
