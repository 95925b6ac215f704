# pg_dump and restore: the catalog and every event come back, partitions included (they are not
# extension members, so pg_dump dumps them with their data), and tracking goes on afterwards.
# The restore sets telemetry.restoring, so CREATE EXTENSION makes no partitions of its own and
# pauses maintenance until resume_maintenance(); the rollups and their threshold come back.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'telemetry'");
# Maintenance runs when this test says (the worker would run it in database postgres).
$node->append_conf('postgresql.conf', "telemetry.maintenance_worker = off");
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION telemetry CASCADE;
	SELECT telemetry.load_catalog('{"events": [{"name": "lesson_done", "version": "1-0-2"}, {"name": "quiz_done"}]}');
	SELECT telemetry.track('33333333-3333-3333-3333-333333333333'::uuid, 'lesson_done',
	                       jsonb_build_object('n', i), 'u' || (i % 5), NULL, now() - (i % 20) * interval '1 day')
	FROM generate_series(1, 500) AS i;
	-- A quarantined event and the role that administers its tenant.
	SELECT telemetry.load_catalog('{"events": [{"name": "form_sent", "on_violation": "quarantine",
	    "schema": {"properties": {"fields": {"type": "integer"}}}}]}');
	SELECT telemetry.track('33333333-3333-3333-3333-333333333333'::uuid, 'form_sent', '{"fields": "x"}');
	SELECT telemetry.track('44444444-4444-4444-4444-444444444444'::uuid, 'form_sent', '{"fields": "y"}');
	CREATE ROLE dump_tenant_admin;
	SELECT telemetry.grant_tenant_access('dump_tenant_admin', '33333333-3333-3333-3333-333333333333', 'admin');
	-- An analyst of one tenant, a pooled application role and the issuer of its tokens.
	CREATE ROLE dump_reader;
	SELECT telemetry.grant_tenant_access('dump_reader', '44444444-4444-4444-4444-444444444444', 'read');
	CREATE ROLE dump_pool;
	SELECT telemetry.grant_tenant_access('dump_pool', NULL, 'token');
	SELECT telemetry.grant_tenant_access('dump_pool', NULL, 'issuer');
	SELECT telemetry.track('44444444-4444-4444-4444-444444444444'::uuid, 'quiz_done', '{}');
	-- Personal data as ingest stores it: a declared e-mail hashed (x-pii), an undeclared one
	-- redacted, a user id that is an e-mail address hashed; and a tenant's policy.
	SELECT telemetry.load_catalog('{"events": [{"name": "profile_saved",
	    "schema": {"properties": {"email": {"type": "string", "x-pii": "hash"}}}}]}');
	SELECT telemetry.track('33333333-3333-3333-3333-333333333333'::uuid, 'profile_saved',
	                       '{"email": "ann@example.com", "note": "reach me at ann@example.com"}', 'ann@example.com');
	SELECT telemetry.set_pii_policy('44444444-4444-4444-4444-444444444444', 'reject');
});
# Rollups of the days before today, and their threshold.
$node->safe_psql('postgres', 'CALL telemetry.run_maintenance()');
my $rollups = q{SELECT count(*), sum(raw_events), sum(users), (SELECT threshold FROM telemetry.rollup_state),
	telemetry.rollup_watermark() FROM telemetry.daily_rollups};
my $rollups_before = $node->safe_psql('postgres', $rollups);
like($rollups_before, qr/^[1-9]/, 'rollups before the dump');
my $summary = q{SELECT count(*), count(DISTINCT event_id), sum((properties->>'n')::int),
	min(occurred_at)::date, (SELECT string_agg(name || ' ' || version, ',' ORDER BY name) FROM telemetry.event_types)
	FROM telemetry.events};
my $before = $node->safe_psql('postgres', $summary);

my $dump = $node->basedir . '/telemetry.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('postgres') ], 'pg_dump');
my $token = $node->safe_psql('postgres',
	q{SET ROLE dump_pool; SELECT telemetry.tenant_token('44444444-4444-4444-4444-444444444444')});
my $plain = $node->basedir . '/telemetry.sql';
$node->command_ok([ 'pg_dump', '-f', $plain, '-d', $node->connstr('postgres') ], 'pg_dump as SQL text');
my $plain_text = slurp_file($plain);
foreach my $key (split /\n/, $node->safe_psql('postgres', 'SELECT value FROM telemetry.secrets'))
{
	ok(index($plain_text, $key) < 0, 'a secret key is not in the dump');
}
like($plain_text, qr/GRANT SELECT ON TABLE telemetry\.events TO dump_reader/, 'the grants of access levels are in the dump');

