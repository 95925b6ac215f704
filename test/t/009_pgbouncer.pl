# Tenant tokens through a real PgBouncer in transaction pooling mode: two clients share one
# pooled role (app_pool) and, with a pool of one, one server connection, and a tenant never leaks
# from one client's transaction into the other's. PgBouncer hands the connection on between
# transactions without resetting anything (no DISCARD ALL in transaction mode, and its reset
# query is off here), so only set_tenant()'s end-of-transaction reset stands between the tenants:
# after a COMMIT, a ROLLBACK, a transaction that failed midway and a statement outside any
# transaction block, the next transaction, whoever runs it, starts acting for no tenant, sees no
# event, may ingest for no tenant, and cannot replay a token the other client used.
# A control shows the connection really is shared: a session setting made by one client is seen
# by the other, and every transaction reports the same backend pid.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $pgbouncer = '/usr/sbin/pgbouncer';
# Not a skip: scripts/setup.sh installs it, and a missing PgBouncer must not pass silently.
ok(-x $pgbouncer, "$pgbouncer is installed") or die "pgbouncer is missing: run scripts/setup.sh";

my $tenant_a = 'aaaaaaaa-0000-0000-0000-00000000000a';
my $tenant_b = 'bbbbbbbb-0000-0000-0000-00000000000b';

my $node = PostgreSQL::Test::Cluster->new('pgbouncer');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'telemetry'");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION telemetry CASCADE;
	SELECT telemetry.define_event('page_viewed');
	-- The application's pooled login role presents tokens; it acts for no tenant without one.
	CREATE ROLE app_pool LOGIN;
	SELECT telemetry.grant_tenant_access('app_pool', NULL, 'token');
	-- The issuer mints them, over its own direct connection.
	CREATE ROLE issuer;
	SELECT telemetry.grant_tenant_access('issuer', NULL, 'issuer');
});

# Single-use tokens, minted ahead: $n for a tenant.
sub mint
{
	my ($tenant, $n) = @_;
	return split /\n/, $node->safe_psql('postgres',
		"SET ROLE issuer; SELECT telemetry.tenant_token('$tenant') FROM generate_series(1, $n)");
}
my @tokens_a = mint($tenant_a, 5);
my @tokens_b = mint($tenant_b, 5);
is(scalar(@tokens_a) + scalar(@tokens_b), 10, 'the issuer minted ten tokens');

# PgBouncer, as the user the test runs as: transaction pooling, one server connection for
# app_pool, and nothing run on the connection when it passes from one client to another.
my $basedir = $node->basedir;
my $bouncer_port = PostgreSQL::Test::Cluster::get_free_port();
my $bouncer_socket_dir = PostgreSQL::Test::Utils::tempdir_short();
my $node_host = $node->host;
my $node_port = $node->port;
open(my $users, '>', "$basedir/pgbouncer_users.txt") or die $!;
print $users qq{"app_pool" ""\n};
close($users);
open(my $ini, '>', "$basedir/pgbouncer.ini") or die $!;
print $ini <<"EOF";
[databases]
postgres = host=$node_host port=$node_port dbname=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bouncer_port
unix_socket_dir = $bouncer_socket_dir
auth_type = trust
auth_file = $basedir/pgbouncer_users.txt
pool_mode = transaction
default_pool_size = 1
min_pool_size = 0
reserve_pool_size = 0
max_db_connections = 1
max_client_conn = 10
server_reset_query =
server_reset_query_always = 0
pidfile = $basedir/pgbouncer.pid
EOF
close($ini);

# In the foreground, under IPC::Run, so it is stopped even if the test dies.
my $bouncer = IPC::Run::start([ $pgbouncer, "$basedir/pgbouncer.ini" ],
	'<', \undef, '>>', "$basedir/pgbouncer.stdout", '2>>', "$basedir/pgbouncer.stdout");
END { $bouncer->kill_kill if $bouncer && $bouncer->pumpable; }

