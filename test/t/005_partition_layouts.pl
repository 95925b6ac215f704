# Days whose partition is not a plain heap table: sub-partitioned by tenant, or a foreign table
# (an old day archived with postgres_fdw). A plain INSERT works in both; so must track() and
# track_batch(), through the executor, without taking the server down. A bystander session in an
# open transaction must survive every step, and the postmaster must never restart.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('layouts');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'telemetry'");
$node->start;

$node->safe_psql('postgres', q{
	CREATE DATABASE archive;
	CREATE EXTENSION telemetry CASCADE;
	SELECT telemetry.define_event('lesson_done');
});
my $started = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');

# Replaces the partition telemetry made for the UTC day $days_ago days ago with another layout
# (a DBA's), in one transaction: the worker, which makes missing days, must never see the day
# without a partition. $layout gives the SQL making and attaching the new one, for the day and
# the next.
sub replace_day
{
	my ($days_ago, $layout) = @_;
	my ($day, $next) = split /\|/, $node->safe_psql('postgres',
		qq{SELECT d, d + 1 FROM (SELECT (now() AT TIME ZONE 'UTC')::date - $days_ago) AS t(d)});
	$node->safe_psql('postgres', qq{
		BEGIN;
		DO \$\$
		DECLARE p regclass;
		BEGIN
			SELECT partition INTO p FROM telemetry.partitions() WHERE day = '$day';
			EXECUTE format('ALTER TABLE telemetry.events DETACH PARTITION %s', p);
			EXECUTE format('DROP TABLE %s', p);
		END
		\$\$;
	} . $layout->($day, $next) . q{
		COMMIT;
	});
	return ($day, $next);
}

# Three days ago: the day's partition is itself partitioned, by hash of tenant.
my ($sub_day, $sub_next) = replace_day(3, sub {
	my ($day, $next) = @_;
	return qq{
	CREATE TABLE telemetry.events_sub (LIKE telemetry.events INCLUDING DEFAULTS) PARTITION BY HASH (tenant_id);
	CREATE TABLE telemetry.events_sub_0 PARTITION OF telemetry.events_sub FOR VALUES WITH (MODULUS 2, REMAINDER 0);
	CREATE TABLE telemetry.events_sub_1 PARTITION OF telemetry.events_sub FOR VALUES WITH (MODULUS 2, REMAINDER 1);
	ALTER TABLE telemetry.events ATTACH PARTITION telemetry.events_sub
		FOR VALUES FROM ('$day 00:00:00+00') TO ('$next 00:00:00+00');
	};
});

# Five days ago: the day lives in another database, reached through postgres_fdw.
$node->safe_psql('archive', q{
	CREATE TABLE archived_events (
		id bigint NOT NULL, occurred_at timestamptz NOT NULL, received_at timestamptz NOT NULL,
		tenant_id uuid NOT NULL, event_id uuid NOT NULL, sample_weight real NOT NULL, flags smallint NOT NULL,
		name text NOT NULL, user_id text, session_id text, source text NOT NULL, schema_version text NOT NULL,
		properties jsonb NOT NULL);
});
my $host = $node->host;
my $port = $node->port;
$node->safe_psql('postgres', qq{
	CREATE EXTENSION postgres_fdw;
	CREATE SERVER archive FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '$host', port '$port', dbname 'archive');
	CREATE USER MAPPING FOR CURRENT_USER SERVER archive;
});
my ($fdw_day, $fdw_next) = replace_day(5, sub {
	my ($day, $next) = @_;
	return qq{
	CREATE FOREIGN TABLE telemetry.events_archived (
		id bigint NOT NULL, occurred_at timestamptz NOT NULL, received_at timestamptz NOT NULL,
		tenant_id uuid NOT NULL, event_id uuid NOT NULL, sample_weight real NOT NULL, flags smallint NOT NULL,
		name text NOT NULL, user_id text, session_id text, source text NOT NULL, schema_version text NOT NULL,
		properties jsonb NOT NULL)
		SERVER archive OPTIONS (schema_name 'public', table_name 'archived_events');
	ALTER TABLE telemetry.events ATTACH PARTITION telemetry.events_archived
		FOR VALUES FROM ('$day 00:00:00+00') TO ('$next 00:00:00+00');
	};
});

