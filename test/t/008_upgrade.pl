# Upgrades: each earlier release installed from its frozen script (src/sql/releases), given
# data, then ALTER EXTENSION telemetry UPDATE. The result must be what CREATE EXTENSION makes
# today, object for object (members, definitions, columns, constraints, indexes, triggers and
# whether they fire ALWAYS, policies, privileges, comments, dump configuration), and the data,
# the grants a DBA made and tracking must come through.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my ($version) = slurp_file('telemetry.control') =~ /^default_version = '(.*)'/m;
my $extension_dir = `pg_config --sharedir` =~ s/\n//r . '/extension';
my @releases = sort grep { $_ ne $version }
	map { m{/telemetry--([0-9.]+)\.sql$} ? $1 : () } glob("$extension_dir/telemetry--*.sql");
ok(scalar(@releases) >= 1, "earlier releases to upgrade from: @releases");

# Whether release $x is older than $y (MAJOR.MINOR.PATCH, compared as numbers).
sub older_than
{
	my ($x, $y) = map { [ split /\./ ] } @_;
	for my $i (0 .. 2)
	{
		return $x->[$i] < $y->[$i] if $x->[$i] != $y->[$i];
	}
	return 0;
}

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'telemetry'");
# Maintenance runs when this test says.
$node->append_conf('postgresql.conf', "telemetry.maintenance_worker = off");
$node->start;
$node->safe_psql('postgres', q{
	CREATE ROLE app_writer;
	CREATE ROLE tenant_a_admins;
});

# One line per property of every object of the extension, sorted: equal for two databases when
# their extensions are the same. Partitions are not members (pg_dump dumps them as data); their
# parent's definition is compared.
my $fingerprint = q{
WITH members AS (
    SELECT d.classid, d.objid FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
    WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e' AND e.extname = 'telemetry'),
relations AS (
    SELECT c.* FROM pg_class c JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid)
-- (An ACL lists its grantees in the order of their grants, which means nothing: sorted.)
SELECT line FROM (
    SELECT 'member ' || pg_describe_object(classid, objid, 0) FROM members
    UNION ALL
    SELECT format('function %s acl %s comment %s %s', p.oid::regprocedure,
                  (SELECT array_agg(x::text ORDER BY x::text) FROM unnest(p.proacl) x),
                  obj_description(p.oid, 'pg_proc'),
                  CASE WHEN p.prokind = 'a'  -- an aggregate: its functions and state type
                       THEN (SELECT format('aggregate %s %s %s', a.aggtransfn, a.aggfinalfn, a.aggtranstype::regtype)
                             FROM pg_aggregate a WHERE a.aggfnoid = p.oid)
                       ELSE pg_get_functiondef(p.oid) END)
    FROM pg_proc p JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
    UNION ALL
    SELECT format('relation %s kind %s acl %s rls %s/%s options %s comment %s', c.relname, c.relkind,
                  (SELECT array_agg(x::text ORDER BY x::text) FROM unnest(c.relacl) x),
                  c.relrowsecurity, c.relforcerowsecurity, c.reloptions, obj_description(c.oid, 'pg_class'))
    FROM relations c
    UNION ALL
    SELECT format('column %s.%s #%s %s not null %s default %s comment %s', c.relname, a.attname, a.attnum,
                  format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid),
                  col_description(c.oid, a.attnum))
    FROM relations c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
    UNION ALL
    SELECT format('constraint %s.%s %s', c.relname, k.conname, pg_get_constraintdef(k.oid))
    FROM relations c JOIN pg_constraint k ON k.conrelid = c.oid
    UNION ALL
    SELECT format('index %s', pg_get_indexdef(i.indexrelid))
    FROM relations c JOIN pg_index i ON i.indrelid = c.oid
    UNION ALL
    SELECT format('trigger %s fires %s', pg_get_triggerdef(t.oid), t.tgenabled)
    FROM relations c JOIN pg_trigger t ON t.tgrelid = c.oid AND NOT t.tgisinternal
    UNION ALL
    SELECT format('policy %s.%s %s %s %s', c.relname, p.polname, p.polcmd, p.polroles::regrole[],
                  pg_get_expr(p.polqual, p.polrelid))
    FROM relations c JOIN pg_policy p ON p.polrelid = c.oid
    UNION ALL
    SELECT format('sequence %s %s %s %s', c.relname, s.seqtypid::regtype, s.seqincrement, s.seqcycle)
    FROM relations c JOIN pg_sequence s ON s.seqrelid = c.oid
    UNION ALL
    -- One line per dumped table: the order of extconfig is only the order of creation.
    SELECT format('dumped %s where %s', c.table_name::regclass, c.condition)
    FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS c(table_name, condition)
    WHERE e.extname = 'telemetry'
    UNION ALL
    SELECT format('schema acl %s comment %s', (SELECT array_agg(x::text ORDER BY x::text) FROM unnest(n.nspacl) x),
                  obj_description(n.oid, 'pg_namespace'))
    FROM pg_namespace n WHERE n.nspname = 'telemetry'
) AS lines(line)
ORDER BY line COLLATE "C"};

