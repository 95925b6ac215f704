# The metrics endpoint (docs/observe.md): with telemetry preloaded and telemetry.metrics_listen
# on a loopback port, a real Prometheus server (Debian's, scripts/setup.sh) scrapes GET /metrics
# every second and sees exactly the events tracked (accepted by event type, rejected), its target
# up and its parser without complaint. Then the endpoint is flooded while events are tracked and
# the maintenance worker runs every second: 200 connections at once (at most 16 stay open, the
# rest are closed at once), connections that never send a byte and slowloris requests that
# never finish (closed by the server within 10 s), 64 KiB of headers, random bytes, a huge
# declared Content-Length, other methods and paths: each gets its 4xx or is closed, never a
# hang, and through it all a plain GET /metrics answers 200 within 2 s, every track() returns,
# maintenance runs succeed, and no process of the server dies. It listens on loopback only.
# Last, a bearer token file (reloaded, and after a restart) and a basic-auth file: 401 without
# the credentials, 200 with them, and Prometheus scraping with its credentials_file stays up.
use strict;
use warnings;
use Errno;
use HTTP::Tiny;
use IO::Select;
use IO::Socket::INET;
use IPC::Run;
use JSON::PP;
use MIME::Base64;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

# A write to a socket the server closed must not kill the test.
$SIG{PIPE} = 'IGNORE';

my $prometheus = '/usr/bin/prometheus';
# Not a skip: scripts/setup.sh installs it, and a missing Prometheus must not pass silently.
ok(-x $prometheus, "$prometheus is installed") or die "prometheus is missing: run scripts/setup.sh";

my $limit = 16;    # concurrent connections the endpoint serves
my $metrics_port = PostgreSQL::Test::Cluster::get_free_port();
my $node = PostgreSQL::Test::Cluster->new('metrics');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'telemetry'
telemetry.database = 'postgres'
telemetry.naptime = 1
telemetry.metrics_listen = '127.0.0.1:$metrics_port'
});
$node->start;
my $basedir = $node->basedir;
my $url = "http://127.0.0.1:$metrics_port/metrics";

