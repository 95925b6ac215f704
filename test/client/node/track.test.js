'use strict'
// telemetry.track() through node-postgres: every documented call shape, multi-tenant and
// single-tenant, positional and named, with untyped bind parameters, stores exactly what was
// sent; return values (duplicate, opted out, sampled out, quarantined) and refusals (SQLSTATE,
// no value in the message).

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { NIL_TENANT, freshDatabase, secret, msAgo, assertRefused, assertStored } = require('./common')

let db

before(async () => {
  db = await freshDatabase('client_node_track')
  await db.query('SELECT telemetry.define_event($1, $2)', ['client_checked', JSON.stringify({
    type: 'object',
    properties: { plan: { type: 'string', enum: ['free', 'pro'] }, n: { type: 'integer' }, note: { type: 'string' } },
    additionalProperties: false,
  })])
  await db.query('SELECT telemetry.define_event($1, $2, on_violation => $3)',
    ['client_quarantined', '{"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}', 'quarantine'])
  await db.query('SELECT telemetry.define_event($1, sample_rate => $2)', ['client_sampled', 0.000001])
})

after(async () => {
  if (db) await db.end()
})

// The call shapes: SQL with $n placeholders and the event field each placeholder carries.
const MULTI = [
  ['5 positional (the ORM call)', 'track($1, $2, $3, $4, $5)', ['tenant', 'name', 'properties', 'user_id', 'session_id']],
  ['5 positional, user and session NULL', 'track($1, $2, $3, $4, $5)', ['tenant', 'name', 'properties', 'user_id:null', 'session_id:null']],
  ['3 positional', 'track($1, $2, $3)', ['tenant', 'name', 'properties']],
  ['4 positional', 'track($1, $2, $3, $4)', ['tenant', 'name', 'properties', 'user_id']],
  ['6 positional', 'track($1, $2, $3, $4, $5, $6)', ['tenant', 'name', 'properties', 'user_id', 'session_id', 'occurred_at']],
  ['7 positional', 'track($1, $2, $3, $4, $5, $6, $7)', ['tenant', 'name', 'properties', 'user_id', 'session_id', 'occurred_at', 'event_id']],
  ['8 positional', 'track($1, $2, $3, $4, $5, $6, $7, $8)', ['tenant', 'name', 'properties', 'user_id', 'session_id', 'occurred_at', 'event_id', 'sent_at']],
  ['3 positional, event_id =>', 'track($1, $2, $3, event_id => $4)', ['tenant', 'name', 'properties', 'event_id']],
  ['3 positional, occurred_at =>', 'track($1, $2, $3, occurred_at => $4)', ['tenant', 'name', 'properties', 'occurred_at']],
  ['4 positional, occurred_at => sent_at =>', 'track($1, $2, $3, $4, occurred_at => $5, sent_at => $6)', ['tenant', 'name', 'properties', 'user_id', 'occurred_at', 'sent_at']],
  ['3 positional, user_id =>', 'track($1, $2, $3, user_id => $4)', ['tenant', 'name', 'properties', 'user_id']],
  ['3 positional, session_id => event_id =>', 'track($1, $2, $3, session_id => $4, event_id => $5)', ['tenant', 'name', 'properties', 'session_id', 'event_id']],
  ['all named', 'track(tenant_id => $1, name => $2, properties => $3, user_id => $4, session_id => $5, occurred_at => $6, event_id => $7, sent_at => $8)',
    ['tenant', 'name', 'properties', 'user_id', 'session_id', 'occurred_at', 'event_id', 'sent_at']],
  ['tenant, name, properties named', 'track(tenant_id => $1, name => $2, properties => $3)', ['tenant', 'name', 'properties']],
  ['named, another order', 'track(name => $1, event_id => $2, properties => $3, tenant_id => $4)', ['name', 'event_id', 'properties', 'tenant']],
]

