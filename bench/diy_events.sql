-- The plain table of the design documents (001: id bigserial primary key, tenant_id, name,
-- data jsonb, created_at; indexes (tenant_id, name, created_at desc), (tenant_id, created_at desc)).
CREATE TABLE bench_diy_events (
    id          bigserial PRIMARY KEY,
    tenant_id   uuid        NOT NULL,
    name        text        NOT NULL,
    properties  jsonb       NOT NULL,
    user_id     text,
    session_id  text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON bench_diy_events (tenant_id, name, created_at DESC);
CREATE INDEX ON bench_diy_events (tenant_id, created_at DESC);
