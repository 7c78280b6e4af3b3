"""The pack's Snowflake queries, executed: macros expanded, transpiled with sqlglot, run in DuckDB
over CloudTrail events in the shape of Panther's aws_cloudtrail table.

The equivalence tests hold the SQL to the streaming rules: over the same events, the groups the
SQL flags are the groups the streaming rules alert on, with equal totals. Where they must differ
it is stated: the SQL sums over its lookback (8 hours for vCPUs, whole UTC days for instance
counts) while VCPUSurge slides; so the event sets here stay within one lookback. The SQL reads
RunInstances only (the call with per-instance data), so the sets hold RunInstances only.
"""

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from compute_abuse import queries, sql
from compute_abuse.cli import SAMPLE_DIR
from compute_abuse.content import load_rule, rule_spec, run_rule
from compute_abuse.events import assumed_role, cpu, iam_user, launched_item, run_instances
from compute_abuse.inputs import RecordReader
from compute_abuse.kvstore import InMemoryKVStore

NOW = datetime(2024, 8, 1, 18, 0, tzinfo=UTC)


def query(name):
    return yaml.safe_load((queries.QUERIES_DIR / name).read_text())["SnowflakeQuery"]


VCPU = query("vcpu_surge_query.yml")
COUNT = query("high_instance_count_query.yml")