my $bouncer_connstr = "host=127.0.0.1 port=$bouncer_port dbname=postgres user=app_pool";
# PgBouncer refuses startup parameters it does not know, options among them.
delete $ENV{PGOPTIONS};
my $accepting = 0;
for (1 .. 10 * $PostgreSQL::Test::Utils::timeout_default)
{
	my ($out, $err);
	if (IPC::Run::run([ 'psql', '-XAtq', '-d', $bouncer_connstr, '-c', 'SELECT 1' ], '>', \$out, '2>', \$err)
		&& $out eq "1\n")
	{
		$accepting = 1;
		last;
	}
	last unless $bouncer->pumpable;
	select(undef, undef, undef, 0.1);
}
ok($accepting, 'PgBouncer accepts connections') or die 'PgBouncer did not start: ' . slurp_file("$basedir/pgbouncer.stdout");

# A client: one psql session connected through PgBouncer for the whole test, fed statement by
# statement (Cluster's background_psql only connects to the node itself). send_sql() queues SQL;
# result() waits for it and returns its output and its error text (VERBOSITY verbose: with the
# SQLSTATE). Each statement is followed by banners on stdout and stderr, as BackgroundPsql does.
sub client
{
	my ($name) = @_;
	my $c = { name => $name, in => '', out => '', err => '', n => 0,
		timer => IPC::Run::timer($PostgreSQL::Test::Utils::timeout_default) };
	$c->{run} = IPC::Run::start([ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=0', '-v', 'VERBOSITY=verbose',
			'-d', $bouncer_connstr ],
		'<', \$c->{in}, '>', \$c->{out}, '2>', \$c->{err}, $c->{timer});
	return $c;
}

sub send_sql
{
	my ($c, $sql) = @_;
	my $banner = "$c->{name} done " . ++$c->{n};
	$c->{banner} = $banner;
	$c->{in} .= "$sql\n;\n\\echo '$banner'\n\\warn '$banner'\n";
	$c->{run}->pump_nb;
}

sub done
{
	my ($c) = @_;
	return $c->{out} =~ /^\Q$c->{banner}\E\n/m && $c->{err} =~ /^\Q$c->{banner}\E\n/m;
}

sub result
{
	my ($c) = @_;
	$c->{timer}->start($PostgreSQL::Test::Utils::timeout_default);
	$c->{run}->pump until done($c) || $c->{timer}->is_expired;
	die "$c->{name}: no answer within the timeout" unless done($c);
	my ($out, $err) = ($c->{out}, $c->{err});
	$out =~ s/\n?\Q$c->{banner}\E\n//;
	$err =~ s/\Q$c->{banner}\E\n//;
	$c->{out} = $c->{err} = '';
	return ($out, $err);
}

# A statement that must succeed: its output.
sub ok_sql
{
	my ($c, $sql, $name) = @_;
	send_sql($c, $sql);
	my ($out, $err) = result($c);
	is($err, '', "$name: no error") unless $err eq '';
	return $out;
}

# A statement that must fail: its error text.
sub failing_sql
{
	my ($c, $sql) = @_;
	send_sql($c, $sql);
	my ($out, $err) = result($c);
	return $err;
}

my $client_a = client('A');
my $client_b = client('B');
my %client_tenant = (A => $tenant_a, B => $tenant_b);
my %tokens = (A => \@tokens_a, B => \@tokens_b);
my %committed = ($tenant_a => 0, $tenant_b => 0);
my $track = q{telemetry.track('%s'::uuid, 'page_viewed', '{"round": %d}'::jsonb, 'u1'::text, 's1'::text) IS NOT NULL};

# The server connection of the pool: every transaction of either client must run on it.
my $server_pid = ok_sql($client_a, 'SELECT pg_backend_pid()', 'pid');
like($server_pid, qr/^\d+$/, 'the pooled server connection has a backend pid');
is($node->safe_psql('postgres', "SELECT string_agg(pid::text, ',') FROM pg_stat_activity WHERE usename = 'app_pool'"),
	$server_pid, 'PgBouncer holds exactly one server connection for app_pool');

