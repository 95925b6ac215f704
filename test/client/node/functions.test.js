'use strict'
// Every public function other than track() and track_batch(), through node-postgres with
// untyped bind parameters: strings, numbers, objects (JSON.stringify), Dates and arrays (array
// literals), as node applications pass them.

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { connect, freshDatabase, secret, assertRefused } = require('./common')

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

  it('metrics(): Prometheus text whose accepted counter moves with track()', async () => {
    const accepted = async () => {
      const text = await one('SELECT telemetry.metrics()')
      const line = text.split('\n').find((l) => l.startsWith('telemetry_events_total{status="accepted",event_type="client_metered"}'))
      return line ? Number(line.split(' ')[1]) : 0
    }
    await db.query('SELECT telemetry.define_event($1)', ['client_metered'])
    const before = await accepted()
    await db.query('SELECT telemetry.track($1, $2)', ['client_metered', '{"n": 1}'])
    assert.equal(await accepted(), before + 1)
    assert.match(await one('SELECT telemetry.metrics()'), /^# HELP telemetry_events_received_total /)
  })

  it('health($1), alerts($1), recent($1, $2), metric_gauges($1) with bind parameters', async () => {
    const at = '2001-01-01T00:00:00Z'  // long before any event: none is known
    const checks = (await db.query('SELECT "check", status FROM telemetry.health($1)', [at])).rows
    assert.equal(checks.length, 7)
    assert.equal(checks.find((c) => c.check === 'last_event_age').status, 'critical')
    const alerts = (await db.query('SELECT alert FROM telemetry.alerts($1)', [at])).rows.map((r) => r.alert)
    assert.ok(alerts.includes('TelemetryNoEvents'))
    const recent = (await db.query('SELECT event_type, events FROM telemetry.recent($1, $2)', ['5 minutes', new Date().toISOString()])).rows
    assert.ok(recent.some((r) => r.event_type === 'client_metered' && Number(r.events) >= 1))
    await assert.rejects(db.query('SELECT * FROM telemetry.recent($1)', ['2 hours']), (e) => e.code === '22023')
    const gauges = (await db.query('SELECT metric FROM telemetry.metric_gauges($1)', [new Date().toISOString()])).rows
    assert.ok(gauges.some((g) => g.metric === 'telemetry_build_info'))
  })

  it("self_test($1) with 'ok', self_test_jsonb($1)", async () => {
    assert.equal(await one('SELECT telemetry.self_test($1)', ['ok']), 'ok')
    assert.equal(await one('SELECT telemetry.self_test_jsonb($1)', ['{"a": [1, 2.5, "é"]}']), null)
  })
})