# What a DBA does to a fresh install: the same in both databases, so the comparison sees grants
# made on the extension's objects come through the upgrade.
my $grants = q{
	GRANT USAGE ON SCHEMA telemetry TO app_writer, tenant_a_admins;
	GRANT EXECUTE ON FUNCTION telemetry.track(text, jsonb, varchar, varchar, timestamptz, uuid, timestamptz) TO app_writer;
	GRANT EXECUTE ON FUNCTION telemetry.track(uuid, text, jsonb, text, text) TO app_writer;
	GRANT SELECT ON telemetry.quarantine TO tenant_a_admins;
};

# The access rows every upgrade ends with (0.3.0 -> 0.4.0 converts what older releases allowed;
# 0.4.0 is given them), with the privileges of their levels: an upgrade grants a level's roles
# what the level includes in the new release.
my $access = q{
	SELECT telemetry.grant_tenant_access('app_writer', NULL, 'service');
	SELECT telemetry.grant_tenant_access('tenant_a_admins', 'aaaaaaaa-0000-4000-8000-000000000001', 'admin');
};

$node->safe_psql('postgres', "CREATE DATABASE fresh");
$node->safe_psql('fresh', "CREATE EXTENSION telemetry CASCADE; $grants $access");
my @fresh = split /\n/, $node->safe_psql('fresh', $fingerprint);
ok(scalar(@fresh) > 100, 'a fresh install has its objects: ' . scalar(@fresh) . ' lines of fingerprint');

