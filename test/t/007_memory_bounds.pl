# Memory is bounded before work, not after: each entry point, given the largest input it accepts
# (or a larger one, which it refuses), peaks below the bound docs/ingest.md states. Measured as
# the growth of the backend's peak resident set (VmHWM) over the same statement without our call,
# so what PostgreSQL itself needs to build the input does not count.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('memory');
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'telemetry'
shared_buffers = 16MB
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION telemetry CASCADE;
	SELECT telemetry.load_catalog('{"events": [{"name": "x"}, {"name": "big", "max_bytes": 65536},
	    {"name": "tagged", "schema": {"properties": {"email": {"type": "string", "x-pii": "hash"}}}}]}');
	CREATE TABLE inputs (name text PRIMARY KEY, body text);
	-- 16 MiB of tiny events: far over the 10,000-event limit, refused.
	INSERT INTO inputs SELECT 'tiny_events', '[' || repeat('{"name":"x"},', 1290000) || '{"name":"x"}]';
	-- 10,000 events of 150 values each: over the 1,000,000 values a batch may hold, refused.
	INSERT INTO inputs SELECT 'many_values', '[' || string_agg('{"name":"big","properties":{"a":[' || repeat('true,', 149) || 'true]}}', ',') || ']'
	    FROM generate_series(1, 10000);
	-- One event of 3,000,000 values: far over any event type's size limit, refused unread.
	INSERT INTO inputs SELECT 'one_huge_event', '[{"name":"big","properties":{"a":[' || repeat('true,', 2999999) || 'true]}}]';
	-- 80 events each over the 40,000 values an event may hold only after 39,990 of them were
	-- read: what was read of each counts, so the batch reaches its 1,000,000 values and is refused.
	INSERT INTO inputs SELECT 'partly_read_events', '[' || string_agg('{"name":"big","properties":{"a":[' ||
	    repeat('null,', 39989) || 'null],"b":[' || repeat('null,', 19) || 'null]}}', ',') || ']'
	    FROM generate_series(1, 80);
	-- 10,000 events of 1.6 KB strings.
	INSERT INTO inputs SELECT 'long_strings', '[' || string_agg('{"name":"x","user_id":"u' || g || '","properties":{"s":"' || repeat('w', 1600) || '"}}', ',') || ']'
	    FROM generate_series(1, 10000) AS g;
	-- The largest batch that is accepted: 10,000 events of 90 values (1.5 KB of properties) each,
	-- 900,000 values in all, under 16 MiB.
	INSERT INTO inputs SELECT 'largest_accepted', '[' || string_agg('{"name":"big","user_id":"u' || g || '","properties":{"a":[' ||
	    repeat('12345,', 44) || '1],"b":[' || repeat('"abcdefghij",', 43) || '"z"]}}', ',') || ']'
	    FROM generate_series(1, 10000) AS g;
	SELECT name, length(body) FROM inputs ORDER BY name;
});

# The growth of the backend's peak RSS, in MB, while running $sql in a fresh session; $sql may fail.
sub peak_growth
{
	my ($sql) = @_;
	my $hwm = q{(regexp_match(pg_read_file('/proc/self/status'), 'VmHWM:\s+(\d+) kB'))[1]::bigint};
	my ($rc, $out, $err) = $node->psql('postgres', qq{
		SELECT $hwm AS before \\gset
		$sql;
		SELECT round(($hwm - :before) / 1024.0);
	}, on_error_stop => 0);
	my @lines = split /\n/, $out;
	return ($lines[-1], $err);
}

# Each input through both forms, against the same statement without telemetry: one that only
# reads the text, or builds the jsonb (which PostgreSQL's jsonb_in does with its own memory,
# several times the text's size: not ours to count).
my %refused_for = (tiny_events => qr/at most 10000 events|over the limit of 16777216/, many_values => qr/at most 1000000 JSON values/,
	partly_read_events => qr/at most 1000000 JSON values/);