describe('maintenance and rollups', () => {
  // A database of its own, where no maintenance has run before this block: the rollup
  // threshold only moves forward, and the run history, the status and the rollups belong to
  // the database.
  const DATABASE = 'client_node_maintenance'
  // The steps in the order docs/worker.md gives them.
  const STEPS = ['create_partitions', 'advance_rollups', 'refresh_rollups', 'drop_expired_partitions',
    'delete_expired_tenant_events', 'drop_expired_rollups', 'purge_event_ids', 'trim_maintenance_runs', 'sample_activity']
  const DAY = 24 * 3600 * 1000
  const NAME = 'client_rolled'
  let mdb

  const value = async (sql, params = []) => Object.values((await mdb.query(sql, params)).rows[0])[0]
  // The server's UTC day, to which a run with p_now = now moves the threshold.
  const today = () => value("SELECT ((now() AT TIME ZONE 'UTC')::date)::text")
  const utcDay = (date) => date.toISOString().slice(0, 10)
  const addDays = (day, n) => utcDay(new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY))
  // A day as node applications hold one: a Date at local midnight. node-postgres sends it as local
  // time with its offset, and the server's date input keeps the day as written.
  const localMidnight = (day) => { const [y, m, d] = day.split('-').map(Number); return new Date(y, m - 1, d) }
  const pending = async () => (await mdb.query(
    'SELECT tenant_id::text, first_day::text, last_day::text, reason FROM telemetry.rollup_invalidations ORDER BY 1, 2')).rows
  const cells = async (tenant) => (await mdb.query(
    `SELECT day::text, name, events, raw_events, users, sessions FROM telemetry.daily_rollups
      WHERE tenant_id = $1 ORDER BY day, name`, [tenant])).rows

  // Runs a CALL on conn and returns the steps it recorded in maintenance_runs, in the order they
  // ran, and the notices it sent (a skipped run says so in a NOTICE, a failed step in a WARNING).
  async function call(sql, params = [], conn = mdb) {
    const before = await value('SELECT coalesce(max(run_id), 0)::int FROM telemetry.maintenance_runs')
    const notices = []
    const listener = (notice) => notices.push(`${notice.severity}: ${notice.message}`)
    conn.on('notice', listener)
    try {
      assert.equal((await conn.query(sql, params)).command, 'CALL')
    } finally {
      conn.off('notice', listener)
    }
    const { rows } = await mdb.query(`SELECT run_id::int, step, status, rows_affected, sqlstate, message
                                        FROM telemetry.maintenance_runs WHERE run_id > $1 ORDER BY run_id, started_at`, [before])
    return { rows, notices }
  }

  // The CALL made one run, not skipped, in which every step succeeded, in run order.
  async function assertRun(sql, params = [], conn = mdb) {
    const { rows, notices } = await call(sql, params, conn)
    assert.deepEqual(notices, [], 'neither skipped nor a step failed')
    assert.deepEqual(rows.map((r) => [r.step, r.status, r.sqlstate, r.message]), STEPS.map((step) => [step, 'succeeded', null, null]),
      'one run: every step, in run order, succeeded')
    assert.equal(new Set(rows.map((r) => r.run_id)).size, 1, 'all in one run')
    for (const r of rows) assert.notEqual(r.rows_affected, null, `${r.step} records what it returned`)
    return rows
  }

  // Closes a connection and waits for its server process to end: a session-level advisory lock
  // it may hold is released only then.
  async function closeAndWait(conn) {
    const pid = (await conn.query('SELECT pg_backend_pid() AS pid')).rows[0].pid
    await conn.end()
    for (let i = 0; i < 100 && await value('SELECT count(*)::int FROM pg_stat_activity WHERE pid = $1', [pid]) > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  // Tracks events for tenant at occurred_at: [user_id, session_id] each.
  async function trackAt(tenant, occurredAt, people) {
    for (const [user, session] of people) {
      const id = await value('SELECT telemetry.track($1, $2, $3, $4, $5, $6)', [tenant, NAME, {}, user, session, occurredAt])
      assert.ok(id, 'tracked')
    }
  }

  before(async () => {
    mdb = await freshDatabase(DATABASE)
    await mdb.query('SELECT telemetry.define_event($1)', [NAME])
  })

  after(async () => {
    if (mdb) await mdb.end()
  })

  it('CALL telemetry.run_maintenance($1) with a Date: every step succeeds; the days before today are closed', async () => {
    assert.equal(await value('SELECT telemetry.rollup_watermark()'), null, 'no run yet: no watermark')
    const day = await today()
    const rows = await assertRun('CALL telemetry.run_maintenance($1)', [new Date()])
    assert.equal(Number(rows.find((r) => r.step === 'advance_rollups').rows_affected),
      await value('SELECT ($1::date - min(day))::int FROM telemetry.partitions()', [day]),
      'the first run closes every day that has a partition, up to yesterday')
    assert.equal(await value('SELECT telemetry.rollup_watermark()::text'), day, 'rolled up to today')
  })

  it('CALL telemetry.run_maintenance(p_now => $1) with a string; CALL telemetry.run_maintenance() with no argument', async () => {
    await assertRun('CALL telemetry.run_maintenance(p_now => $1)', [new Date().toISOString()])
    await assertRun('CALL telemetry.run_maintenance()')
  })

  it('CALL telemetry.run_maintenance($1) inside a transaction block: 2D000; the connection is usable after ROLLBACK', async () => {
    const conn = await connect(DATABASE)
    try {
      await conn.query('BEGIN')
      const error = await assertRefused(() => conn.query('CALL telemetry.run_maintenance($1)', [new Date()]), '2D000')
      assert.match(error.message, /invalid transaction termination/)
      await conn.query('ROLLBACK')
      assert.equal((await conn.query('SELECT 1 AS one')).rows[0].one, 1)
      assert.equal(await value("SELECT count(*)::int FROM telemetry.maintenance_runs WHERE status = 'running'"), 0,
        'the refused run left no step running')
      await assertRun('CALL telemetry.run_maintenance($1)', [new Date()], conn)
    } finally {
      await closeAndWait(conn)
    }
  })

  // run_maintenance() takes its session-level run lock only after its first COMMIT: refused in a
  // transaction block, it holds nothing, and another session's run is not skipped (a lock held
  // past the ROLLBACK would skip every other run, the worker's too, while this connection lives).
  it('after the refused CALL and ROLLBACK, another session\'s run is not skipped', async () => {
      const conn = await connect(DATABASE)
      try {
        await conn.query('BEGIN')
        await assertRefused(() => conn.query('CALL telemetry.run_maintenance($1)', [new Date()]), '2D000')
        await conn.query('ROLLBACK')
        await assertRun('CALL telemetry.run_maintenance()')
      } finally {
        await closeAndWait(conn)
      }
    })

  it('track() a day back, then a run: daily_rollups (tenant_id = $1) hold what was tracked; users_hll as text, its hll_cardinality', async () => {
    const tenant = crypto.randomUUID()
    const at = new Date(Date.now() - DAY)
    await trackAt(tenant, at, [['u1', 's1'], ['u1', 's1'], ['u2', 's2'], ['u3', null], [null, null]])
    await assertRun('CALL telemetry.run_maintenance($1)', [new Date()])
    const { rows } = await mdb.query(`SELECT day::text, name, events, raw_events, users, sessions, users_hll,
                                             hll_cardinality(users_hll) AS cardinality
                                        FROM telemetry.daily_rollups WHERE tenant_id = $1`, [tenant])
    assert.equal(rows.length, 1, 'one cell: one tenant, day and event type')
    const [cell] = rows
    // numeric and bigint come back as strings from node-postgres.
    assert.deepEqual({ day: cell.day, name: cell.name, events: cell.events, raw_events: cell.raw_events, users: cell.users, sessions: cell.sessions },
      { day: utcDay(at), name: NAME, events: '5', raw_events: '5', users: '3', sessions: '2' })
    // hll has no parser in node-postgres: its text output, the bytes in hex.
    assert.equal(typeof cell.users_hll, 'string')
    assert.match(cell.users_hll, /^\\x[0-9a-f]+$/)
    assert.equal(cell.cardinality, 3, 'hll_cardinality(users_hll) equals users (exact at this size)')
    assert.equal(await value('SELECT hll_cardinality($1::hll)', [cell.users_hll]), 3, 'the sketch as the driver read it, sent back')
  })

  it('maintenance_status: one row per step, in run order; after a run every step has last_success_at', async () => {
    await assertRun('CALL telemetry.run_maintenance($1)', [new Date()])
    const day = await today()
    const { rows } = await mdb.query(`SELECT step, last_success_at, last_failure_at, consecutive_failures, next_attempt_at,
                                             watermark::text, threshold::text, pending_invalidations
                                        FROM telemetry.maintenance_status`)
    assert.deepEqual(rows.map((r) => r.step), STEPS)
    for (const r of rows) {
      assert.ok(r.last_success_at instanceof Date, `${r.step}: last_success_at`)
      assert.deepEqual([r.last_failure_at, r.consecutive_failures, r.next_attempt_at], [null, 0, null], `${r.step}: no failure`)
      assert.deepEqual([r.watermark, r.threshold, r.pending_invalidations], [day, day, '0'], `${r.step}: rolled up to today, nothing pending`)
    }
  })

  it('advance_rollups($1) with a Date, a string and p_now => $1; rollup_watermark()', async () => {
    await assertRun('CALL telemetry.run_maintenance()')
    const day = await today()
    const threshold = () => value('SELECT threshold::text FROM telemetry.rollup_state')
    assert.equal(await value('SELECT telemetry.advance_rollups($1)', [new Date()]), 0, 'already at today')
    assert.equal(await value('SELECT telemetry.advance_rollups($1)', ['2001-01-01T00:00:00Z']), 0, 'it never moves back')
    assert.equal(await threshold(), day)
    // Two days ahead, in a transaction rolled back (a later threshold would close today for the
    // tests that follow): two days closed, logged, not yet materialized.
    await mdb.query('BEGIN')
    try {
      assert.equal(await value('SELECT telemetry.advance_rollups(p_now => $1)', [new Date(Date.now() + 2 * DAY)]), 2)
      assert.equal(await threshold(), addDays(day, 2))
      assert.equal(await value('SELECT telemetry.rollup_watermark()::text'), day, 'the days closed are not materialized yet')
      await assertRefused(() => mdb.query('SELECT telemetry.refresh_rollups($1)', [new Date()]), '55000')
    } finally {
      await mdb.query('ROLLBACK')
    }
    assert.deepEqual([await threshold(), await value('SELECT telemetry.rollup_watermark()::text')], [day, day])
  })

  it('invalidate_rollups($1, $2, $3) with day strings and with Dates; refresh_rollups($1, $2) recomputes the cells logged', async () => {
    const tenant = crypto.randomUUID()
    const at = new Date(Date.now() - DAY)
    const day = utcDay(at)
    await trackAt(tenant, at, [['u1', 's1'], ['u2', 's2'], ['u3', 's3']])
    await assertRun('CALL telemetry.run_maintenance($1)', [new Date()])
    assert.deepEqual(await pending(), [])
    const rolled = await cells(tenant)
    assert.deepEqual(rolled.map((c) => [c.day, c.events, c.raw_events, c.users, c.sessions]), [[day, '3', '3', '3', '3']])

    // A cell gone wrong without the events changing (as after a change that fired no trigger):
    // nothing logs it; logged by hand, the next refresh recomputes it from the events.
    const spoil = () => mdb.query(
      'UPDATE telemetry.daily_rollups SET events = 0, raw_events = 0, users = 0, sessions = 0 WHERE tenant_id = $1', [tenant])
    await spoil()
    assert.deepEqual(await pending(), [])
    await mdb.query('SELECT telemetry.invalidate_rollups($1, $2, $3)', [tenant, day, day])
    assert.deepEqual(await pending(), [{ tenant_id: tenant, first_day: day, last_day: day, reason: 'manual' }])
    assert.equal(await value('SELECT telemetry.refresh_rollups($1, $2)', [new Date(), 1]), '1', 'one cell written')
    assert.deepEqual(await pending(), [], 'the log is taken')
    assert.deepEqual(await cells(tenant), rolled, 'recomputed from the events')

    await spoil()
    await mdb.query('SELECT telemetry.invalidate_rollups($1, $2, $3)', [tenant, localMidnight(day), localMidnight(day)])
    assert.deepEqual(await pending(), [{ tenant_id: tenant, first_day: day, last_day: day, reason: 'manual' }])
    assert.equal(await value('SELECT telemetry.refresh_rollups(p_now => $1, p_max_days => $2)', [new Date().toISOString(), '100']), '1')
    assert.deepEqual(await cells(tenant), rolled)
  })

  it('refresh_rollups($1, 0) and invalidate_rollups() with a reversed range: 22023, in err.code', async () => {
    await assertRefused(() => mdb.query('SELECT telemetry.refresh_rollups($1, 0)', [new Date()]), '22023')
    await assertRefused(() => mdb.query('SELECT telemetry.refresh_rollups($1, $2)', [new Date(), '0']), '22023')
    const tenant = crypto.randomUUID()
    const day = await today()
    await assertRefused(() => mdb.query('SELECT telemetry.invalidate_rollups($1, $2, $3)', [tenant, day, addDays(day, -1)]), '22023')
    await assertRefused(() => mdb.query('SELECT telemetry.invalidate_rollups($1, $2, $3)',
      [tenant, localMidnight(day), localMidnight(addDays(day, -1))]), '22023')
    assert.deepEqual((await pending()).filter((p) => p.tenant_id === tenant), [], 'nothing logged')
  })

  it('drop_expired_partitions($1): nothing at today, the oldest partition a day later', async () => {
    await assertRun('CALL telemetry.run_maintenance($1)', [new Date()])
    const partitions = async () => (await mdb.query(
      "SELECT to_char(day, 'YYYY-MM-DD') AS day FROM telemetry.partitions() ORDER BY day")).rows.map((r) => r.day)
    const before = await partitions()
    assert.equal(await value('SELECT telemetry.drop_expired_partitions($1)', [new Date()]), 0, 'none is past telemetry.retention_days')
    assert.deepEqual(await partitions(), before)
    assert.equal(await value('SELECT telemetry.drop_expired_partitions($1)', [new Date(Date.now() + DAY)]), 1)
    assert.deepEqual(await partitions(), before.slice(1), 'the oldest partition is dropped')
  })

  it('delete_expired_tenant_events($1, $2): a tenant\'s events past its retention, in batches; its rollups stay', async () => {
    const tenant = crypto.randomUUID()
    const at = new Date(Date.now() - 2 * DAY)
    await trackAt(tenant, at, [['u1', 's1'], ['u2', 's2']])
    await assertRun('CALL telemetry.run_maintenance($1)', [new Date()])
    const rolled = await cells(tenant)
    assert.deepEqual(rolled.map((c) => [c.day, c.raw_events]), [[utcDay(at), '2']])
    await mdb.query('INSERT INTO telemetry.tenant_settings (tenant_id, retention_days) VALUES ($1, 1)', [tenant])
    assert.equal(await value('SELECT telemetry.delete_expired_tenant_events($1, $2)', [new Date(), 1]), '1', 'one per batch')
    assert.equal(await value('SELECT telemetry.delete_expired_tenant_events($1, $2)', [new Date().toISOString(), '10']), '1')
    assert.equal(await value('SELECT telemetry.delete_expired_tenant_events($1, $2)', [new Date(), 10]), '0')
    assert.equal(await value('SELECT count(*)::int FROM telemetry.events WHERE tenant_id = $1', [tenant]), 0)
    await assertRun('CALL telemetry.run_maintenance($1)', [new Date()])
    assert.deepEqual(await cells(tenant), rolled, 'the rollups keep the days deleted (frozen)')
  })

  it('drop_expired_rollups($1, $2): cells past telemetry.rollup_retention_days, oldest first, in batches', async () => {
    const tenant = crypto.randomUUID()
    await mdb.query(`INSERT INTO telemetry.daily_rollups (tenant_id, day, name, events, raw_events, users, users_hll, sessions, refreshed_at)
                     SELECT $1, d, $2, 1, 1, 0, hll_empty(15, 5), 0, now() FROM unnest($3::date[]) d`,
    [tenant, NAME, ['2001-01-01', '2001-01-02']])
    const others = await value('SELECT count(*)::int FROM telemetry.daily_rollups WHERE tenant_id <> $1', [tenant])
    assert.ok(others > 0, 'other cells, younger, that stay')
    assert.equal(await value('SELECT telemetry.drop_expired_rollups($1, $2)', [new Date(), 1]), '1')
    assert.deepEqual((await cells(tenant)).map((c) => c.day), ['2001-01-02'], 'the oldest first')
    assert.equal(await value('SELECT telemetry.drop_expired_rollups($1, $2)', [new Date().toISOString(), '100']), '1')
    assert.equal(await value('SELECT telemetry.drop_expired_rollups($1, $2)', [new Date(), 100]), '0')
    assert.equal(await value('SELECT count(*)::int FROM telemetry.daily_rollups'), others)
  })

  it('trim_maintenance_runs($1, $2): the newest p_keep_per_step per step and status; by the wall clock', async () => {
    await assertRun('CALL telemetry.run_maintenance()')
    await assertRun('CALL telemetry.run_maintenance()')
    assert.equal(await value('SELECT telemetry.trim_maintenance_runs($1, $2)', [new Date(), 1000]), '0', 'nothing older than 30 days')
    assert.equal(await value('SELECT telemetry.trim_maintenance_runs($1, $2)', ['2100-01-01T00:00:00Z', 1000]), '0',
      'a later p_now does not erase the history')
    const expected = await value(`SELECT (count(*) - count(DISTINCT (step, status)))::text FROM telemetry.maintenance_runs
                                   WHERE status <> 'running'`)
    assert.ok(Number(expected) >= STEPS.length)
    assert.equal(await value('SELECT telemetry.trim_maintenance_runs($1, $2)', [new Date(), '1']), expected)
    assert.equal(await value('SELECT count(*) = count(DISTINCT (step, status)) FROM telemetry.maintenance_runs'), true,
      'one row left per step and status')
  })
})