# GET $path of the endpoint, a fresh connection each time: [status, seconds, response]
# (status 599: HTTP::Tiny's own, the connection failed or was closed without an answer).
sub get
{
	my (%o) = @_;
	my $http = HTTP::Tiny->new(timeout => $o{timeout} // 5, keep_alive => 0);
	my $t0 = time;
	my $r = $http->get("http://127.0.0.1:$metrics_port" . ($o{path} // '/metrics'), { headers => $o{headers} // {} });
	return [ $r->{status}, time - $t0, $r ];
}

# A raw exchange: connects, writes $bytes (in pieces, giving up when the server stops reading or
# has closed), then reads until the server closes or $deadline seconds have passed. Returns
# [outcome, seconds, response]: the status code if a status line came, else 'closed' (EOF,
# reset or refused), else 'hang'.
sub raw_exchange
{
	my ($bytes, $deadline) = @_;
	$deadline //= 6;
	my $t0 = time;
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $metrics_port, Proto => 'tcp', Timeout => 2)
	  or return [ 'closed', time - $t0, '' ];
	$s->blocking(0);
	my $sel = IO::Select->new($s);
	my ($off, $in, $eof) = (0, '', 0);
	while ($off < length($bytes) && time - $t0 < $deadline)
	{
		last unless $sel->can_write(0.5);
		my $n = syswrite($s, $bytes, 16384, $off);
		if (!defined $n)
		{
			next if $!{EAGAIN} || $!{EWOULDBLOCK};
			last;    # EPIPE, ECONNRESET: the server closed (it may have answered first)
		}
		$off += $n;
	}
	while (!$eof && time - $t0 < $deadline)
	{
		next unless $sel->can_read(0.2);
		my $n = sysread($s, my $buf, 65536);
		if (!defined $n)
		{
			next if $!{EAGAIN} || $!{EWOULDBLOCK};
			$eof = 1;    # reset
		}
		elsif ($n == 0) { $eof = 1 }
		else
		{
			$in .= $buf;
			# An answer with its headers is enough: the server may keep the connection.
			$eof = 1 if $in =~ /\r\n\r\n/ && $in =~ m{^HTTP/1\.[01] \d{3}};
		}
	}
	close($s);
	my $elapsed = time - $t0;
	return [ $1, $elapsed, $in ] if $in =~ m{^HTTP/1\.[01] (\d{3})};
	return [ $eof ? 'closed' : 'hang', $elapsed, $in ];
}

# Whether the server has closed $sock (EOF or reset); an answer it sent first is read and dropped.
sub closed_by_server
{
	my ($sock) = @_;
	while (IO::Select->new($sock)->can_read(0))
	{
		my $n = sysread($sock, my $buf, 65536);
		return 1 if !defined $n && !($!{EAGAIN} || $!{EWOULDBLOCK});
		return 1 if defined $n && $n == 0;
		return 0 unless defined $n;
	}
	return 0;
}

# ------------------------------------------------------------------------------------------
# 1. Events, and Prometheus scraping them.
$node->safe_psql('postgres', q{
	CREATE EXTENSION telemetry CASCADE;
	SELECT telemetry.load_catalog('{"events": [
	    {"name": "page_viewed", "schema": {"type": "object", "properties": {"path": {"type": "string"}}}},
	    {"name": "signup_completed", "schema": {"type": "object"}},
	    {"name": "flood_ingest", "schema": {"type": "object"}}]}');
});
my ($pages, $signups, $rejected) = (600, 400, 3);
my $accepted = $pages + $signups;
is($node->safe_psql('postgres', qq{
	SELECT count(telemetry.track('page_viewed', jsonb_build_object('path', '/p/' || i), 'u' || i % 50, 's' || i % 7))
	FROM generate_series(1, $pages) AS i;
	SELECT count(telemetry.track('signup_completed', '{}'::jsonb, 'u' || i, 's' || i)) FROM generate_series(1, $signups) AS i;
}), "$pages\n$signups", "$accepted events tracked");
for my $i (1 .. $rejected)
{
	my ($rc, $out, $err) = $node->psql('postgres', "SELECT telemetry.track('no_such_event', '{}'::jsonb)");
	isnt($rc, 0, "an event of an unknown type is rejected ($i)");
}

my $ready = 0;
for (1 .. 300)
{
	my $r = get(timeout => 2);
	if ($r->[0] == 200) { $ready = 1; last }
	usleep(100_000);
}
ok($ready, 'GET /metrics answers 200') or die 'the endpoint does not answer: ' . slurp_file($node->logfile);
my $first = get();
like($first->[2]{headers}{'content-type'}, qr{^text/plain; version=0\.0\.4}, 'Content-Type of the text exposition 0.0.4');
like($first->[2]{content}, qr/^telemetry_build_info\{/m, 'the body has telemetry_build_info');
like($first->[2]{content}, qr/^telemetry_events_total\{[^}]*status="accepted"/m, 'and telemetry_events_total');
is($first->[2]{content}, $first->[2]{content} =~ s/\r//gr, 'lines end in \n');

# Listening on loopback only: every listening socket on the port is 127.0.0.1's, none in IPv6.
sub listeners
{
	my ($file) = @_;
	open(my $fh, '<', $file) or return ();
	my @found;
	while (<$fh>)
	{
		my ($local, $state) = (split ' ')[ 1, 3 ];
		next unless defined $state && $state eq '0A' && $local =~ /:([0-9A-F]{4})$/;
		push @found, $local if hex($1) == $metrics_port;
	}
	return @found;
}
is(join(' ', listeners('/proc/net/tcp')), sprintf('0100007F:%04X', $metrics_port),
	'one listening socket, on 127.0.0.1');
is(join(' ', listeners('/proc/net/tcp6')), '', 'none in IPv6');
# And an address of this machine other than loopback, if it has one, refuses the connection.
my $probe = IO::Socket::INET->new(Proto => 'udp', PeerAddr => '192.0.2.1', PeerPort => 9);
my $own = $probe ? $probe->sockhost : undef;
SKIP:
{
	skip 'no address other than loopback', 1 unless $own && $own !~ /^(?:127\.|0\.)/;
	ok(!IO::Socket::INET->new(PeerAddr => $own, PeerPort => $metrics_port, Proto => 'tcp', Timeout => 2),
		"not reachable on $own");
}

# Prometheus, in the foreground under IPC::Run, stopped even if the test dies. It scrapes with a
# bearer token file from the start: the endpoint takes no token until section 4 sets one.
my $prom_port = PostgreSQL::Test::Cluster::get_free_port();
my $token = 'tok-' . join('', map { sprintf '%02x', int rand 256 } 1 .. 16);
my $token_file = "$basedir/metrics_token";
open(my $tf, '>', $token_file) or die $!;
print $tf "$token\n";    # a trailing newline, as echo writes it
close($tf);
open(my $conf, '>', "$basedir/prometheus.yml") or die $!;
print $conf <<"EOF";
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: telemetry
    authorization:
      type: Bearer
      credentials_file: $token_file
    static_configs:
      - targets: ['127.0.0.1:$metrics_port']
EOF
close($conf);
my $prom = IPC::Run::start(
	[ $prometheus, "--config.file=$basedir/prometheus.yml", "--storage.tsdb.path=$basedir/prometheus_data",
	  "--web.listen-address=127.0.0.1:$prom_port", '--log.level=warn' ],
	'<', \undef, '>>', "$basedir/prometheus.log", '2>>', "$basedir/prometheus.log");
END { $prom->kill_kill if $prom && $prom->pumpable; }

my $prom_http = HTTP::Tiny->new(timeout => 5);
my $prom_ready = 0;
for (1 .. 300)
{
	last unless $prom->pumpable;
	if ($prom_http->get("http://127.0.0.1:$prom_port/-/ready")->{status} == 200) { $prom_ready = 1; last }
	usleep(100_000);
}
ok($prom_ready, 'Prometheus is ready') or die 'Prometheus did not start: ' . slurp_file("$basedir/prometheus.log");

# The value of a PromQL expression that yields one sample, or undef.
sub promql
{
	my ($expr) = @_;
	my $r = $prom_http->get("http://127.0.0.1:$prom_port/api/v1/query?" . $prom_http->www_form_urlencode({ query => $expr }));
	return undef unless $r->{success};
	my $result = decode_json($r->{content})->{data}{result};
	return undef unless ref $result eq 'ARRAY' && @$result == 1;
	return $result->[0]{value}[1];
}

# Polls until $expr equals $want (numerically); returns the last value seen.
sub promql_until
{
	my ($expr, $want, $seconds) = @_;
	my $v;
	my $until = time + ($seconds // 30);
	while (time < $until)
	{
		$v = promql($expr);
		return $v if defined $v && $v == $want;
		usleep(250_000);
	}
	return $v;
}

is(promql_until('sum(telemetry_events_total{status="accepted"})', $accepted), $accepted,
	"Prometheus sees the $accepted accepted events");
is(promql_until('sum(telemetry_events_total{status="accepted",event_type="page_viewed"})', $pages), $pages,
	"$pages of them page_viewed");
is(promql_until('sum(telemetry_events_total{status="accepted",event_type="signup_completed"})', $signups), $signups,
	"$signups signup_completed");
is(promql_until('sum(telemetry_events_total{status="rejected"})', $rejected), $rejected, "and $rejected rejected");
is(promql_until('sum(telemetry_events_received_total)', $accepted + $rejected), $accepted + $rejected,
	'telemetry_events_received_total: every event received');
is(promql_until('up{job="telemetry"}', 1), 1, 'up{job="telemetry"} is 1');
ok(defined promql('count(telemetry_build_info)'), 'telemetry_build_info is scraped');
my $targets = decode_json($prom_http->get("http://127.0.0.1:$prom_port/api/v1/targets")->{content});
my ($target) = @{ $targets->{data}{activeTargets} };
is($target->{health} . '|' . $target->{lastError}, 'up|', "the target is healthy, and Prometheus's parser had nothing to say");

# ------------------------------------------------------------------------------------------
# 2. The flood. Events are tracked all along through one session (a few every tick), and the
# maintenance worker runs every second.
my $started = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');
my $workers_sql = q{SELECT string_agg(backend_type || ' ' || pid, ', ' ORDER BY backend_type, pid)
	FROM pg_stat_activity WHERE backend_type LIKE 'telemetry%'};
my $workers = $node->safe_psql('postgres', $workers_sql);
like($workers, qr/telemetry maintenance \d+/, "the server's telemetry workers: $workers");
my $flood_start = $node->safe_psql('postgres', 'SELECT clock_timestamp()');
my $log_offset = -s $node->logfile;
my $ingest = $node->background_psql('postgres');
my ($flood_events, $ingest_calls, $slowest_ingest) = (0, 0, 0);
sub ingest_some
{
	my $t0 = time;
	my $n = $ingest->query_safe(q{
		SELECT count(telemetry.track('flood_ingest', '{}'::jsonb, 'f' || i, 'flood')) FROM generate_series(1, 20) AS i});
	$flood_events += $n;
	$ingest_calls++;
	$slowest_ingest = time - $t0 if time - $t0 > $slowest_ingest;
	return;
}

# 2a. 200 connections at once, none sending anything.
my $t_burst = time;
my @burst;
for (1 .. 200)
{
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $metrics_port, Proto => 'tcp', Timeout => 2);
	next unless $s;
	$s->blocking(0);
	push @burst, $s;
}
note sprintf '%d of 200 connections were established in %.2f s', scalar(@burst), time - $t_burst;
my %closed_at;
my $open = scalar @burst;
while (time - $t_burst < 3)
{
	for my $i (0 .. $#burst)
	{
		$closed_at{$i} //= time - $t_burst if closed_by_server($burst[$i]);
	}
	$open = @burst - keys %closed_at;
	last if $open <= $limit;
	ingest_some();
	usleep(100_000);
}
cmp_ok($open, '<=', $limit, "of 200 connections at once, at most $limit stay open ($open after "
	  . sprintf('%.1f s)', time - $t_burst));
my $full = get(timeout => 5);
cmp_ok($full->[1], '<', 2, "a GET while every slot is taken is answered or closed at once (status $full->[0])");
# Those kept, idle, are closed by the server: a request must arrive within 5 s.
while (keys %closed_at < @burst && time - $t_burst < 12)
{
	for my $i (0 .. $#burst)
	{
		$closed_at{$i} //= time - $t_burst if closed_by_server($burst[$i]);
	}
	ingest_some();
	usleep(200_000);
}
my ($slowest_close) = sort { $b <=> $a } values %closed_at;
is(scalar(keys %closed_at), scalar(@burst), 'every connection of the burst is closed by the server');
cmp_ok($slowest_close // 99, '<', 10, sprintf('the idle ones within 10 s (the last after %.1f s)', $slowest_close // 99));
close($_) for @burst;

# 2b. Slowloris: 10 requests that send a header line every half second and never end, while bad
# requests come one after the other and a plain GET /metrics is timed between them.
my @slow;
for (1 .. 10)
{
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $metrics_port, Proto => 'tcp', Timeout => 2)
	  or next;
	$s->blocking(0);
	syswrite($s, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n");
	push @slow, { sock => $s, opened => time };
}
is(scalar(@slow), 10, 'ten slowloris connections opened');

my $garbage = join '', map { chr int rand 256 } 1 .. 4096;
my @bad = (
	[ 'random bytes', $garbage, [ 400, 'closed' ] ],
	[ 'a request line of garbage', "HELLO THERE\r\n\r\n", [ 400, 'closed' ] ],
	[ 'a NUL in the request line', "GET /met\0rics HTTP/1.1\r\nHost: x\r\n\r\n", [ 400, 404, 'closed' ] ],
	[ 'an unknown protocol', "GET /metrics SPDY/9\r\nHost: x\r\n\r\n", [ 400, 505, 'closed' ] ],
	[ '64 KiB of headers', "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " . ('a' x 65536) . "\r\n\r\n", [ 431, 400, 'closed' ] ],
	[ '64 KiB of request line', 'GET /' . ('m' x 65536) . " HTTP/1.1\r\nHost: x\r\n\r\n", [ 414, 431, 400, 'closed' ] ],
	[ '2,000 small headers', "GET /metrics HTTP/1.1\r\n" . join('', map { "X-$_: y\r\n" } 1 .. 2000) . "\r\n", [ 431, 400, 'closed' ] ],
	[ 'POST with a huge Content-Length', "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\nabc",
	  [ 405, 413, 400, 'closed' ] ],
	[ 'GET with a huge Content-Length', "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n",
	  [ 200, 400, 413, 'closed' ] ],
	[ 'a negative Content-Length', "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", [ 200, 400, 'closed' ] ],
	[ 'POST', "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", [405] ],
	[ 'PUT', "PUT /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", [405] ],
	[ 'DELETE', "DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n", [405] ],
	[ 'PATCH', "PATCH /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", [405] ],
	[ 'GET /', "GET / HTTP/1.1\r\nHost: x\r\n\r\n", [404] ],
	[ 'GET /metric', "GET /metric HTTP/1.1\r\nHost: x\r\n\r\n", [404] ],
	[ 'GET /metrics/x', "GET /metrics/x HTTP/1.1\r\nHost: x\r\n\r\n", [404] ],
	[ 'GET /../etc/passwd', "GET /../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", [ 404, 400 ] ],
	[ 'GET /metrics over HTTP/1.0', "GET /metrics HTTP/1.0\r\n\r\n", [200] ],
);
my (@get_times, @get_statuses);
my $tick = 0;
my $t_slow = time;
while (time - $t_slow < 25)
{
	my $now = time;
	for my $c (@slow)
	{
		next if defined $c->{closed};
		if (closed_by_server($c->{sock})) { $c->{closed} = $now - $c->{opened}; next }
		syswrite($c->{sock}, "X-Slow-$tick: z\r\n") if $tick % 5 == 0;    # every half second
	}
	if ($tick % 3 == 0 && @bad)
	{
		my ($what, $bytes, $allowed) = @{ shift @bad };
		my $r = raw_exchange($bytes, 8);
		my %ok = map { $_ => 1 } @$allowed;
		ok($ok{ $r->[0] }, "$what: $r->[0] (allowed: @$allowed)")
		  or diag substr($r->[2], 0, 300);
		cmp_ok($r->[1], '<', 6, sprintf('%s: within 6 s (%.2f s)', $what, $r->[1]));
		like($r->[2], qr/^Allow:.*\bGET\b/mi, "$what: 405 names the allowed method (Allow: GET)")
		  if $r->[0] eq '405';
	}
	elsif ($tick % 3 == 1)
	{
		my $r = get(timeout => 5);
		push @get_times, $r->[1];
		push @get_statuses, $r->[0];
	}
	ingest_some() if $tick % 2 == 0;
	last if !@bad && !grep { !defined $_->{closed} } @slow;
	$tick++;
	usleep(100_000);
}
my @never = grep { !defined $_->{closed} } @slow;
is(scalar(@never), 0, 'every slowloris connection was closed by the server');
my ($slowest_loris) = sort { $b <=> $a } map { $_->{closed} // 99 } @slow;
cmp_ok($slowest_loris, '<', 10, sprintf('within 10 s of its first byte (the last after %.1f s)', $slowest_loris));
is(scalar(@bad), 0, 'every bad request was sent');
close($_->{sock}) for @slow;

# 2c. Many garbage clients at once: each is answered or closed, none hangs.
my @storm;
for (1 .. 40)
{
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $metrics_port, Proto => 'tcp', Timeout => 2)
	  or next;
	$s->blocking(0);
	syswrite($s, join('', map { chr int rand 256 } 1 .. 1024) . "\r\n\r\n");
	push @storm, { sock => $s };
}
my $t_storm = time;
while (grep({ !defined $_->{closed} } @storm) && time - $t_storm < 8)
{
	for my $c (@storm)
	{
		$c->{closed} //= time - $t_storm if closed_by_server($c->{sock});
	}
	ingest_some();
	usleep(100_000);
}
is(scalar(grep { !defined $_->{closed} } @storm), 0, scalar(@storm) . ' clients sending garbage at once: all closed');
close($_->{sock}) for @storm;

# During the flood, plain GETs: 200, within 2 s.
note 'GET /metrics during the flood: ' . join(', ', map { sprintf '%s %.3f s', $get_statuses[$_], $get_times[$_] } 0 .. $#get_times);
cmp_ok(scalar(@get_times), '>=', 5, 'GET /metrics was timed during the flood');
is(join(',', grep { $_ != 200 } @get_statuses), '', 'every GET during the flood answered 200');
my ($slowest_get) = sort { $b <=> $a } @get_times;
cmp_ok($slowest_get // 99, '<', 2, sprintf('each within 2 s (the slowest %.3f s)', $slowest_get // 99));

# ------------------------------------------------------------------------------------------
# 3. After the flood.
my $after = get(timeout => 5);
is($after->[0], 200, 'after the flood GET /metrics answers 200');
cmp_ok($after->[1], '<', 2, sprintf('within 2 s (%.3f s)', $after->[1]));
is(promql_until('up{job="telemetry"}', 1, 15), 1, "Prometheus's scrapes succeed again");

$ingest->quit;
note sprintf '%d track() calls during the flood, the slowest statement %.3f s', $ingest_calls, $slowest_ingest;
cmp_ok($ingest_calls, '>=', 20, "events were tracked all through the flood ($ingest_calls statements)");
is($node->safe_psql('postgres', q{SELECT count(*) FROM telemetry.events WHERE name = 'flood_ingest'}), $flood_events,
	"all $flood_events events tracked during the flood are stored");
cmp_ok($slowest_ingest, '<', 5, sprintf('no track() statement waited on the flood (the slowest %.3f s)', $slowest_ingest));
is(promql_until('sum(telemetry_events_total{status="accepted"})', $accepted + $flood_events, 15), $accepted + $flood_events,
	'and Prometheus counts them');

ok($node->poll_query_until('postgres', qq{
	SELECT count(*) > 0 FROM telemetry.maintenance_runs WHERE started_at > '$flood_start' AND status = 'succeeded'}),
	'maintenance runs started after the flood began succeeded');
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM telemetry.maintenance_runs WHERE started_at > '$flood_start' AND status = 'failed'}),
	'0', 'none failed');
is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'), $started, 'the postmaster is the same');
is($node->safe_psql('postgres', $workers_sql), $workers, 'and so are its telemetry workers');
my $flood_log = slurp_file($node->logfile, $log_offset);
unlike($flood_log, qr/terminated by signal|server process .* was terminated|all server processes terminated/,
	'no process crashed');
unlike($flood_log, qr/background worker "[^"]*" \(PID \d+\) exited with exit code/, 'no background worker exited');

# ------------------------------------------------------------------------------------------
# 4. Credentials. A bearer token file, set by reload: 401 without it, 200 with it (Prometheus's
# scrapes carry it), and after a restart; then a basic-auth file.
$node->safe_psql('postgres', "ALTER SYSTEM SET telemetry.metrics_bearer_token_file = '$token_file'; SELECT pg_reload_conf();");
my $refused;
for (1 .. 100)
{
	$refused = get();
	last if $refused->[0] == 401;
	usleep(100_000);
}
my $bearer_at = time;
is($refused->[0], 401, 'with a token file set (reload), a GET without the token: 401');
like($refused->[2]{headers}{'www-authenticate'} // '', qr/^Bearer\b/i, 'WWW-Authenticate: Bearer');
is(get(headers => { Authorization => "Bearer $token" })->[0], 200, 'with the token: 200');
is(get(headers => { Authorization => "Bearer ${token}x" })->[0], 401, 'a longer token: 401');
is(get(headers => { Authorization => 'Bearer ' . substr($token, 0, -1) })->[0], 401, 'a shorter one: 401');
is(get(headers => { Authorization => 'Basic ' . encode_base64("x:$token", '') })->[0], 401, 'the token as basic auth: 401');
# Prometheus's scrapes carry the token from its credentials_file: a scrape after the endpoint
# began asking for it succeeded.
my $scraped = 0;
for (1 .. 60)
{
	my $at = promql('timestamp(up{job="telemetry"})');
	if (defined $at && $at > $bearer_at + 0.1 && promql('up{job="telemetry"}') == 1)
	{
		$scraped = 1;
		last;
	}
	usleep(250_000);
}
ok($scraped, "Prometheus's scrapes with its credentials_file succeed once the token is required");
$prom->kill_kill;

$node->restart;
my $restarted;
for (1 .. 300)
{
	$restarted = get(timeout => 2);
	last if $restarted->[0] == 401 || $restarted->[0] == 200;
	usleep(100_000);
}
is($restarted->[0], 401, 'after a restart, without the token: 401');
is(get(headers => { Authorization => "Bearer $token" })->[0], 200, 'with it: 200');

my $basic_file = "$basedir/metrics_basic";
open(my $bf, '>', $basic_file) or die $!;
print $bf "scraper:s3cr3t:with:colons\n";
close($bf);
$node->safe_psql('postgres', "ALTER SYSTEM RESET telemetry.metrics_bearer_token_file;
	ALTER SYSTEM SET telemetry.metrics_basic_auth_file = '$basic_file'; SELECT pg_reload_conf();");
my $basic;
for (1 .. 100)
{
	$basic = get(headers => { Authorization => 'Basic ' . encode_base64('scraper:s3cr3t:with:colons', '') });
	last if $basic->[0] == 200;
	usleep(100_000);
}
is($basic->[0], 200, 'a basic-auth file (reload): 200 with user and password');
my $no_basic = get();
is($no_basic->[0], 401, 'without them: 401');
like($no_basic->[2]{headers}{'www-authenticate'} // '', qr/^Basic\b/i, 'WWW-Authenticate: Basic');
is(get(headers => { Authorization => 'Basic ' . encode_base64('scraper:s3cr3t', '') })->[0], 401, 'a wrong password: 401');
is(get(headers => { Authorization => 'Basic ' . encode_base64('other:s3cr3t:with:colons', '') })->[0], 401, 'a wrong user: 401');
is(get(headers => { Authorization => 'Basic !!!' })->[0], 401, 'credentials that are not base64: 401');

my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal|server process .* was terminated|all server processes terminated/,
	'no process crashed over the whole test');
unlike($log, qr/\Q$token\E/, 'the token never appears in the server log');

$node->stop;
done_testing();