$node->safe_psql('postgres', 'CREATE DATABASE restored');
{
	local $ENV{PGOPTIONS} = '-c telemetry.restoring=on';
	$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('restored'), $dump ],
		'pg_restore without a single error');
}
is($node->safe_psql('restored', $summary), $before, 'events and catalog are identical after restore');
# What ingest hashed and redacted comes back as stored, and is never hashed twice: not by the
# restore, nor when the rows are written again without telemetry.restoring (the trigger keeps
# tagged values), although the restored database hashes with a key of its own.
my $pii_rows = q{SELECT string_agg(user_id || ' ' || flags || ' ' || properties::text, ',' ORDER BY id)
	FROM telemetry.events WHERE name = 'profile_saved'};
my $pii_before = $node->safe_psql('postgres', $pii_rows);
like($pii_before, qr/^h1:\S+ 104 .*"note": "\[redacted:email\]"/, 'ingest hashed the id and redacted the note');
is($node->safe_psql('restored', $pii_rows), $pii_before, 'hashed and redacted values come back as stored');
$node->safe_psql('restored', q{INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id,
	session_id, source, schema_version, flags, properties)
	SELECT occurred_at, received_at, tenant_id, gen_random_uuid(), name, user_id, session_id, 'written again',
	       schema_version, flags, properties FROM telemetry.events WHERE name = 'profile_saved'});
is($node->safe_psql('restored', q{SELECT count(*) || ' ' || count(DISTINCT (user_id, flags, properties))
	FROM telemetry.events WHERE name = 'profile_saved'}), '2 1', 'written again through the trigger: not hashed twice');
$node->safe_psql('restored', q{DELETE FROM telemetry.events WHERE source = 'written again'});
is($node->safe_psql('restored', 'SELECT tenant_id || \' \' || event_type || \' \' || undeclared_pii FROM telemetry.pii_policies'),
	'44444444-4444-4444-4444-444444444444 * reject', "a tenant's PII policy is restored");
is($node->safe_psql('restored', 'SELECT count(*) FROM telemetry.partitions()'),
	$node->safe_psql('postgres', 'SELECT count(*) FROM telemetry.partitions()'), 'same partitions');
ok($node->safe_psql('restored', "SELECT telemetry.track('quiz_done') IS NOT NULL"), 'tracking after restore');
is($node->safe_psql('restored', 'SELECT count(*) FROM telemetry.quarantine'), '2', 'the quarantine is restored');
is($node->safe_psql('restored', 'SET ROLE dump_tenant_admin; SELECT tenant_id FROM telemetry.quarantine'),
	'33333333-3333-3333-3333-333333333333', "the tenant's admin mapping is restored, and so is the policy that uses it");
is($node->safe_psql('restored', 'SET ROLE dump_reader; SELECT DISTINCT tenant_id FROM telemetry.events'),
	'44444444-4444-4444-4444-444444444444', "an analyst's read access, grants and the events policy are restored");
is($node->safe_psql('restored', q{SELECT string_agg(role_name || ' ' || coalesce(tenant_id::text, '-') || ' ' || access, ',' ORDER BY role_name, access)
	FROM telemetry.tenant_access}),
	'dump_pool - issuer,dump_pool - token,dump_reader 44444444-4444-4444-4444-444444444444 read,dump_tenant_admin 33333333-3333-3333-3333-333333333333 admin',
	'every access row is restored');
