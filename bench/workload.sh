# The single-event workload, written as pgbench scripts: one file per event type and side,
# weighted so a few event types dominate (as in real products). Every side sends the same SQL
# text but for the call: the same tenant (30 % of events on one of 50), event name, ~300 bytes
# of JSON properties, user (of 10,000) and session, as literals in the simple protocol, the
# way an ORM interpolating parameters would send them.
# shellcheck shell=bash

# Properties per shape, with pgbench variables; sizes 280-330 bytes once filled in.
declare -A TEMPLATE
TEMPLATE[stream]='{"streamType": "partner", "model": "gpt-4o-mini-2024-07-18", "inputTokens": :it, "outputTokens": :ot, "latencyMs": :lat, "scenarioId": "sc-:sc", "scenarioSlug": "salary-negotiation-advanced", "source": "web", "retryable": false, "region": "eu-west-1", "title": "Practice round with the partner model"}'
TEMPLATE[page]='{"path": "/app/lessons/:lesson/exercises/:ex", "referrer": "https://www.example.com/blog/how-to-practice-for-interviews", "viewport": "1440x900", "locale": "en-GB", "durationMs": :dur, "visible": true, "scrollDepth": :depth, "experiment": "onboarding-v2", "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"}'
TEMPLATE[commerce]='{"orderId": "ord_:order", "plan": "pro", "currency": "EUR", "amountCents": :amount, "items": :items, "coupon": null, "paymentMethod": "card", "country": "FR", "firstPurchase": false, "channel": "organic", "invoiceNumber": "INV-2026-:order", "billingPeriod": "monthly"}'
TEMPLATE[ops]='{"component": "ingest-worker", "code": "E_UPSTREAM_TIMEOUT", "recoverable": true, "attempt": :attempt, "queueDepth": :queue, "latencyMs": :lat, "host": "worker-3.internal.example.net", "version": "2026.11.2", "message": "upstream timed out after three retries; will try again"}'

# The 20 event types (bench/catalog.json), their shape, and their weight in the mix.
EVENT_TYPES=(
  "page_viewed page 20"          "stream_completed stream 16"   "lesson_opened page 13"
  "partner_reply_streamed stream 11" "exercise_viewed page 9"   "coach_reply_streamed stream 8"
  "job_retried ops 7"            "dashboard_viewed page 6"      "transcript_generated stream 5"
  "ingest_failed ops 5"          "checkout_completed commerce 4" "settings_viewed page 4"
  "summary_generated stream 3"   "plan_upgraded commerce 3"     "integration_failed ops 3"
  "invoice_paid commerce 2"      "webhook_timed_out ops 2"      "plan_downgraded commerce 2"
  "export_failed ops 1"          "refund_issued commerce 1"
)

VARIABLES='\set r random(1, 100)
\set t case when :r <= 30 then 10 else random(11, 59) end
\set u random(1, 10000)
\set s random(1, 200000)
\set it random(200, 4000)
\set ot random(20, 900)
\set lat random(300, 9000)
\set sc random(1, 500)
\set lesson random(1, 300)
\set ex random(1, 40)
\set dur random(100, 600000)
\set depth random(0, 100)
\set order random(100000, 999999)
\set amount random(500, 99900)
\set items random(1, 9)
\set attempt random(1, 5)
\set queue random(0, 5000)'

TENANT_LITERAL="'6a1f0c3e-0000-4000-8000-0000000000:t'"
# The same 50 tenants' twins whose policy for undeclared personal data is allow (bench/setup.sql):
# track() there does not look for it, which prices detection (docs/benchmarks.md).
TENANT_ALLOW_LITERAL="'6a1f0c3e-0000-4000-8000-0000000001:t'"

# write_side DIR SIDE: the 20 scripts of one side (plain, logevent, track, track_6, track_8,
# track_untyped, track_allow) in DIR.
write_side() {
  local dir=$1 side=$2 entry name shape weight props call
  mkdir -p "$dir/$side"
  for entry in "${EVENT_TYPES[@]}"; do
    read -r name shape weight <<<"$entry"
    props="'${TEMPLATE[$shape]}'"
    case $side in
      plain)    call="INSERT INTO bench_diy_events (tenant_id, name, properties, user_id, session_id) VALUES ($TENANT_LITERAL, '$name', $props, 'user-:u', 'session-:s');" ;;
      logevent) call="SELECT bench_log_event($TENANT_LITERAL, '$name', $props, 'user-:u', 'session-:s');" ;;
      track)    call="SELECT telemetry.track($TENANT_LITERAL::uuid, '$name', $props, 'user-:u', 'session-:s');" ;;
      # What argument defaults cost (docs/benchmarks.md): a call that also gives occurred_at
      # leaves event_id and sent_at to their defaults; the same call with all eight given.
      track_6)  call="SELECT telemetry.track($TENANT_LITERAL::uuid, '$name', $props, 'user-:u', 'session-:s', now());" ;;
      track_8)  call="SELECT telemetry.track($TENANT_LITERAL::uuid, '$name', $props, 'user-:u', 'session-:s', now(), NULL, NULL);" ;;
      # What a driver sends (node-postgres, psycopg with strings): the same call without a cast,
      # so that every argument is untyped and PostgreSQL takes the text form, whose properties
      # are JSON text read by telemetry's own parser instead of jsonb_in.
      track_untyped) call="SELECT telemetry.track($TENANT_LITERAL, '$name', $props, 'user-:u', 'session-:s');" ;;
      # The same typed call for a tenant under the policy allow: no detection.
      track_allow) call="SELECT telemetry.track($TENANT_ALLOW_LITERAL::uuid, '$name', $props, 'user-:u', 'session-:s');" ;;
    esac
    printf '%s\n%s\n' "$VARIABLES" "$call" >"$dir/$side/$name.sql"
  done
}

# pgbench -f arguments for a side: every script with its weight.
side_scripts() {
  local dir=$1 side=$2 entry name shape weight
  for entry in "${EVENT_TYPES[@]}"; do
    read -r name shape weight <<<"$entry"
    printf -- '-f %s@%s ' "$dir/$side/$name.sql" "$weight"
  done
}
