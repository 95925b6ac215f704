'use strict'
// Every public function other than track() and track_batch(), through node-postgres with
// untyped bind parameters: strings, numbers, objects (JSON.stringify), Dates and arrays (array
// literals), as node applications pass them.

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { freshDatabase, secret, assertRefused } = require('./common')

let db

const SCHEMA = { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] }
const RELAXED = { type: 'object', properties: { n: {} } }

const one = async (sql, params = []) => Object.values((await db.query(sql, params)).rows[0])[0]
const eventType = async (name) => (await db.query(
  `SELECT version, status, description, sample_rate, max_bytes, on_violation, schema
     FROM telemetry.event_types WHERE name = $1`, [name])).rows[0]

before(async () => {
  db = await freshDatabase('client_node_functions')
})

after(async () => {
  if (db) await db.end()
})

describe('catalog functions', () => {
  it('load_catalog($1): a JSON string, then an object', async () => {
    const names = [`client_loaded_${crypto.randomBytes(4).toString('hex')}`, `client_loaded_${crypto.randomBytes(4).toString('hex')}`]
    const document = { events: names.map((name) => ({ name, version: '1-0-0', schema: SCHEMA })) }
    const first = await db.query('SELECT * FROM telemetry.load_catalog($1)', [JSON.stringify(document)])
    assert.deepEqual(first.rows.map((r) => [r.event_name, r.action, r.version]).sort(), names.map((n) => [n, 'created', '1-0-0']).sort())
    const again = await db.query('SELECT * FROM telemetry.load_catalog($1)', [document])
    assert.deepEqual(again.rows.map((r) => r.action), ['unchanged', 'unchanged'])
  })

  it('load_catalog($1) refuses a bad document: 22023, without its values', async () => {
    const bad = secret('description')
    await assertRefused(() => db.query('SELECT * FROM telemetry.load_catalog($1)',
      [{ events: [{ name: 'client_refused', sample_rte: 1, description: bad }] }]), '22023', [bad])
  })

  it('validate_catalog($1) checks and stores nothing', async () => {
    const { rows } = await db.query('SELECT * FROM telemetry.validate_catalog($1)', [{ events: [{ name: 'client_valid', schema: SCHEMA }] }])
    assert.deepEqual(rows.map((r) => [r.name, r.version, r.status, r.sample_rate, r.max_bytes, r.on_violation, r.schema]),
      [['client_valid', '1-0-0', 'active', 1, 2048, 'reject', SCHEMA]])
    assert.equal(await eventType('client_valid'), undefined)
  })

  it('define_event($1): the name only', async () => {
    assert.equal(await one('SELECT telemetry.define_event($1)', ['client_defined_1']), 'created')
    assert.deepEqual(await eventType('client_defined_1'), {
      version: '1-0-0', status: 'active', description: '', sample_rate: 1, max_bytes: 2048, on_violation: 'reject', schema: { type: 'object' },
    })
  })

  it('define_event($1, ..., $8): every argument, numbers as JavaScript numbers', async () => {
    const params = ['client_defined_8', SCHEMA, 'deprecated', '2-1-0', 'eight', 0.5, 4096, 'quarantine']
    assert.equal(await one('SELECT telemetry.define_event($1, $2, $3, $4, $5, $6, $7, $8)', params), 'created')
    assert.deepEqual(await eventType('client_defined_8'), {
      version: '2-1-0', status: 'deprecated', description: 'eight', sample_rate: 0.5, max_bytes: 4096, on_violation: 'quarantine', schema: SCHEMA,
    })
    assert.equal(await one('SELECT telemetry.define_event($1, $2, $3, $4, $5, $6, $7, $8)', params), 'unchanged')
  })

  it('define_event($1, on_violation => $2, sample_rate => $3, schema => $4)', async () => {
    assert.equal(await one('SELECT telemetry.define_event($1, on_violation => $2, sample_rate => $3, schema => $4)',
      ['client_defined_named', 'omit', 0.25, JSON.stringify(SCHEMA)]), 'created')
    const row = await eventType('client_defined_named')
    assert.deepEqual([row.on_violation, row.sample_rate, row.schema], ['omit', 0.25, SCHEMA])
  })

  it('define_event($1) refuses a bad name: 22023, without it', async () => {
    const bad = secret('Bad Name')
    await assertRefused(() => db.query('SELECT telemetry.define_event($1)', [bad]), '22023', [bad])
  })

  it('valid_event_name($1)', async () => {
    assert.equal(await one('SELECT telemetry.valid_event_name($1)', ['signup_completed']), true)
    assert.equal(await one('SELECT telemetry.valid_event_name($1)', ['Signup Completed']), false)
  })

  it('catalog_change_refusal($1, ..., $7)', async () => {
    const call = (newVersion, newSchema) => one('SELECT telemetry.catalog_change_refusal($1, $2, $3, $4, $5, $6, $7)',
      ['client_changed', '1-0-0', SCHEMA, 2048, newVersion, newSchema, 2048])
    assert.equal(await call('1-0-0', SCHEMA), null, 'nothing changed')
    assert.equal(await call('2-0-0', RELAXED), null, 'a new MODEL version may change anything')
    assert.match(await call('1-0-0', RELAXED), /client_changed/)
  })
})

