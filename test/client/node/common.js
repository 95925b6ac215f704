'use strict'
// Shared by the node-postgres tests: connections, a fresh database per test file, and the
// checks every track() test makes. Connection settings come from PGHOST (the instance's socket
// directory), PGPORT and PGUSER, exported by ../run.sh.
//
// node-postgres sends every bind parameter untyped (OID 0) as text: strings as they are, numbers
// with toString(), objects with JSON.stringify, Dates as local time with an offset, arrays as
// PostgreSQL array literals. The server infers every type from the function it resolves.

const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { Client } = require('pg')

const NIL_TENANT = '00000000-0000-0000-0000-000000000000'

async function connect(database, user) {
  const client = new Client({ database, user: user || process.env.PGUSER || 'postgres' })
  await client.connect()
  // A server error becomes a short Error that names the SQLSTATE and the statement (the test
  // runner would print every field of pg's DatabaseError); code, detail and hint stay readable.
  const query = client.query.bind(client)
  client.query = async (sql, params) => {
    try {
      return await query(sql, params)
    } catch (e) {
      if (!e.code || !e.severity) throw e
      const error = new Error(`${e.message} [SQLSTATE ${e.code}] in: ${sql.replace(/\s+/g, ' ')}`)
      for (const key of ['code', 'detail', 'hint']) Object.defineProperty(error, key, { value: e[key], enumerable: false })
      error.stack = error.stack.split('\n').filter((line, i) => i === 0 || /\.test\.js:/.test(line)).join('\n')
      throw error
    }
  }
  return client
}

// A database of its own for one test file, with a freshly created extension.
async function freshDatabase(database) {
  const admin = await connect('postgres')
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
    await admin.query(`CREATE DATABASE ${database}`)
  } finally {
    await admin.end()
  }
  const db = await connect(database)
  await db.query('DROP EXTENSION IF EXISTS telemetry')
  await db.query('CREATE EXTENSION telemetry CASCADE')
  return db
}

// A value no one else sends: refusal messages must never contain what was sent.
function secret(label) {
  return `${label}-SECRET-${crypto.randomBytes(4).toString('hex')}`
}

// Times with millisecond precision, which JavaScript Dates keep exactly.
function msAgo(ms) {
  return new Date(Math.floor(Date.now() / 1000) * 1000 - ms)
}

// Expects fn to fail with SQLSTATE code (or one of several codes) and a message (with detail and
// hint) that contains none of the values in forbidden.
async function assertRefused(fn, code, forbidden = []) {
  const codes = [].concat(code)
  let error
  try {
    await fn()
  } catch (e) {
    error = e
  }
  assert.ok(error, `expected an error with SQLSTATE ${codes.join(' or ')}, but the call succeeded`)
  assert.ok(codes.includes(error.code), `expected SQLSTATE ${codes.join(' or ')}, got ${error.code}: ${error.message}`)
  const text = [error.message, error.detail, error.hint].filter(Boolean).join('\n')
  for (const value of forbidden) {
    assert.ok(!text.includes(value), `the error message contains the value sent (${value}): ${text}`)
  }
  return error
}

// The stored row of the event whose event_id is id. sentAt, when given, is the client's sent_at:
// the row then also says what occurred_at the client sent (stored = sent + (received - sentAt)).
async function storedEvent(db, id, sentAt) {
  const { rows } = await db.query(
    `SELECT tenant_id::text, name, properties, user_id, session_id, event_id::text, occurred_at,
            occurred_at = received_at AS occurred_is_received, flags,
            occurred_at - (received_at - $2::timestamptz) AS occurred_as_sent
       FROM telemetry.events WHERE event_id = $1::uuid`,
    [id, sentAt === undefined ? null : sentAt])
  assert.equal(rows.length, 1, `expected one stored event with event_id ${id}, found ${rows.length}`)
  return rows[0]
}

// Checks that the event sent (fields given; the others left to their defaults) was stored as
// sent, and that track() returned its id.
async function assertStored(db, returned, sent, expectedTenant) {
  assert.match(String(returned), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    'track() returns the event id')
  if (sent.event_id !== undefined) assert.equal(returned, sent.event_id.toLowerCase(), 'the client event_id is returned')
  const sentAt = sent.sent_at === undefined ? undefined : new Date(sent.sent_at)
  const row = await storedEvent(db, returned, sentAt)
  assert.equal(row.tenant_id, expectedTenant, 'tenant_id')
  assert.equal(row.name, sent.name, 'name')
  const properties = sent.properties === undefined ? {} : sent.properties
  assert.deepEqual(row.properties, typeof properties === 'string' ? JSON.parse(properties) : properties, 'properties')
  assert.equal(row.user_id, sent.user_id === undefined ? null : sent.user_id, 'user_id')
  assert.equal(row.session_id, sent.session_id === undefined ? null : sent.session_id, 'session_id')
  if (sent.occurred_at === undefined) {
    assert.equal(row.occurred_is_received, true, 'occurred_at defaults to received_at')
  } else if (sent.sent_at === undefined) {
    assert.equal(row.occurred_at.getTime(), new Date(sent.occurred_at).getTime(), 'occurred_at')
    assert.equal(row.flags & 2, 0, 'no clock correction without sent_at')
  } else {
    assert.equal(row.occurred_as_sent.getTime(), new Date(sent.occurred_at).getTime(),
      'occurred_at, corrected by received_at - sent_at')
    assert.equal(row.flags & 2, 2, 'flag 2: corrected for the client clock')
  }
  return row
}

module.exports = { NIL_TENANT, connect, freshDatabase, secret, msAgo, assertRefused, storedEvent, assertStored }
