# The maintenance worker (DESIGN.md §6): with telemetry preloaded it materializes the daily
# rollups by itself and keeps them right when late events arrive; it comes back after being
# terminated; a kill -9 of the worker or of a session running CALL run_maintenance() in the
# middle of a step crashes and restarts the server, the step is recorded as interrupted and the
# next run completes; a step that fails (a lock timeout) is recorded, the rest of its run goes
# on and the next run retries it; SIGHUP changes its naptime; it never runs on a standby and
# starts once the standby is promoted; DROP EXTENSION leaves it idle, not failing in a loop, and
# CREATE EXTENSION puts it back to work. The postmaster restarts only where a process was
# killed on purpose.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('worker');
# Streaming, for the standby at the end.
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'telemetry'
telemetry.database = 'postgres'
telemetry.naptime = 1
# The cluster must come back after the kill -9s below (the test framework turns this off).
restart_after_crash = on
});
$node->start;

my $steps = 9;    # telemetry.maintenance_step_names()
my $tenant = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
my $nil = '00000000-0000-0000-0000-000000000000';

# The pid of the worker ('' when there is none).
sub worker_pid
{
	my ($n) = @_;
	return $n->safe_psql('postgres',
		q{SELECT string_agg(pid::text, ',') FROM pg_stat_activity WHERE backend_type = 'telemetry maintenance'});
}

sub max_run
{
	my ($n) = @_;
	return $n->safe_psql('postgres', 'SELECT coalesce(max(run_id), 0) FROM telemetry.maintenance_runs');
}

# True once a run after $after has all its steps succeeded.
sub complete_run_after
{
	my ($after) = @_;
	return qq{SELECT EXISTS (SELECT FROM telemetry.maintenance_runs WHERE run_id > $after
	                         GROUP BY run_id HAVING count(*) FILTER (WHERE status = 'succeeded') = $steps)};
}

# A raw event of $tenant, $days_ago UTC days back at $hour o'clock.
sub raw_event
{
	my ($t, $days_ago, $hour, $user, $session, $weight) = @_;
	$user = defined $user ? "'$user'" : 'NULL';
	return qq{INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, sample_weight, name,
	                  user_id, session_id, source, schema_version, properties)
	          VALUES ((((now() AT TIME ZONE 'UTC')::date - $days_ago) + time '$hour:00') AT TIME ZONE 'UTC', now(),
	                  '$t', gen_random_uuid(), $weight, 'ev', $user, '$session', 'server', '1-0-0', '{}');};
}

# An event through track(): the default (nil) tenant.
sub tracked_event
{
	my ($days_ago, $user, $session) = @_;
	return qq{SELECT telemetry.track(name => 'ev', properties => '{}'::jsonb, user_id => '$user'::varchar,
	                   session_id => '$session'::varchar,
	                   occurred_at => (((now() AT TIME ZONE 'UTC')::date - $days_ago) + time '12:00') AT TIME ZONE 'UTC');};
}

# The rollups are exactly a GROUP BY over the events of the days before the watermark, which
# has reached today (every earlier day is closed), with $cells cells.
sub rollups_match
{
	my ($cells) = @_;
	return qq{
WITH r AS (SELECT tenant_id, day, name, events, raw_events, users, sessions FROM telemetry.daily_rollups),
e AS (SELECT tenant_id, (occurred_at AT TIME ZONE 'UTC')::date AS day, name, sum(sample_weight::numeric) AS events,
             count(*) AS raw_events, count(DISTINCT user_id) AS users, count(DISTINCT session_id) AS sessions
      FROM telemetry.events
      WHERE occurred_at < (telemetry.rollup_watermark()::timestamp AT TIME ZONE 'UTC')
      GROUP BY 1, 2, 3)
SELECT telemetry.rollup_watermark() = (now() AT TIME ZONE 'UTC')::date
   AND NOT EXISTS (SELECT * FROM r EXCEPT SELECT * FROM e)
   AND NOT EXISTS (SELECT * FROM e EXCEPT SELECT * FROM r)
   AND (SELECT count(*) FROM r) = $cells};
}