const SINGLE = [
  ['1 positional', 'track($1)', ['name']],
  ['2 positional', 'track($1, $2)', ['name', 'properties']],
  ['3 positional', 'track($1, $2, $3)', ['name', 'properties', 'user_id']],
  ['4 positional (the ORM call)', 'track($1, $2, $3, $4)', ['name', 'properties', 'user_id', 'session_id']],
  ['4 positional, user and session NULL', 'track($1, $2, $3, $4)', ['name', 'properties', 'user_id:null', 'session_id:null']],
  ['5 positional', 'track($1, $2, $3, $4, $5)', ['name', 'properties', 'user_id', 'session_id', 'occurred_at']],
  ['6 positional', 'track($1, $2, $3, $4, $5, $6)', ['name', 'properties', 'user_id', 'session_id', 'occurred_at', 'event_id']],
  ['7 positional', 'track($1, $2, $3, $4, $5, $6, $7)', ['name', 'properties', 'user_id', 'session_id', 'occurred_at', 'event_id', 'sent_at']],
  ['3 positional, event_id => (name, properties, user_id, event_id)', 'track($1, $2, $3, event_id => $4)', ['name', 'properties', 'user_id', 'event_id']],
  ['2 positional, occurred_at =>', 'track($1, $2, occurred_at => $3)', ['name', 'properties', 'occurred_at']],
  ['2 positional, session_id =>', 'track($1, $2, session_id => $3)', ['name', 'properties', 'session_id']],
  ['2 positional, user_id => sent_at => occurred_at =>', 'track($1, $2, user_id => $3, sent_at => $4, occurred_at => $5)', ['name', 'properties', 'user_id', 'sent_at', 'occurred_at']],
  ['all named', 'track(name => $1, properties => $2, user_id => $3, session_id => $4, occurred_at => $5, event_id => $6, sent_at => $7)',
    ['name', 'properties', 'user_id', 'session_id', 'occurred_at', 'event_id', 'sent_at']],
  ['name named', 'track(name => $1)', ['name']],
]

// One event with every field, as JavaScript strings or as the JavaScript values applications
// pass (an object for properties, Dates for times): node-postgres sends both untyped.
function newEvent(tenant, flavour) {
  const tag = crypto.randomBytes(3).toString('hex')
  const properties = { plan: 'pro', n: 42, note: `naïve ☃ 日本 "quoted" ${tag}` }
  const occurred = msAgo(3600 * 1000)
  const sent = msAgo(600 * 1000)
  const asStrings = flavour === 'strings'
  return {
    tenant,
    name: 'client_checked',
    properties: asStrings ? JSON.stringify(properties) : properties,
    user_id: `user-é-${tag}`,
    session_id: `session-${tag}`,
    occurred_at: asStrings ? occurred.toISOString() : occurred,
    event_id: crypto.randomUUID(),
    sent_at: asStrings ? sent.toISOString() : sent,
  }
}

// The bind parameters of a shape, and the event fields they send.
function bind(fields, event) {
  const params = []
  const sent = {}
  for (const field of fields) {
    const [key, modifier] = field.split(':')
    const value = modifier === 'null' ? null : event[key]
    params.push(value)
    if (key !== 'tenant' && value !== null) sent[key] = value
  }
  return { params, sent }
}

for (const flavour of ['strings', 'JavaScript values']) {
  describe(`track(), multi-tenant, untyped ${flavour}`, () => {
    for (const [label, call, fields] of MULTI) {
      it(`multi-tenant, ${flavour}, ${label}: ${call}`, async () => {
        const tenant = crypto.randomUUID()
        const { params, sent } = bind(fields, newEvent(tenant, flavour))
        const { rows } = await db.query(`SELECT telemetry.${call} AS id`, params)
        await assertStored(db, rows[0].id, sent, tenant)
      })
    }
  })

  describe(`track(), single-tenant, untyped ${flavour}`, () => {
    for (const [label, call, fields] of SINGLE) {
      it(`single-tenant, ${flavour}, ${label}: ${call}`, async () => {
        const { params, sent } = bind(fields, newEvent(undefined, flavour))
        const { rows } = await db.query(`SELECT telemetry.${call} AS id`, params)
        await assertStored(db, rows[0].id, sent, NIL_TENANT)
      })
    }
  })
}