for my $release (@releases)
{
	my $db = 'from_' . ($release =~ tr/./_/r);
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, "CREATE EXTENSION telemetry VERSION '$release' CASCADE; $grants");
	is($node->safe_psql($db, "SELECT extversion FROM pg_extension WHERE extname = 'telemetry'"), $release,
		"$release installed from its own script");
	# Data of every kind the release keeps: catalog (with a pattern and a hashed property),
	# events, a quarantined event with a hashed value, an opt-out, a tenant admin, ledger entries.
	$node->safe_psql($db, q{
		SELECT telemetry.load_catalog('{"events": [
		    {"name": "lesson_done", "schema": {"properties": {"code": {"type": "string", "pattern": "^[a-z]{2,8}$"}}}},
		    {"name": "form_sent", "on_violation": "quarantine",
		     "schema": {"properties": {"email": {"type": "string", "x-pii": "hash"}, "fields": {"type": "integer"}}}}]}');
		SELECT telemetry.track('aaaaaaaa-0000-4000-8000-000000000001'::uuid, 'lesson_done', jsonb_build_object('code', 'ab'),
		                       'u' || i, NULL) FROM generate_series(1, 50) AS i;
		SELECT telemetry.track('lesson_done', '{"code": "single"}');
		SELECT count(*) FROM telemetry.track_batch('aaaaaaaa-0000-4000-8000-000000000001'::uuid,
		    '[{"name": "lesson_done", "event_id": "0192d5b4-0000-7000-8000-000000000001"}]');
		SELECT telemetry.track('aaaaaaaa-0000-4000-8000-000000000001'::uuid, 'form_sent',
		                       '{"email": "a@example.com", "fields": "many"}', 'u1', NULL);
		SELECT telemetry.opt_out('aaaaaaaa-0000-4000-8000-000000000001', 'gone');
	});
	# Tenant admins: a table of their own before 0.4.0, access rows since.
	$node->safe_psql($db, older_than($release, '0.4.0')
		? q{INSERT INTO telemetry.tenant_admins VALUES ('aaaaaaaa-0000-4000-8000-000000000001', 'tenant_a_admins')}
		: $access);
	my $data = q{SELECT (SELECT count(*) FROM telemetry.events), (SELECT count(*) FROM telemetry.quarantine),
		(SELECT count(*) FROM telemetry.opt_outs), (SELECT count(*) FROM telemetry.event_types),
		(SELECT count(*) FROM telemetry.partitions())};
	my $before = $node->safe_psql($db, $data);
	my $email_hash = $node->safe_psql($db, q{SELECT properties ->> 'email' FROM telemetry.quarantine});
	like($email_hash, qr/^h1:[A-Za-z0-9_-]{22}$/, "$release hashed the quarantined email");

	# Between installing the new library and ALTER EXTENSION UPDATE, ingest went on above (the
	# catalog, a quarantined event). A replay needs quarantine.pii_rewritten_paths (0.2.0): before
	# 0.2.0 it says what to do; from 0.2.0 on it works (the catalog is the same: still quarantined).
	my ($rc, $out, $err) = $node->psql($db,
		q{SELECT status FROM telemetry.replay_quarantine('aaaaaaaa-0000-4000-8000-000000000001')});
	if (older_than($release, '0.2.0'))
	{
		like($err, qr/older than its library.*\n.*ALTER EXTENSION telemetry UPDATE/, "a replay before the update of $release asks for it");
	}
	else
	{
		is($out, 'quarantined', "a replay before the update of $release works");
	}

	# A release with rollups has rolled its days up before the update (closing today too).
	$node->safe_psql($db, q{CALL telemetry.run_maintenance(now() + interval '1 day')})
	  unless older_than($release, '0.5.0');

	$node->safe_psql($db, 'ALTER EXTENSION telemetry UPDATE');
	is($node->safe_psql($db, "SELECT extversion FROM pg_extension WHERE extname = 'telemetry'"), $version,
		"$release updated to $version");
	if (!older_than($release, '0.5.0') && older_than($release, '0.6.0'))
	{
		# 0.6.0's daily totals start from the rollups: users unknown until the next refresh,
		# which the update logged.
		is($node->safe_psql($db, q{SELECT count(*) > 0 AND bool_and(users IS NULL) AND bool_and(raw_events > 0)
			FROM telemetry.daily_totals}), 't', "$release: the days rolled up have daily totals, users not yet counted");
		is($node->safe_psql($db, q{SELECT count(*) > 0 FROM telemetry.rollup_invalidations WHERE reason = 'manual'}),
			't', "$release: and are logged for the next refresh");
	}

	my @upgraded = split /\n/, $node->safe_psql($db, $fingerprint);
	my %in_fresh = map { $_ => 1 } @fresh;
	my %in_upgraded = map { $_ => 1 } @upgraded;
	my @missing = grep { !$in_upgraded{$_} } @fresh;
	my @extra = grep { !$in_fresh{$_} } @upgraded;
	diag("only in a fresh install: $_") for @missing;
	diag("only after the upgrade from $release: $_") for @extra;
	ok(!@missing && !@extra, "$release updated is object for object what a fresh install of $version is");

	is($node->safe_psql($db, $data), $before, 'events, quarantine, opt-outs, catalog and partitions kept');
	is($node->safe_psql($db, q{SELECT string_agg(role_name || ' ' || coalesce(tenant_id::text, '-') || ' ' || access, ',' ORDER BY role_name)
		FROM telemetry.tenant_access}),
		'app_writer - service,tenant_a_admins aaaaaaaa-0000-4000-8000-000000000001 admin',
		'what the release allowed became access rows: its tenant admins, and a role that could track() as service');
	is($node->safe_psql($db, q{SELECT count(*) FILTER (WHERE pattern_instructions > 0) || '/' || count(*) FROM telemetry.event_types}),
		'1/2', 'the catalog\'s patterns were measured for their budget');
	is($node->safe_psql($db, q{SELECT pii_rewritten_paths FROM telemetry.quarantine}), '{/email}',
		'a row kept before lists its values shaped like hashes, which a replay then leaves as they are, as before');
	is($node->safe_psql($db, q{SET ROLE app_writer;
		SELECT telemetry.track('lesson_done', '{"code": "after"}', 'u9'::varchar) IS NOT NULL}),
		't', 'the grant on the remade long form of track() came through');
	is($node->safe_psql($db, q{
		SELECT telemetry.track('lesson_done') IS NOT NULL,
		       telemetry.track(VARIADIC ARRAY['aaaaaaaa-0000-4000-8000-000000000001', 'lesson_done', '{"code": "untyped"}']) IS NOT NULL,
		       (SELECT status FROM telemetry.track_batch('aaaaaaaa-0000-4000-8000-000000000001'::text,
		            '[{"name": "lesson_done", "event_id": "0192d5b4-0000-7000-8000-000000000001"}]'::text)),
		       telemetry.track('aaaaaaaa-0000-4000-8000-000000000001'::uuid, 'lesson_done', '{}', 'gone', NULL) IS NULL}),
		't|t|duplicate|t', 'tracking goes on: driver forms, the ledger and the opt-outs kept');
	$node->safe_psql($db, q{SELECT telemetry.define_event('form_sent', version => '2-0-0', on_violation => 'quarantine',
		schema => '{"properties": {"email": {"type": "string", "x-pii": "hash"}, "fields": {"type": ["integer", "string"]}}}')});
	is($node->safe_psql($db, q{SELECT status FROM telemetry.replay_quarantine('aaaaaaaa-0000-4000-8000-000000000001')}),
		'accepted', 'a row quarantined before the upgrade replays');

	# The first maintenance run after the update rolls up every day that has events (closing
	# today too, with a clock a day ahead), and the rollups equal a GROUP BY of the events.
	$node->safe_psql($db, q{CALL telemetry.run_maintenance(now() + interval '1 day')});
	is($node->safe_psql($db, q{SELECT string_agg(DISTINCT status, ',') FROM telemetry.maintenance_runs}),
		'succeeded', "every maintenance step succeeds after the update from $release");
	is($node->safe_psql($db, q{SELECT count(*) FROM (
		SELECT tenant_id, (occurred_at AT TIME ZONE 'UTC')::date, name, count(*), count(DISTINCT user_id) FROM telemetry.events GROUP BY 1, 2, 3
		EXCEPT SELECT tenant_id, day, name, raw_events, users FROM telemetry.daily_rollups) x}),
		'0', 'the events kept through the update are rolled up');
	is($node->safe_psql($db, q{SELECT count(*) FROM (
		SELECT tenant_id, (occurred_at AT TIME ZONE 'UTC')::date, count(*), count(DISTINCT user_id) FROM telemetry.events GROUP BY 1, 2
		EXCEPT SELECT tenant_id, day, raw_events, users FROM telemetry.daily_totals) x}),
		'0', 'and their daily totals are exact');
	is($node->safe_psql($db, q{SELECT properties ->> 'email' FROM telemetry.events WHERE name = 'form_sent'}),
		$email_hash, 'and its email keeps the hash it was kept with (not hashed twice)');
}

$node->stop;
done_testing();