# The control: session state does cross from one client to the other on this connection.
ok_sql($client_a, q{SET telemetry_test.marker = 'set by A'}, 'marker');
is(ok_sql($client_b, q{SELECT pg_backend_pid() || ' ' || current_setting('telemetry_test.marker', true)}, 'marker'),
	"$server_pid set by A", "B sees a session setting A made: the two clients share one session");

# The start of a transaction, checked: on the shared connection, acting for no tenant, seeing no
# event (there are some, of both tenants, after round 1), unable to ingest for the other client's
# tenant, nor for its own before its token.
sub fresh_transaction
{
	my ($c, $label) = @_;
	my $other = $client_tenant{ $c->{name} eq 'A' ? 'B' : 'A' };
	ok_sql($c, 'BEGIN', "$label BEGIN");
	is(ok_sql($c, q{SELECT pg_backend_pid() || ' ' || coalesce(telemetry.current_tenant()::text, 'none')}, $label),
		"$server_pid none", "$label: $c->{name}'s transaction starts on the shared connection, acting for no tenant");
	is(ok_sql($c, 'SELECT count(*) FROM telemetry.events', $label), '0', "$label: $c->{name} sees no event before its token");
	ok_sql($c, 'SAVEPOINT before_track', $label);
	like(failing_sql($c, 'SELECT ' . sprintf($track, $other, 0)), qr/ERROR:  42501: permission denied to ingest events for this tenant/,
		"$label: $c->{name} may not ingest for the other tenant (42501)");
	ok_sql($c, 'ROLLBACK TO SAVEPOINT before_track', $label);
}

# Acting for the client's own tenant, with a fresh token, in the open transaction.
sub act_for_own_tenant
{
	my ($c, $label, $round) = @_;
	my $tenant = $client_tenant{ $c->{name} };
	my $token = shift @{ $tokens{ $c->{name} } };
	$c->{last_token} = $token;
	is(ok_sql($c, "SELECT telemetry.set_tenant('$token')", $label), $tenant, "$label: set_tenant() returns $c->{name}'s tenant");
	is(ok_sql($c, 'SELECT telemetry.current_tenant()', $label), $tenant, "$label: current_tenant() is $c->{name}'s tenant");
	is(ok_sql($c, 'SELECT ' . sprintf($track, $tenant, $round), $label), 't', "$label: $c->{name} tracks for its tenant");
}

# What the client sees with its token: its tenant's events only, never the other's.
sub sees_only_own
{
	my ($c, $label, $expected) = @_;
	my $tenant = $client_tenant{ $c->{name} };
	is(ok_sql($c, "SELECT count(*) FILTER (WHERE tenant_id <> '$tenant') || ' ' || count(*) FROM telemetry.events", $label),
		"0 $expected", "$label: $c->{name} sees its $expected events and none of the other tenant's");
}