my ($rc, $out, $err) = $node->psql('restored', "BEGIN; SET ROLE dump_pool; SELECT telemetry.set_tenant('$token')");
like($err, qr/not signed with this database's key/, 'a token of the dumped database is refused: the restored one has a key of its own');
is($node->safe_psql('restored', q{SET ROLE dump_pool; BEGIN;
	SELECT telemetry.set_tenant(telemetry.tenant_token('44444444-4444-4444-4444-444444444444'));
	SELECT count(*) FROM telemetry.events; COMMIT;}), "44444444-4444-4444-4444-444444444444\n1",
	'tokens minted after the restore work');
is($node->safe_psql('restored', 'SELECT telemetry.create_partitions()'), '0', 'no partition was missing');
# Every step of this release is paused, then resumed.
my $steps = $node->safe_psql('restored', 'SELECT cardinality(telemetry.maintenance_step_names())');
is($node->safe_psql('restored', $rollups), $rollups_before, 'the rollups and their threshold are restored');
is($node->safe_psql('restored', q{SELECT count(*) FILTER (WHERE next_attempt_at = 'infinity') || '/' || count(*)
	FROM telemetry.maintenance_status}), "$steps/$steps", 'maintenance is paused in the restored database');
$node->safe_psql('restored', 'CALL telemetry.run_maintenance()');
is($node->safe_psql('restored', 'SELECT count(*) FROM telemetry.maintenance_runs'), '0', 'a run while paused does nothing');
is($node->safe_psql('restored', 'SELECT telemetry.resume_maintenance()'), $steps, 'resume_maintenance() resumes every step');
$node->safe_psql('restored', 'CALL telemetry.run_maintenance()');
is($node->safe_psql('restored', q{SELECT string_agg(DISTINCT status, ',') FROM telemetry.maintenance_runs}), 'succeeded',
	'then maintenance runs in the restored database');
is($node->safe_psql('restored', q{SELECT count(*) FROM (
	SELECT tenant_id, (occurred_at AT TIME ZONE 'UTC')::date, name, count(*) FROM telemetry.events
	WHERE occurred_at < telemetry.rollup_watermark()::timestamp AT TIME ZONE 'UTC' GROUP BY 1, 2, 3
	EXCEPT SELECT tenant_id, day, name, raw_events FROM telemetry.daily_rollups) x}), '0',
	'and the restored rollups agree with the restored events');

# Without the setting, the restore collides with the partitions CREATE EXTENSION makes: the
# reason for telemetry.restoring (docs/operations.md).
$node->safe_psql('postgres', 'CREATE DATABASE restored_naively');
$node->command_fails([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('restored_naively'), $dump ],
	'a restore without telemetry.restoring stops at the first partition');

# An erasure after the backup: the older dump brings the user back, and the erasure ledger,
# copied in before resume_maintenance(), erases them again (docs/operations.md, "Erasures and
# older backups"). Both databases hash with the key telemetry.pii_hash_key sets.
$node->append_conf('postgresql.conf', "telemetry.pii_hash_key = 'dump-restore-test-key'");
$node->reload;
is($node->safe_psql('postgres', q{SELECT events FROM telemetry.forget_user('33333333-3333-3333-3333-333333333333', 'u1')}),
	'100', 'forget_user() erases the user in the live database');
my $ledger = $node->basedir . '/erasures.csv';
$node->safe_psql('postgres', qq{COPY (SELECT tenant_id, user_hash, key_id, kind, erased_at, erased_by, events, quarantined,
	event_ids, opt_outs, rollup_days FROM telemetry.erasures) TO '$ledger' CSV});
$node->safe_psql('postgres', 'CREATE DATABASE restored_old');
{
	local $ENV{PGOPTIONS} = '-c telemetry.restoring=on';
	$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('restored_old'), $dump ],
		'the backup from before the erasure restores');
}
my $u1 = q{SELECT count(*) FROM telemetry.events WHERE user_id = 'u1'};
is($node->safe_psql('restored_old', $u1), '100', 'and brings the user back');
$node->safe_psql('restored_old', qq{COPY telemetry.erasures (tenant_id, user_hash, key_id, kind, erased_at, erased_by,
	events, quarantined, event_ids, opt_outs, rollup_days) FROM '$ledger' CSV});
is($node->safe_psql('restored_old', 'SELECT telemetry.resume_maintenance()'), $steps,
	'resume_maintenance() after copying the ledger in');
is($node->safe_psql('restored_old', $u1), '0', 'the ledger erased the user again');
is($node->safe_psql('restored_old', q{SELECT count(*) FROM (
	SELECT tenant_id, (occurred_at AT TIME ZONE 'UTC')::date, name, count(*), count(DISTINCT user_id) FROM telemetry.events
	WHERE occurred_at < telemetry.rollup_watermark()::timestamp AT TIME ZONE 'UTC' GROUP BY 1, 2, 3
	EXCEPT SELECT tenant_id, day, name, raw_events, users FROM telemetry.daily_rollups) x}), '0',
	'and the rollups of the restored days equal what remains');
is($node->safe_psql('restored_old', q{SELECT unmatched_key FROM telemetry.reapply_erasures()}), '0',
	'every ledger row matched the key');

$node->stop;
done_testing();
