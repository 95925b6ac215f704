#!/usr/bin/python3
"""The monitoring layer's checks (test/monitoring/run.sh calls them; Python's standard library only).

  check.py rules                 the alert rules, their unit tests and the docs name the same alerts; every
                                 metric the rules and the operations dashboard use is one of the metrics
                                 contract (contract.py); the dashboards' JSON and the exporter's queries file are
                                 well formed; promtool parses every PromQL expression of the dashboard
  check.py queries               runs every SQL query of the product dashboard and of the postgres_exporter
                                 queries file against the database of the PG* environment
  check.py metrics FILE|URL|-    lints Prometheus text with promtool check metrics and checks it against the
                                 metrics contract and what the rules and dashboards use
  check.py evaluate FILE|URL|-   a real Prometheus (PROMETHEUS, default prometheus) scrapes that text with
                                 telemetry.rules.yml loaded: every rule evaluates without error, and every
                                 query of the operations dashboard runs without error

Environment: PROMTOOL (default promtool), PSQL (default psql), PG* for `queries`;
TELEMETRY_DASHBOARD_TENANT (default: the first value of the dashboard's tenant variable),
TELEMETRY_DASHBOARD_FROM / _TO (default: the dashboard's time range, e.g. now-14d .. now, as literal
UTC timestamps, which is what Grafana puts in the SQL), TELEMETRY_DASHBOARD_ROLE and
TELEMETRY_EXPORTER_ROLE (SET ROLE before the dashboard's and the exporter's queries), and
TELEMETRY_METRICS_TOKEN (a bearer token for a metrics URL).
"""
import json
import os
import re
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
from contract import (ALERTS, CONTRACT, EXPORTER_ONLY, OBSERVE_DOC, OPS_DASHBOARD, PRODUCT_DASHBOARD, README,
                      ROOT, RULES, RULES_TEST, contract_family, exporter_namespaces, fail, failures, finish,
                      grafana_promql, known_metric, metric_names, note, ok, ops_queries, panels_of, read,
                      recording_rules, rule_blocks, rules_metric_names, yaml_scalars)  # noqa: E402
import live  # noqa: E402