# One cell of the rollups, as text: events raw_events users sessions.
sub cell
{
	my ($t, $days_ago) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT events || ' ' || raw_events || ' ' || users || ' ' || sessions FROM telemetry.daily_rollups
		WHERE tenant_id = '$t' AND name = 'ev' AND day = (now() AT TIME ZONE 'UTC')::date - $days_ago});
}

# Sets telemetry settings with ALTER SYSTEM (values in the settings' units: pg_settings shows
# them so) and reloads; returns once a new session sees them (the postmaster has reloaded, and
# signalled the worker).
sub set_system
{
	my ($n, %settings) = @_;
	my $sql = '';
	for my $name (sort keys %settings)
	{
		$sql .= defined $settings{$name}
		  ? "ALTER SYSTEM SET telemetry.$name = '$settings{$name}';\n"
		  : "ALTER SYSTEM RESET telemetry.$name;\n";
	}
	$n->safe_psql('postgres', $sql . 'SELECT pg_reload_conf();');
	for my $name (sort keys %settings)
	{
		# Set: the value shows; reset: it no longer comes from postgresql.auto.conf.
		my $seen = defined $settings{$name}
		  ? "setting = '$settings{$name}'"
		  : "coalesce(sourcefile, '') NOT LIKE '%postgresql.auto.conf'";
		$n->poll_query_until('postgres', "SELECT $seen FROM pg_settings WHERE name = 'telemetry.$name'")
		  or die "telemetry.$name was not reloaded";
	}
	return;
}

# Server log lines of process $pid from byte $offset on that are at level $level.
sub log_lines
{
	my ($n, $offset, $pid, $level) = @_;
	return grep { /\[$pid\] (?:\S+ )*$level:/ } split /\n/, slurp_file($n->logfile, $offset);
}