# Five rounds; in each, one client ends its transaction in its own way and the other client's
# next transaction, on the same connection, is checked from its first statement.
my @rounds = (
	[ 'commit',         $client_a, $client_b ],
	[ 'rollback',       $client_b, $client_a ],
	[ 'error midway',   $client_a, $client_b ],
	[ 'no transaction', $client_b, $client_a ],
	[ 'queued',         $client_a, $client_b ],
);
my $round = 0;
for my $r (@rounds)
{
	my ($how, $first, $second) = @$r;
	$round++;
	my $label = "round $round ($how)";
	my $first_tenant = $client_tenant{ $first->{name} };
	my $second_tenant = $client_tenant{ $second->{name} };

	# The first client acts for its tenant, then ends the transaction.
	if ($how eq 'no transaction')
	{
		# set_tenant() in a statement of its own: it acts for that statement only (a WARNING says so).
		my $token = shift @{ $tokens{ $first->{name} } };
		send_sql($first, "SELECT telemetry.set_tenant('$token'), " . sprintf($track, $first_tenant, $round));
		my ($out, $err) = result($first);
		is($out, "$first_tenant|t", "$label: $first->{name} acts for its tenant in one statement");
		like($err, qr/outside a transaction block acts for this statement only/, "$label: with a WARNING saying so");
		$committed{$first_tenant}++;
		is(ok_sql($first, q{SELECT coalesce(telemetry.current_tenant()::text, 'none')}, $label), 'none',
			"$label: the next statement of $first->{name} acts for no tenant");
	}
	else
	{
		fresh_transaction($first, "$label, $first->{name}");
		act_for_own_tenant($first, "$label, $first->{name}", $round);
		sees_only_own($first, "$label, $first->{name}", $committed{$first_tenant} + 1);
		$committed{$first_tenant}++ if $how eq 'commit' || $how eq 'queued';
		if ($how eq 'error midway')
		{
			like(failing_sql($first, 'SELECT 1 / 0'), qr/ERROR:  22012/, "$label: $first->{name}'s transaction fails midway");
			ok_sql($first, 'ROLLBACK', $label);
		}
		elsif ($how eq 'rollback')
		{
			ok_sql($first, 'ROLLBACK', $label);
		}
		elsif ($how eq 'queued')
		{
			# The second client asks while the first still holds the connection, tenant set: it
			# waits for the pool, and gets the connection straight after the COMMIT.
			send_sql($second, q{BEGIN; SELECT pg_backend_pid() || ' ' || coalesce(telemetry.current_tenant()::text, 'none')});
			my $until = time + 1;
			$second->{run}->pump_nb, select(undef, undef, undef, 0.05) while time < $until && !done($second);
			ok(!done($second), "$label: $second->{name} waits while $first->{name}'s transaction holds the connection");
			ok_sql($first, 'COMMIT', $label);
			my ($out, $err) = result($second);
			is("$out$err", "$server_pid none", "$label: $second->{name}'s queued transaction gets the connection without the tenant");
			ok_sql($second, 'ROLLBACK', $label);
		}
		else
		{
			ok_sql($first, 'COMMIT', $label);
		}
	}

	# The second client's next transaction.
	fresh_transaction($second, "$label, $second->{name}");
	if ($round == 1)
	{
		# A token the first client used is refused to the second, and leaves it acting for no tenant.
		ok_sql($second, 'SAVEPOINT before_replay', $label);
		like(failing_sql($second, "SELECT telemetry.set_tenant('$first->{last_token}')"),
			qr/ERROR:  42501: tenant token was already used/, "$label: $second->{name} cannot replay $first->{name}'s used token");
		ok_sql($second, 'ROLLBACK TO SAVEPOINT before_replay', $label);
		is(ok_sql($second, q{SELECT coalesce(telemetry.current_tenant()::text, 'none')}, $label), 'none',
			"$label: the refused replay left $second->{name} acting for no tenant");
	}
	act_for_own_tenant($second, "$label, $second->{name}", $round);
	$committed{$second_tenant}++;
	sees_only_own($second, "$label, $second->{name}", $committed{$second_tenant});
	ok_sql($second, 'COMMIT', $label);
}

# And after the last round, neither client acts for a tenant.
for my $c ($client_a, $client_b)
{
	is(ok_sql($c, q{SELECT pg_backend_pid() || ' ' || coalesce(telemetry.current_tenant()::text, 'none')}, 'end'),
		"$server_pid none", "after the rounds, $c->{name} acts for no tenant on the same connection");
}

# What was committed is exactly what the committed transactions tracked: rolled-back and failed
# transactions left nothing; the pool still has its one connection.
is($node->safe_psql('postgres', "SELECT tenant_id || ' ' || count(*) FROM telemetry.events GROUP BY tenant_id ORDER BY tenant_id"),
	"$tenant_a $committed{$tenant_a}\n$tenant_b $committed{$tenant_b}",
	"the events stored are those of the committed transactions ($committed{$tenant_a} of A, $committed{$tenant_b} of B)");
is($node->safe_psql('postgres', "SELECT string_agg(pid::text, ',') FROM pg_stat_activity WHERE usename = 'app_pool'"),
	$server_pid, 'every transaction ran on the one server connection');

for my $c ($client_a, $client_b)
{
	$c->{in} .= "\\q\n";
	$c->{run}->finish;
}
$bouncer->signal('TERM');
$bouncer->finish;
note "PgBouncer's log:\n", slurp_file("$basedir/pgbouncer.stdout");
$node->stop;
done_testing();
