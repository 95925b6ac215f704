"""What monitoring/ must agree with, for test/monitoring/check.py: the alerts of telemetry.alerts(),
the metrics of GET /metrics and telemetry.metrics() (names, types, labels), where the files are, and
small readers of them (Python's standard library only: no YAML parser)."""
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MON = os.path.join(ROOT, "monitoring")
RULES = os.path.join(MON, "prometheus", "telemetry.rules.yml")
RULES_TEST = os.path.join(MON, "prometheus", "telemetry.rules.test.yml")
OPS_DASHBOARD = os.path.join(MON, "grafana", "telemetry-operations.json")
PRODUCT_DASHBOARD = os.path.join(MON, "grafana", "telemetry-product.json")
EXPORTER_QUERIES = os.path.join(MON, "postgres_exporter", "queries.yaml")
README = os.path.join(MON, "README.md")
OBSERVE_DOC = os.path.join(ROOT, "docs", "observe.md")

# The alerts of telemetry.alerts(): the rules must have exactly these.
ALERTS = [
    "TelemetryEventRateDrop",
    "TelemetryNoEvents",
    "TelemetryWorkerFailing",
    "TelemetryQuarantineGrowing",
    "TelemetryPartitionHorizonShort",
]

STEPS = ["create_partitions", "advance_rollups", "refresh_rollups", "drop_expired_partitions",
         "delete_expired_tenant_events", "drop_expired_rollups", "purge_event_ids", "trim_maintenance_runs",
         "sample_activity"]
STATUSES = ["accepted", "duplicate", "quarantined", "rejected", "sampled_out", "opted_out"]
REASONS = ["invalid_event", "unknown_type", "inactive_type", "invalid_time", "schema", "personal_data",
           "too_large", "internal"]

# The metrics of GET /metrics and telemetry.metrics(): name -> (type, label names, allowed values).
CONTRACT = {
    "telemetry_events_received_total": ("counter", set(), {}),
    "telemetry_events_total": ("counter", {"status", "event_type"}, {"status": STATUSES}),
    "telemetry_events_refused_total": ("counter", {"status", "reason"},
                                       {"status": ["rejected", "quarantined"], "reason": REASONS}),
    "telemetry_tenant_events_total": ("counter", {"tenant", "status"}, {"status": STATUSES}),
    "telemetry_pii_decisions_total": ("counter", {"detector", "action"},
                                      {"action": ["redact", "hash", "drop", "reject"]}),
    "telemetry_event_payload_bytes": ("histogram", set(), {}),
    "telemetry_last_event_received_timestamp_seconds": ("gauge", set(), {}),
    "telemetry_active_users": ("gauge", {"window"}, {"window": ["1h", "24h", "7d"]}),
    "telemetry_activity_sample_timestamp_seconds": ("gauge", set(), {}),
    "telemetry_counters_shared": ("gauge", set(), {}),
    "telemetry_worker_up": ("gauge", set(), {}),
    "telemetry_worker_last_run_timestamp_seconds": ("gauge", set(), {}),
    "telemetry_maintenance_step_last_success_timestamp_seconds": ("gauge", {"step"}, {"step": STEPS}),
    "telemetry_maintenance_step_last_failure_timestamp_seconds": ("gauge", {"step"}, {"step": STEPS}),
    "telemetry_maintenance_step_consecutive_failures": ("gauge", {"step"}, {"step": STEPS}),
    "telemetry_maintenance_step_last_duration_seconds": ("gauge", {"step"}, {"step": STEPS}),
    "telemetry_rollup_lag_seconds": ("gauge", set(), {}),
    "telemetry_rollup_pending_invalidations": ("gauge", set(), {}),
    "telemetry_partition_horizon_timestamp_seconds": ("gauge", set(), {}),
    "telemetry_partition_oldest_timestamp_seconds": ("gauge", set(), {}),
    "telemetry_retention_seconds": ("gauge", set(), {}),
    "telemetry_quarantine_events": ("gauge", set(), {}),
    "telemetry_build_info": ("gauge", {"version"}, {}),
}
# Families a correct exposition leaves out while their value is unknown ("absent, as Prometheus
# expects"), and why.
OPTIONAL = {
    "telemetry_tenant_events_total": "only with telemetry.metrics_tenant_labels = on",
    "telemetry_last_event_received_timestamp_seconds": "no event known yet",
    "telemetry_activity_sample_timestamp_seconds": "no activity sample yet",
    "telemetry_worker_last_run_timestamp_seconds": "the worker started no run since the server started",
    "telemetry_maintenance_step_last_success_timestamp_seconds": "no step succeeded yet",
    "telemetry_maintenance_step_last_failure_timestamp_seconds": "no step ever failed",
    "telemetry_maintenance_step_last_duration_seconds": "no step ran yet",
    "telemetry_rollup_lag_seconds": "no rollup yet",
    "telemetry_partition_horizon_timestamp_seconds": "no partition",
    "telemetry_partition_oldest_timestamp_seconds": "no partition",
}
# What only postgres_exporter's queries file makes (from telemetry.health()).
EXPORTER_ONLY = {"telemetry_health_level", "telemetry_health_value", "telemetry_health_threshold"}
# Exporter queries that may return no row on a healthy database.
EXPORTER_MAY_BE_EMPTY = {"telemetry_pii_decisions": "no personal data was found yet"}

failures = []


def fail(message):
    failures.append(message)
    print("FAIL: " + message, flush=True)


def note(message):
    print("note: " + message, flush=True)


