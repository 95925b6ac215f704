# Installation: the shared library exports what PostgreSQL needs, the extension installs with
# the library preloaded, its data survives a restart, and DROP EXTENSION leaves nothing behind.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# The installed library: the magic block and every entry point, unmangled (C linkage).
my $pkglibdir = `pg_config --pkglibdir`;
chomp $pkglibdir;
my $nm = `nm -D --defined-only $pkglibdir/telemetry.so`;
is($?, 0, 'nm -D reads telemetry.so');
for my $symbol (qw(Pg_magic_func _PG_init telemetry_track pg_finfo_telemetry_track
                   telemetry_track_default_tenant telemetry_validate_catalog telemetry_catalog_changed
                   telemetry_self_test telemetry_valid_event_name))
{
	like($nm, qr/ T \Q$symbol\E$/m, "exports $symbol unmangled");
}
unlike($nm, qr/ T _Z\S*telemetry_track/, 'no C++-mangled entry point');

# Every C function that any installed script declares is exported: this version's install
# script, and those of earlier releases and the upgrades from them, which run with this library.
my ($version) = slurp_file('telemetry.control') =~ /^default_version = '(.*)'/m;
my $extension_dir = `pg_config --sharedir` =~ s/\n//r . '/extension';
my @scripts = glob("$extension_dir/telemetry--*.sql");
ok((grep { $_ eq "$extension_dir/telemetry--$version.sql" } @scripts), "the install script of $version is installed");
my %c_symbols;
for my $script (@scripts)
{
	$c_symbols{$_} = 1 for slurp_file($script) =~ /'MODULE_PATHNAME', '(\w+)'/g;
}
ok(scalar(keys %c_symbols) >= 6, 'the install scripts declare C functions');
like($nm, qr/ T \Q$_\E$/m, "declared C function $_ is exported") for sort keys %c_symbols;

my $node = PostgreSQL::Test::Cluster->new('install');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'telemetry'");
$node->start;

$node->safe_psql('postgres', 'CREATE EXTENSION telemetry CASCADE');
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'telemetry'"),
	$version, 'extension installed');
is($node->safe_psql('postgres', 'SELECT count(*) FROM telemetry.partitions()'), '98',
	'90 days back, today and 7 days ahead have partitions');

$node->safe_psql('postgres', q{
	SELECT telemetry.define_event('app_started');
	SELECT telemetry.track('app_started', '{"build": 1}');
	SELECT telemetry.track('00000000-0000-0000-0000-00000000000a'::uuid, 'app_started', '{"build": 2}', 'u1');
});

# A restart keeps events and catalog; the new backend builds its catalog cache afresh.
$node->restart;
is($node->safe_psql('postgres', 'SELECT count(*) FROM telemetry.events'), '2', 'events survive a restart');
ok($node->safe_psql('postgres', "SELECT telemetry.track('app_started') IS NOT NULL"),
	'tracking works after a restart');

# The library also loads on demand, without preloading (the worker will need preloading).
my $plain = PostgreSQL::Test::Cluster->new('not_preloaded');
$plain->init;
$plain->start;
$plain->safe_psql('postgres', 'CREATE EXTENSION telemetry CASCADE');
$plain->safe_psql('postgres', "SELECT telemetry.define_event('x'); SELECT telemetry.track('x');");
is($plain->safe_psql('postgres', 'SELECT count(*) FROM telemetry.events'), '1', 'works without preloading');
$plain->stop;

# DROP EXTENSION removes every object, partitions included; CREATE EXTENSION works again.
$node->safe_psql('postgres', 'DROP EXTENSION telemetry');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = 'telemetry'}), '0', 'DROP EXTENSION leaves no relation behind (the schema stays, empty)');
$node->safe_psql('postgres', 'CREATE EXTENSION telemetry CASCADE');
is($node->safe_psql('postgres', 'SELECT count(*) FROM telemetry.events'), '0', 'reinstalled empty');

# A schema owned by someone else is refused.
$node->safe_psql('postgres', q{
	DROP EXTENSION telemetry;
	DROP SCHEMA telemetry;
	CREATE ROLE not_trusted;
	CREATE SCHEMA telemetry AUTHORIZATION not_trusted;
});
my ($rc, $out, $err) = $node->psql('postgres', 'CREATE EXTENSION telemetry CASCADE');
isnt($rc, 0, 'CREATE EXTENSION refuses a schema owned by another role');
like($err, qr/schema telemetry exists and is owned by another, non-superuser role/, 'and says why');

$node->stop;
done_testing();