describe('replay_quarantine()', () => {
  // Quarantines an event of a type of its own, replays it (still refused), relaxes the type,
  // replays it again (accepted, moved to telemetry.events).
  async function checkReplay(label, sql, withIds) {
    const name = `client_replayed_${label}`
    const tenant = crypto.randomUUID()
    await db.query('SELECT telemetry.define_event($1, $2, on_violation => $3)', [name, SCHEMA, 'quarantine'])
    assert.equal(await one('SELECT telemetry.track($1::uuid, $2, $3::jsonb, NULL, NULL)', [tenant, name, '{"n": "x"}']), null)
    const qid = await one('SELECT id::int FROM telemetry.quarantine WHERE tenant_id = $1 AND name = $2', [tenant, name])
    const replay = async () => (await db.query(sql, withIds ? [tenant, [qid]] : [tenant])).rows
    const first = await replay()
    assert.deepEqual(first.map((r) => [Number(r.quarantine_id), r.status]), [[qid, 'quarantined']])
    await db.query('SELECT telemetry.define_event($1, $2, version => $3, on_violation => $4)', [name, RELAXED, '2-0-0', 'quarantine'])
    const second = await replay()
    assert.deepEqual(second.map((r) => [Number(r.quarantine_id), r.status, r.id]), [[qid, 'accepted', first[0].id]])
    const stored = await db.query('SELECT tenant_id::text, name, properties FROM telemetry.events WHERE event_id = $1', [first[0].id])
    assert.deepEqual(stored.rows, [{ tenant_id: tenant, name, properties: { n: 'x' } }])
  }

  it('replay_quarantine($1, $2): ids as a JavaScript array', () => checkReplay('ids', 'SELECT * FROM telemetry.replay_quarantine($1, $2)', true))
  it('replay_quarantine($1): all of a tenant', () => checkReplay('all', 'SELECT * FROM telemetry.replay_quarantine($1)', false))
  it('replay_quarantine(tenant_id => $1, ids => $2)', () => checkReplay('named', 'SELECT * FROM telemetry.replay_quarantine(tenant_id => $1, ids => $2)', true))
})