# Whether the server restarted: pg_postmaster_start_time() for a restart of the postmaster;
# the log for a crash restart (of every process but the postmaster, which keeps its start time).
my $postmaster_started = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');
sub restarts
{
	my @crash_restarts = slurp_file($node->logfile) =~ /all server processes terminated; reinitializing/g;
	return ($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()') eq $postmaster_started ? '' : 'restarted, ')
	  . scalar(@crash_restarts) . ' crash restarts';
}

# ------------------------------------------------------------------------------------------
# 1. Rollups appear by themselves.
ok($node->poll_query_until('postgres',
		q{SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'telemetry maintenance'}),
	'one maintenance worker runs, before the extension exists');
my $worker = worker_pid($node);

$node->safe_psql('postgres', 'CREATE EXTENSION telemetry CASCADE');
$node->safe_psql('postgres', join "\n",
	# Yesterday: three events of two users (one weighted 2.5, one without a user), two sessions.
	raw_event($tenant, 1, '09', 'u1', 's1', 1),
	raw_event($tenant, 1, '10', 'u1', 's2', 2.5),
	raw_event($tenant, 1, '11', undef, 's2', 1),
	# Three days ago: one event.
	raw_event($tenant, 3, '08', 'u2', 's3', 1),
	# Today: not closed, never in the rollups yet.
	raw_event($tenant, 0, '00', 'u9', 's9', 1));
$node->safe_psql('postgres', q{
	SELECT telemetry.load_catalog('{"events":[{"name":"ev","version":"1-0-0","status":"active","schema":{"type":"object"}}]}');
} . tracked_event(1, 'n1', 'ns1') . tracked_event(1, 'n2', 'ns1') . tracked_event(3, 'n1', 'ns2'));

ok($node->poll_query_until('postgres', rollups_match(4)),
	'the worker alone materializes the rollups of the closed days: equal to a GROUP BY over the events');
is(cell($tenant, 1), '4.5 3 1 2', 'yesterday: events = sum(sample_weight), raw events, distinct users, sessions');
is(cell($tenant, 3), '1 1 1 1', 'three days ago');
is(cell($nil, 1), '2 2 2 1', 'yesterday, tracked with track()');
is(cell($nil, 3), '1 1 1 1', 'three days ago, tracked with track()');
is($node->safe_psql('postgres', q{SELECT count(*) FROM telemetry.daily_rollups WHERE day >= (now() AT TIME ZONE 'UTC')::date}),
	'0', 'today is not closed: no rollup of today');
ok($node->poll_query_until('postgres', complete_run_after(0)), 'a run completed every step');
is($node->safe_psql('postgres', q{SELECT count(*) FROM telemetry.maintenance_runs WHERE status = 'failed'}),
	'0', 'no step failed');

# ------------------------------------------------------------------------------------------
# 2. A late event for an earlier day is counted after the next run.
$node->safe_psql('postgres', raw_event($tenant, 2, '07', 'u3', 's4', 1) . tracked_event(3, 'n3', 'ns3'));
ok($node->poll_query_until('postgres', rollups_match(5)), 'late events are counted after the next runs');
is(cell($tenant, 2), '1 1 1 1', 'the late raw INSERT two days ago has its cell');
is(cell($nil, 3), '2 2 2 2', 'the late track() three days ago is counted in its cell');

# ------------------------------------------------------------------------------------------
# 3. Terminated, the worker comes back (10 s later) and maintenance goes on.
my $before = max_run($node);
my $terminated_at = $node->safe_psql('postgres', 'SELECT clock_timestamp()');
is($node->safe_psql('postgres', "SELECT pg_terminate_backend($worker)"), 't', 'the worker is terminated');
ok($node->poll_query_until('postgres',
		qq{SELECT count(*) = 1 AND bool_and(pid <> $worker) FROM pg_stat_activity WHERE backend_type = 'telemetry maintenance'}),
	'a new worker starts');
my $restarted = worker_pid($node);
is($node->safe_psql('postgres', qq{
	SELECT backend_start - '$terminated_at' BETWEEN interval '9.5 s' AND interval '20 s'
	FROM pg_stat_activity WHERE pid = $restarted}), 't', 'some 10 s later (bgw_restart_time)');
ok($node->poll_query_until('postgres', complete_run_after($before)), 'the new worker completes runs');
like(slurp_file($node->logfile), qr/terminating background worker "telemetry maintenance" due to administrator command/,
	'the termination is in the log');
is(restarts(), '0 crash restarts', 'a terminated worker does not restart the server');
$worker = $restarted;

# ------------------------------------------------------------------------------------------
# 5. A failing step is recorded, the rest of its run goes on, and the next run retries it. The
# failure is a real one: refresh_rollups() takes the advisory lock "one refresher at a time",
# which another session holds (as a refresh_rollups() of its own would), past a lock_timeout
# of 200 ms. (A lock on telemetry.daily_rollups would fail drop_expired_rollups too.)
set_system($node, maintenance_lock_timeout => 200);    # ms
my $holder = $node->background_psql('postgres');
$holder->query_safe(q{BEGIN; SELECT pg_advisory_xact_lock(hashtext('telemetry.refresh_rollups'))});
$before = max_run($node);
# A late event, which refresh_rollups cannot count while it fails.
$node->safe_psql('postgres', raw_event($tenant, 1, '12', 'u4', 's5', 1));
ok($node->poll_query_until('postgres', qq{
	SELECT EXISTS (SELECT FROM telemetry.maintenance_runs f WHERE f.run_id > $before AND f.step = 'refresh_rollups'
	               AND f.status = 'failed' AND f.sqlstate = '55P03'
	               AND (SELECT count(*) FROM telemetry.maintenance_runs o WHERE o.run_id = f.run_id
	                    AND o.step <> 'refresh_rollups' AND o.status = 'succeeded') = $steps - 1)}),
	'refresh_rollups fails with lock_timeout (55P03), recorded in maintenance_runs; the other steps of its run succeed');
is($node->safe_psql('postgres', q{
	SELECT consecutive_failures >= 1, last_sqlstate, last_message,
	       next_attempt_at - last_failure_at = make_interval(secs => 2 ^ (consecutive_failures - 1) - 1)
	FROM telemetry.maintenance_steps WHERE step = 'refresh_rollups'}),
	't|55P03|canceling statement due to lock timeout|t',
	'maintenance_steps: failures counted, the error, a back-off of naptime × (2^(k-1) - 1)');
is($node->safe_psql('postgres', q{SELECT count(*) FROM telemetry.maintenance_steps WHERE consecutive_failures > 0}),
	'1', 'no other step failed');
is(cell($tenant, 1), '4.5 3 1 2', 'the late event is not counted while refresh_rollups fails');
like(slurp_file($node->logfile), qr/WARNING:  telemetry maintenance step refresh_rollups failed \(SQLSTATE 55P03\)/,
	'the failure is logged as a WARNING');
$holder->query_safe('ROLLBACK');
$holder->quit;
ok($node->poll_query_until('postgres', q{
	SELECT consecutive_failures = 0 AND last_success_at > last_failure_at
	FROM telemetry.maintenance_steps WHERE step = 'refresh_rollups'}),
	'once the lock is released, a later run succeeds for refresh_rollups');
ok($node->poll_query_until('postgres', rollups_match(5)), 'and counts the late event');
is(cell($tenant, 1), '5.5 4 2 3', 'yesterday now has the late event');
set_system($node, maintenance_lock_timeout => undef);

# ------------------------------------------------------------------------------------------
# 6. SIGHUP changes the naptime. The reload sets the worker's latch: it rereads the settings at
# once and runs (once), then sleeps the new naptime.
my $reloaded_at = $node->safe_psql('postgres', 'SELECT clock_timestamp()');
set_system($node, naptime => '3600');
ok($node->poll_query_until('postgres', qq{
	SELECT EXISTS (SELECT FROM telemetry.maintenance_runs WHERE started_at > '$reloaded_at'
	               GROUP BY run_id HAVING count(*) FILTER (WHERE status = 'succeeded') = $steps)}),
	'a run after the reload');
usleep(1_500_000);    # the run that the reload's wake-up started is over
my $quiet = max_run($node);
usleep(5_000_000);    # five naptimes of the old setting
is(max_run($node), $quiet, 'naptime 3600: no new run for five seconds');
my $woken = Time::HiRes::time();
set_system($node, naptime => undef);    # back to postgresql.conf's 1
ok($node->poll_query_until('postgres', "SELECT max(run_id) >= $quiet + 2 FROM telemetry.maintenance_runs"),
	'naptime 1 again: runs resume');
cmp_ok(Time::HiRes::time() - $woken, '<', 10, 'at once: the reload woke the worker from its hour-long sleep');
is(worker_pid($node), $worker, 'the same worker throughout');

# ------------------------------------------------------------------------------------------
# 8. DROP EXTENSION while the worker runs, in the middle of a run: it stays, idle, without
# failing in a loop; CREATE EXTENSION puts it back to work. The worker is held in refresh_rollups
# (lock_timeout 10 minutes, here and in 4) by the advisory lock another session holds.
set_system($node, maintenance_lock_timeout => 600000);    # ms
my $holder_8 = $node->background_psql('postgres');
$holder_8->query_safe(q{BEGIN; SELECT pg_advisory_xact_lock(hashtext('telemetry.refresh_rollups'))});
ok($node->poll_query_until('postgres', qq{
	SELECT EXISTS (SELECT FROM telemetry.maintenance_runs WHERE step = 'refresh_rollups' AND status = 'running')
	   AND EXISTS (SELECT FROM pg_stat_activity WHERE pid = $worker AND wait_event_type = 'Lock')}),
	'the worker is in the middle of a run');
my $log_offset = -s $node->logfile;
my $dropper = $node->background_psql('postgres', on_error_stop => 0);
my $dropper_pid = $dropper->query_safe('SELECT pg_backend_pid()');
$dropper->query_until(qr/dropping/, "\\echo dropping\nDROP EXTENSION telemetry;\n\\echo dropped\n");
# DROP waits for the worker's step. Once it has waited past deadlock_timeout (1 s), the worker
# is the one to find a deadlock, if its step then needs what DROP holds: DROP goes through.
ok($node->poll_query_until('postgres', qq{
	SELECT wait_event_type = 'Lock' AND now() - state_change > interval '1.2 s'
	FROM pg_stat_activity WHERE pid = $dropper_pid}), 'DROP EXTENSION waits for the step');
$holder_8->query_safe('ROLLBACK');
$holder_8->quit;
$dropper->query_until(qr/dropped/, '');
$dropper->quit;
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_extension WHERE extname = 'telemetry'}), '0',
	'DROP EXTENSION went through');
