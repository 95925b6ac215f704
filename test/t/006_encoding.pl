# Everything stored is valid in the database encoding. A JSON path shortened for a reason or a
# quarantine row is cut on a character boundary, so the dump of a database holding such rows
# restores completely; and telemetry refuses to install where the encoding is not UTF8 (its JSON
# parser, RE2 and the jsonb codec read UTF-8).
use strict;
use warnings;
use utf8;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('encoding');
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'telemetry'");
$node->start;

# Keys of three-byte characters (€), long enough to be cut in a path: 2 + 3 k bytes never
# ends on the 64-byte mark.
$node->safe_psql('postgres', q{
	CREATE EXTENSION telemetry CASCADE;
	SELECT telemetry.load_catalog('{"events": [{"name": "form_sent", "on_violation": "quarantine",
	    "schema": {"additionalProperties": false}}]}');
});
$node->safe_psql('postgres', q{
	SELECT telemetry.track('22222222-2222-2222-2222-222222222222'::uuid, 'form_sent',
	                       jsonb_build_object('xy' || repeat('€', 40), 'undeclared'), NULL, NULL);
	SELECT status FROM telemetry.track_batch('22222222-2222-2222-2222-222222222222',
	    jsonb_build_array(jsonb_build_object('name', 'form_sent', 'properties',
	                                         jsonb_build_object('zw' || repeat('€', 30) || repeat('ü', 5), 'undeclared'))));
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM telemetry.quarantine'), '2', 'two events are quarantined');
my $paths = $node->safe_psql('postgres', 'SELECT string_agg(json_path, E\'\n\' ORDER BY id) FROM telemetry.quarantine');
utf8::decode($paths);
like($paths, qr/^\$\["xy€+\.\.\."\]\n\$\["zw€+\.\.\."\]$/, 'the paths are cut after whole characters, and say so');

# The dump restores completely: every row, not one refused for a broken byte sequence.
my $dump = $node->basedir . '/encoding.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('postgres') ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
{
	local $ENV{PGOPTIONS} = '-c telemetry.restoring=on';
	$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('restored'), $dump ],
		'pg_restore without a single error');
}
my $quarantine = q{SELECT string_agg(md5(q::text), ',' ORDER BY id) FROM telemetry.quarantine q};
is($node->safe_psql('restored', $quarantine), $node->safe_psql('postgres', $quarantine),
	'the quarantine comes back identical');

# Another encoding: refused before anything is made.
for my $encoding ('LATIN1', 'SQL_ASCII')
{
	my $db = lc "db_$encoding";
	$node->safe_psql('postgres', "CREATE DATABASE $db ENCODING '$encoding' LOCALE 'C' TEMPLATE template0");
	my ($rc, $out, $err) = $node->psql($db, 'CREATE EXTENSION telemetry CASCADE');
	isnt($rc, 0, "CREATE EXTENSION is refused in a $encoding database");
	like($err, qr/telemetry needs a database with encoding UTF8; this one is \Q$encoding\E/, 'and says why');
	is($node->safe_psql($db, q{SELECT count(*) FROM pg_namespace WHERE nspname = 'telemetry'}), '0',
		'nothing is left behind');
}

$node->stop;
done_testing();
