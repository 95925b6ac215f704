'use strict'
// telemetry.track_batch() through node-postgres, untyped: a client's batch with a good, a
// repeated, an already seen, an invalid and an unknown event gets one status per event, in
// order, adding up to the input count, and stores exactly the accepted ones.

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { NIL_TENANT, freshDatabase, secret, msAgo, assertRefused } = require('./common')

let db

before(async () => {
  db = await freshDatabase('client_node_batch')
  await db.query('SELECT telemetry.define_event($1, $2)', ['client_checked', JSON.stringify({
    type: 'object',
    properties: { plan: { type: 'string', enum: ['free', 'pro'] }, n: { type: 'integer' }, note: { type: 'string' } },
    additionalProperties: false,
  })])
})

after(async () => {
  if (db) await db.end()
})

const SHAPES = [
  ['positional', 'track_batch($1, $2)', false],
  ['positional, sent_at', 'track_batch($1, $2, $3)', true],
  ['named', 'track_batch(tenant_id => $1, events => $2)', false],
  ['named, sent_at', 'track_batch(tenant_id => $1, events => $2, sent_at => $3)', true],
]

async function checkBatch(tenant, call, withSentAt, sentAtAsDate) {
  const seenBefore = crypto.randomUUID()
  await db.query('SELECT telemetry.track($1::uuid, $2, $3::jsonb, event_id => $4::uuid)',
    [tenant, 'client_checked', '{"plan": "free"}', seenBefore])
  const badValue = secret('plan')
  const first = crypto.randomUUID()
  const occurred = msAgo(3600 * 1000)
  const events = [
    { name: 'client_checked', event_id: first, occurred_at: occurred.toISOString(), properties: { plan: 'pro', n: 1 }, user_id: 'user-1', session_id: 'session-1' },
    { name: 'client_checked', event_id: first, properties: { plan: 'pro', n: 1 } },
    { name: 'client_checked', event_id: seenBefore, properties: { plan: 'free' } },
    { name: 'client_checked', properties: { plan: badValue } },
    { name: 'client_never_declared', properties: {} },
    { name: 'client_checked', properties: { note: 'naïve ☃ 日本' }, user_id: 'user-2' },
  ]
  const sentAt = msAgo(600 * 1000)
  const params = [tenant, JSON.stringify(events)]
  if (withSentAt) params.push(sentAtAsDate ? sentAt : sentAt.toISOString())
  const { rows } = await db.query(`SELECT "index", status, id, reason, sqlstate FROM telemetry.${call}`, params)

  assert.deepEqual(rows.map((r) => r.index), [0, 1, 2, 3, 4, 5], 'one row per event, in order')
  assert.deepEqual(rows.map((r) => r.status), ['accepted', 'duplicate', 'duplicate', 'rejected', 'rejected', 'accepted'])
  assert.deepEqual(rows.map((r) => r.sqlstate), [null, null, null, '23514', '42704', null])
  assert.equal(rows[0].id, first, "the client's event_id")
  assert.equal(rows[1].id, first, "a duplicate has the client's id")
  assert.equal(rows[2].id, seenBefore, "a duplicate has the client's id")
  assert.ok(rows[5].id, 'an accepted event has an id')
  for (const r of rows) assert.ok(!(r.reason || '').includes(badValue), `a reason contains the value sent: ${r.reason}`)

  const stored = await db.query(
    `SELECT event_id::text, name, properties, user_id, session_id, occurred_at, flags,
            occurred_at - (received_at - $3::timestamptz) AS occurred_as_sent
       FROM telemetry.events WHERE tenant_id = $1 AND source = 'client' AND event_id = ANY($2::uuid[]) ORDER BY id`,
    [tenant, [rows[0].id, rows[5].id], sentAt])
  assert.equal(stored.rows.length, 2, 'the two accepted events are stored, once')
  const [a, b] = stored.rows
  assert.deepEqual([a.name, a.properties, a.user_id, a.session_id], ['client_checked', { plan: 'pro', n: 1 }, 'user-1', 'session-1'])
  assert.deepEqual([b.name, b.properties, b.user_id, b.session_id], ['client_checked', { note: 'naïve ☃ 日本' }, 'user-2', null])
  if (withSentAt) {
    assert.equal(a.occurred_as_sent.getTime(), occurred.getTime(), 'occurred_at, corrected by received_at - sent_at')
    assert.equal(a.flags & 2, 2, 'flag 2: corrected for the client clock')
  } else {
    assert.equal(a.occurred_at.getTime(), occurred.getTime(), 'occurred_at')
  }
  const seen = await db.query('SELECT count(*)::int AS n FROM telemetry.events WHERE tenant_id = $1 AND event_id = $2', [tenant, seenBefore])
  assert.equal(seen.rows[0].n, 1, 'the event seen before is stored once')
}

for (const mode of ['multi-tenant', 'single-tenant']) {
  describe(`track_batch(), ${mode}, untyped, events as a JSON string`, () => {
    for (const [label, call, withSentAt] of SHAPES) {
      it(`${mode}, ${label}: ${call}`, async () => {
        await checkBatch(mode === 'multi-tenant' ? crypto.randomUUID() : NIL_TENANT, call, withSentAt, false)
      })
    }
    it(`${mode}, sent_at as a JavaScript Date: track_batch($1, $2, $3)`, async () => {
      await checkBatch(mode === 'multi-tenant' ? crypto.randomUUID() : NIL_TENANT, 'track_batch($1, $2, $3)', true, true)
    })
  })
}

describe('track_batch() refusals, untyped', () => {
  it('a batch that is not JSON is refused as a whole: 22P02', async () => {
    const bad = secret('not json')
    await assertRefused(() => db.query('SELECT * FROM telemetry.track_batch($1, $2)', [crypto.randomUUID(), bad]), '22P02', [bad])
  })
  it('a batch that is not a JSON array is refused as a whole: 22023', async () => {
    await assertRefused(() => db.query('SELECT * FROM telemetry.track_batch($1, $2)', [crypto.randomUUID(), '{"name": "client_checked"}']), '22023')
  })
})