my $dropped_at = $node->safe_psql('postgres', 'SELECT clock_timestamp()');
# It looks for the extension at each wake-up (its activity says so), and goes on looking.
ok($node->poll_query_until('postgres', qq{
	SELECT query = 'telemetry maintenance: checking the extension' AND query_start > '$dropped_at'
	FROM pg_stat_activity WHERE pid = $worker}), 'after DROP EXTENSION the worker looks for the extension');
my $first_look = $node->safe_psql('postgres', "SELECT query_start FROM pg_stat_activity WHERE pid = $worker");
ok($node->poll_query_until('postgres', qq{
	SELECT query = 'telemetry maintenance: checking the extension' AND query_start > '$first_look'::timestamptz + interval '2 s'
	FROM pg_stat_activity WHERE pid = $worker}), 'and keeps looking at each naptime');
is(worker_pid($node), $worker, 'the same worker: it did not exit');
is($node->safe_psql('postgres', qq{SELECT count(*) FROM pg_locks WHERE pid = $worker AND locktype = 'advisory'}),
	'0', 'the run cut short left no maintenance lock behind');
my @errors = log_lines($node, $log_offset, $worker, '(?:ERROR|FATAL|PANIC)');
cmp_ok(scalar(@errors), '<=', 1, 'no errors in a loop from the worker (at most one, from the run cut by the DROP)')
  or diag join "\n", @errors;
