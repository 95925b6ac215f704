'use strict'
// Personal data through node-postgres with bind parameters, as applications send it: undeclared
// e-mail addresses redacted and an e-mail user id hashed under the default policy; a tenant that
// chose reject refuses with 23514 naming the path and the detector, never the value, through
// track(), track_batch() (per event) and an INSERT of the application's own (the trigger).

const { it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { connect, freshDatabase, assertRefused } = require('./common')

const DATABASE = 'client_node_pii'
let db

const redacting = crypto.randomUUID()
const strict = crypto.randomUUID()

before(async () => {
  db = await freshDatabase(DATABASE)
  await db.query('SELECT telemetry.define_event($1, $2)',
    ['contact_requested', { type: 'object', properties: { topic: { type: 'string' }, note: { type: 'string' } } }])
  await db.query('SELECT telemetry.set_pii_policy($1, $2)', [strict, 'reject'])
})

after(async () => {
  if (db) await db.end()
  const admin = await connect('postgres')
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`)
  } finally {
    await admin.end()
  }
})

const row = async (id) => (await db.query(
  'SELECT properties, user_id, flags FROM telemetry.events WHERE event_id = $1', [id])).rows[0]

it('pii: an undeclared e-mail address is redacted and an e-mail user id hashed (prepared, untyped parameters)', async () => {
  const { rows } = await db.query({
    name: 'track_contact',
    text: 'SELECT telemetry.track($1, $2, $3, $4, $5) AS id',
    values: [redacting, 'contact_requested', JSON.stringify({ topic: 'billing', note: 'write to ann.node@example.com' }),
      'Ann.Node@example.com', 's1']
  })
  const stored = await row(rows[0].id)
  assert.deepEqual(stored.properties, { topic: 'billing', note: '[redacted:email]' })
  assert.match(stored.user_id, /^h1:[A-Za-z0-9_-]{22}$/)
  assert.equal(stored.flags, 32 | 64)
  // The same person, written otherwise, is the same hashed user.
  const again = await db.query({ name: 'track_contact', values: [redacting, 'contact_requested', '{}', 'ann.node@example.com', 's2'] })
  assert.equal((await row(again.rows[0].id)).user_id, stored.user_id)
})

it('pii: under reject, track() fails with 23514 naming the path and the detector, never the value', async () => {
  const error = await assertRefused(() => db.query('SELECT telemetry.track($1, $2, $3)',
    [strict, 'contact_requested', { note: 'write to ann.node@example.com' }]), '23514', ['ann.node@example.com'])
  assert.match(error.message, /\$\.note: personal data \(email\)/)
})

it('pii: under reject, track_batch() refuses that event alone', async () => {
  const { rows } = await db.query('SELECT index, status, reason FROM telemetry.track_batch($1, $2) ORDER BY index',
    [strict, JSON.stringify([{ name: 'contact_requested', properties: { topic: 'a' } },
      { name: 'contact_requested', properties: { note: 'call +44 20 7946 0958' } },
      { name: 'contact_requested', properties: { topic: 'b' } }])])
  assert.deepEqual(rows.map((r) => r.status), ['accepted', 'rejected', 'accepted'])
  assert.match(rows[1].reason, /\$\.properties\.note: personal data \(phone\)/)
  assert.ok(!rows[1].reason.includes('7946'))
})

it('pii: an INSERT of the application\'s own meets the same rule in the trigger', async () => {
  await assertRefused(() => db.query(
    `INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, source, schema_version, properties)
     VALUES (now(), now(), $1, gen_random_uuid(), 'contact_requested', 'app', '1-0-0', $2)`,
    [strict, { note: 'ann.node@example.com' }]), '23514', ['ann.node@example.com'])
  const { rows } = await db.query(
    `INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, source, schema_version, properties)
     VALUES (now(), now(), $1, gen_random_uuid(), 'contact_requested', 'app', '1-0-0', $2) RETURNING properties, flags`,
    [redacting, { note: 'ann.node@example.com' }])
  assert.deepEqual(rows[0], { properties: { note: '[redacted:email]' }, flags: 32 })
})