# The bystander: another session in the middle of a transaction that has tracked an event. A
# crash of any backend would end it.
my $bystander = $node->background_psql('postgres');
my $bystander_pid = $bystander->query_safe('SELECT pg_backend_pid()');
$bystander->query_safe(q{BEGIN; SELECT telemetry.track('lesson_done', '{"by": "bystander"}')});

# A plain INSERT works in both layouts: the executor routes the row.
$node->safe_psql('postgres', qq{
	INSERT INTO telemetry.events (tenant_id, event_id, name, properties, occurred_at, received_at, source, schema_version)
	VALUES (gen_random_uuid(), gen_random_uuid(), 'lesson_done', '{"by": "insert"}', '$sub_day 10:00:00+00', now(), 'server', '1-0-0'),
	       (gen_random_uuid(), gen_random_uuid(), 'lesson_done', '{"by": "insert"}', '$fdw_day 10:00:00+00', now(), 'server', '1-0-0');
});

for my $layout ([ 'sub-partitioned', $sub_day ], [ 'foreign', $fdw_day ])
{
	my ($what, $day) = @$layout;
	my ($rc, $out, $err) = $node->psql('postgres', qq{
		SELECT telemetry.track(('00000000-0000-0000-0000-00000000000' || g)::uuid, 'lesson_done', '{"by": "track"}', 'u' || g, NULL,
		                       '$day 11:00:00+00') IS NOT NULL FROM generate_series(1, 4) AS g;
	});
	is($rc, 0, "track() into a $what day succeeds") or diag($err);
	($rc, $out, $err) = $node->psql('postgres', qq{
		SELECT string_agg(status, ',') FROM telemetry.track_batch('00000000-0000-0000-0000-00000000000b',
			jsonb_build_array(jsonb_build_object('name', 'lesson_done', 'occurred_at', '$day 12:00:00Z'),
			                  jsonb_build_object('name', 'lesson_done', 'occurred_at', '$day 12:00:01Z'),
			                  jsonb_build_object('name', 'lesson_done')));
	});
	is($rc, 0, "track_batch() into a $what day succeeds") or diag($err);
	is($out, 'accepted,accepted,accepted', "every event of the batch into a $what day is accepted");
	is($node->safe_psql('postgres', qq{
		SELECT count(*) FILTER (WHERE properties ->> 'by' = 'track'), count(*) FILTER (WHERE source = 'client'), count(*)
		FROM telemetry.events WHERE occurred_at >= '$day' AND occurred_at < '$day'::date + 1}),
		'4|2|7', "the $what day holds the inserted row, the four tracked events and the two batch events");
}
is($node->safe_psql('archive', 'SELECT count(*) FROM archived_events'), '7', 'the archived day lives in the other database');
is($node->safe_psql('postgres', q{SELECT count(*) FROM ONLY telemetry.events_sub_0}) +
   $node->safe_psql('postgres', q{SELECT count(*) FROM ONLY telemetry.events_sub_1}), 7, 'the sub-partitions hold the day');

# Nothing was lost on the way, and nobody was disconnected.
is($bystander->query_safe('SELECT pg_backend_pid()'), $bystander_pid, 'the bystander session is the same backend');
is($bystander->query_safe(q{SELECT count(*) FROM telemetry.events WHERE properties ->> 'by' = 'bystander'}), '1',
	"the bystander's transaction is still open and sees its own event");
$bystander->query_safe('COMMIT');
$bystander->quit;
is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'), $started, 'the postmaster never restarted');
ok(!$node->log_contains('terminated by signal'), 'no backend crashed');

$node->stop;
done_testing();
