# The error boundary under load (DESIGN.md §2): an error raised inside C++ code, a PostgreSQL
# error raised under C++ code, exceptions thrown where they leave PostgreSQL's error stacks
# pointing into dead frames, and an error in the middle of an SPI cursor while C++ engine state
# lives across its fetches (owned by a memory context: boundary/context_owned.hpp), 21,000 times
# each in one session, end as clean ERRORs. Backend memory stays flat (memory contexts and the
# process's private memory), every engine state is destroyed, the postmaster never restarts,
# and a bystander session with an open transaction survives.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('boundary');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'telemetry'");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION telemetry CASCADE;
	SELECT telemetry.define_event('order_placed');
});

my $postmaster_started = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');

# The bystander: another session, in the middle of a transaction that has tracked an event.
my $bystander = $node->background_psql('postgres');
my $bystander_pid = $bystander->query_safe('SELECT pg_backend_pid()');
$bystander->query_safe(q{BEGIN; SELECT telemetry.track('order_placed', '{"by": "bystander"}')});

# One round: each kind of failure once, as top-level statements (each aborts its transaction).
my $round = <<'SQL';
SELECT telemetry.self_test('domain_error');
SELECT telemetry.self_test('postgres_error_under_cpp');
SELECT telemetry.self_test('cpp_exception');
SELECT telemetry.self_test('exception_inside_pg_try');
SELECT telemetry.self_test('exception_under_error_context');
SELECT telemetry.self_test('engine_state_error_mid_stream');
SELECT telemetry.track('order_placed', '[1, 2, 3]');
SELECT telemetry.track('Not A Name', '{}');
SQL
my $memory = q{SELECT 'memory', (SELECT sum(total_bytes) FROM pg_backend_memory_contexts),
	(regexp_match(pg_read_file('/proc/self/status'), 'RssAnon:\s+(\d+) kB'))[1]::bigint;
};

# Warm up 1,000 rounds, measure, 10,000 rounds, measure, 10,000 more, measure: all in one
# session. The first 10,000 rounds show the level is reached; the second must add nothing.
my $script = "\\set VERBOSITY sqlstate\n"
  . ($round x 1000) . $memory
  . ($round x 10000) . $memory
  . ($round x 10000) . $memory
  . "SELECT 'alive', telemetry.self_test('engine_states_alive');\n"
  . "SELECT 'streamed', telemetry.self_test('engine_state_across_fetches'), telemetry.self_test('engine_states_alive');\n"
  . "SELECT 'session', pg_backend_pid();\n";

my ($rc, $stdout, $stderr) = $node->psql('postgres', $script, on_error_stop => 0, extra_params => [ '-A', '-t', '-F', ' ' ]);
is($rc, 0, 'the session ran all 168,000 statements to the end');

my @errors = $stderr =~ /^(?:psql:<stdin>:\d+: )?ERROR:\s+(\S+)/mg;
my %by_state;
$by_state{$_}++ for @errors;
is(scalar(@errors), 168000, 'every failing statement ended as an ERROR');
is($by_state{'22023'}, 2 * 21000, 'domain errors and bad properties: 22023');
is($by_state{'22P02'}, 21000, 'PostgreSQL error under C++: its own SQLSTATE 22P02');
is($by_state{'XX000'}, 3 * 21000, 'other C++ exceptions, wherever thrown: XX000');
is($by_state{'42602'}, 21000, 'bad event name: 42602');
is($by_state{'22012'}, 21000, 'an error in the middle of a cursor, under engine state: its own SQLSTATE 22012');
like($stdout, qr/^alive 0$/m, 'no engine state outlived its call: the memory context destroyed all 21,000');
like($stdout, qr/^streamed streamed 300 rows 0$/m, 'without an error, the state streams every row and is destroyed at the end');

my @samples = map { [ split / / ] } grep { /^memory / } split /\n/, $stdout;
is(scalar(@samples), 3, 'three memory samples');
my ($warm, $mid, $end) = @samples;
note sprintf('memory contexts: %d, %d, %d bytes; RssAnon: %d, %d, %d kB',
	$warm->[1], $mid->[1], $end->[1], $warm->[2], $mid->[2], $end->[2]);
cmp_ok($end->[1] - $mid->[1], '<=', 8192,
	'memory contexts stay flat over the last 80,000 errors');
cmp_ok($end->[2] - $mid->[2], '<=', 256,
	'private memory (RssAnon) stays flat over the last 80,000 errors (C++ heap included)');

# Nobody crashed.
is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'), $postmaster_started,
	'the postmaster never restarted');
is($bystander->query_safe('SELECT pg_backend_pid()'), $bystander_pid, 'the bystander session is the same backend');
$bystander->query_safe('COMMIT');
is($node->safe_psql('postgres', q{SELECT count(*) FROM telemetry.events WHERE properties->>'by' = 'bystander'}),
	'1', 'the bystander transaction committed its event');
$bystander->quit;

my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal|server process .* was terminated|terminate called/,
	'no backend died');

$node->stop;
done_testing();
