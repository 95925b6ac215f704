\set u random(1, 240)
\set it random(200, 4000)
\set ot random(20, 900)
INSERT INTO bench_diy_events (tenant_id, name, properties, user_id, session_id) VALUES ('00000000-0000-4000-8000-00000000c057', 'stream_completed', '{"streamType": "partner", "model": "gpt-4o-mini", "inputTokens": :it, "outputTokens": :ot, "latencyMs": 1200, "scenarioSlug": "salary-negotiation"}', 'learner-:u', 'session-:u');
