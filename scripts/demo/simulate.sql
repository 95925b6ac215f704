-- A realistic stream for the conversation-practice app (catalog/conversation_practice.json):
-- four customer organisations (tenants) of very different sizes, 240 learners, 14 days.
-- Deterministic: the same events every run (setseed). Each learner, on an active day,
-- signs in, practises one or two conversations (messages answered by the partner model, now and
-- then a coach hint, a stream error or a reconnect) and ends them completed, abandoned or out of
-- quota. Every event goes through telemetry.track(), as the application would send it.
SELECT setseed(0.42) AS seeded \gset

CREATE TEMP TABLE demo_tenants (tenant_id uuid, org text, weight float8);
INSERT INTO demo_tenants VALUES
    ('6a1f0c3e-0000-4000-8000-000000000001', 'Northwind Language School', 0.45),
    ('6a1f0c3e-0000-4000-8000-000000000002', 'Contoso Sales Academy',     0.25),
    ('6a1f0c3e-0000-4000-8000-000000000003', 'Fabrikam Support Training', 0.20),
    ('6a1f0c3e-0000-4000-8000-000000000004', 'Tailspin Tutors',           0.10);

-- Learners, assigned to tenants by weight.
CREATE TEMP TABLE demo_users AS
SELECT 'learner-' || lpad(i::text, 4, '0') AS user_id,
       (SELECT t.tenant_id FROM demo_tenants t
        ORDER BY t.tenant_id
        LIMIT 1 OFFSET CASE WHEN i % 20 < 9 THEN 0 WHEN i % 20 < 14 THEN 1 WHEN i % 20 < 18 THEN 2 ELSE 3 END) AS tenant_id,
       0.15 + random() * 0.5 AS diligence
FROM generate_series(1, 240) AS i;

DO $$
DECLARE
    learner       record;
    day           date;
    session_start timestamptz;
    t             timestamptz;
    session_id    text;
    scenario      text;
    messages      integer;
    reason        text;
    seen          text[] := '{}';
    sessions_made integer := 0;
    scenarios     text[] := ARRAY['job-interview', 'small-talk', 'customer-complaint', 'salary-negotiation',
                                  'doctor-visit', 'hotel-check-in'];
BEGIN
    FOR day IN SELECT d::date FROM generate_series(current_date - 13, current_date, interval '1 day') AS d LOOP
        FOR learner IN SELECT * FROM demo_users ORDER BY user_id LOOP
            -- Fewer learners practise at weekends.
            CONTINUE WHEN random() > learner.diligence * CASE WHEN extract(isodow FROM day) >= 6 THEN 0.4 ELSE 1 END;
            session_start := day + interval '7 hours' + random() * interval '14 hours';
            CONTINUE WHEN session_start > now() - interval '5 minutes';
            t := session_start;
            PERFORM telemetry.track(learner.tenant_id, 'user_authenticated',
                jsonb_build_object('provider', (ARRAY['google', 'microsoft', 'email'])[1 + (random() * 2.4)::int],
                                   'isNewUser', NOT learner.user_id = ANY (seen)),
                learner.user_id, NULL, t);
            seen := seen || learner.user_id;
            FOR conversation IN 1 .. 1 + (random() * 1.3)::int LOOP
                sessions_made := sessions_made + 1;
                session_id := 'conv-' || sessions_made;
                scenario := scenarios[1 + floor(random() * array_length(scenarios, 1))::int];
                t := t + random() * interval '3 minutes';
                IF random() < 0.15 THEN
                    PERFORM telemetry.track(learner.tenant_id, 'invitation_claimed',
                        jsonb_build_object('invitationId', 'inv-' || sessions_made, 'source', 'qr_code'),
                        learner.user_id, session_id, t);
                END IF;
                PERFORM telemetry.track(learner.tenant_id, 'conversation_started',
                    jsonb_build_object('scenarioId', 'sc-' || md5(scenario)::uuid, 'scenarioSlug', scenario,
                                       'source', (ARRAY['web', 'web', 'ios', 'android'])[1 + floor(random() * 4)::int]),
                    learner.user_id, session_id, t);
                messages := 2 + (random() * 10)::int;
                FOR m IN 1 .. messages LOOP
                    t := t + interval '5 seconds' + random() * interval '40 seconds';
                    PERFORM telemetry.track(learner.tenant_id, 'message_sent',
                        jsonb_build_object('length', 10 + (random() * 200)::int,
                                           'timeSinceLastMs', CASE WHEN m = 1 THEN NULL ELSE (random() * 40000)::int END),
                        learner.user_id, session_id, t);
                    IF random() < 0.03 THEN
                        PERFORM telemetry.track(learner.tenant_id, 'stream_error',
                            jsonb_build_object('streamType', 'partner', 'model', 'gpt-4o-mini',
                                               'errorCode', 'rate_limited', 'retryable', true),
                            learner.user_id, session_id, t + interval '1 second');
                        IF random() < 0.5 THEN
                            PERFORM telemetry.track(learner.tenant_id, 'reconnection',
                                jsonb_build_object('attemptNumber', 1, 'success', random() < 0.9),
                                learner.user_id, session_id, t + interval '2 seconds');
                        END IF;
                    END IF;
                    PERFORM telemetry.track(learner.tenant_id, 'stream_completed',
                        jsonb_build_object('streamType', 'partner', 'model', 'gpt-4o-mini', 'scenarioSlug', scenario,
                                           'inputTokens', 300 + (random() * 900)::int,
                                           'outputTokens', 40 + (random() * 260)::int,
                                           'latencyMs', 350 + (random() * 2500)::int),
                        learner.user_id, session_id, t + interval '3 seconds');
                    IF random() < 0.2 THEN
                        PERFORM telemetry.track(learner.tenant_id, 'stream_completed',
                            jsonb_build_object('streamType', 'coach', 'model', 'gpt-4o', 'scenarioSlug', scenario,
                                               'inputTokens', 800 + (random() * 1500)::int,
                                               'outputTokens', 60 + (random() * 200)::int,
                                               'latencyMs', 600 + (random() * 3000)::int),
                            learner.user_id, session_id, t + interval '4 seconds');
                    END IF;
                END LOOP;
                reason := CASE WHEN random() < 0.05 THEN 'quota' WHEN random() < 0.27 THEN 'abandoned' ELSE 'completed' END;
                IF reason = 'quota' THEN
                    PERFORM telemetry.track(learner.tenant_id, 'quota_warning',
                        jsonb_build_object('remainingTokens', 4000, 'totalQuota', 20000, 'percentUsed', 80),
                        learner.user_id, session_id, t + interval '5 seconds');
                    PERFORM telemetry.track(learner.tenant_id, 'quota_exhausted',
                        jsonb_build_object('totalUsed', 20000, 'quota', 20000),
                        learner.user_id, session_id, t + interval '6 seconds');
                END IF;
                PERFORM telemetry.track(learner.tenant_id, 'conversation_ended',
                    jsonb_build_object('reason', reason, 'durationMs', (extract(epoch FROM t - session_start) * 1000)::bigint,
                                       'messageCount', messages),
                    learner.user_id, session_id, t + interval '8 seconds');
            END LOOP;
        END LOOP;
    END LOOP;
END
$$;
