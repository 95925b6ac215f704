-- What the maintenance worker keeps (docs/rollup.md): daily rollups per tenant, day and event
-- type, made without any call from the application or the DBA.
\pset footer off
\echo 'Rollups of the last days for Northwind Language School, next to a GROUP BY over its raw events:'
SELECT r.day, sum(r.events) AS events, (SELECT count(*) FROM telemetry.events e
       WHERE e.tenant_id = r.tenant_id AND (e.occurred_at AT TIME ZONE 'UTC')::date = r.day) AS raw_group_by,
       max(r.users) FILTER (WHERE r.name = 'conversation_started') AS learners_practising,
       sum(r.sessions) FILTER (WHERE r.name = 'conversation_started') AS sessions
FROM telemetry.daily_rollups r
WHERE r.tenant_id = '6a1f0c3e-0000-4000-8000-000000000001' AND r.day >= telemetry.rollup_watermark() - 5
GROUP BY r.tenant_id, r.day ORDER BY r.day;
\echo 'Distinct learners over the two weeks, per tenant: the union of the daily HyperLogLog sketches, and the exact count:'
SELECT r.tenant_id, round(hll_cardinality(hll_union_agg(r.users_hll))) AS learners_hll,
       (SELECT count(DISTINCT e.user_id) FROM telemetry.events e WHERE e.tenant_id = r.tenant_id
        AND e.occurred_at < telemetry.rollup_watermark()::timestamp AT TIME ZONE 'UTC') AS learners_exact
FROM telemetry.daily_rollups r GROUP BY r.tenant_id ORDER BY r.tenant_id;