// Spaces around user_id and session_id are part of the values: stored as sent, whichever
// parameter type a form declares.
describe('track(): spaces around user_id and session_id are kept, untyped', () => {
  for (const [mode, [label, call, fields]] of [['multi-tenant', MULTI[0]], ['multi-tenant', MULTI[12]],
    ['single-tenant', SINGLE[3]], ['single-tenant', SINGLE[8]]]) {
    it(`spaces kept, ${mode}, ${label}: ${call}`, async () => {
      const tenant = mode === 'multi-tenant' ? crypto.randomUUID() : NIL_TENANT
      const event = { ...newEvent(tenant, 'strings'), user_id: ' user with spaces  ', session_id: '  session ' }
      const { params, sent } = bind(fields, event)
      const { rows } = await db.query(`SELECT telemetry.${call} AS id`, params)
      await assertStored(db, rows[0].id, sent, tenant)
    })
  }
})

describe('track(): every spelling of a tenant uuid, untyped', () => {
  const spellings = {
    'upper case': (u) => u.toUpperCase(),
    braces: (u) => `{${u}}`,
    'no hyphens': (u) => u.replace(/-/g, ''),
    'braces, upper case, no hyphens': (u) => `{${u.replace(/-/g, '').toUpperCase()}}`,
  }
  for (const [label, spell] of Object.entries(spellings)) {
    for (const call of ['track($1, $2, $3, $4, $5)', 'track($1, $2, $3)', 'track($1, $2, $3, event_id => $4)']) {
      it(`tenant spelled ${label}: ${call}`, async () => {
        const tenant = crypto.randomUUID()
        const event = newEvent(spell(tenant), 'strings')
        const fields = call === 'track($1, $2, $3, $4, $5)' ? ['tenant', 'name', 'properties', 'user_id', 'session_id']
          : call === 'track($1, $2, $3)' ? ['tenant', 'name', 'properties'] : ['tenant', 'name', 'properties', 'event_id']
        const { params, sent } = bind(fields, event)
        const { rows } = await db.query(`SELECT telemetry.${call} AS id`, params)
        await assertStored(db, rows[0].id, sent, tenant)
      })
    }
  }
})

describe('track() return values, untyped', () => {
  const forms = [
    ['multi-tenant', (t, ev, extra) => [`track($1, $2, $3, $4, $5${extra ? ', event_id => $6' : ''})`, [t, ...ev]]],
    // Single-tenant, named arguments follow three positional ones (name, properties, user_id).
    ['single-tenant', (t, ev, extra) => [extra ? 'track($1, $2, $3, session_id => $4, event_id => $5)' : 'track($1, $2, $3, $4)', ev]],
  ]
  for (const [mode, shape] of forms) {
    const tenantOf = () => (mode === 'multi-tenant' ? crypto.randomUUID() : NIL_TENANT)

    it(`${mode}: a client event_id seen before returns the same id and stores nothing new`, async () => {
      const tenant = tenantOf()
      const eventId = crypto.randomUUID()
      const args = ['client_checked', '{"plan": "free"}', `user-${eventId}`, 'session-1', eventId]
      const [call, params] = shape(tenant, args, true)
      const first = (await db.query(`SELECT telemetry.${call} AS id`, params)).rows[0].id
      const again = (await db.query(`SELECT telemetry.${call} AS id`, params)).rows[0].id
      assert.equal(first, eventId)
      assert.equal(again, eventId)
      const { rows } = await db.query('SELECT count(*)::int AS n FROM telemetry.events WHERE event_id = $1', [eventId])
      assert.equal(rows[0].n, 1)
    })

    it(`${mode}: an opted-out user's event returns NULL and is not stored`, async () => {
      const tenant = tenantOf()
      const user = secret('opted-out')
      const optedOut = await db.query('SELECT telemetry.opt_out($1, $2) AS done', [tenant, user])
      assert.equal(optedOut.rows[0].done, true)
      const [call, params] = shape(tenant, ['client_checked', '{}', user, null], false)
      const { rows } = await db.query(`SELECT telemetry.${call} AS id`, params)
      assert.equal(rows[0].id, null)
      const stored = await db.query('SELECT count(*)::int AS n FROM telemetry.events WHERE user_id = $1', [user])
      assert.equal(stored.rows[0].n, 0)
    })

    it(`${mode}: a sampled-out event returns NULL`, async () => {
      const [call, params] = shape(tenantOf(), ['client_sampled', '{}', `user-${crypto.randomUUID()}`, null], false)
      const { rows } = await db.query(`SELECT telemetry.${call} AS id`, params)
      assert.equal(rows[0].id, null)
    })

    it(`${mode}: a quarantined event returns NULL and is kept in the quarantine`, async () => {
      const tenant = tenantOf()
      const user = `user-${crypto.randomUUID()}`
      const [call, params] = shape(tenant, ['client_quarantined', '{"n": "not a number"}', user, null], false)
      const { rows } = await db.query(`SELECT telemetry.${call} AS id`, params)
      assert.equal(rows[0].id, null)
      const kept = await db.query('SELECT count(*)::int AS n FROM telemetry.quarantine WHERE tenant_id = $1 AND user_id = $2', [tenant, user])
      assert.equal(kept.rows[0].n, 1)
    })
  }
})

