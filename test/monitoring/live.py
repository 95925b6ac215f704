"""The checks of test/monitoring/check.py that need something running: the product dashboard's and
the exporter's SQL against a database (psql), an exposition against the contract (promtool check
metrics), and a real Prometheus scraping it with the rules loaded."""
import csv
import datetime
import http.server
import io
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from contract import (CONTRACT, EXPORTER_MAY_BE_EMPTY, OPS_DASHBOARD, OPTIONAL, PRODUCT_DASHBOARD, RULES,
                      contract_family, exporter_namespaces, fail, finish, grafana_promql, metric_names, note,
                      ok, ops_queries, panels_of, read, recording_rules, rules_metric_names)


def grafana_time(spec, now):
    if spec == "now":
        return now
    m = re.fullmatch(r"now-(\d+)([smhdw])", spec)
    if not m:
        raise ValueError(f"time range {spec!r}: only now and now-<n><s|m|h|d|w> are understood")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[m.group(2)] * int(m.group(1))
    return now - datetime.timedelta(seconds=seconds)


def iso(ts):
    return ts.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def expand_sql(sql, variables, t_from, t_to):
    """The SQL as Grafana's PostgreSQL data source sends it (macros, then variables)."""
    f, t = iso(t_from), iso(t_to)
    macros = [
        (r"\$__timeFilter\(([^)]*)\)", lambda m: f"{m.group(1)} BETWEEN '{f}' AND '{t}'"),
        (r"\$__timeFrom\(\)", lambda m: f"'{f}'"),
        (r"\$__timeTo\(\)", lambda m: f"'{t}'"),
        (r"\$__unixEpochFrom\(\)", lambda m: str(int(t_from.timestamp()))),
        (r"\$__unixEpochTo\(\)", lambda m: str(int(t_to.timestamp()))),
        (r"\$__interval_ms\b", lambda m: "3600000"),
        (r"\$__interval\b", lambda m: "1h"),
    ]
    for pattern, repl in macros:
        sql = re.sub(pattern, repl, sql)
    left = re.findall(r"\$__\w+", sql)
    if left:
        raise ValueError(f"macros this check does not expand: {sorted(set(left))}")
    for name, value in variables.items():
        # A single-valued variable goes in as it is, its quotes doubled (Grafana's SQL data sources).
        value = value.replace("'", "''")
        sql = re.sub(r"\$\{" + name + r"(?::raw)?\}|\[\[" + name + r"\]\]|\$" + name + r"\b", lambda m: value, sql)
    left = re.findall(r"\$\{?[A-Za-z_]\w*", sql)
    if left:
        raise ValueError(f"unknown variables: {sorted(set(left))}")
    return sql