def ok(message):
    print("ok    " + message, flush=True)


def finish(what):
    if failures:
        print(f"\n{what}: {len(failures)} failure(s)", file=sys.stderr)
        for f in failures:
            print("  - " + f.splitlines()[0], file=sys.stderr)
        sys.exit(1)
    print(f"\n{what}: all passed")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


# --- A small reader for the YAML these files use (no PyYAML in the standard library) -------------

def yaml_scalars(text, key):
    """Every value of `key:` in text: a one-line scalar (quotes removed) or a `|` / `>` block."""
    lines = text.splitlines()
    values = []
    pattern = re.compile(r"^(\s*)(?:- )?" + re.escape(key) + r":\s*(.*)$")
    for i, line in enumerate(lines):
        m = pattern.match(line)
        if not m:
            continue
        indent, rest = len(m.group(1)), m.group(2).strip()
        if rest in ("|", "|-", ">", ">-"):
            block = []
            for follow in lines[i + 1:]:
                if follow.strip() and len(follow) - len(follow.lstrip()) <= indent:
                    break
                block.append(follow)
            values.append("\n".join(block).strip("\n"))
        else:
            if len(rest) >= 2 and rest[0] == rest[-1] and rest[0] in "'\"":
                rest = rest[1:-1]
                rest = rest.replace("''", "'") if m.group(2).strip()[0] == "'" else rest.replace('\\"', '"')
            values.append(rest)
    return values


def rule_blocks(text, kind):
    """(name, block text) of every `- alert:` or `- record:` rule."""
    starts = [(m.start(), m.group(1), m.group(2)) for m in
              re.finditer(r"^\s*- (alert|record):\s*(\S+)\s*$", text, re.M)]
    blocks = []
    for i, (pos, k, name) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        if k == kind:
            blocks.append((name, text[pos:end]))
    return blocks


def metric_names(expr):
    """The telemetry_* and telemetry:* names an expression reads (not label values: those are quoted)."""
    unquoted = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    return set(re.findall(r"\btelemetry[_:][a-zA-Z0-9_:]*", unquoted))


def known_metric(name, records):
    if name in CONTRACT or name in records:
        return True
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and CONTRACT.get(name[: -len(suffix)], ("",))[0] == "histogram":
            return True
    return False


def contract_family(name):
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and CONTRACT.get(name[: -len(suffix)], ("",))[0] == "histogram":
            return name[: -len(suffix)]
    return name


# --- Shared by the checks of files and the live ones ----------------------------------------------

def recording_rules():
    return {name for name, _ in rule_blocks(read(RULES), "record")}


def rules_metric_names():
    names = set()
    for expr in yaml_scalars(read(RULES), "expr"):
        names |= metric_names(expr)
    return names


def panels_of(dashboard):
    """Every panel, rows' collapsed panels included."""
    out = []
    for p in dashboard.get("panels", []):
        out.append(p)
        out.extend(p.get("panels", []))
    return out


def grafana_promql(expr):
    """The expression as Grafana sends it, with the dashboard's variables and Grafana's own."""
    for k, v in (("$__rate_interval", "1m"), ("$__interval", "1m"), ("$__range", "1h"), ("${job}", "telemetry"),
                 ("$job", "telemetry"), ("${instance}", ".*"), ("$instance", ".*")):
        expr = expr.replace(k, v)
    return expr


def ops_queries(dashboard):
    """(what, PromQL) of every panel query and query variable of the operations dashboard."""
    out = []
    for p in panels_of(dashboard):
        for t in p.get("targets", []):
            if t.get("expr"):
                out.append((f"panel {p.get('title')!r} {t.get('refId')}", t["expr"]))
    for v in dashboard.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            q = v.get("query")
            q = q.get("query") if isinstance(q, dict) else q
            m = re.match(r"^\s*label_values\((.*),\s*\w+\)\s*$", q or "")
            out.append((f"variable {v.get('name')}", m.group(1) if m else q))
    return out


def exporter_namespaces():
    """{namespace: {"query": sql, "metrics": [(column, usage)], "master": bool}}, read strictly."""
    text = read(EXPORTER_QUERIES)
    namespaces = {}
    current = None
    in_metrics = False
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = re.match(r"^([a-z_][a-z0-9_]*):\s*$", line)
        if m:
            current = namespaces.setdefault(m.group(1), {"query": None, "metrics": [], "master": False})
            in_metrics = False
            continue
        if current is None:
            raise ValueError(f"line {i}: not inside a namespace: {line!r}")
        m = re.match(r"^  query:\s*\|\s*$", line)
        if m:
            block = []
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith("    ")):
                block.append(lines[i][4:])
                i += 1
            current["query"] = "\n".join(block).strip()
            in_metrics = False
            continue
        m = re.match(r"^  (master|cache_seconds):\s*(\S+)\s*$", line)
        if m:
            if m.group(1) == "master":
                current["master"] = m.group(2) == "true"
            continue
        if re.match(r"^  metrics:\s*$", line):
            in_metrics = True
            continue
        m = re.match(r"^    - ([a-z_][a-z0-9_]*):\s*$", line)
        if m and in_metrics:
            column, usage = m.group(1), None
            while i < len(lines) and lines[i].startswith("        "):
                u = re.match(r'^\s+usage:\s*"?([A-Z]+)"?\s*$', lines[i])
                if u:
                    usage = u.group(1)
                i += 1
            current["metrics"].append((column, usage))
            continue
        raise ValueError(f"line {i}: not understood: {line!r}")
    return namespaces