describe('track() refusals, untyped: SQLSTATE, and never the value in the message', () => {
  const tenant = crypto.randomUUID()
  const cases = [
    ['unknown event type, multi-tenant', '42704', () => ['track($1, $2, $3, $4, $5)', [tenant, 'client_never_declared', '{}', 'u', 's']]],
    ['unknown event type, single-tenant', '42704', () => ['track($1, $2)', ['client_never_declared', '{}']]],
    ['schema violation, multi-tenant', '23514', (v) => ['track($1, $2, $3, $4, $5)', [tenant, 'client_checked', JSON.stringify({ plan: v }), 'u', 's']]],
    ['schema violation, single-tenant', '23514', (v) => ['track($1, $2, $3, $4)', ['client_checked', JSON.stringify({ plan: v }), 'u', 's']]],
    ['bad event name, multi-tenant', '42602', (v) => ['track($1, $2, $3)', [tenant, `Bad Name ${v}`, '{}']]],
    ['bad event name, single-tenant', '42602', (v) => ['track($1, $2)', [`Bad Name ${v}`, '{}']]],
    ['empty user_id, multi-tenant', '22023', () => ['track($1, $2, $3, $4, $5)', [tenant, 'client_checked', '{}', '', null]]],
    ['empty user_id, single-tenant', '22023', () => ['track($1, $2, $3, $4)', ['client_checked', '{}', '', null]]],
    ['malformed event_id, multi-tenant', '22P02', (v) => ['track($1, $2, $3, event_id => $4)', [tenant, 'client_checked', '{}', v]]],
    ['malformed event_id, single-tenant', '22P02', (v) => ['track($1, $2, $3, event_id => $4)', ['client_checked', '{}', 'u', v]]],
    // A first argument that does not read as a UUID makes the call single-tenant: refused as a
    // malformed uuid or as a bad event name, never stored.
    ['malformed tenant_id, named', ['22P02', '42602'], (v) => ['track(tenant_id => $1, name => $2, properties => $3)', [v, 'client_checked', '{}']]],
    ['malformed occurred_at, multi-tenant', '22007', (v) => ['track($1, $2, $3, occurred_at => $4)', [tenant, 'client_checked', '{}', v]]],
    ['properties not a JSON object, multi-tenant', '22023', () => ['track($1, $2, $3, $4, $5)', [tenant, 'client_checked', '[1, 2]', 'u', 's']]],
  ]
  for (const [label, code, make] of cases) {
    it(`refused, ${label}: ${[].concat(code).join(' or ')}`, async () => {
      const value = secret('value')
      const [call, params] = make(value)
      await assertRefused(() => db.query(`SELECT telemetry.${call}`, params), code, [value])
    })
  }
})