def psql(sql, role=None):
    """(returncode, header, rows, stderr) of one query."""
    cmd = [os.environ.get("PSQL", "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "--csv"]
    if role:
        cmd += ["-c", f'SET ROLE "{role}"']
    cmd += ["-c", sql]
    env = dict(os.environ)
    env["PGOPTIONS"] = (env.get("PGOPTIONS", "") + " -c statement_timeout=60s").strip()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        return r.returncode, [], [], r.stderr.strip()
    table = list(csv.reader(io.StringIO(r.stdout)))
    return 0, (table[0] if table else []), table[1:], r.stderr.strip()


def show(sql):
    return "\n".join("      | " + line for line in sql.splitlines())


def run_query(what, sql, role, may_be_empty=None, time_series=False, columns=None):
    rc, header, rows, err = psql(sql, role)
    if rc != 0:
        fail(f"{what}: the query failed: {err}\n{show(sql)}")
        return None
    if columns is not None and sorted(header) != sorted(columns):
        fail(f"{what}: returns the columns {header}, the file declares {columns}")
    has_value = any(cell != "" for row in rows for cell in row)
    if not rows or not has_value:
        if may_be_empty:
            ok(f"{what}: no row ({may_be_empty})")
            return rows
        fail(f"{what}: {'no row' if not rows else 'only NULLs'}: the panel would show no data\n{show(sql)}")
        return rows
    if time_series:
        if "time" not in header:
            fail(f"{what}: a time series without a time column ({header})")
        else:
            times = [r[header.index("time")] for r in rows]
            if times != sorted(times, key=lambda s: datetime.datetime.fromisoformat(s)):
                fail(f"{what}: a time series not ordered by time")
    ok(f"{what}: {len(rows)} row{'s' if len(rows) != 1 else ''}")
    return rows


def cmd_queries():
    rc, _, rows, err = psql("SELECT current_database(), current_user, extversion FROM pg_extension WHERE extname = 'telemetry'")
    if rc != 0:
        print(f"cannot connect (PGHOST={os.environ.get('PGHOST')} PGPORT={os.environ.get('PGPORT')} "
              f"PGDATABASE={os.environ.get('PGDATABASE')} PGUSER={os.environ.get('PGUSER')}): {err}", file=sys.stderr)
        sys.exit(1)
    if not rows:
        print("the database has no telemetry extension", file=sys.stderr)
        sys.exit(1)
    print(f"database {rows[0][0]} as {rows[0][1]}, telemetry {rows[0][2]}")

    # The product dashboard, as Grafana runs it.
    dashboard = json.loads(read(PRODUCT_DASHBOARD))
    role = os.environ.get("TELEMETRY_DASHBOARD_ROLE") or None
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    t_from = (datetime.datetime.fromisoformat(os.environ["TELEMETRY_DASHBOARD_FROM"].replace("Z", "+00:00"))
              if os.environ.get("TELEMETRY_DASHBOARD_FROM") else grafana_time(dashboard["time"]["from"], now))
    t_to = (datetime.datetime.fromisoformat(os.environ["TELEMETRY_DASHBOARD_TO"].replace("Z", "+00:00"))
            if os.environ.get("TELEMETRY_DASHBOARD_TO") else grafana_time(dashboard["time"]["to"], now))
    print(f"time range {iso(t_from)} .. {iso(t_to)}" + (f", as role {role}" if role else ""))
    variables = {}
    for v in dashboard["templating"]["list"]:
        if v["type"] == "datasource":
            continue
        if v["type"] == "query":
            sql = expand_sql(v["query"], variables, t_from, t_to)
            rows = run_query(f"product: variable {v['name']}", sql, role)
            if rows and rows[0]:
                variables[v["name"]] = rows[0][0]
        else:
            value = (v.get("current") or {}).get("value")
            variables[v["name"]] = value[0] if isinstance(value, list) else value
        if v["name"] == "tenant" and os.environ.get("TELEMETRY_DASHBOARD_TENANT"):
            variables["tenant"] = os.environ["TELEMETRY_DASHBOARD_TENANT"]
        if variables.get(v["name"]) is None:
            fail(f"product: variable {v['name']} has no value")
    # A custom variable's every option, for the queries that use it.
    options = {v["name"]: [o["value"] for o in v.get("options", [])] for v in dashboard["templating"]["list"]
               if v["type"] == "custom" and v.get("options")}
    if "tenant" in variables:
        print("variables: " + ", ".join(f"{k}={v}" for k, v in variables.items())
              + "".join(f"; {k} also {', '.join(o for o in opts if o != variables.get(k))}" for k, opts in options.items()))
        for p in panels_of(dashboard):
            for t in p.get("targets", []):
                what = f"product: {p.get('title')!r}" + (f" {t['refId']}" if len(p["targets"]) > 1 else "")
                # The dashboard's own values must show data; the other options must run (a month
                # bucket may hold no whole cohort in a 14-day range).
                runs = [({}, "", None)]
                for name, opts in options.items():
                    if re.search(r"\$\{?" + name + r"\b|\[\[" + name + r"\]\]", t["rawSql"]):
                        runs = [({**r, name: o}, f"{label} {name}={o}",
                                 empty or (None if o == variables.get(name) else f"allowed at {name}={o}"))
                                for r, label, empty in runs for o in opts]
                for override, label, may_be_empty in runs:
                    try:
                        sql = expand_sql(t["rawSql"], {**variables, **override}, t_from, t_to)
                    except ValueError as e:
                        fail(f"{what}: {e}")
                        break
                    run_query(what + label, sql, role, may_be_empty=may_be_empty,
                              time_series=t.get("format") == "time_series")

    # The postgres_exporter queries, as the exporter runs them.
    namespaces = exporter_namespaces()
    role = os.environ.get("TELEMETRY_EXPORTER_ROLE") or None
    if role:
        print(f"exporter queries as role {role}")
    for ns, spec in namespaces.items():
        run_query(f"exporter: {ns}", spec["query"], role, may_be_empty=EXPORTER_MAY_BE_EMPTY.get(ns),
                  columns=[c for c, _ in spec["metrics"]])
    finish("monitoring queries")


def fetch(source):
    if source == "-":
        return sys.stdin.read()
    if re.match(r"^https?://", source):
        request = urllib.request.Request(source)
        if os.environ.get("TELEMETRY_METRICS_TOKEN"):
            request.add_header("Authorization", "Bearer " + os.environ["TELEMETRY_METRICS_TOKEN"])
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read().decode("utf-8")
    return read(source)


def parse_labels(text):
    return dict((k, re.sub(r"\\(.)", r"\1", v)) for k, v in re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', text or ""))


def cmd_metrics(source):
    try:
        text = fetch(source)
    except Exception as e:  # a URL that does not answer, a file that is not there
        fail(f"cannot read {source}: {e}")
        finish("metrics")
    r = subprocess.run([os.environ.get("PROMTOOL", "promtool"), "check", "metrics"], input=text,
                       capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"promtool check metrics: {(r.stdout + r.stderr).strip() or 'exit ' + str(r.returncode)}")
    else:
        ok(f"promtool check metrics: no problem ({len(text.splitlines())} lines)")

    types = dict(re.findall(r"^# TYPE (\S+) (\S+)", text, re.M))
    # Text format 0.0.4 names a counter's family with _total, OpenMetrics without.
    family_of = {}
    for name, kind in types.items():
        family_of[name] = name
        if kind == "counter" and not name.endswith("_total"):
            family_of[name + "_total"] = name
    samples = {}
    for line in text.splitlines():
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+\S+", line)
        if m and not line.startswith("#"):
            samples.setdefault(m.group(1), []).append(parse_labels(m.group(2)))

    for name, (kind, labels, allowed) in CONTRACT.items():
        family = family_of.get(name)
        if family is None:
            if name in OPTIONAL:
                note(f"{name} is not exposed: {OPTIONAL[name]}?")
            else:
                fail(f"{name} is not exposed (no # TYPE line)")
            continue
        if types[family] != kind:
            fail(f"{name} is a {types[family]}, the contract says {kind}")
        series = samples.get(name, []) if kind != "histogram" else samples.get(name + "_bucket", [])
        for s in series:
            names = set(s) - ({"le"} if kind == "histogram" else set())
            if names != labels:
                fail(f"{name}{s}: labels {sorted(names)}, the contract says {sorted(labels)}")
                break
            bad = {k: s[k] for k, values in allowed.items() if k in s and s[k] not in values}
            if bad:
                fail(f"{name}: label values outside the contract: {bad}")
                break
    extra = sorted(n for n in types if n.startswith("telemetry_") and n not in CONTRACT and n + "_total" not in CONTRACT)
    if extra:
        note(f"exposed but not in the contract of test/monitoring/check.py: {', '.join(extra)}")

    # Everything the rules and the operations dashboard read is there (or unknown yet).
    records = recording_rules()
    used = set(rules_metric_names())
    dashboard = json.loads(read(OPS_DASHBOARD))
    for _, expr in ops_queries(dashboard):
        used |= metric_names(expr)
    families = {contract_family(n) for n in used - records}
    missing = sorted(f for f in families if family_of.get(f) is None and f not in OPTIONAL)
    unknown = sorted(f for f in families if family_of.get(f) is None and f in OPTIONAL)
    if missing:
        fail(f"the rules or the operations dashboard read metrics this exposition lacks: {', '.join(missing)}")
    else:
        ok(f"the {len(families)} metrics the rules and the operations dashboard read are exposed"
           + (f", but for {len(unknown)} not known yet" if unknown else ""))
    series = sum(len(v) for v in samples.values())
    ok(f"{len(types)} metric families, {series} samples")
    finish(f"metrics of {source}")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prometheus_api(port, path, params=None):
    url = f"http://127.0.0.1:{port}{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as e:  # 400/422: the error is in the body
        return json.loads(e.read().decode("utf-8"))


def cmd_evaluate(source):
    try:
        body = fetch(source).encode("utf-8")
    except Exception as e:
        fail(f"cannot read {source}: {e}")
        finish("evaluate")

    class Exposition(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Exposition)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    prom_port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "prometheus.yml"), "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - {RULES}
scrape_configs:
  - job_name: telemetry
    static_configs:
      - targets: ['127.0.0.1:{server.server_address[1]}']
""")
        log = open(os.path.join(tmp, "prometheus.log"), "w")
        prom = subprocess.Popen([os.environ.get("PROMETHEUS", "prometheus"), f"--config.file={tmp}/prometheus.yml",
                                 f"--storage.tsdb.path={tmp}/data", f"--web.listen-address=127.0.0.1:{prom_port}",
                                 "--log.level=warn"], stdout=log, stderr=subprocess.STDOUT)
        try:
            ready = False
            for _ in range(300):
                if prom.poll() is not None:
                    break
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{prom_port}/-/ready", timeout=1) as r:
                        ready = r.status == 200
                except Exception:
                    pass
                if ready:
                    break
                time.sleep(0.1)
            if not ready:
                log.close()
                fail("Prometheus did not start: " + read(os.path.join(tmp, "prometheus.log")))
                finish("evaluate")
            # A few scrapes and rule evaluations.
            for _ in range(100):
                up = prometheus_api(prom_port, "/api/v1/query", {"query": 'count_over_time(up{job="telemetry"}[1m])'})
                if up.get("data", {}).get("result") and float(up["data"]["result"][0]["value"][1]) >= 4:
                    break
                time.sleep(0.25)
            up = prometheus_api(prom_port, "/api/v1/query", {"query": 'up{job="telemetry"}'})
            if not up.get("data", {}).get("result") or up["data"]["result"][0]["value"][1] != "1":
                fail(f"Prometheus could not scrape the exposition: {up}")
            time.sleep(1.5)
            rules = prometheus_api(prom_port, "/api/v1/rules")
            evaluated = 0
            for group in rules.get("data", {}).get("groups", []):
                for rule in group.get("rules", []):
                    evaluated += 1
                    if rule.get("health") != "ok":
                        fail(f"rule {rule.get('name')}: {rule.get('health')}: {rule.get('lastError')}")
                    elif rule.get("type") == "alerting" and rule.get("alerts"):
                        note(f"{rule['name']} is {rule['alerts'][0].get('state')} on this exposition")
            if evaluated == 0:
                fail("Prometheus loaded no rule")
            else:
                ok(f"Prometheus evaluated the {evaluated} rules of telemetry.rules.yml without error")
            dashboard = json.loads(read(OPS_DASHBOARD))
            with_data = 0
            queries = ops_queries(dashboard)
            for what, expr in queries:
                r = prometheus_api(prom_port, "/api/v1/query", {"query": grafana_promql(expr)})
                if r.get("status") != "success":
                    fail(f"telemetry-operations.json: {what}: {r.get('errorType')}: {r.get('error')}")
                elif r["data"]["result"]:
                    with_data += 1
            ok(f"the {len(queries)} queries of the operations dashboard run ({with_data} with data from this one exposition)")
        finally:
            prom.terminate()
            try:
                prom.wait(timeout=10)
            except subprocess.TimeoutExpired:
                prom.kill()
            log.close()
            server.shutdown()
    finish(f"Prometheus over {source}")