note "the worker's errors: @errors";
$node->safe_psql('postgres', 'CREATE EXTENSION telemetry CASCADE');
ok($node->poll_query_until('postgres', complete_run_after(0)), 'CREATE EXTENSION again: runs resume');
# The new extension's events (the old ones went with it) are rolled up again.
$node->safe_psql('postgres', join "\n",
	raw_event($tenant, 1, '09', 'u1', 's1', 1), raw_event($tenant, 1, '10', 'u2', 's1', 1),
	raw_event($tenant, 2, '09', 'u1', 's2', 4));
ok($node->poll_query_until('postgres', rollups_match(2)), 'and the rollups of the new extension are made');
is(cell($tenant, 1), '2 2 2 1', 'yesterday, in the new extension');
is(worker_pid($node), $worker, 'still the same worker');
is(restarts(), '0 crash restarts', 'the server never restarted so far');

# ------------------------------------------------------------------------------------------
# 4. kill -9 in the middle of a step: of the worker, then of a session in CALL run_maintenance().
# refresh_rollups waits (lock_timeout 10 minutes) for the advisory lock another session holds.
$holder = $node->background_psql('postgres', on_error_stop => 0);
$holder->query_safe(q{BEGIN; SELECT pg_advisory_xact_lock(hashtext('telemetry.refresh_rollups'))});
ok($node->poll_query_until('postgres', q{
	SELECT EXISTS (SELECT FROM telemetry.maintenance_runs WHERE step = 'refresh_rollups' AND status = 'running')
	   AND EXISTS (SELECT FROM pg_stat_activity WHERE backend_type = 'telemetry maintenance' AND wait_event_type = 'Lock')}),
	'the worker waits in refresh_rollups');
my $cut_run = $node->safe_psql('postgres',
	q{SELECT run_id FROM telemetry.maintenance_runs WHERE step = 'refresh_rollups' AND status = 'running'});
$worker = worker_pid($node);
my $killed_worker = $worker;
$log_offset = -s $node->logfile;
kill 'KILL', $worker;
# The postmaster ends every session, the holder's too.
eval { $holder->quit };
ok($node->poll_query_until('postgres', complete_run_after($cut_run)),
	'the server restarts after the crash, and a later run completes every step');
