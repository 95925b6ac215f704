'use strict'
// An application role that is not a superuser, granted only USAGE on schema telemetry and
// EXECUTE on track() and track_batch(), tracks through node-postgres with untyped parameters,
// and can do nothing else.

const { it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { NIL_TENANT, connect, freshDatabase, secret, assertRefused } = require('./common')

const DATABASE = 'client_node_app_role'
const ROLE = 'client_app_node'
let db
let app

before(async () => {
  db = await freshDatabase(DATABASE)
  await db.query(`DROP ROLE IF EXISTS ${ROLE}`)
  await db.query(`CREATE ROLE ${ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT`)
  await db.query(`GRANT USAGE ON SCHEMA telemetry TO ${ROLE}`)
  // Every overload of track() and track_batch(), whichever the installed version has.
  const { rows } = await db.query(`SELECT p.oid::regprocedure::text AS signature FROM pg_proc p
                                    WHERE p.pronamespace = 'telemetry'::regnamespace AND p.proname IN ('track', 'track_batch')`)
  for (const { signature } of rows) await db.query(`GRANT EXECUTE ON FUNCTION ${signature} TO ${ROLE}`)
  // EXECUTE is not enough: the role ingests for every tenant these tests use (docs/security.md).
  // Service also reads; this application role must have nothing but the ingest functions.
  await db.query(`SELECT telemetry.grant_tenant_access('${ROLE}', NULL, 'service')`)
  await db.query(`REVOKE SELECT ON telemetry.events, telemetry.event_types FROM ${ROLE}`)
  await db.query(`REVOKE EXECUTE ON FUNCTION telemetry.partitions() FROM ${ROLE}`)
  await db.query('SELECT telemetry.define_event($1, $2)',
    ['client_checked', { type: 'object', properties: { plan: { type: 'string', enum: ['free', 'pro'] } } }])
  app = await connect(DATABASE, ROLE)
})

after(async () => {
  if (app) await app.end()
  if (db) await db.end()
  const admin = await connect('postgres')
  try { // the role's grants go with its database
    await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`)
    await admin.query(`DROP ROLE IF EXISTS ${ROLE}`)
  } finally {
    await admin.end()
  }
})

it('app role: connects as a role that is not a superuser', async () => {
  const { rows } = await app.query('SELECT current_user AS who, usesuper FROM pg_user WHERE usename = current_user')
  assert.deepEqual(rows, [{ who: ROLE, usesuper: false }])
})

const stored = async (id) => (await db.query(
  'SELECT tenant_id::text, name, properties, user_id, session_id FROM telemetry.events WHERE event_id = $1', [id])).rows

const tenant = crypto.randomUUID()
const CALLS = [
  ['track($1, $2, $3, $4, $5)', [tenant, 'client_checked', { plan: 'pro' }, 'u1', 's1'], [tenant, { plan: 'pro' }, 'u1', 's1']],
  ['track($1, $2, $3, $4, $5)', [tenant, 'client_checked', '{}', null, null], [tenant, {}, null, null]],
  ['track($1, $2, $3)', [tenant, 'client_checked', '{}'], [tenant, {}, null, null]],
  ['track($1, $2, $3, $4)', ['client_checked', '{}', 'u4', 's4'], [NIL_TENANT, {}, 'u4', 's4']],
  ['track($1, $2)', ['client_checked', '{"plan": "free"}'], [NIL_TENANT, { plan: 'free' }, null, null]],
  ['track(tenant_id => $1, name => $2, properties => $3, user_id => $4)', [tenant, 'client_checked', '{}', 'u6'], [tenant, {}, 'u6', null]],
]
for (const [call, params, [t, properties, user, session]] of CALLS) {
  it(`app role: ${call} with ${JSON.stringify(params.slice(2))}`, async () => {
    const { rows } = await app.query(`SELECT telemetry.${call} AS id`, params)
    assert.deepEqual(await stored(rows[0].id), [{ tenant_id: t, name: 'client_checked', properties, user_id: user, session_id: session }])
  })
}

it('app role: track($1, $2, $3, event_id => $4)', async () => {
  const eventId = crypto.randomUUID()
  const { rows } = await app.query('SELECT telemetry.track($1, $2, $3, event_id => $4) AS id', [tenant, 'client_checked', '{}', eventId])
  assert.equal(rows[0].id, eventId)
})

it('app role: a refusal: 23514, without the value', async () => {
  const bad = secret('plan')
  await assertRefused(() => app.query('SELECT telemetry.track($1, $2, $3, $4, $5)', [tenant, 'client_checked', { plan: bad }, 'u', 's']), '23514', [bad])
})

it('app role: track_batch($1, $2)', async () => {
  const events = [{ name: 'client_checked', properties: { plan: 'pro' } }, { name: 'client_never_declared' }]
  const { rows } = await app.query('SELECT "index", status, sqlstate FROM telemetry.track_batch($1, $2)', [tenant, JSON.stringify(events)])
  assert.deepEqual(rows, [{ index: 0, status: 'accepted', sqlstate: null }, { index: 1, status: 'rejected', sqlstate: '42704' }])
})

it('app role: nothing else, no table, no other function', async () => {
  for (const [sql, params] of [
    [`INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, source, schema_version, properties)
      VALUES (now(), now(), $1, $2, 'client_checked', 'server', '1-0-0', '{}')`, [tenant, crypto.randomUUID()]],
    ['SELECT count(*) FROM telemetry.events', []],
    ['SELECT telemetry.define_event($1)', ['client_sneaked_in']],
    ['SELECT telemetry.opt_in($1, $2)', [tenant, 'u']],
  ]) {
    await assertRefused(() => app.query(sql, params), '42501')
  }
})