def at(hours_before_now, minutes=0):
    moment = NOW - timedelta(hours=hours_before_now) + timedelta(minutes=minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_committed_queries_are_what_the_generator_produces():
    rendered = queries.render()
    assert sorted(rendered) == sorted(p.name for p in queries.QUERIES_DIR.glob("*.yml"))
    for name, text in rendered.items():
        assert (queries.QUERIES_DIR / name).read_text() == text, f"stale {name}: make queries"


def test_macro_expansion():
    assert sql.expand_macros("WHERE p_occurs_since('8 hours')") == (
        "WHERE p_event_time >= DATEADD(second, -28800, CURRENT_TIMESTAMP())"
    )
    assert "x.p_event_time >= DATEADD(second, -86400" in sql.expand_macros(
        "p_occurs_since('1 day', x)"
    )
    assert sql.offset_seconds("90") == 90 and sql.offset_seconds("30 minutes") == 1800
    with pytest.raises(ValueError, match="unsupported time offset"):
        sql.offset_seconds("a fortnight")


USER = "arn:aws:iam::111122223333:user/"


@pytest.mark.parametrize("name", sorted(queries.specs()))
def test_every_query_runs_on_the_sample(name):
    sample = list(RecordReader([str(SAMPLE_DIR)]))
    rows = sql.run(query(name), sample, datetime(2024, 8, 7, 16, 0, tzinfo=UTC))
    assert isinstance(rows, list)
    if name == "vcpu_surge_query.yml":  # the stolen key's 928 vCPUs, as the streaming rule
        assert [(r["principal"], r["total_vcpus"]) for r in rows] == [(USER + "backup-sync", 928)]


# --- vCPU surge ----------------------------------------------------------------------------------


def test_vcpu_sql_counts_every_instance_catalog_fallback_and_each_event_once():
    many = run_instances("c5.24xlarge", 10, 10, identity=iam_user("eve"), event_time=at(3))
    many["responseElements"]["instancesSet"]["items"][0]["cpuOptions"] = {
        "coreCount": 2, "threadsPerCore": 1,
    }  # fmt: skip
    rows = sql.run(VCPU, [many, many], NOW)  # delivered twice
    (row,) = rows
    assert row["total_vcpus"] == 9 * 96 + 2  # 9 by the catalog, 1 by its cpuOptions
    assert (row["instances"], row["launch_calls"]) == (10, 1)


def test_vcpu_sql_burst_vs_drip_failures_and_the_threshold():
    burst = [run_instances("m5.24xlarge", 3, 3, identity=iam_user("burst"), event_time=at(2, m))
             for m in range(0, 60, 20)]  # 3 x 288 = 864  # fmt: skip
    drip = [run_instances("m5.24xlarge", 1, 1, identity=iam_user("drip"), event_time=at(h))
            for h in (1, 9, 18, 27)]  # one per 9 hours: 96 in the lookback  # fmt: skip
    edge = [
        run_instances("m5.24xlarge", 4, 4, identity=iam_user("edge"), event_time=at(1)),
        run_instances("m5.xlarge", 4, 4, identity=iam_user("edge"), event_time=at(1, 5)),
    ]
    failed = run_instances("m5.24xlarge", 10, 10, identity=iam_user("burst"), event_time=at(1),
                           error_code="Client.VcpuLimitExceeded")  # fmt: skip
    rows = sql.run(VCPU, [*burst, *drip, *edge, failed], NOW)
    assert {r["principal"]: r["total_vcpus"] for r in rows} == {USER + "burst": 864}  # edge: 800


# --- instance counts ------------------------------------------------------------------------------


def test_count_sql_buckets_threshold_and_exclusions():
    def request(count, user="dan", minutes=0, identity=None, **fields):
        return run_instances("t3.micro", 1, count, identity=identity or iam_user(user),
                             event_time=at(5, minutes), **fields)  # fmt: skip

    exact_five = run_instances("t3.micro", 5, 5, identity=iam_user("eli"), event_time=at(4))
    events = [
        request(5), request(4, minutes=1),  # dan: 9
        exact_five, request(5, user="eli", minutes=2),  # eli: 5 + 5 = 10 (Elastic would say 6)
        request(20, user="fay", error_code="Client.DryRunOperation"),  # dry run: left out
        request(10, user="gus", error_code="Client.UnauthorizedOperation"),  # failure: counted
        request(10, identity=assumed_role("AWSServiceRoleForAutoScaling", "AutoScaling",
                                          invokedBy="autoscaling.amazonaws.com")),  # on behalf
    ]  # fmt: skip
    rows = sql.run(COUNT, events, NOW)
    assert {(r["principal"], r["refused_instances"]): r["requested_instances"] for r in rows} == {
        (USER + "eli", 0): 10,
        (USER + "gus", 10): 10,
    }


def test_sql_counts_per_principal_across_sessions_ips_subnets_and_types():
    """Rotating sessions, IPs, user agents, subnets and types: one role, one person, one row."""
    sessions = [
        run_instances(kind, 1, 2, identity=assumed_role("deployer", f"s-{i}"),
                      source_ip=f"192.0.2.{i}", user_agent=f"agent/{i}", subnet_id=f"subnet-{i}",
                      event_time=at(5, i))
        for i, kind in enumerate(["t3.micro", "c5.large"] * 3)
    ]  # fmt: skip
    sso = "AWSReservedSSO_PowerUser_4f2a9c1e0b7d3a61"
    person = [
        run_instances("m5.24xlarge", 5, 5, identity=assumed_role(sso, "Bob@example.com", account),
                      event_time=at(5, 10))
        for account in ("111122223333", "444455556666")
    ]  # fmt: skip
    counts = {
        r["principal"]: r["requested_instances"] for r in sql.run(COUNT, sessions + person, NOW)
    }
    assert counts == {"arn:aws:iam::111122223333:role/deployer": 12,
                      "identity-center-user:bob@example.com": 10}  # fmt: skip
    (surge,) = sql.run(VCPU, person, NOW)
    assert surge["principal"] == "identity-center-user:bob@example.com"
    assert surge["total_vcpus"] == 960 and len(surge["actor_arns"]) == 2


# --- equivalence with the streaming rules ------------------------------------------------------


def random_launches(seed, actors=6, calls=40):
    """Launches of several actors within one 8-hour lookback: sizes, types, duplicates, missing
    cpuOptions, failures and dry runs drawn from a seeded generator."""
    rng = random.Random(seed)
    events = []
    for _ in range(calls):
        user = f"actor{rng.randrange(actors)}"
        instance_type = rng.choice(["m5.24xlarge", "c5.9xlarge", "g5.12xlarge", "t3.micro"])
        count = rng.randint(1, 6)
        items = [launched_item(instance_type, cpu(rng.choice([2, 4, 8]), 2) if rng.random() < 0.3
                               else None) for _ in range(count)]  # fmt: skip
        error = rng.choice([None] * 6 + ["Client.VcpuLimitExceeded", "Client.DryRunOperation"])
        moment = at(7, rng.randrange(0, 7 * 60))
        event = run_instances(instance_type, 1, count, launched=items, identity=iam_user(user),
                              event_time=moment, error_code=error)  # fmt: skip
        events.append(event)
        if rng.random() < 0.1:
            events.append(json.loads(json.dumps(event)))  # a duplicate delivery
    return events


def streaming_totals(rule_id, events, group_of, window=None):
    """Per group, the largest window total the streaming rule reported for any of its events (in
    `window`, for a rule that keeps several)."""
    rule = load_rule(rule_spec(rule_id))
    store = InMemoryKVStore()
    totals = {}
    for event in sorted(events, key=lambda e: e["eventTime"]):
        result = run_rule(rule, event, patches=store.caching_functions())
        context = json.loads(result.alert_context_output or "{}")
        if context.get("degraded") == "":  # rule() counted this event in a window
            key = group_of(context)
            total = context["window_totals"][window] if window else context["window_total"]
            totals[key] = max(totals.get(key, 0), total)
    return totals


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_vcpu_sql_flags_the_groups_the_streaming_rule_alerts_on(seed):
    events = random_launches(seed)
    threshold = 800
    streaming = {
        actor: total
        for actor, total in streaming_totals(
            "AWS.EC2.ComputeAbuse.VCPUSurge",
            events,
            lambda c: c["principal"],
            "principal, 8 hours",
        ).items()
        if total > threshold
    }
    flagged = {row["principal"]: row["total_vcpus"] for row in sql.run(VCPU, events, NOW)}
    assert flagged == streaming
    assert flagged, "the scenario flags someone, so the comparison means something"


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_count_sql_flags_the_buckets_the_streaming_rule_alerts_on(seed):
    events = random_launches(seed, actors=4, calls=30)

    def bucket(context):
        return (context["principal"], context["bucket_day"])

    streaming = {
        key: total
        for key, total in streaming_totals(
            "AWS.EC2.ComputeAbuse.HighInstanceCount", events, bucket
        ).items()
        if total >= 10
    }
    rows = sql.run(COUNT, events, NOW)
    flagged = {(r["principal"], str(r["day"])): r["requested_instances"] for r in rows}
    assert flagged.keys() == streaming.keys()
    assert flagged
    # The streaming rule stops counting a day once it alerted; the SQL sums the whole day: each
    # eventID once, dry runs left out, maxCount per call.
    requested = {}
    for event in {e["eventID"]: e for e in events}.values():
        if event.get("errorCode") != "Client.DryRunOperation":
            key = (event["userIdentity"]["arn"], event["eventTime"][:10])
            count = event["requestParameters"]["instancesSet"]["items"][0]["maxCount"]
            requested[key] = requested.get(key, 0) + count
    assert flagged == {key: requested[key] for key in flagged}


@pytest.mark.parametrize("name", sorted(queries.specs()))
def test_queries_read_only_panthers_cloudtrail_table(name):
    """`pat test` checks offline only that table names are fully qualified Panther tables (a
    misspelt log type passes); this checks each query reads exactly the CloudTrail table."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql.expand_macros(query(name)), read="snowflake")
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    tables = {
        ".".join(part for part in (t.catalog, t.db, t.name) if part).lower()
        for t in tree.find_all(exp.Table)
        if t.name.lower() not in ctes and not isinstance(t.this, exp.Func)
    }
    assert tables == {sql.TABLE}