like(slurp_file($node->logfile, $log_offset),
	qr/background worker "telemetry maintenance" \(PID $worker\) was terminated by signal 9/,
	'the worker was killed, the server restarted');
is($node->safe_psql('postgres', qq{
	SELECT string_agg(step || ' ' || status || ' ' || coalesce(sqlstate, ''), ', ' ORDER BY started_at)
	FROM telemetry.maintenance_runs WHERE run_id = $cut_run}),
	'create_partitions succeeded , advance_rollups succeeded , refresh_rollups failed 57P01',
	'the interrupted step is marked failed (57P01); the run went no further');
like($node->safe_psql('postgres', qq{
	SELECT message FROM telemetry.maintenance_runs WHERE run_id = $cut_run AND step = 'refresh_rollups'}),
	qr/^interrupted: /, 'its message says it was interrupted');
is($node->safe_psql('postgres', q{
	SELECT last_sqlstate || ' ' || (last_failure_at < last_success_at) || ' ' || consecutive_failures
	FROM telemetry.maintenance_steps WHERE step = 'refresh_rollups'}),
	'57P01 true 0', 'maintenance_steps: the interruption is its last failure, the success after it resets the count');
isnt(worker_pid($node), $worker, 'a new worker');

# The same for a session running CALL telemetry.run_maintenance(), with the worker off.
set_system($node, maintenance_worker => 'off');
$holder = $node->background_psql('postgres', on_error_stop => 0);
$holder->query_safe(q{BEGIN; SELECT pg_advisory_xact_lock(hashtext('telemetry.refresh_rollups'))});
my $caller = $node->background_psql('postgres', on_error_stop => 0);
my $caller_pid = $caller->query_safe('SELECT pg_backend_pid()');
my $waiting = 0;
for my $attempt (1 .. 20)
{
	my $idle_since = $node->safe_psql('postgres', "SELECT state_change FROM pg_stat_activity WHERE pid = $caller_pid");
	$caller->query_until(qr/call $attempt/, "\\echo call $attempt\nCALL telemetry.run_maintenance();\n");
	# Waiting for the lock, or already back (it skipped: the worker was finishing its last run).
	$node->poll_query_until('postgres', qq{
		SELECT wait_event_type = 'Lock' OR (state = 'idle' AND state_change > '$idle_since')
		FROM pg_stat_activity WHERE pid = $caller_pid});
	if ($node->safe_psql('postgres', "SELECT wait_event_type FROM pg_stat_activity WHERE pid = $caller_pid") eq 'Lock')
	{
		$waiting = 1;
		last;
	}
}
ok($waiting, 'CALL run_maintenance() waits in a step');
my $call_run = $node->safe_psql('postgres',
	q{SELECT run_id FROM telemetry.maintenance_runs WHERE step = 'refresh_rollups' AND status = 'running'});
like($call_run, qr/^\d+$/, 'in refresh_rollups');
$log_offset = -s $node->logfile;
$worker = worker_pid($node);
kill 'KILL', $caller_pid;
eval { $holder->quit };
eval { $caller->quit };
ok($node->poll_query_until('postgres', qq{
	SELECT count(*) = 1 AND bool_and(pid <> $worker) FROM pg_stat_activity WHERE backend_type = 'telemetry maintenance'}),
	'the server restarts after the crash: a new worker, idle (maintenance_worker off)');
like(slurp_file($node->logfile, $log_offset), qr/server process \(PID $caller_pid\) was terminated by signal 9/,
	'the session was killed, the server restarted');
my ($rc, $stdout, $stderr) = $node->psql('postgres', 'CALL telemetry.run_maintenance()');
is($rc, 0, 'the next CALL run_maintenance() runs');
is($node->safe_psql('postgres', qq{
	SELECT string_agg(step || ' ' || status || ' ' || coalesce(sqlstate, ''), ', ' ORDER BY started_at)
	FROM telemetry.maintenance_runs WHERE run_id = $call_run}),
	'create_partitions succeeded , advance_rollups succeeded , refresh_rollups failed 57P01',
	'the step the killed session was in is marked failed (57P01)');