for my $input ('tiny_events', 'many_values', 'one_huge_event', 'partly_read_events', 'long_strings', 'largest_accepted')
{
	for my $form ('text', 'jsonb')
	{
		my $arg = $form eq 'text' ? 'body' : 'body::jsonb';
		my ($base) = peak_growth("SELECT count(*) FROM inputs, LATERAL (SELECT $arg AS arg OFFSET 0) a WHERE name = '$input' AND a.arg IS NOT NULL");
		my ($peak, $err) = peak_growth(
			"SELECT count(*), string_agg(DISTINCT status, ',') FROM inputs, telemetry.track_batch('00000000-0000-0000-0000-0000000000aa', $arg) WHERE name = '$input'");
		my $ours = $peak - $base;
		diag("track_batch($form) of $input: +$ours MB" . ($err =~ /ERROR:\s+(.*)/ ? " (refused: $1)" : ''));
		cmp_ok($ours, '<=', 160, "track_batch($form) of $input stays within 160 MB");
		like($err, $refused_for{$input}, "track_batch($form) of $input is refused whole") if $refused_for{$input};
	}
}

# track(): properties of 1 MB (the largest it reads) made of tiny values.
{
	my $sql = q{SELECT telemetry.track('big', ('{"a":[' || repeat('1,', 500000) || '1]}')::jsonb)};
	my ($base) = peak_growth(q{SELECT length(('{"a":[' || repeat('1,', 500000) || '1]}')::jsonb::text)});
	my ($peak, $err) = peak_growth($sql);
	diag("track() of 1 MB of tiny values: +" . ($peak - $base) . " MB");
	cmp_ok($peak - $base, '<=', 64, 'track() of 1 MB properties stays within 64 MB');
}

# Opt-outs: a backend does not load the whole table, however many there are.
$node->safe_psql('postgres', q{
	INSERT INTO telemetry.opt_outs (tenant_id, user_id)
	SELECT '00000000-0000-0000-0000-0000000000aa', 'opted-out-' || g FROM generate_series(1, 200000) AS g;
	SELECT telemetry.opt_out('00000000-0000-0000-0000-0000000000aa', 'one-more');
});
{
	my ($base) = peak_growth(q{SELECT telemetry.track('x')});
	my ($peak) = peak_growth(q{SELECT count(telemetry.track('00000000-0000-0000-0000-0000000000aa'::uuid, 'x', '{}', 'user-' || g, NULL)) FROM generate_series(1, 100) AS g});
	diag("100 events of 100 users with 200,000 opt-outs: +" . ($peak - $base) . " MB");
	cmp_ok($peak - $base, '<=', 8, 'checking 100 users against 200,000 opt-outs costs under 8 MB');
	is($node->safe_psql('postgres', q{SELECT telemetry.track('00000000-0000-0000-0000-0000000000aa'::uuid, 'x', '{}', 'opted-out-4242', NULL) IS NULL}),
		't', 'and an opted-out user is still found');
}

# A large catalog: 1,000 event types with patterns, about 480,000 RE2 instructions in all (near the
# budget). It loads in bounded time, and a new backend's first event compiles only its own type.
{
	my $started = time;
	$node->safe_psql('postgres', q{
		SELECT count(*) FROM telemetry.load_catalog(jsonb_build_object('events', (
		    SELECT jsonb_agg(jsonb_build_object('name', 'patterned_' || g, 'schema', jsonb_build_object('properties',
		        jsonb_build_object('code', jsonb_build_object('type', 'string', 'pattern', '^[a-z0-9_-]{1,' || (90 + g % 7) || '}$')))))
		    FROM generate_series(1, 1000) AS g)));
	});
	my $seconds = time - $started;
	diag("loading 1,000 patterned event types took about $seconds s");
	cmp_ok($seconds, '<=', 30, 'the catalog loads (every pattern compiled twice) in bounded time');
	is($node->safe_psql('postgres', 'SELECT sum(pattern_instructions) <= 500000 FROM telemetry.event_types'), 't',
		'within the budget');
	my ($base) = peak_growth(q{SELECT telemetry.track('x')});
	my ($peak) = peak_growth(q{SELECT telemetry.track('patterned_7', '{"code": "abc"}')});
	diag("a new backend's first event of one of 1,000 patterned types: +" . ($peak - $base) . " MB");
	cmp_ok($peak - $base, '<=', 8, 'the first event compiles its own type, not the catalog');
}

$node->stop;
done_testing();