describe('privacy and tenants', () => {
  it('opt_out($1, $2) and opt_in($1, $2)', async () => {
    const tenant = crypto.randomUUID()
    const user = `user-é-${crypto.randomUUID()}`
    assert.equal(await one('SELECT telemetry.opt_out($1, $2)', [tenant, user]), true)
    assert.equal(await one('SELECT telemetry.opt_out($1, $2)', [tenant, user]), false, 'already opted out')
    assert.equal(await one('SELECT count(*)::int FROM telemetry.opt_outs WHERE tenant_id = $1 AND user_id = $2', [tenant, user]), 1)
    assert.equal(await one('SELECT telemetry.opt_in($1, $2)', [tenant, user]), true)
    assert.equal(await one('SELECT telemetry.opt_in(user_id => $1, tenant_id => $2)', [user, tenant]), false, 'not opted out any more')
  })

  it('purge_event_ids(), purge_event_ids($1) with a string and a Date, purge_event_ids(p_now => $1)', async () => {
    await db.query('SELECT telemetry.define_event($1)', ['client_purged'])
    const remember = () => db.query('SELECT telemetry.track($1, $2::jsonb, event_id => $3::uuid)', ['client_purged', '{}', crypto.randomUUID()])
    await remember()
    assert.equal(await one('SELECT telemetry.purge_event_ids()'), '0', 'nothing is older than the window')
    for (const far of ['2100-01-01T00:00:00Z', new Date('2100-01-01T00:00:00Z')]) {
      await remember()
      assert.ok(Number(await one('SELECT telemetry.purge_event_ids($1)', [far])) >= 1)
      assert.equal(await one('SELECT count(*)::int FROM telemetry.event_ids'), 0)
    }
    await remember()
    assert.equal(await one('SELECT telemetry.purge_event_ids(p_now => $1)', ['2100-01-01 00:00:00+00']), '1')
  })
})

describe('partitions', () => {
  async function checkPartitions(sql, params, days) {
    assert.equal(await one(sql, params), days.length)
    assert.equal(await one(sql, params), 0, 'idempotent')
    const { rows } = await db.query("SELECT to_char(day, 'YYYY-MM-DD') AS day FROM telemetry.partitions()")
    const listed = new Set(rows.map((r) => r.day))
    for (const day of days) assert.ok(listed.has(day), `partitions() lists ${day}`)
  }

  it('create_partitions($1, $2, $3) with strings', () =>
    checkPartitions('SELECT telemetry.create_partitions($1, $2, $3)', ['2031-03-01T12:00:00Z', '0', '1'], ['2031-03-01', '2031-03-02']))
  it('create_partitions($1, $2, $3) with a Date and numbers', () =>
    checkPartitions('SELECT telemetry.create_partitions($1, $2, $3)', [new Date('2031-04-01T12:00:00Z'), 1, 0], ['2031-03-31', '2031-04-01']))
  it('create_partitions(p_now => $1, p_days_ahead => $2, p_days_back => $3)', () =>
    checkPartitions('SELECT telemetry.create_partitions(p_now => $1, p_days_ahead => $2, p_days_back => $3)',
      ['2031-05-01 00:00:00+00', 2, 0], ['2031-05-01', '2031-05-02', '2031-05-03']))
  it('create_partitions() and partitions(): today is there', async () => {
    assert.equal(await one('SELECT telemetry.create_partitions()'), 0, 'CREATE EXTENSION made them')
    const today = new Date().toISOString().slice(0, 10)
    const { rows } = await db.query("SELECT to_char(day, 'YYYY-MM-DD') AS day FROM telemetry.partitions() WHERE day = $1", [today])
    assert.equal(rows.length, 1)
  })
})

describe('operations and diagnostics', () => {
  it('ingest_counters()', async () => {
    const counters = async () => Object.fromEntries((await db.query('SELECT status, events FROM telemetry.ingest_counters()')).rows
      .map((r) => [r.status, Number(r.events)]))
    await db.query('SELECT telemetry.define_event($1)', ['client_counted'])
    const before = await counters()
    assert.deepEqual(Object.keys(before).sort(), ['accepted', 'duplicate', 'opted_out', 'quarantined', 'rejected', 'sampled_out'])
    await db.query('SELECT telemetry.track($1, $2)', ['client_counted', '{}'])
    assert.ok((await counters()).accepted >= before.accepted + 1)
  })

  it("self_test($1) with 'ok', self_test_jsonb($1)", async () => {
    assert.equal(await one('SELECT telemetry.self_test($1)', ['ok']), 'ok')
    assert.equal(await one('SELECT telemetry.self_test_jsonb($1)', ['{"a": [1, 2.5, "é"]}']), null)
  })
})