is($node->safe_psql('postgres', complete_run_after($call_run)), 't', 'and that later run completes every step');
is($node->safe_psql('postgres', q{SELECT count(*) FROM telemetry.maintenance_runs WHERE status = 'running'}),
	'0', 'nothing is left running');
set_system($node, maintenance_worker => undef, maintenance_lock_timeout => undef);
ok($node->poll_query_until('postgres', complete_run_after(max_run($node))), 'the worker on again runs');
ok($node->poll_query_until('postgres', rollups_match(2)), 'the rollups are still right after the crashes');
is(cell($tenant, 2), '4 1 1 1', 'two days ago: one event of weight 4');

my @killed = slurp_file($node->logfile) =~ /\(PID (\d+)\) was terminated by signal/g;
is("@killed", "$killed_worker $caller_pid", 'the processes that died were the two killed');
is(restarts(), '2 crash restarts', 'the server restarted only for the two kill -9s');

# ------------------------------------------------------------------------------------------
# 7. A streaming standby: no worker while in recovery; its maintenance_runs are the primary's;
# promoted, it runs maintenance.
$node->backup('backup');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($node, 'backup', has_streaming => 1);
$standby->start;
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');
# The primary's worker stops, so its history holds still for the comparison.
set_system($node, maintenance_worker => 'off');
$node->poll_query_until('postgres', q{
	SELECT NOT EXISTS (SELECT FROM telemetry.maintenance_runs WHERE status = 'running')
	   AND NOT EXISTS (SELECT FROM pg_locks WHERE locktype = 'advisory'
	                   AND objid = hashtext('telemetry.run_maintenance')::oid)});
usleep(1_500_000);    # more than a naptime: a run the worker would still start has started
$node->poll_query_until('postgres', q{SELECT NOT EXISTS (SELECT FROM telemetry.maintenance_runs WHERE status = 'running')});
my $history = q{SELECT string_agg(run_id || ' ' || step || ' ' || status, ', ' ORDER BY run_id, started_at)
	FROM telemetry.maintenance_runs};
my $primary_history = $node->safe_psql('postgres', $history);
my $primary_last = max_run($node);
$node->wait_for_catchup($standby);
usleep(2_000_000);    # two naptimes, in which a worker on the standby would have run
is($standby->safe_psql('postgres',
		q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'telemetry maintenance'}),
	'0', 'no maintenance worker on the standby');
unlike(slurp_file($standby->logfile), qr/telemetry maintenance worker started/, 'none ever started there');
is($standby->safe_psql('postgres', $history), $primary_history,
	"the standby's maintenance_runs are the primary's, nothing more");
is(max_run($node), $primary_last, "(the primary's history held still)");

$standby->promote;
ok($standby->poll_query_until('postgres',
		q{SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'telemetry maintenance'}),
	'promoted, the standby starts the worker');
ok($standby->poll_query_until('postgres', complete_run_after($primary_last)),
	'and new runs appear in its maintenance_runs');
$standby->stop;

is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'telemetry maintenance'}),
	'1', 'the primary still has its worker (off)');
is(restarts(), '2 crash restarts', 'no restart of the primary after the two kill -9s');
# Over the whole test, the workers (each logged its start) reported no error but at most the
# one of a run cut by DROP EXTENSION; FATAL only for pg_terminate_backend and the shutdown.
my $log = slurp_file($node->logfile);
my @workers = $log =~ /\[(\d+)\] LOG:  telemetry maintenance worker started/g;
my @worker_errors = grep { !/FATAL:  terminating background worker "telemetry maintenance" due to administrator command/ }
  map { log_lines($node, 0, $_, '(?:ERROR|FATAL|PANIC)') } @workers;
cmp_ok(scalar(@worker_errors), '<=', 1, 'the workers logged no errors (at most one, at the DROP)')
  or diag join "\n", @worker_errors;

$node->stop;
done_testing();