def check_alert_names():
    rules = read(RULES)
    alerts = rule_blocks(rules, "alert")
    names = [n for n, _ in alerts]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        fail(f"telemetry.rules.yml: alerts defined twice: {', '.join(dupes)}")
    missing = [a for a in ALERTS if a not in names]
    extra = [n for n in names if n not in ALERTS]
    if missing:
        fail(f"telemetry.rules.yml lacks the alerts of telemetry.alerts(): {', '.join(missing)}")
    if extra:
        fail(f"telemetry.rules.yml has alerts telemetry.alerts() does not: {', '.join(extra)} "
             "(add them to ALERTS in test/monitoring/contract.py with the SQL function)")
    for name, block in alerts:
        severity = re.search(r"^\s*severity:\s*(\S+)", block, re.M)
        if not severity or severity.group(1).strip("'\"") not in ("warning", "critical"):
            fail(f"alert {name}: no severity label warning or critical")
        for annotation in ("summary", "description", "playbook"):
            values = yaml_scalars(block, annotation)
            if not values or not values[0].strip():
                fail(f"alert {name}: no {annotation} annotation")
            elif annotation == "playbook" and "\n" in values[0].strip():
                fail(f"alert {name}: the playbook is more than one line")
    if not failures:
        ok(f"telemetry.rules.yml: the {len(ALERTS)} alerts of telemetry.alerts(), each with a severity, "
           "a summary, a description and a one-line playbook")

    # The unit tests: for every alert a case where it fires and one where it does not.
    fires, quiet = {}, {}
    current = None
    for line in read(RULES_TEST).splitlines():
        m = re.match(r"^\s*(?:- )?alertname:\s*(\S+)\s*$", line)
        if m:
            current = m.group(1)
            continue
        m = re.match(r"^\s*exp_alerts:\s*(.*)$", line)
        if m and current:
            target = quiet if m.group(1).strip() == "[]" else fires
            target[current] = target.get(current, 0) + 1
            current = None
    for name in ALERTS:
        if not fires.get(name):
            fail(f"telemetry.rules.test.yml: no case where {name} fires")
        if not quiet.get(name):
            fail(f"telemetry.rules.test.yml: no case where {name} does not fire")
    unknown = sorted((set(fires) | set(quiet)) - set(ALERTS))
    if unknown:
        fail(f"telemetry.rules.test.yml tests alerts the rules do not have: {', '.join(unknown)}")
    if all(fires.get(n) and quiet.get(n) for n in ALERTS):
        ok("telemetry.rules.test.yml: every alert has a case that fires and one that does not ("
           + ", ".join(f"{n} {fires[n]}/{quiet[n]}" for n in ALERTS) + ")")

    # The docs: the playbook table of monitoring/README.md, and docs/observe.md once it lists alerts.
    readme = read(README)
    absent = [n for n in ALERTS if n not in readme]
    if absent:
        fail(f"monitoring/README.md does not name {', '.join(absent)}")
    else:
        # Its playbook table gives each rule's playbook line (markdown aside).
        differ = []
        for name, block in alerts:
            row = next((line for line in readme.splitlines() if line.startswith(f"| `{name}` |")), "")
            row = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", row).replace("`", "")
            playbook = (yaml_scalars(block, "playbook") or [""])[0]
            if not playbook or playbook not in row:
                differ.append(name)
        if differ:
            fail(f"monitoring/README.md's playbook table is not the rules' playbook for {', '.join(differ)}")
        else:
            ok("monitoring/README.md names every alert, with the rules' playbook line")
    if os.path.exists(OBSERVE_DOC):
        doc = read(OBSERVE_DOC)
        named = [n for n in ALERTS if n in doc]
        if not named:
            note("docs/observe.md names no alert yet: not checked")
        elif len(named) < len(ALERTS):
            fail(f"docs/observe.md does not name {', '.join(n for n in ALERTS if n not in doc)}")
        else:
            ok("docs/observe.md names every alert")

    # The source of telemetry.alerts(): every alert name written in src/ is a rule, and the reverse.
    in_src = set()
    for top, _, files in os.walk(os.path.join(ROOT, "src")):
        for f in files:
            if f.endswith((".cpp", ".hpp", ".h", ".sql")):
                in_src |= set(re.findall(r"[\"'](Telemetry[A-Z][A-Za-z]+)[\"']", read(os.path.join(top, f))))
    if not in_src:
        note("no alert name in src/ yet (telemetry.alerts()): not compared")
    else:
        if set(ALERTS) - in_src:
            fail(f"src/ (telemetry.alerts()) does not fire {', '.join(sorted(set(ALERTS) - in_src))}")
        if in_src - set(ALERTS):
            fail(f"src/ (telemetry.alerts()) fires alerts the rules do not have: {', '.join(sorted(in_src - set(ALERTS)))}")
        if in_src == set(ALERTS):
            ok("src/ names the same alerts (telemetry.alerts())")


def check_documented_metrics():
    """The contract here is the metrics table of docs/observe.md."""
    if not os.path.exists(OBSERVE_DOC):
        note("no docs/observe.md: the metrics contract not compared with it")
        return
    documented = set(re.findall(r"telemetry_[a-z0-9_]+", read(OBSERVE_DOC)))
    documented = {n for n in documented if not n.endswith("_")}
    if documented - set(CONTRACT):
        fail(f"docs/observe.md documents metrics test/monitoring/contract.py lacks: {', '.join(sorted(documented - set(CONTRACT)))}")
    if set(CONTRACT) - documented:
        fail(f"test/monitoring/contract.py has metrics docs/observe.md does not document: {', '.join(sorted(set(CONTRACT) - documented))}")
    if documented == set(CONTRACT):
        ok(f"the metrics contract is docs/observe.md's ({len(CONTRACT)} metrics)")


def check_rules_metrics():
    records = recording_rules()
    used = rules_metric_names()
    unknown = sorted(n for n in used if not known_metric(n, records))
    if unknown:
        fail(f"telemetry.rules.yml reads metrics outside the contract: {', '.join(unknown)}")
    else:
        ok(f"telemetry.rules.yml reads {len(used - records)} metrics, all in the contract")


def check_dashboard_shape(path, ds_uid):
    name = os.path.basename(path)
    try:
        dashboard = json.loads(read(path))
    except ValueError as e:
        fail(f"{name}: not JSON: {e}")
        return None
    for key in ("title", "uid", "panels", "templating", "schemaVersion", "time"):
        if key not in dashboard:
            fail(f"{name}: no {key}")
    variables = {v.get("name"): v for v in dashboard.get("templating", {}).get("list", [])}
    ds_var = ds_uid.strip("${}")
    if variables.get(ds_var, {}).get("type") != "datasource":
        fail(f"{name}: no datasource variable {ds_var}")
    ids = [p.get("id") for p in panels_of(dashboard)]
    if len(ids) != len(set(ids)) or None in ids:
        fail(f"{name}: panel ids missing or not unique")
    for p in panels_of(dashboard):
        title = p.get("title", "?")
        g = p.get("gridPos", {})
        if not all(k in g for k in "hwxy") or g["x"] + g["w"] > 24:
            fail(f"{name}: panel {title!r}: gridPos wrong ({g})")
        if p.get("type") == "row":
            continue
        if not p.get("targets"):
            fail(f"{name}: panel {title!r} has no query")
        refs = [t.get("refId") for t in p.get("targets", [])]
        if len(refs) != len(set(refs)) or None in refs:
            fail(f"{name}: panel {title!r}: refIds missing or not unique")
        for ds in [p.get("datasource")] + [t.get("datasource") for t in p.get("targets", [])]:
            if not isinstance(ds, dict) or ds.get("uid") != ds_uid:
                fail(f"{name}: panel {title!r}: a data source other than {ds_uid}: {ds}")
                break
    for v in variables.values():
        if v.get("type") == "query" and (v.get("datasource") or {}).get("uid") != ds_uid:
            fail(f"{name}: variable {v.get('name')}: a data source other than {ds_uid}")
    return dashboard


def check_ops_dashboard():
    dashboard = check_dashboard_shape(OPS_DASHBOARD, "${DS_PROMETHEUS}")
    if dashboard is None:
        return
    records = recording_rules()
    queries = ops_queries(dashboard)
    used = set()
    for what, expr in queries:
        names = metric_names(expr)
        used |= names
        unknown = sorted(n for n in names if not known_metric(n, records))
        if unknown:
            fail(f"telemetry-operations.json: {what} reads metrics outside the contract: {', '.join(unknown)}")
        left = re.findall(r"\$\{?\w+", grafana_promql(expr))
        if left:
            fail(f"telemetry-operations.json: {what}: unknown variables {left}")
    families = {contract_family(n) for n in used}
    unused = sorted(set(CONTRACT) - families)
    if unused:
        fail(f"telemetry-operations.json shows no panel for {', '.join(unused)}")
    # promtool parses PromQL when it checks rules: each query becomes a recording rule.
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "dashboard.rules.yml")
        with open(path, "w") as f:
            f.write("groups:\n  - name: dashboard\n    rules:\n")
            for i, (what, expr) in enumerate(queries):
                f.write(f"      - record: dashboard:query_{i}\n        expr: {json.dumps(grafana_promql(expr))}\n")
        r = subprocess.run([os.environ.get("PROMTOOL", "promtool"), "check", "rules", path],
                           capture_output=True, text=True)
        if r.returncode != 0:
            out = r.stdout + r.stderr
            for m in re.finditer(r"dashboard:query_(\d+)", out):
                print(f"  query {m.group(1)} is {queries[int(m.group(1))][0]}")
            fail(f"telemetry-operations.json: promtool cannot parse a query:\n{out}")
        else:
            ok(f"telemetry-operations.json: {len(queries)} PromQL queries parse (promtool), read only contract "
               f"metrics and recording rules, and show all {len(CONTRACT)} metrics")


def check_product_dashboard_shape():
    dashboard = check_dashboard_shape(PRODUCT_DASHBOARD, "${DS_POSTGRES}")
    if dashboard is None:
        return
    n = 0
    for p in panels_of(dashboard):
        for t in p.get("targets", []):
            n += 1
            if not t.get("rawSql", "").strip() or not t.get("rawQuery"):
                fail(f"telemetry-product.json: panel {p.get('title')!r} {t.get('refId')}: no raw SQL")
            if t.get("format") not in ("table", "time_series"):
                fail(f"telemetry-product.json: panel {p.get('title')!r}: format {t.get('format')!r}")
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    if "tenant" not in variables:
        fail("telemetry-product.json: no tenant variable")
    ok(f"telemetry-product.json: {n} SQL queries, a tenant variable, one data source ({'${DS_POSTGRES}'})")


def check_exporter_file():
    try:
        namespaces = exporter_namespaces()
    except (ValueError, OSError) as e:
        fail(f"queries.yaml: {e}")
        return None
    for ns, spec in namespaces.items():
        if not spec["query"]:
            fail(f"queries.yaml: {ns}: no query")
        if not spec["master"]:
            fail(f"queries.yaml: {ns}: not master: true (it would run in every database)")
        if not spec["metrics"]:
            fail(f"queries.yaml: {ns}: no metrics")
        for column, usage in spec["metrics"]:
            if usage not in ("LABEL", "COUNTER", "GAUGE", "DISCARD"):
                fail(f"queries.yaml: {ns}.{column}: usage {usage!r}")
            if usage in ("COUNTER", "GAUGE"):
                name = f"{ns}_{column}"
                if name not in CONTRACT and name not in EXPORTER_ONLY:
                    fail(f"queries.yaml: {ns}.{column} makes {name}, not a metric of the contract")
                elif name in CONTRACT and CONTRACT[name][0] != usage.lower():
                    fail(f"queries.yaml: {name} is a {CONTRACT[name][0]} in the contract, a {usage} here")
                elif name in CONTRACT:
                    labels = {c for c, u in spec["metrics"] if u == "LABEL"}
                    if not labels <= CONTRACT[name][1]:
                        fail(f"queries.yaml: {name} has labels {sorted(labels)}, the contract {sorted(CONTRACT[name][1])}")
    made = {f"{ns}_{c}" for ns, s in namespaces.items() for c, u in s["metrics"] if u in ("COUNTER", "GAUGE")}
    ok(f"queries.yaml: {len(namespaces)} queries; they make {len(made & set(CONTRACT))} of the contract's "
       f"metrics under the same names, and {', '.join(sorted(made & EXPORTER_ONLY))}")
    return namespaces


def cmd_rules():
    check_alert_names()
    check_documented_metrics()
    check_rules_metrics()
    check_ops_dashboard()
    check_product_dashboard_shape()
    check_exporter_file()
    finish("monitoring rules and files")


def main(argv):
    if len(argv) >= 2 and argv[1] == "rules":
        cmd_rules()
    elif len(argv) >= 2 and argv[1] == "queries":
        live.cmd_queries()
    elif len(argv) == 3 and argv[1] == "metrics":
        live.cmd_metrics(argv[2])
    elif len(argv) == 3 and argv[1] == "evaluate":
        live.cmd_evaluate(argv[2])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv)
