"""The pack's Snowflake queries, executed: macros expanded, transpiled with sqlglot, run in DuckDB
over CloudTrail events in the shape of Panther's aws_cloudtrail table.

The equivalence tests hold the SQL to the streaming rules: over the same events, the groups the
SQL flags are the groups the streaming rules alert on, with equal totals. Where they must differ
it is stated: the SQL sums over its lookback (8 hours for vCPUs, whole UTC days for instance
counts) while VCPUSurge slides; so the event sets here stay within one lookback. The SQL reads
the EC2 launch APIs, auto scaling's group sizes, scaling policies and instance refreshes (not
the other compute services), so the sets hold those.
"""

import json
import random
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import yaml
from ec2_compute_windows import decode_entry

from compute_abuse import queries, sql, sql_replay
from compute_abuse.cli import SAMPLE_DIR
from compute_abuse.content import load_rule, rule_spec, run_rule
from compute_abuse.events import (
    api_call,
    application_autoscaling_call,
    assumed_role,
    auto_scaling_group,
    cpu,
    create_compute_environment,
    create_fleet,
    create_launch_configuration,
    create_launch_template,
    create_launch_template_version,
    create_lightsail_instances,
    create_nodegroup,
    execute_policy,
    iam_user,
    launched_item,
    modify_fleet,
    modify_spot_fleet_request,
    put_scaling_policy,
    put_scheduled_action,
    register_scalable_target,
    request_spot_fleet,
    request_spot_instances,
    resize_instance,
    run_instances,
    run_job_flow,
    run_scheduled_instances,
    run_task,
    sagemaker_job,
    scheduled_group_action,
    service_launch,
    start_build,
    start_instance_refresh,
    start_instances,
    template_call,
)
from compute_abuse.inputs import RecordReader
from compute_abuse.kvstore import InMemoryKVStore
from ec2_compute_helpers import (  # (installed by conftest)
    INSTANCE_COUNT_EVENTS,
    OUTCOME_SUCCESS,
    summarize_launch,
)
from tests.kv import StoreInOrder

NOW = datetime(2024, 8, 1, 18, 0, tzinfo=UTC)


def query(name):
    return yaml.safe_load((queries.QUERIES_DIR / name).read_text())["SnowflakeQuery"]


VCPU = query("vcpu_surge_query.yml")
VCPU_TOTALS = queries.surge_totals_query()  # every window's largest total, alerting or not
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
ROLE = "arn:aws:iam::111122223333:role/"


THIEF, BOB = USER + "backup-sync", "identity-center-user:bob@example.com"
STRATUS = "arn:aws:iam::111122223333:role/stratus-red-team-ec2-role"
SESSION = "arn:aws:sts::111122223333:assumed-role/"
# What each query finds in the bundled sample (4 days of an account: CI, Karpenter, a batch role,
# Identity Center users, Stratus Red Team's refused p2 launch, and the stolen key's hour of GPUs
# on 7 August), run at 16:00 that day: (the columns named, one tuple per row, in query order).
ON_THE_SAMPLE = {
    "vcpu_surge_query.yml": (  # the batch role's 1,056 over 4 days is under the week's 7,000
        ("window_kind", "grouped_value", "span", "total_vcpus"),
        [("principal", THIEF, "8 hours", 928)],
    ),
    # the Fargate miner's 60 tasks of 16 vCPUs; the thief's EC2 alone is the query above's, the
    # scheduler's hourly half-vCPU report (24 a day) stays under every threshold
    "service_vcpu_surge_query.yml": (
        ("window_kind", "grouped_value", "span", "total_vcpus", "instances", "service_calls"),
        [("principal", USER + "svc-reporting", "8 hours", 960, 60, 1)],
    ),
    # The sample's other service is ECS, counted by vCPUs only: the thief's and Stratus's EC2
    # days are the query below's, not this one's (a day must hold another service's call)
    "service_high_instance_count_query.yml": (
        ("grouped_value", "day", "requested_instances"),
        [],
    ),
    "high_instance_count_query.yml": (  # the account's busiest day is under its 40
        ("grouped_value", "day", "requested_instances", "refused_instances"),
        [(THIEF, "2024-08-07", 18, 2), (STRATUS, "2024-08-06", 10, 10)],
    ),
    "daily_instance_counts_query.yml": (
        ("grouped_value", "requested_instances"),
        [(THIEF, 18), (STRATUS, 10)],
    ),
    "launches_by_actor_query.yml": (  # accelerators first: the thief and Bob's one GPU lead
        ("actor_arn", "instances", "vcpus", "accelerators"),
        [
            (THIEF, 16, 928, 72),
            (SESSION + "AWSReservedSSO_PowerUser_4f2a9c1e0b7d3a61/bob@example.com", 1, 4, 1),
            (SESSION + "legacy-batch/batch-runner", 11, 1056, 0),
            (SESSION + "github-actions-ci/GitHubActions", 32, 64, 0),
            (SESSION + "AWSReservedSSO_PowerUser_4f2a9c1e0b7d3a61/alice@example.com", 1, 2, 0),
        ],
    ),
    "accelerated_launches_query.yml": (
        ("instance_type", "outcome", "accelerators_per_instance"),
        [
            ("g4dn.12xlarge", "success", 4),
            ("p4d.24xlarge", "failure", 8),
            ("g5.12xlarge", "success", 4),
            ("p3.16xlarge", "success", 8),
            ("p3.16xlarge", "dry_run", 8),
            ("g5.xlarge", "success", 1),
            ("p2.xlarge", "failure", 1),
        ],
    ),
    "other_services_capacity_query.yml": (  # the scheduler's hourly task; the thief's service
        ("principal", "service", "calls", "asked", "accelerated_asked", "named_types"),
        [
            (ROLE + "report-scheduler", "ecs", 96, 96, 0, ["fargate"]),
            (USER + "svc-reporting", "ecs", 1, 60, 0, ["fargate"]),
        ],
    ),
    "failed_launch_attempts_query.yml": (  # Karpenter's dry runs lead by volume
        ("outcome", "error_code", "calls", "instance_types"),
        [
            ("dry_run", "Client.DryRunOperation", 192, ["c6i.2xlarge"]),
            ("dry_run", "Client.DryRunOperation", 1, ["p3.16xlarge"]),
            ("failure", "Client.VcpuLimitExceeded", 1, ["p4d.24xlarge"]),
            ("failure", "Client.UnauthorizedOperation", 1, ["p2.xlarge"]),
        ],
    ),
    # Every sample row arrives "since the last run" here, and the sample holds 4 days, not 30:
    # every accelerated family of it is new; CPU families (c5, c6i, t3) are not this query's.
    "accelerated_family_first_seen_query.yml": (
        ("instance_family", "outcomes"),
        [
            ("g4dn", ["success"]),
            ("p4d", ["failure"]),
            ("p3", ["dry_run", "success"]),
            ("g5", ["success"]),
            ("p2", ["failure"]),
        ],
    ),
    # Today (7 August): the thief's families and regions; c5, t3, c6i and us-east-1 are routine.
    "first_seen_instance_family_query.yml": (
        ("instance_family", "principals"),
        [("g4dn", [THIEF]), ("p4d", [THIEF]), ("p3", [THIEF]), ("g5", [THIEF, BOB])],
    ),
    "first_seen_region_query.yml": (
        ("region",),
        [("us-east-2",), ("eu-west-1",), ("ap-southeast-1",), ("us-west-2",)],
    ),
    # A second stolen key's ECS service (svc-reporting) is its principal's first compute.
    "first_seen_principal_query.yml": (
        ("principal",),
        [(USER + "svc-reporting",), (THIEF,), (BOB,)],
    ),
}


def test_every_query_has_its_expected_rows_on_the_sample():
    assert sorted(ON_THE_SAMPLE) == sorted(queries.specs())


@pytest.mark.parametrize("name", sorted(ON_THE_SAMPLE))
def test_every_query_finds_what_the_sample_holds(name, sample_records):
    columns, expected = ON_THE_SAMPLE[name]
    rows = sql.run(query(name), sample_records, datetime(2024, 8, 7, 16, 0, tzinfo=UTC))
    found = [tuple(_plain(row[c]) for c in columns) for row in rows]
    assert found == expected


def _plain(value):
    """DuckDB's DECIMAL sums and DATE days as the plain values the table above spells."""
    if isinstance(value, Decimal):
        return int(value)
    return value.isoformat() if isinstance(value, date) else value


@pytest.fixture(scope="module")
def sample_records():
    return list(RecordReader([str(SAMPLE_DIR)]))


# --- vCPU surge ----------------------------------------------------------------------------------


def test_vcpu_sql_counts_every_instance_catalog_fallback_and_each_event_once():
    many = run_instances("c5.24xlarge", 10, 10, identity=iam_user("eve"), event_time=at(3))
    many["responseElements"]["instancesSet"]["items"][0]["cpuOptions"] = {
        "coreCount": 2,
        "threadsPerCore": 1,
    }
    rows = sql.run(VCPU, [many, many], NOW)  # delivered twice
    (row,) = rows
    assert row["total_vcpus"] == 9 * 96 + 2  # 9 by the catalog, 1 by its cpuOptions
    assert (row["instances"], row["launch_calls"]) == (10, 1)


def launched_rows(events):
    """launched.sql's rows over `events`: the vCPU query with its final SELECT replaced."""
    select = "SELECT launched_type, vcpus, accelerators FROM launched ORDER BY launched_type"
    return sql.run(queries.vcpu_surge_with(select), events, NOW)


def test_the_sql_prices_every_catalog_type_as_the_streaming_rules_do():
    """The SQL's catalog is a size rule plus exceptions: over every EC2 type of the catalog,
    launched without cpuOptions, it must give the catalog's vCPUs and accelerators."""
    catalog = queries._ec2_catalog()
    events = [
        run_instances(name, event_time=at(1), eventID=f"catalog-{i}")
        for i, name in enumerate(catalog)
    ]
    priced = {r["launched_type"]: (r["vcpus"], r["accelerators"]) for r in launched_rows(events)}
    assert priced == {name: (row[0], row[3]) for name, row in catalog.items()}
    assert len(queries.instance_type_rows()) < len(catalog) / 5  # the rule prices the rest


def test_the_size_rule_and_a_type_newer_than_the_catalog():
    assert [queries.size_rule_vcpus(t) for t in ("m9.medium", "m9.large", "m9.xlarge")] == [1, 2, 4]
    assert queries.size_rule_vcpus("m9.24xlarge") == queries.size_rule_vcpus("m9.metal-24xl") == 96
    assert queries.size_rule_vcpus("m9.metal") is queries.size_rule_vcpus("m9.nano") is None
    assert queries.size_rule_vcpus("m9.2xlargish") is None
    newer = [run_instances(t, event_time=at(1), eventID=t) for t in ("zz9.12xlarge", "zz9.metal")]
    assert [(r["launched_type"], r["vcpus"]) for r in launched_rows(newer)] == [
        ("zz9.12xlarge", 48),
        ("zz9.metal", 0),
    ]


def test_the_accelerated_query_finds_every_accelerated_type_and_only_those():
    catalog = queries._ec2_catalog()
    events = [
        run_instances(name, event_time=at(1), eventID=f"catalog-{i}")
        for i, name in enumerate(catalog)
    ]
    rows = sql.run(query("accelerated_launches_query.yml"), events, NOW)
    found = {r["instance_type"]: r["accelerators_per_instance"] for r in rows}
    assert found == {name: row[3] for name, row in catalog.items() if row[3]}


def test_vcpu_sql_burst_vs_drip_failures_and_the_threshold():
    burst = [
        run_instances("m5.24xlarge", 3, 3, identity=iam_user("burst"), event_time=at(2, m))
        for m in range(0, 60, 20)
    ]  # 3 x 288 = 864
    drip = [
        run_instances("m5.24xlarge", 1, 1, identity=iam_user("drip"), event_time=at(h))
        for h in (1, 9, 18, 27)
    ]  # one per 9 hours: 96 in the lookback
    edge = [
        run_instances("m5.24xlarge", 4, 4, identity=iam_user("edge"), event_time=at(1)),
        run_instances("m5.xlarge", 4, 4, identity=iam_user("edge"), event_time=at(1, 5)),
    ]
    failed = run_instances(
        "m5.24xlarge",
        10,
        10,
        identity=iam_user("burst"),
        event_time=at(1),
        error_code="Client.VcpuLimitExceeded",
    )
    rows = sql.run(VCPU, [*burst, *drip, *edge, failed], NOW)
    assert surges(rows) == {  # edge: 800, not above; drip: 288 in a day, 384 in the week
        ("principal", USER + "burst", "8 hours"): 864,
        # the three share the address: over 1,200 at the edge's first call, not a minute later
        ("source IP", "198.51.100.23", "8 hours"): 864 + 96 + 384,
    }
    console = [  # the console and AWS services have no address: no source IP window
        run_instances(
            "m5.24xlarge", 7, 7, identity=iam_user(who), event_time=at(1), sourceIPAddress=where
        )
        for who, where in (("c1", "AWS Internal"), ("c2", "AWS Internal"), ("c3", "2001:db8::7"))
    ]  # 672 each: the console's two would be 1,344 (over 1,200) were it an address
    assert surges(sql.run(VCPU, console, NOW)) == {}


def by_principal(rows):
    """The principal windows' rows, each with its principal named as before the other windows."""
    return [{**r, "principal": r["grouped_value"]} for r in rows if r["window_kind"] == "principal"]


COUNTS_REFUSALS = {"ComputeAbuse.AWS.EC2.HighInstanceCount"}  # VCPUSurge counts what launched
WINDOW_KEYS = {  # where each rule keeps its windows' entries (window_key's prefix)
    "ComputeAbuse.AWS.EC2.VCPUSurge": "ec2-compute-abuse:vcpu-surge",
    "ComputeAbuse.AWS.EC2.HighInstanceCount": "ec2-compute-abuse:instance-count",
}


def _window_members(store, rule_id):
    prefix = WINDOW_KEYS[rule_id]
    return {key: set(item.members) for key, item in store.items.items() if key.startswith(prefix)}


def window_totals(rule_id, events, store=None):
    """Per window (kind, group, span or day), the largest total the streaming rule reported for
    it at any of the events rule() recorded in a window (an alert function run for an event that
    rule() passed over, a node controller's resize, reads what it would have counted)."""
    rule = load_rule(rule_spec(rule_id))
    store, totals = store or InMemoryKVStore(), {}
    for event in sorted(events, key=lambda e: e["eventTime"]):
        before = _window_members(store, rule_id)
        result = run_rule(rule, event, patches=store.caching_functions())
        after = _window_members(store, rule_id)
        if all(members <= before.get(key, set()) for key, members in after.items()):
            continue  # recorded in no window (or delivered again: its totals were read)
        context = json.loads(result.alert_context_output or "{}")
        who = context.get("charged_to") or context.get("principal")  # a group's owner, else
        if event["userIdentity"].get("invokedBy") and not context.get("charged_to"):
            continue  # a service's launch for no one the rule knows: not counted, its context alone
        error = event.get("errorCode") or ""
        if error.endswith("DryRunOperation") or (error and rule_id not in COUNTS_REFUSALS):
            continue  # not recorded by the rule: its context counts the request alone
        if rule_id not in COUNTS_REFUSALS and summarize_launch(event).outcome != OUTCOME_SUCCESS:
            continue  # refused in its response (tasks ECS placed none of, an instant fleet's)
        for label, total in context.get("window_totals", {}).items():
            group, span = label.rsplit(", ", 1)
            kind = next(k for k in ("principal", "source IP", "account") if group.startswith(k))
            key = (kind, group.removeprefix(kind).strip() or who, span)
            totals[key] = max(totals.get(key, 0), total)
    return totals


VCPU_SURGE_THRESHOLDS = [
    f"VCPU_SURGE{w}_THRESHOLD" for w in ("", "_DAY", "_WEEK", "_SOURCE_IP", "_ACCOUNT")
]


def surge_thresholds_out_of_reach(monkeypatch, config):
    """VCPUSurge's thresholds past any total: an alert closes its window's count."""
    for name in VCPU_SURGE_THRESHOLDS:
        monkeypatch.setattr(config, name, 10**9)


def charges_on_both_sides(events, monkeypatch, config, with_report=None):
    """Per call that charged anything, (vCPUs, accelerators): the SQL's ledger (`launched` of
    the vCPU Surge query, or of `with_report`, e.g. queries.service_surge_with), the streaming
    rule's window entries (thresholds out of reach: an alert closes its window's count)."""
    ledger = (
        "SELECT event_id, SUM(vcpus) AS vcpus, SUM(accelerators) AS accelerators FROM launched "
        "GROUP BY event_id HAVING SUM(vcpus) + SUM(accelerators) > 0"
    )
    rows = sql.run((with_report or queries.vcpu_surge_with)(ledger), events, NOW)
    lake = {r["event_id"]: (int(r["vcpus"]), int(r["accelerators"])) for r in rows}
    surge_thresholds_out_of_reach(monkeypatch, config)
    store, rule_id = InMemoryKVStore(), "ComputeAbuse.AWS.EC2.VCPUSurge"
    window_totals(rule_id, events, store)
    entries = [decode_entry(m) for ms in _window_members(store, rule_id).values() for m in ms]
    charged = {e.event_id: (e.amount, e.accelerators) for e in entries}
    return lake, {event: charge for event, charge in charged.items() if any(charge)}


def streaming_counts(events):
    """HighInstanceCount's window totals over the calls its rule() can count (RULE_EVENTS: not
    definitions, nor tasks, jobs and builds), the rule reading the group sizes VCPUSurge remembers
    (the two share Panther's KV store)."""
    store = InMemoryKVStore()
    window_totals("ComputeAbuse.AWS.EC2.VCPUSurge", events, store)
    counted = [
        e for e in events if e["eventName"] in INSTANCE_COUNT_EVENTS.get(e["eventSource"], ())
    ]
    return window_totals("ComputeAbuse.AWS.EC2.HighInstanceCount", counted, store)


def daily_requested(events):
    """Instances each principal asked for today, by the Daily Instance Counts saved query."""
    rows = sql.run(query("daily_instance_counts_query.yml"), events, NOW)
    return {r["principal"]: r["requested_instances"] for r in by_principal(rows)}


def alerts_on_both_sides(rule_id, events):
    """The dedup strings of the alerts about `rule_id`'s windows: (its data-lake rule's, the
    scheduled query run hourly as Panther runs it; the streaming rule's, in delivery order)."""
    return alerts_of_rules_on_both_sides((rule_id,), events)[rule_id]


def alerts_of_rules_on_both_sides(rule_ids, events) -> dict:
    """alerts_on_both_sides of several rules, from one replay: rule ID -> (lake, streaming)."""
    # Delivered in event-time order, as the hourly runs see them arrive: which window a call
    # crossed first (the alert's dedup) depends on the order the streaming rule reads them in.
    ordered = sorted(events, key=lambda e: e["eventTime"])
    verdicts, _, _ = sql_replay.compare(ordered, rule_ids={r + "DataLake" for r in rule_ids})
    return {
        rule_id: (
            {v.dedup for v in verdicts if v.rule_id == rule_id and v.data_lake},
            {v.dedup for v in verdicts if v.rule_id == rule_id and v.streaming},
        )
        for rule_id in rule_ids
    }


def surges(rows):
    return {(r["window_kind"], r["grouped_value"], r["span"]): r["total_vcpus"] for r in rows}


# --- instance counts ------------------------------------------------------------------------------


def test_count_sql_buckets_threshold_and_exclusions():
    def request(count, user="dan", minutes=0, identity=None, **fields):
        return run_instances(
            "t3.micro",
            1,
            count,
            identity=identity or iam_user(user),
            event_time=at(5, minutes),
            **fields,
        )

    exact_five = run_instances("t3.micro", 5, 5, identity=iam_user("eli"), event_time=at(4))
    events = [
        request(5),
        request(4, minutes=1),  # dan: 9
        exact_five,
        request(5, user="eli", minutes=2),  # eli: 5 + 5 = 10 (Elastic would say 6)
        request(20, user="fay", error_code="Client.DryRunOperation"),  # dry run: left out
        request(10, user="gus", error_code="Client.UnauthorizedOperation"),  # failure: counted
        request(
            10,
            identity=assumed_role(
                "AWSServiceRoleForAutoScaling", "AutoScaling", invokedBy="autoscaling.amazonaws.com"
            ),
        ),  # on behalf
    ]
    rows = by_principal(sql.run(COUNT, events, NOW))
    assert {(r["principal"], r["refused_instances"]): r["requested_instances"] for r in rows} == {
        (USER + "eli", 0): 10,
        (USER + "gus", 10): 10,
    }


def test_sql_counts_per_principal_across_sessions_ips_subnets_and_types():
    """Rotating sessions, IPs, user agents, subnets and types: one role, one person, one row."""
    sessions = [
        run_instances(
            kind,
            1,
            2,
            identity=assumed_role("deployer", f"s-{i}"),
            source_ip=f"192.0.2.{i}",
            user_agent=f"agent/{i}",
            subnet_id=f"subnet-{i}",
            event_time=at(5, i),
        )
        for i, kind in enumerate(["t3.micro", "c5.large"] * 3)
    ]
    sso = "AWSReservedSSO_PowerUser_4f2a9c1e0b7d3a61"
    person = [
        run_instances(
            "m5.24xlarge",
            5,
            5,
            identity=assumed_role(sso, "Bob@example.com", account),
            event_time=at(5, 10),
        )
        for account in ("111122223333", "444455556666")
    ]
    counts = {
        r["principal"]: r["requested_instances"]
        for r in by_principal(sql.run(COUNT, sessions + person, NOW))
    }
    assert counts == {
        "arn:aws:iam::111122223333:role/deployer": 12,
        "identity-center-user:bob@example.com": 10,
    }
    (surge,) = sql.run(VCPU, person, NOW)
    assert surge["grouped_value"] == "identity-center-user:bob@example.com"
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
        items = [
            launched_item(
                instance_type, cpu(rng.choice([2, 4, 8]), 2) if rng.random() < 0.3 else None
            )
            for _ in range(count)
        ]
        error = rng.choice([None] * 6 + ["Client.VcpuLimitExceeded", "Client.DryRunOperation"])
        moment = at(7, rng.randrange(0, 7 * 60))
        event = run_instances(
            instance_type,
            1,
            count,
            launched=items,
            identity=iam_user(user),
            event_time=moment,
            error_code=error,
        )
        events.append(event)
        if rng.random() < 0.1:
            events.append(json.loads(json.dumps(event)))  # a duplicate delivery
    return events


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_vcpu_sql_flags_the_windows_the_streaming_rule_alerts_on(seed):
    """Every window of VCPUSurge: the principal's three spans, the source IP's and the account's
    (several actors behind one address, in one account), with the same totals."""
    events = random_launches(seed, calls=60)
    moved = {e["eventID"] for e in events[::3]}  # a second office and account for some calls
    for event in events:  # every delivery of a moved call
        if event["eventID"] in moved:
            event.update(sourceIPAddress="192.0.2.77", recipientAccountId="444455556666")
    lake, streaming = alerts_on_both_sides("ComputeAbuse.AWS.EC2.VCPUSurge", events)
    assert lake == streaming
    assert {dedup.split(":")[0] for dedup in streaming} == {"arn", "source-ip", "account"}


def _calls(who, instance_type, counts, address="203.0.113.9", start=9):
    """`who`'s RunInstances from `address`, ten minutes apart from `start` o'clock, each launching
    its count of `instance_type`."""
    return [
        run_instances(
            instance_type,
            n,
            n,
            identity=iam_user(who),
            event_time=f"2024-08-01T{start + (10 * i) // 60:02d}:{(10 * i) % 60:02d}:00Z",
            source_ip=address,
        )
        for i, n in enumerate(counts)
    ]


SURGE, COUNTS = "ComputeAbuse.AWS.EC2.VCPUSurge", "ComputeAbuse.AWS.EC2.HighInstanceCount"
MALLORY, TRENT = USER + "mallory", USER + "trent"
ONE_ALERT_PER_CALL = {
    # (a p4d.24xlarge is 96 vCPUs) one key, one address, past the address's 1,200 too: the
    # address held one principal, whose own window told it
    "a stolen key past its address's threshold": (
        SURGE,
        _calls("mallory", "p4d.24xlarge", [2] * 8),
        {MALLORY},
    ),
    # 1,728 vCPUs in an hour: the 24 hours' 1,600 crossed while the 8 hours' 800 is over
    "a burst past the day's threshold too": (
        SURGE,
        _calls("mallory", "p4d.24xlarge", [6] * 3),
        {MALLORY},
    ),
    # trent's call takes both his window and the office's over: one alert, his
    "two behind one NAT, the second's call crossing two windows": (
        SURGE,
        _calls("mallory", "p4d.24xlarge", [6]) + _calls("trent", "p4d.24xlarge", [9], start=10),
        {TRENT},
    ),
    # 700 each: neither principal's window crosses, the office's does, holding both
    "two behind one NAT, the address alone crossing": (
        SURGE,
        _calls("mallory", "m5.24xlarge", [4, 3]) + _calls("trent", "m5.24xlarge", [4, 3], start=10),
        {"source-ip:203.0.113.9"},
    ),
    "a stolen key past its address's and account's counts": (
        COUNTS,
        _calls("mallory", "t3.micro", [45]),
        {MALLORY + ":2024-08-01"},
    ),
    # the address's day crosses two calls after mallory's did, holding mallory alone
    "a stolen key's address crossing later in the day": (
        COUNTS,
        _calls("mallory", "t3.micro", [9, 9, 9]),
        {MALLORY + ":2024-08-01"},
    ),
    "two behind one NAT, the second's call crossing his day and the address's": (
        COUNTS,
        _calls("mallory", "t3.micro", [9]) + _calls("trent", "t3.micro", [20], start=10),
        {TRENT + ":2024-08-01"},
    ),
    "three behind one NAT, the address's day alone crossing": (
        COUNTS,
        [
            *_calls("mallory", "t3.micro", [5, 4]),
            *_calls("trent", "t3.micro", [5, 4], start=10),
            *_calls("peggy", "t3.micro", [5, 4], start=11),
        ],
        {"source-ip:203.0.113.9:2024-08-01"},
    ),
}


@pytest.mark.parametrize("story", ONE_ALERT_PER_CALL)
def test_the_scheduled_queries_raise_one_alert_per_call_as_the_streaming_rules_do(story):
    """A window crossed by the same call as an earlier one of the rule's (the principal's before
    its address's and account's, a shorter span before a longer one), or a window of several
    principals holding one, is no alert of its own in the streaming rules: nor in the data lake,
    whose scheduled queries run hourly."""
    rule_id, events, expected = ONE_ALERT_PER_CALL[story]
    lake, streaming = alerts_on_both_sides(rule_id, events)
    assert lake == streaming == expected


def test_a_crossing_is_reported_by_one_run_however_long_its_window_stays_over():
    """The mallory burst stays over 800 vCPUs for 8 hours: the hourly run after it arrived
    reports it, none of the seven after it."""
    events, _ = sql_replay.stamped(_calls("mallory", "p4d.24xlarge", [6] * 3))  # arrived +2 min
    runs = [datetime(2024, 8, 1, hour, tzinfo=UTC) for hour in range(10, 18)]
    reported = [len(sql.run(VCPU, events, run)) for run in runs]
    assert reported == [1] + [0] * 7


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_count_sql_flags_the_buckets_the_streaming_rule_alerts_on(seed):
    events = random_launches(seed, actors=4, calls=30)

    streaming = {
        (group, span.removeprefix("UTC day ")): total
        for (kind, group, span), total in window_totals(
            "ComputeAbuse.AWS.EC2.HighInstanceCount", events
        ).items()
        if kind == "principal" and total >= 10
    }
    rows = by_principal(sql.run(COUNT, events, NOW))
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


def set_desired_capacity(group, desired, **fields):
    request = {"autoScalingGroupName": group, "desiredCapacity": desired}
    return api_call(
        "autoscaling.amazonaws.com", "SetDesiredCapacity", requestParameters=request, **fields
    )


def test_count_sql_counts_every_launch_api_and_a_groups_growth():
    def at_hour(hour, event, **fields):
        event.update(userIdentity=iam_user("ops"), eventTime=f"2024-08-01T{hour:02d}:00:00Z")
        return {**event, **fields}

    events = [
        at_hour(9, create_fleet(("g5.xlarge", "t3.micro"), 12, launched=[("g5.xlarge", 12)])),
        at_hour(9, create_fleet(("g5.xlarge",), 3, "maintain")),
        at_hour(9, create_fleet(("g5.xlarge",), 640, "maintain", unit="vcpu")),
        at_hour(10, request_spot_fleet(capacity=5)),
        at_hour(10, request_spot_instances(count=4)),
        at_hour(10, run_scheduled_instances(count=2)),
        at_hour(11, auto_scaling_group(desired=6)),
        at_hour(12, auto_scaling_group("UpdateAutoScalingGroup", desired=9)),  # grows by 3
        at_hour(13, auto_scaling_group("UpdateAutoScalingGroup", min_size=None, max_size=90)),
        at_hour(14, set_desired_capacity("workers", 4)),  # shrinks: nothing
        at_hour(15, set_desired_capacity("workers", 7)),  # grows by 3 over 4
        at_hour(15, set_desired_capacity("workers", 50), errorCode="ValidationError"),  # 43 asked
        at_hour(16, set_desired_capacity("workers", 9)),  # grows by 2 over 7 (not over 50)
        at_hour(16, set_desired_capacity("other-group", 5)),  # a group not seen: all of it
    ]
    ((total,),) = {  # (one principal's account day: no alert of its own, so the totals query)
        (r["requested_instances"],)
        for r in sql.run(queries.count_totals_query(), events, NOW)
        if r["window_kind"] == "account"
    }
    # 12 + 3 + 160 (640 vCPUs of g5.xlarge's 4) + 5 + 4 + 2 + 6 + 3 + 0 + 0 + 3 + 43 (refused,
    # and counted: every attempt counts, as in the streaming rule) + 2 + 5
    assert total == 248


def test_count_sql_reads_a_groups_sizes_over_a_week_and_counts_only_its_lookback(
    monkeypatch, config
):
    """High Instance Count reads 25 hours of launches but a week of group and fleet sizes: a
    group created at 40 three days ago and grown to 46 today counts 6 today, a fleet of 30 grown
    to 34 counts 4, and the creations' days are no rows (outside the lookback; the runs of their
    own day reported them). Thresholds of 1: every window a row."""
    for name in [f"HIGH_INSTANCE_COUNT{w}_THRESHOLD" for w in ("", "_SOURCE_IP", "_ACCOUNT")]:
        monkeypatch.setattr(config, name, 1)
    created = auto_scaling_group(desired=40, userIdentity=iam_user("ops"), eventTime=at(72))
    grown = auto_scaling_group("UpdateAutoScalingGroup", desired=46, userIdentity=iam_user("ops"))
    grown["eventTime"] = at(2)
    fleet = create_fleet(("c5.large",), 30, "maintain", identity=iam_user("ml"))
    fleet["eventTime"] = at(96)
    fleet_id = fleet["responseElements"]["CreateFleetResponse"]["fleetId"]
    fleet_grown = modify_fleet(fleet_id, 34, userIdentity=iam_user("ml"), eventTime=at(1))
    events = [created, grown, fleet, fleet_grown]
    count = queries.count_totals_query()
    rows = {
        (r["window_kind"], r["grouped_value"].rsplit("/", 1)[-1], str(r["day"])): r[
            "requested_instances"
        ]
        for r in sql.run(count, events, NOW)
    }
    today = "2024-08-01"
    assert rows == {
        ("principal", "ops", today): 6,
        ("principal", "ml", today): 4,
        ("source IP", "198.51.100.23", today): 10,
        ("account", "111122223333", today): 10,
    }


def test_sql_prices_started_instances_by_their_launch_and_resizes_by_their_new_type(
    monkeypatch, config
):
    """Instances launched days ago (one with cpuOptions), stopped, started again: each priced as
    its launch was, an unknown one by number; a resize to a GPU type counts the new type (either
    CloudTrail form), not an instance; turning termination protection on is no launch at all.
    The SQL's vCPUs are the streaming rule's."""
    launch = run_instances(
        "c5.24xlarge",
        2,
        2,
        launched=[launched_item("c5.24xlarge", cpu(24, 1)), launched_item("c5.24xlarge")],
        identity=iam_user("ops"),
        event_time=at(72),
    )
    ids = [item["instanceId"] for item in launch["responseElements"]["instancesSet"]["items"]]
    mallory = iam_user("mallory")
    restart = start_instances([*ids, "i-0notseen00000001"], userIdentity=mallory, eventTime=at(3))
    resized = resize_instance(ids[0], "p3.8xlarge", userIdentity=mallory, eventTime=at(2))
    as_value = {"instanceId": "i-0other", "attribute": "instanceType", "value": "g5.12xlarge"}
    written_as_value = resize_instance("i-0other", "g5.12xlarge", userIdentity=mallory)
    written_as_value.update(eventTime=at(2, 5), requestParameters=as_value)
    protected = api_call(
        "ec2.amazonaws.com",
        "ModifyInstanceAttribute",
        userIdentity=iam_user("newcomer"),
        eventTime=at(1),
        requestParameters={"instanceId": ids[1], "disableApiTermination": {"value": True}},
    )
    events = [launch, restart, resized, written_as_value, protected]
    actors = {
        r["actor_arn"].rsplit("/", 1)[-1]: (r["vcpus"], r["accelerators"], r["instance_types"])
        for r in sql.run(query("launches_by_actor_query.yml"), events, NOW)
    }
    # 24 (cpuOptions) + 96 + the unknown one's 0; 32 + 48 vCPUs and 4 + 4 GPUs resized to
    assert actors == {
        "ops": (120, 0, ["c5.24xlarge"]),
        "mallory": (
            24 + 96 + 32 + 48,
            8,
            ["c5.24xlarge", "g5.12xlarge", "p3.8xlarge", "unknown-type"],
        ),
    }
    streaming = window_totals("ComputeAbuse.AWS.EC2.VCPUSurge", events)
    assert streaming[("principal", USER + "mallory", "8 hours")] == 200
    principals = sql.run(query("first_seen_principal_query.yml"), events, NOW)
    assert USER + "newcomer" not in [r["principal"] for r in principals]
    for name in [f"HIGH_INSTANCE_COUNT{w}_THRESHOLD" for w in ("", "_SOURCE_IP", "_ACCOUNT")]:
        monkeypatch.setattr(config, name, 1)
    count = queries.count_totals_query()
    counts = {
        r["principal"]: r["requested_instances"] for r in by_principal(sql.run(count, events, NOW))
    }
    assert counts == {USER + "mallory": 3}  # the start's three; resizes ask for no instance


def platform_group(instance_type, desired, name="workers"):
    """An auto scaling group of `instance_type` the platform team created 30 hours before."""
    event = auto_scaling_group(
        desired=desired, override_types=(instance_type,), userIdentity=iam_user("platform")
    )
    event["requestParameters"]["autoScalingGroupName"] = name
    event["eventTime"] = at(30)
    return event


def test_sql_counts_a_scheduled_actions_growth_and_charges_the_groups_launches_to_its_author():
    """A scheduled action sizes a group when it is made, as the streaming rules count it: its
    desired size (else its new minimum) over the size last given the group, at the group's
    type; its author owns the group's next launches. An everyday morning schedule stays below
    every threshold."""
    platform, mallory = iam_user("platform"), iam_user("mallory")
    gpus, web = platform_group("g5.12xlarge", 2), platform_group("c5.large", 2, "web")
    events = [
        gpus,
        web,
        scheduled_group_action("workers", desired=40, userIdentity=mallory, eventTime=at(3)),
        scheduled_group_action("web", min_size=6, userIdentity=platform, eventTime=at(3)),
        service_launch(
            "g5.48xlarge", 1, {"aws:autoscaling:groupName": "workers"}, event_time=at(2)
        ),
    ]
    mallory_vcpus = 38 * 48 + (192 - 48)  # the growth, and what the bigger launch adds over it
    rows = {
        (r["window_kind"], r["grouped_value"], r["span"]): r
        for r in sql.run(VCPU_TOTALS, events, NOW)
    }
    row = rows[("principal", USER + "mallory", "8 hours")]
    assert (row["total_vcpus"], row["total_accelerators"]) == (mallory_vcpus, 38 * 4 + 8 - 4)
    assert [r["principals"] for r in sql.run(VCPU, events, NOW)] == [[USER + "mallory"]]
    streaming = window_totals("ComputeAbuse.AWS.EC2.VCPUSurge", events)
    assert streaming[("principal", USER + "mallory", "8 hours")] == mallory_vcpus


@pytest.mark.parametrize("minimum_call", ["update", "schedule"])
def test_sql_and_streaming_keep_a_groups_size_when_its_minimum_is_lowered(minimum_call):
    """A group of 80 c5.4xlarge whose minimum is set to 12 still runs 80 (a new minimum raises
    a group, never lowers it): sized to 131 next, it grows by 51 (816 vCPUs), not by 119."""
    platform, mallory = iam_user("platform"), iam_user("mallory")
    group = auto_scaling_group(desired=80, override_types=("c5.4xlarge",), userIdentity=platform)
    group["eventTime"] = at(30)
    minimum = {
        "update": lambda: auto_scaling_group("UpdateAutoScalingGroup", min_size=12),
        "schedule": lambda: scheduled_group_action("workers", min_size=12),
    }[minimum_call]()
    minimum.update(userIdentity=mallory, eventTime=at(3))
    resize = api_call(
        "autoscaling.amazonaws.com",
        "SetDesiredCapacity",
        requestParameters={"autoScalingGroupName": "workers", "desiredCapacity": 131},
        userIdentity=mallory,
        eventTime=at(2),
    )
    events = [group, minimum, resize]
    key = ("principal", USER + "mallory", "8 hours")
    rows = {
        (r["window_kind"], r["grouped_value"], r["span"]): r for r in sql.run(VCPU, events, NOW)
    }
    assert rows[key]["total_vcpus"] == 51 * 16
    assert window_totals("ComputeAbuse.AWS.EC2.VCPUSurge", events)[key] == 51 * 16


def test_sql_and_streaming_count_the_growth_executed_scaling_policies_give_a_group(
    monkeypatch, config
):
    """ExecutePolicy grows a group by its policy's adjustment (as last put before it) over the
    group's size: a change in instances, a step policy's largest step, a percentage (rounded
    up), an exact capacity; a new minimum in between lowers nothing, a refused execution asks
    for what it would have made, a policy never seen (or target tracking) counts nothing. Both
    sides give the same totals: vCPUs per window, instances per day."""
    platform, mallory = iam_user("platform"), iam_user("mallory")
    group, web = platform_group("c5.4xlarge", 10), platform_group("c5.large", 3, "web")
    policies = [
        put_scaling_policy(name="add", adjustment=30),
        put_scaling_policy(name="steps", steps=(5, 20)),
        put_scaling_policy(name="exact", kind="ExactCapacity", adjustment=60),
        put_scaling_policy(name="half", kind="PercentChangeInCapacity", adjustment=50),
        put_scaling_policy("web", name="double", kind="PercentChangeInCapacity", adjustment=100),
        put_scaling_policy("web", name="add", adjustment=4),
        put_scaling_policy("web", name="odd", kind="ChangeInCapacityV2", adjustment=1),  # a change
    ]
    target = put_scaling_policy(name="target")
    target["requestParameters"].pop("scalingAdjustment")
    target["requestParameters"]["policyType"] = "TargetTrackingScaling"
    for n, policy in enumerate([*policies, target]):
        policy.update(userIdentity=platform, eventTime=at(29, n))
    half_arn = policies[3]["responseElements"]["policyARN"]
    calls = [
        execute_policy(policy="add"),  # 10 -> 40
        execute_policy(policy=half_arn),  # 40 -> 60
        execute_policy(policy="exact"),  # 60: nothing
        auto_scaling_group("UpdateAutoScalingGroup", min_size=50),  # stays 60
        execute_policy(policy="steps"),  # 60 -> 80
        set_desired_capacity("workers", 70),  # shrunk: nothing
        execute_policy(policy="add", errorCode="ValidationError"),  # refused: 30 asked
        execute_policy(policy="target"),  # no adjustment: nothing
        execute_policy(policy="never-put"),  # nothing
        execute_policy("web", "double"),  # 3 -> 6
        execute_policy("web", "double"),  # 6 -> 12
        execute_policy("web", "add"),  # 12 -> 16: 4 added after a percentage
        set_desired_capacity("web", 18),  # 18
        execute_policy("web", "odd"),  # 19: a type neither side knows is read as a change
    ]
    for n, call in enumerate(calls):
        call.update(userIdentity=mallory, eventTime=at(3, n))
    events = [group, web, *policies, target, *calls]
    key = ("principal", USER + "mallory", "8 hours")
    mallory_vcpus = (30 + 20 + 20) * 16 + (3 + 6 + 4 + 2 + 1) * 2
    rows = {
        (r["window_kind"], r["grouped_value"], r["span"]): r
        for r in sql.run(VCPU_TOTALS, events, NOW)
    }
    assert rows[key]["total_vcpus"] == mallory_vcpus
    assert window_totals("ComputeAbuse.AWS.EC2.VCPUSurge", events)[key] == mallory_vcpus
    count = daily_requested(events)
    assert count[USER + "mallory"] == 30 + 20 + 20 + 30 + 3 + 6 + 4 + 2 + 1
    monkeypatch.setattr(config, "HIGH_INSTANCE_COUNT_THRESHOLD", 10**9)  # count to the end
    streaming = streaming_counts(events)
    assert (
        streaming[("principal", USER + "mallory", "UTC day 2024-08-01")] == count[USER + "mallory"]
    )


def test_the_sql_rounds_percentages_in_a_row_once_as_docs_data_lake_states(monkeypatch, config):
    """The stated difference: a group of 3 grown +50% twice is 7 in the SQL (3 x 1.5 x 1.5 rounded
    up once), 8 in the streaming rules (rounded at each step); both count the two growths as 2
    and 3, and sizing the group to 20 next grows it by 13 in the SQL, by 12 in the streaming
    rules."""
    platform, mallory = iam_user("platform"), iam_user("mallory")
    group = auto_scaling_group(desired=3, override_types=("c5.large",), userIdentity=platform)
    policy = put_scaling_policy(name="half", kind="PercentChangeInCapacity", adjustment=50)
    group["eventTime"], policy["eventTime"] = at(30), at(29)
    policy["userIdentity"] = platform
    calls = [execute_policy(policy="half"), execute_policy(policy="half")]
    calls.append(set_desired_capacity("workers", 20))
    for n, call in enumerate(calls):
        call.update(userIdentity=mallory, eventTime=at(3, n))
    events = [group, policy, *calls]
    count = daily_requested(events)
    monkeypatch.setattr(config, "HIGH_INSTANCE_COUNT_THRESHOLD", 10**9)
    streaming = streaming_counts(events)
    assert count[USER + "mallory"] == 2 + 3 + 13
    assert streaming[("principal", USER + "mallory", "UTC day 2024-08-01")] == 2 + 3 + 12


def test_a_policy_executed_by_its_arn_alone_grows_the_group_the_arn_names():
    """ExecutePolicy needs no group name when it names the policy by its ARN (the Auto Scaling
    API reference: AutoScalingGroupName is optional): both sides read the group from the ARN."""
    platform, mallory = iam_user("platform"), iam_user("mallory")
    group = platform_group("c5.4xlarge", 10)
    policy = put_scaling_policy(adjustment=30, userIdentity=platform, eventTime=at(29))
    call = execute_policy(by_arn=True, userIdentity=mallory, eventTime=at(3))
    events = [group, policy, call]
    count = daily_requested(events)
    assert count[USER + "mallory"] == 30
    key = ("principal", USER + "mallory", "8 hours")
    assert window_totals("ComputeAbuse.AWS.EC2.VCPUSurge", events)[key] == 30 * 16


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reversed"])
def test_two_puts_of_a_policy_in_one_second_resolve_alike_in_any_store_order(reverse):
    """Two PutScalingPolicy calls for one policy in the same second: the SQL takes the larger
    event ID as the later (`ORDER BY put_at DESC, event_id DESC`); the streaming rules must take
    the same one, whatever order the store returns the two in."""
    platform, mallory = iam_user("platform"), iam_user("mallory")
    group = platform_group("c5.4xlarge", 10)
    later = put_scaling_policy(adjustment=40, eventID="00000000-0000-4000-8000-ffffffffffff")
    earlier = put_scaling_policy(adjustment=2, eventID="00000000-0000-4000-8000-000000000001")
    for policy in (later, earlier):
        policy.update(userIdentity=platform, eventTime=at(29))
    call = execute_policy(userIdentity=mallory, eventTime=at(3))
    events = [group, later, earlier, call]
    key = ("principal", USER + "mallory", "8 hours")  # 40 c5.4xlarge: 640 vCPUs
    streaming = window_totals("ComputeAbuse.AWS.EC2.VCPUSurge", events, StoreInOrder(reverse))
    count = daily_requested(events)
    assert count[USER + "mallory"] == 40
    assert streaming[key] == 40 * 16


def test_absurd_scaling_never_breaks_a_query_and_still_alerts():
    """A percentage of 2,147,483,647 executed six times grows a group past every number type a
    query casts to: every query must still run (one failing group would stop all of them), and
    the SQL and the streaming rule both flag mallory."""
    platform, mallory = iam_user("platform"), iam_user("mallory")
    group = auto_scaling_group(desired=2, override_types=("c5.large",), userIdentity=platform)
    policy = put_scaling_policy(kind="PercentChangeInCapacity", adjustment=2**31 - 1)
    group["eventTime"], policy["eventTime"], policy["userIdentity"] = at(30), at(29), platform
    calls = [execute_policy() for _ in range(6)] + [set_desired_capacity("workers", 3)]
    for n, call in enumerate(calls):
        call.update(userIdentity=mallory, eventTime=at(3, n))
    events = [group, policy, *calls]
    for name in sorted(queries.specs()):
        sql.run(queries.specs()[name]["SnowflakeQuery"], events, NOW)  # raises if it fails
    key = ("principal", USER + "mallory", "8 hours")
    assert surges(sql.run(VCPU, events, NOW))[key] > 800
    assert window_totals("ComputeAbuse.AWS.EC2.VCPUSurge", events)[key] > 800


def test_a_size_after_ratios_past_their_bound_starts_a_run_counted_as_the_streaming_rules_do(
    monkeypatch, config
):
    """The SQL bounds a run's product of percentages at e^30. A group doubled 50 times by its
    team (2^50: past the bound) and then sized to 10 starts a new run: doubling it twice more
    grows it by 10 and 20, on both sides (a bound kept across runs leaves the SQL at 0)."""
    platform, mallory = iam_user("platform"), iam_user("mallory")
    group = auto_scaling_group(desired=2, override_types=("c5.large",), userIdentity=platform)
    policy = put_scaling_policy(kind="PercentChangeInCapacity", adjustment=100)
    group["eventTime"], policy["eventTime"], policy["userIdentity"] = at(30), at(29), platform
    doublings = [execute_policy(userIdentity=platform, eventTime=at(20, n)) for n in range(50)]
    calls = [set_desired_capacity("workers", 10), execute_policy(), execute_policy()]
    for n, call in enumerate(calls):
        call.update(userIdentity=mallory, eventTime=at(3, n))
    events = [group, policy, *doublings, *calls]
    assert daily_requested(events)[USER + "mallory"] == 10 + 20
    monkeypatch.setattr(config, "HIGH_INSTANCE_COUNT_THRESHOLD", 10**12)  # count to the end
    streaming = streaming_counts(events)
    assert streaming[("principal", USER + "mallory", "UTC day 2024-08-01")] == 10 + 20


def test_a_policy_put_before_the_sql_reads_sizes_counts_nothing_there():
    """The stated difference: the SQL reads policies over the 7 days it reads group sizes, so
    executing one put 8 days before grows nothing in the SQL (the streaming rules remember
    policies for 90 days and count 30)."""
    platform, mallory = iam_user("platform"), iam_user("mallory")
    group = auto_scaling_group(desired=10, override_types=("c5.large",), userIdentity=platform)
    policy = put_scaling_policy(name="add", adjustment=30, userIdentity=platform)
    group["eventTime"], policy["eventTime"] = at(30), at(8 * 24)
    execute = execute_policy(policy="add", userIdentity=mallory, eventTime=at(3))
    count = daily_requested([group, policy, execute])
    assert USER + "mallory" not in count
    policy["eventTime"] = at(6 * 24)
    count = daily_requested([group, policy, execute])
    assert count[USER + "mallory"] == 30


def test_sql_counts_a_fleets_growth_at_its_type_and_charges_its_launches_to_who_grew_it():
    """ModifyFleet and ModifySpotFleetRequest grow a fleet over its last target: at the type it
    named, in vCPUs for a fleet created in vCPUs (one instance asked, as its request counts),
    by number for a fleet never seen; a shrink asks for nothing. The person who grew a fleet
    owns the launches its service makes next. The SQL's vCPUs are the streaming rule's."""
    platform, mallory = iam_user("platform"), iam_user("mallory")
    fleet = create_fleet(("g5.4xlarge",), 2, "maintain", identity=platform)
    vcpu_fleet = create_fleet(("c5.large",), 64, "maintain", unit="vcpu", identity=platform)
    spot = request_spot_fleet(("p3.2xlarge",), 1, userIdentity=platform)
    for event in (fleet, vcpu_fleet, spot):
        event["eventTime"] = at(30)
    fleet_id, vcpu_fleet_id = (
        e["responseElements"]["CreateFleetResponse"]["fleetId"] for e in (fleet, vcpu_fleet)
    )
    events = [
        fleet,
        vcpu_fleet,
        spot,
        modify_fleet(fleet_id, 12, userIdentity=mallory, eventTime=at(3)),  # 10 x 16 vCPUs
        modify_fleet(vcpu_fleet_id, 1000, userIdentity=mallory, eventTime=at(3, 1)),  # 936
        modify_spot_fleet_request("sfr-1", 5, userIdentity=mallory, eventTime=at(3, 2)),  # 4 x 8
        modify_spot_fleet_request("sfr-1", 2, userIdentity=mallory, eventTime=at(3, 3)),  # shrunk
        modify_fleet("fleet-0unseen", 7, userIdentity=mallory, eventTime=at(3, 4)),  # 7, 0 vCPUs
        # the fleet's service launches bigger types: each over the 16 vCPUs mallory's call counted
        service_launch("g5.12xlarge", 2, {"aws:ec2:fleet-id": fleet_id}, event_time=at(2)),
    ]
    actors = {
        r["actor_arn"].rsplit("/", 1)[-1]: (r["instances"], r["vcpus"], r["accelerators"])
        for r in sql.run(query("launches_by_actor_query.yml"), events, NOW)
    }
    mallory_vcpus = 160 + 936 + 32 + 2 * (48 - 16)
    # (936 vCPUs of c5.large: 468 instances)
    assert actors["mallory"] == (10 + 468 + 4 + 0 + 7, mallory_vcpus, 10 + 4 + 2 * (4 - 1))
    streaming = window_totals("ComputeAbuse.AWS.EC2.VCPUSurge", events)
    assert streaming[("principal", USER + "mallory", "8 hours")] == mallory_vcpus
    count = daily_requested(events)
    assert count[USER + "mallory"] == 10 + 936 // 2 + 4 + 7  # (936 vCPUs: 468 c5.large)


def test_application_auto_scaling_resizes_count_for_no_one_and_set_the_size_to_grow_over(
    monkeypatch, config
):
    """A Spot Fleet that Application Auto Scaling scales (ModifySpotFleetRequest by its
    service-linked role) is grown by a person later: the scaler's resizes count for no one (its
    role has no window; the fleet's owner pays nothing over the price of its type), and the
    person's growth is over the size the fleet last had (the scaler's 10 to 14: 32 vCPUs)."""
    platform = iam_user("platform")
    spot = request_spot_fleet(("p3.2xlarge",), 2, userIdentity=platform, eventTime=at(3))
    scaled = [
        modify_spot_fleet_request(
            "sfr-1", size, eventTime=at(3, 10 * n + 10), **application_autoscaling_call("ec2")
        )
        for n, size in enumerate((10, 4, 10))
    ]
    grown = modify_spot_fleet_request("sfr-1", 14, userIdentity=platform, eventTime=at(2))
    events = [spot, *scaled, grown]
    totals, streaming = vcpu_totals_on_both_sides(events, monkeypatch, config)
    assert totals == streaming
    assert totals[("principal", USER + "platform", "8 hours")] == 16 + 32
    assert not [group for _, group, _ in totals if "ApplicationAutoScaling" in group]


def test_a_minimum_application_auto_scaling_raises_a_spot_fleet_to_is_its_callers(
    monkeypatch, config
):
    """A stolen key registers a Spot Fleet of p3.2xlarge (2 instances) as a scalable target of
    minimum 40 rather than modifying it: the scaler raises the fleet (its own resize counts for no
    one), and the key is charged the 38 instances (304 vCPUs, 38 GPUs) on both sides. A later
    minimum of 20, and a scheduled one of 30, raise nothing; a scheduled 50 adds 10 (80 vCPUs)."""
    platform, key = iam_user("platform"), iam_user("mallory")
    spot = request_spot_fleet(("p3.2xlarge",), 2, userIdentity=platform, eventTime=at(5))
    events = [
        spot,
        register_scalable_target("spot-fleet-request/sfr-1", 40, userIdentity=key, eventTime=at(4)),
        modify_spot_fleet_request(
            "sfr-1", 40, eventTime=at(4, 1), **application_autoscaling_call("ec2")
        ),
        register_scalable_target("spot-fleet-request/sfr-1", 20, userIdentity=key, eventTime=at(3)),
        put_scheduled_action("spot-fleet-request/sfr-1", 30, userIdentity=key, eventTime=at(3, 5)),
        put_scheduled_action("spot-fleet-request/sfr-1", 50, userIdentity=key, eventTime=at(2)),
    ]
    totals, streaming = vcpu_totals_on_both_sides(events, monkeypatch, config)
    assert totals == streaming
    assert totals[("principal", USER + "mallory", "8 hours")] == 8 * (38 + 10)
    assert not [group for _, group, _ in totals if "ApplicationAutoScaling" in group]


@pytest.mark.parametrize("scaler_id", ["00000000-0000-4000-8000-000000000001", "ffffffff"])
@pytest.mark.parametrize("scaler_first", [False, True])
def test_a_minimum_and_the_scalers_resize_in_one_second_charge_the_minimum_on_both_sides(
    scaler_id, scaler_first, monkeypatch, config
):
    """CloudTrail's times are seconds: a stolen key's minimum of 40 and the scaler's resize to 40
    it causes often share one. Whichever is delivered first, and whichever event ID sorts first,
    the person's call comes first on both sides: the key is charged 38 p3.2xlarge (304 vCPUs),
    not nothing."""
    platform, key = iam_user("platform"), iam_user("mallory")
    minimum = register_scalable_target(
        "spot-fleet-request/sfr-1", 40, userIdentity=key, eventTime=at(4)
    )
    minimum["eventID"] = "00000000-0000-4000-8000-000000000005"
    scaler = modify_spot_fleet_request(
        "sfr-1", 40, eventTime=at(4), eventID=scaler_id, **application_autoscaling_call("ec2")
    )
    pair = [scaler, minimum] if scaler_first else [minimum, scaler]
    spot = request_spot_fleet(("p3.2xlarge",), 2, userIdentity=platform, eventTime=at(5))
    totals, streaming = vcpu_totals_on_both_sides([spot, *pair], monkeypatch, config)
    assert totals == streaming
    assert totals[("principal", USER + "mallory", "8 hours")] == 8 * 38


def test_two_resizes_in_one_second_delivered_out_of_id_order_count_once_on_both_sides(
    monkeypatch, config
):
    """A group of 2 p3.2xlarge; a person resizes it to 10 and to 12 in one second, the call whose
    ID sorts last delivered first. Each side counts the group's growth once (10 instances: 80
    vCPUs), not the first call's 8 and then the second's 10 over the size before both."""
    platform = iam_user("platform")
    group = auto_scaling_group(
        desired=2, override_types=("p3.2xlarge",), userIdentity=platform, eventTime=at(5)
    )
    to_10, to_12 = (
        auto_scaling_group(
            "UpdateAutoScalingGroup",
            desired=size,
            override_types=("p3.2xlarge",),
            userIdentity=platform,
            eventTime=at(4),
            eventID=event_id,
        )
        for size, event_id in ((10, "bbbbbbbb"), (12, "aaaaaaaa"))
    )
    totals, streaming = vcpu_totals_on_both_sides([group, to_10, to_12], monkeypatch, config)
    assert totals == streaming
    assert totals[("principal", USER + "platform", "8 hours")] == 8 * 12


def test_three_resizes_in_one_second_in_any_delivery_order_count_alike_on_both_sides(
    monkeypatch, config
):
    """A group of 2 p3.2xlarge; in one second a person resizes it to 10, 10 and 3 (event IDs in
    that order), then to 12 later. Delivered in any order, the second's calls count the growth to
    its largest size once (8 instances), and the later resize grows from the size the last ID
    gave (3): 17 instances, 136 vCPUs, on both sides."""
    platform = iam_user("platform")
    group = auto_scaling_group(
        desired=2, override_types=("p3.2xlarge",), userIdentity=platform, eventTime=at(5)
    )

    def resize(size, event_id, hours_before=4):
        return auto_scaling_group(
            "UpdateAutoScalingGroup",
            desired=size,
            override_types=("p3.2xlarge",),
            userIdentity=platform,
            eventTime=at(hours_before),
            eventID=event_id,
        )

    second = {"a": resize(10, "aaaa"), "b": resize(10, "bbbb"), "c": resize(3, "cccc")}
    for order in ("abc", "cab", "bca", "cba"):
        events = [group, *(second[k] for k in order), resize(12, "dddd", 3)]
        totals, streaming = vcpu_totals_on_both_sides(events, monkeypatch, config)
        assert totals == streaming, order
        assert totals[("principal", USER + "platform", "8 hours")] == 8 * (2 + 17), order


def test_a_spot_fleets_minimum_counts_its_instances_on_both_sides(monkeypatch, config):
    """A Spot Fleet's minimum is instances (an ECS service's, tasks: vCPUs only): a fleet of 2,
    a stolen key's minimum of 40 (38 instances) and its resize to 45 (5 more) count 43 for the
    key on both sides; the platform team's 2 and the scaler's resize count for no one."""
    platform, key = iam_user("platform"), iam_user("mallory")
    events = [
        request_spot_fleet(("p3.2xlarge",), 2, userIdentity=platform, eventTime=at(5)),
        register_scalable_target("spot-fleet-request/sfr-1", 40, userIdentity=key, eventTime=at(4)),
        modify_spot_fleet_request(
            "sfr-1", 40, eventTime=at(4, 1), **application_autoscaling_call("ec2")
        ),
        modify_spot_fleet_request("sfr-1", 45, userIdentity=key, eventTime=at(3)),
        register_scalable_target("service/default/api", 300, userIdentity=key, eventTime=at(3)),
    ]
    totals, streaming = count_totals_on_both_sides(
        events, monkeypatch, config, queries.count_totals_query
    )
    assert totals == streaming
    day = at(3)[:10]
    assert totals[("principal", USER + "mallory", day)] == 43
    assert totals[("principal", USER + "platform", day)] == 2


def test_the_cluster_autoscalers_resizes_count_for_no_one_on_either_side(monkeypatch, config):
    """EKS makes a node group's auto scaling group (m5.2xlarge, 3 nodes); the cluster autoscaler
    (a node controller: its role and user agent match) takes it to 50 and back four times in 8
    hours (1,504 vCPUs of growth): no window of its role on either side. A person's resize to 60
    after it counts 10 nodes over the autoscaler's 50 (80 vCPUs); Karpenter's own launches still
    count (test_properties, the sample)."""
    eks = assumed_role(
        "AWSServiceRoleForAmazonEKSNodegroup", "EKS", invokedBy="eks-nodegroup.amazonaws.com"
    )
    group = auto_scaling_group(
        desired=3,
        override_types=("m5.2xlarge",),
        userIdentity=eks,
        sourceIPAddress="eks-nodegroup.amazonaws.com",
        eventTime=at(9),
    )
    autoscaler = assumed_role("eks-cluster-autoscaler", "1722844800")

    def resize(size, hours_before, who=autoscaler, agent="cluster-autoscaler/v1.30.0"):
        request = {"autoScalingGroupName": "workers", "desiredCapacity": size}
        return api_call(
            "autoscaling.amazonaws.com",
            "SetDesiredCapacity",
            requestParameters=request,
            userIdentity=who,
            userAgent=agent,
            eventTime=at(hours_before),
        )

    events = [group, *(resize(s, 8 - i) for i, s in enumerate((50, 3, 50, 3, 50, 3, 50)))]
    events.append(resize(60, 0.5, iam_user("platform"), "aws-cli/2.15.30"))
    totals, streaming = vcpu_totals_on_both_sides(events, monkeypatch, config)
    assert (
        totals
        == streaming
        == {
            ("principal", USER + "platform", span): 80 for span in ("8 hours", "24 hours", "7 days")
        }
        | {
            ("source IP", "198.51.100.23", "8 hours"): 80,
            ("account", "111122223333", "8 hours"): 80,
        }
    )


def test_a_request_naming_several_types_is_priced_by_its_smallest_on_both_sides(
    monkeypatch, config
):
    """A fleet, a spot fleet or a mixed instances group naming several types may get any of them:
    priced by the smallest (vCPUs, then accelerators) wherever it is named (a big type first, a
    second launch template config, a spot fleet's template overrides), the group's later growth
    too; the SQL's totals are the streaming rule's, and a diversified fleet stays under the
    threshold a first-type price would cross."""
    platform, mallory = iam_user("platform"), iam_user("mallory")
    fleet = create_fleet(("p4d.24xlarge", "g5.xlarge"), 100, "maintain", identity=mallory)
    configs = fleet["requestParameters"]["CreateFleetRequest"]["LaunchTemplateConfigs"]
    second = {**configs, "Overrides": {"InstanceType": "t3.micro", "tag": 1}, "tag": 2}
    two_configs = create_fleet(("m5.8xlarge",), 10, "maintain", identity=platform)
    two_configs["requestParameters"]["CreateFleetRequest"]["LaunchTemplateConfigs"] = [
        {**configs, "Overrides": {"InstanceType": "m5.8xlarge", "tag": 1}},
        second,
    ]
    spot = request_spot_fleet(("m5.4xlarge", "m5.large"), 30, userIdentity=platform)
    template_spot = request_spot_fleet(("c5.4xlarge",), 5, userIdentity=platform)
    template_spot["requestParameters"]["spotFleetRequestConfig"] = {
        "targetCapacity": 5,
        "launchTemplateConfigs": [
            {
                "launchTemplateSpecification": {"launchTemplateId": "lt-0a1b2", "version": "1"},
                "overrides": [
                    {"instanceType": t} for t in ("G4DN.2XLARGE", "g4dn.xlarge", "c5.xlarge")
                ],
            }
        ],
    }
    group = auto_scaling_group(desired=4, override_types=("c5.4xlarge", "c5.xlarge"))
    group["userIdentity"] = platform
    grown = set_desired_capacity("workers", 10, userIdentity=platform)
    events = [fleet, two_configs, spot, template_spot, group, grown]
    for minute, event in enumerate(events):
        event["eventTime"] = at(3, minute)
    totals, streaming = vcpu_totals_on_both_sides(events, monkeypatch, config)
    assert totals == streaming
    assert totals[("principal", MALLORY, "8 hours")] == 100 * 4  # g5.xlarge's, not p4d's 96
    # 10 t3.micro (2); 30 m5.large (2); 5 c5.xlarge (4, no GPU: g4dn.xlarge's 4 has one); 4, then
    # 6 more, c5.xlarge
    assert totals[("principal", USER + "platform", "8 hours")] == 20 + 60 + 20 + 16 + 24
    actors = {
        r["actor_arn"].rsplit("/", 1)[-1]: r["accelerators"]
        for r in sql.run(query("launches_by_actor_query.yml"), events, NOW)
    }
    assert actors == {"mallory": 100, "platform": 0}  # g5.xlarge's one GPU each
    lake, alerts = alerts_on_both_sides(SURGE, events)
    assert lake == alerts == set()


def test_vcpu_sql_counts_a_fleet_in_vcpus_by_its_capacity_as_the_streaming_rule_does():
    fleet = create_fleet(("g5.xlarge",), 1200, "maintain", unit="vcpu", identity=iam_user("gus"))
    fleet["eventTime"] = at(2)
    (row,) = sql.run(VCPU, [fleet], NOW)
    assert (row["total_vcpus"], row["total_accelerators"]) == (1200, 300)  # 300 g5.xlarge
    assert (
        window_totals("ComputeAbuse.AWS.EC2.VCPUSurge", [fleet])[
            ("principal", USER + "gus", "8 hours")
        ]
        == 1200
    )


def test_a_fleet_in_vcpus_counts_the_instances_its_smallest_type_makes_on_both_sides(
    monkeypatch, config
):
    """HighInstanceCount reads a fleet asked for in vCPUs as the instances its smallest type
    makes of them (AWS may launch any), created, grown or refused: 2,000 vCPUs of t3.micro (2)
    or c5.xlarge are 1,000 instances, where the SQL once counted 1 a call. An instant fleet too;
    a fleet of a template never seen defined is 1 instance on both sides."""
    mallory = iam_user("mallory")
    fleet = create_fleet(("c5.xlarge", "t3.micro"), 2000, "maintain", unit="vcpu", identity=mallory)
    spot = request_spot_fleet(("m5.large",), 600, userIdentity=mallory)
    spot["requestParameters"]["spotFleetRequestConfig"]["targetCapacityUnitType"] = "vcpu"
    refused = create_fleet(
        ("p3.2xlarge",), 80, "maintain", unit="vcpu", identity=mallory, errorCode="Client.Vcpu"
    )
    instant = create_fleet(
        ("t3.micro",), 10, "instant", [("t3.micro", 5)], unit="vcpu", identity=mallory
    )
    untyped = create_fleet((), 64, "maintain", unit="vcpu", identity=mallory)
    fleet_id = fleet["responseElements"]["CreateFleetResponse"]["fleetId"]
    grown = modify_fleet(fleet_id, 3000, userIdentity=mallory)
    events = [fleet, spot, refused, instant, untyped, grown]
    for minute, event in enumerate(events):
        event["eventTime"] = at(3, minute)
    totals, streaming = count_totals_on_both_sides(
        events, monkeypatch, config, queries.count_totals_query
    )
    assert totals == streaming
    # 1,000 + 300 m5.large + 10 p3.2xlarge refused + 5 t3.micro + 1 + 500 more
    assert totals[("principal", MALLORY, "2024-08-01")] == 1000 + 300 + 10 + 5 + 1 + 500
    # Launches by Actor says as much of what was not refused (the instant fleet: what launched)
    (actor,) = sql.run(query("launches_by_actor_query.yml"), events, NOW)
    assert actor["instances"] == 1000 + 300 + 5 + 1 + 500


# The types a fleet or group names: one, or several (priced by the smallest, a big one first too).
# (Not a mixed group refreshed to its smallest type alone: the SQL compares a refresh's type with
# the group's by the type each is priced by, the streaming rules by every type; docs/data-lake.md.)
TYPE_LISTS = [
    ("c5.large",),
    ("c5.2xlarge",),
    ("c5.2xlarge", "c5.xlarge"),
    ("p3.8xlarge", "t3.micro", "c5.xlarge"),
]


def _random_spot_fleet(rng, count):
    """A spot fleet of random_requests (an ID of its own): its types, its target at times in
    vCPUs."""
    event = request_spot_fleet(rng.choice(TYPE_LISTS), count)
    event["responseElements"]["spotFleetRequestId"] = f"sfr-{rng.getrandbits(32):08x}"
    if rng.random() < 0.3:
        event["requestParameters"]["spotFleetRequestConfig"]["targetCapacityUnitType"] = "vcpu"
    return event


def _random_request(api, rng, count, group, launched_ids, fleet_ids, versions):
    """One call of random_requests' kind `api`."""
    if api == "fleet":  # (in vCPUs at times: the instances its smallest type makes of them)
        kind, types = rng.choice(["instant", "maintain"]), rng.choice(TYPE_LISTS)
        launched = [(types[-1], count)] if kind == "instant" else None
        return create_fleet(types, count, kind, launched, unit=rng.choice([None, None, "vcpu"]))
    if api == "group":
        name = rng.choice(["CreateAutoScalingGroup", "UpdateAutoScalingGroup"])
        types = rng.choice([(), *TYPE_LISTS])  # () its template's
        event = auto_scaling_group(name, override_types=types, **{rng.choice(SIZES): count})
        event["requestParameters"]["autoScalingGroupName"] = group
        if not types:  # the version of the template it names
            version = rng.choice(["$Latest", "$Default", "", "1", "2"])
            event["requestParameters"]["launchTemplate"]["version"] = version
        return event
    if api == "start":
        return start_instances(rng.sample(launched_ids, min(count, len(launched_ids))))
    if api == "resize":
        new_type = rng.choice(["t3.small", "c5.2xlarge", "p3.8xlarge"])
        return resize_instance(rng.choice(launched_ids), new_type)
    if api == "modify fleet":  # a fleet of the mix, or one it never saw
        ids = [i for i in fleet_ids if i.startswith("fleet-")]
        return modify_fleet(rng.choice([*ids, "fleet-0unseen"]), count)
    plain = {
        "run": lambda: run_instances("c5.large", 1, count),
        "spot": lambda: request_spot_instances("c5.large", count),
        "spot fleet": lambda: _random_spot_fleet(rng, count),
        "scheduled": lambda: run_scheduled_instances("c5.large", count),
        "size": lambda: set_desired_capacity(group, count),
        "schedule": lambda: scheduled_group_action(group, **{rng.choice(SIZES): count}),
        "modify spot fleet": lambda: modify_spot_fleet_request(
            rng.choice([*(i for i in fleet_ids if i.startswith("sfr-")), "sfr-unseen"]), count
        ),
        "policy": lambda: _random_policy(rng, count, group),
        "template": lambda: _random_template(rng, versions),
        "refresh": lambda: _random_refresh(rng, group),
        # a policy of the mix's groups, or one never put
        "execute": lambda: execute_policy(
            group, rng.choice([*POLICIES, "never-put"]), by_arn=rng.random() < 0.3
        ),
    }
    return plain[api]()


GROUP_TEMPLATE = "lt-0a1b2c3d4e5f60708"  # the launch template auto_scaling_group names


def _random_template(rng, versions):
    """A change to the groups' launch template: created (again: its versions start over), a new
    version, a new default version; of a type, a GPU type or none. `versions` tracks them."""
    instance_type = rng.choice(["c5.large", "c5.2xlarge", "p3.8xlarge", None])
    kind = rng.choice(["create", "version", "default"]) if versions else "create"
    if kind == "create":
        versions[:] = [1]
        return create_launch_template(instance_type, GROUP_TEMPLATE, "workers")
    if kind == "version":
        versions.append(len(versions) + 1)
        return create_launch_template_version(versions[-1], instance_type, GROUP_TEMPLATE)
    number = rng.choice(versions)
    request, template = {"SetDefaultVersion": str(number)}, {"defaultVersionNumber": number}
    return template_call("ModifyLaunchTemplate", GROUP_TEMPLATE, "workers", request, template)


def _random_refresh(rng, group):
    """An instance refresh: to the group's own configuration, to types, to a template's version."""
    desired = rng.choice(
        [None, _types(rng.choice(["c5.large", "p3.8xlarge"])), {"launchTemplate": {}}]
    )
    if desired and "launchTemplate" in desired:
        version = rng.choice(["$Latest", "$Default", "1", "2"])
        desired["launchTemplate"] = {"launchTemplateId": GROUP_TEMPLATE, "version": version}
    return start_instance_refresh(group, desired)


def _random_policy(rng, count, group):
    """A scaling policy; a percentage doubles or triples: a whole number on both sides."""
    kind = rng.choice(["ChangeInCapacity", "ExactCapacity", "PercentChangeInCapacity"])
    adjustment = rng.choice([100, 200]) if kind.startswith("Percent") else count
    return put_scaling_policy(group, rng.choice(POLICIES), kind, adjustment)


APIS = [
    *("run", "fleet", "spot", "spot fleet", "scheduled", "group", "size"),
    *("start", "resize", "modify fleet", "modify spot fleet", "schedule", "policy", "execute"),
    *("template", "template"),  # the groups' launch template (often: groups name its versions)
    "refresh",
]
POLICIES = ("burst", "surge")
SIZES = ("desired", "min_size")  # what a group's sizing call gives: a desired size, or a minimum


def random_requests(seed, actors=3, calls=45):
    """Launch requests through every EC2 launch API and auto scaling group sizes, of several
    actors in one UTC day: refusals, dry runs, duplicates, groups grown and shrunk, the
    launches auto scaling, EC2 Fleet and Spot Fleet make for them (a decoy type or a bigger
    one than named), instances started again (launched earlier in the mix, or never seen) and
    resized, fleets and spot fleets grown or shrunk (one the mix never created too), scaling
    policies put and executed (one never put too; by name or by ARN alone), the groups' launch
    template created, given versions and defaults (groups name it by version, before or after),
    instance refreshes (to the group's own configuration, to types, to a template's version)."""
    rng = random.Random(seed)
    events, launched_ids, fleet_ids = [], ["i-0feedface0000000"], []  # one never launched
    versions: list[int] = []  # the groups' template's
    for n in range(calls):
        user = f"actor{rng.randrange(actors)}"
        count = rng.randint(1, 8)
        error = rng.choice([None] * 12 + ["Client.VcpuLimitExceeded"] * 2 + ["DryRunOperation"])
        api = rng.choice(APIS)
        group = f"group{rng.randrange(2)}"  # sized by several actors, often
        event = _random_request(api, rng, count, group, launched_ids, fleet_ids, versions)
        event.update(userIdentity=iam_user(user), eventTime=at(7, n * 9))
        if error:
            event.update(errorCode=error, responseElements=None)
        events.append(event)
        if api == "run" and not error:
            items = event["responseElements"]["instancesSet"]["items"]
            launched_ids += [item["instanceId"] for item in items]
        if api == "fleet" and not error:
            fleet_ids.append(event["responseElements"]["CreateFleetResponse"]["fleetId"])
        if api == "spot fleet" and not error:
            fleet_ids.append(event["responseElements"]["spotFleetRequestId"])
        if rng.random() < 0.1:
            events.append(json.loads(json.dumps(event)))  # a duplicate delivery
        response = event.get("responseElements") or {}
        tags = {
            "group": {"aws:autoscaling:groupName": group},
            "size": {"aws:autoscaling:groupName": group},
            "schedule": {"aws:autoscaling:groupName": group},
            "execute": {"aws:autoscaling:groupName": group},
            "refresh": {"aws:autoscaling:groupName": group},
            "fleet": {"aws:ec2:fleet-id": response.get("CreateFleetResponse", {}).get("fleetId")},
            "spot fleet": {"aws:ec2spot:fleet-request-id": response.get("spotFleetRequestId")},
        }.get(api)
        if tags and all(tags.values()) and rng.random() < 0.6:  # its service's launches
            launched = rng.choice(["t3.micro", "c5.large", "c5.2xlarge", "p3.8xlarge"])
            launch = service_launch(launched, rng.randint(1, 3), tags, event_time=at(7, n * 9 + 2))
            events.append(launch)
    return events


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_count_sql_totals_every_window_as_the_streaming_rule_through_every_launch_api(
    seed, monkeypatch, config
):
    """Every window's day total, equal: the streaming rule reading the group sizes VCPUSurge
    remembers (the two share Panther's KV store), the SQL its own history of them. Thresholds out
    of reach for the streaming rule (an alert closes its window's count) and of 1 for the SQL
    (every window a row)."""
    events = random_requests(seed)
    totals, streaming = count_totals_on_both_sides(
        events, monkeypatch, config, queries.count_totals_query
    )
    assert totals == streaming
    assert (
        len({group for _, group, _ in totals}) == 3 + 1 + 1
    )  # the actors, the address, the account


def count_totals_on_both_sides(events, monkeypatch, config, count_query):
    """Every window's day total, (the SQL's, the streaming rule's): `count_query()` built with
    thresholds of 1 (every window a row), the rule run with thresholds out of reach (an alert
    closes its window's count); windows of 0 left out of the streaming side."""
    names = [f"HIGH_INSTANCE_COUNT{w}_THRESHOLD" for w in ("", "_SOURCE_IP", "_ACCOUNT")]
    for name in names:
        monkeypatch.setattr(config, name, 1)
    totals = {
        (r["window_kind"], r["grouped_value"], str(r["day"])): r["requested_instances"]
        for r in sql.run(count_query(), events, NOW)
    }
    for name in names:
        monkeypatch.setattr(config, name, 10**9)
    streaming = {
        (kind, group, span.removeprefix("UTC day ")): total
        for (kind, group, span), total in streaming_counts(events).items()
        if total
    }
    return totals, streaming


def vcpu_totals_on_both_sides(events, monkeypatch, config, totals_query=VCPU_TOTALS):
    """Every window's largest vCPUs, (the SQL's, the streaming rule's): the SQL's totals query
    (every window, crossed or not), the rule run with thresholds out of reach (an alert closes its
    window's count); windows of 0 left out on both sides."""
    rows = sql.run(totals_query, events, NOW)
    totals = {window: total for window, total in surges(rows).items() if total}
    surge_thresholds_out_of_reach(monkeypatch, config)
    streaming = window_totals("ComputeAbuse.AWS.EC2.VCPUSurge", events)
    return totals, {window: total for window, total in streaming.items() if total}


@pytest.mark.parametrize("seed", [14, 15, 16])
def test_vcpu_sql_totals_every_window_as_the_streaming_rule_through_every_launch_api(
    seed, monkeypatch, config
):
    """vCPUs and accelerators of every window, equal: instances RunInstances and instant fleets
    launched, what fleets, spot and scheduled requests ask for, groups' growth priced by the type
    last named for the group, its template's at the version it names as defined before it (a
    template not yet defined, or of no type: 0 on both sides)."""
    events = random_requests(seed)
    totals, streaming = vcpu_totals_on_both_sides(events, monkeypatch, config)
    assert totals == streaming
    assert len({group for _, group, _ in totals}) == 3 + 1 + 1
    lake, charged = charges_on_both_sides(events, monkeypatch, config)  # each call's, GPUs too
    assert lake == charged and any(gpus for _, gpus in lake.values())


LT = "lt-0780d55503d605988"  # create_launch_template's, named "gpu-workers"
TEMPLATE_CASES = {  # template events (3 hours ago), the group's template spec, vCPUs per instance
    "latest version": ("small, gpu", {"launchTemplateId": LT, "version": "$Latest"}, 32),
    "default version": ("small, gpu", {"launchTemplateId": LT, "version": "$Default"}, 2),
    "no version: the default": ("small, gpu", {"launchTemplateId": LT}, 2),
    "a default set": ("small, gpu, default 2", {"launchTemplateId": LT}, 32),
    "a version by number": ("small, gpu, default 2", {"launchTemplateId": LT, "version": "1"}, 2),
    "by name": ("small, gpu", {"launchTemplateName": "gpu-workers", "version": "2"}, 32),
    "a version defined after": (
        "small, gpu later",
        {"launchTemplateId": LT, "version": "$Latest"},
        2,
    ),
    "made again under its name": (
        "small, deleted, gpu again",
        {"launchTemplateName": "gpu-workers"},
        96,
    ),
    "versions only: the lowest": ("versions 3 gpu, 4 small", {"launchTemplateId": LT}, 32),
    "never defined": ("", {"launchTemplateId": LT}, 0),
    "of no type": ("untyped", {"launchTemplateId": LT}, 0),
    "a copy of its source version": (
        "small, gpu, copy of 2",
        {"launchTemplateId": LT, "version": "3"},
        32,
    ),
    "a copy of a version never defined": (
        "small, copy of 5",
        {"launchTemplateId": LT, "version": "2"},
        0,
    ),
    "a launch configuration": ("configuration", None, 16),
}


def _template_events(story):
    """The template events of a TEMPLATE_CASES story, 3 hours ago (one later: 1 hour ago)."""
    made = {
        "small": lambda: create_launch_template("t3.micro", eventTime=at(3)),
        "untyped": lambda: create_launch_template(None, eventTime=at(3)),
        "gpu": lambda: create_launch_template_version(2, "p3.8xlarge", eventTime=at(3, 1)),
        "gpu later": lambda: create_launch_template_version(2, "p3.8xlarge", eventTime=at(1)),
        "default 2": lambda: template_call(
            "ModifyLaunchTemplate",
            LT,
            request={"SetDefaultVersion": "2"},
            template={"defaultVersionNumber": 2},
            eventTime=at(3, 2),
        ),
        "deleted": lambda: template_call("DeleteLaunchTemplate", LT, eventTime=at(3, 1)),
        "gpu again": lambda: create_launch_template("p4d.24xlarge", "lt-0bbb", eventTime=at(3, 2)),
        "versions 3 gpu": lambda: create_launch_template_version(3, "p3.8xlarge", eventTime=at(3)),
        "4 small": lambda: create_launch_template_version(4, "t3.micro", eventTime=at(3, 1)),
        "copy of 2": lambda: create_launch_template_version(
            3, None, source_version="2", eventTime=at(3, 3)
        ),
        "copy of 5": lambda: create_launch_template_version(
            2, None, source_version="5", eventTime=at(3, 1)
        ),
        "configuration": lambda: create_launch_configuration(
            "legacy", "c5.4xlarge", eventTime=at(3)
        ),
    }
    return [made[part]() for part in story.split(", ") if part]


@pytest.mark.parametrize("case", TEMPLATE_CASES)
def test_a_group_on_a_template_is_priced_by_the_version_it_names_as_the_streaming_rule_does(
    case, monkeypatch, config
):
    """A group created on a launch template (or launch configuration) and no type of its own:
    30 instances of the type of the version it names, as defined before the call, in the SQL and
    the streaming rule alike. No service launch follows (refused for capacity, say): the call's
    price is all there is."""
    story, spec, vcpus = TEMPLATE_CASES[case]
    group = auto_scaling_group(desired=30, userIdentity=iam_user("mallory"), eventTime=at(2))
    del group["requestParameters"]["launchTemplate"]
    if spec is None:
        group["requestParameters"]["launchConfigurationName"] = "legacy"
    else:
        group["requestParameters"]["launchTemplate"] = spec
    totals, streaming = vcpu_totals_on_both_sides(
        [*_template_events(story), group], monkeypatch, config
    )
    key = ("principal", USER + "mallory", "8 hours")
    assert (totals.get(key, 0), streaming.get(key, 0)) == (30 * vcpus, 30 * vcpus)


def _types(*types):
    """An instance refresh's desired configuration: the groups' template, of these types."""
    spec = {"launchTemplateId": GROUP_TEMPLATE, "version": "$Latest"}
    overrides = [{"instanceType": t} for t in types]
    return {
        "mixedInstancesPolicy": {
            "launchTemplate": {"launchTemplateSpecification": spec, "overrides": overrides}
        }
    }


def _refreshing(desired, hours=2, group="workers", **overrides):
    return start_instance_refresh(
        group, desired, userIdentity=iam_user("mallory"), eventTime=at(hours), **overrides
    )


def _ops_group():
    """ops' group of 10 c5.large, 4 hours ago, that mallory then grows or refreshes."""
    return auto_scaling_group(
        desired=10, override_types=("c5.large",), userIdentity=iam_user("ops"), eventTime=at(4)
    )


def _sized(desired, hours=3):
    return set_desired_capacity(
        "workers", desired, userIdentity=iam_user("ops"), eventTime=at(hours)
    )


@pytest.mark.parametrize(
    ("story", "vcpus"), [("untyped", 20 * 2), ("", 0), ("small, gpu", 20 * 32)]
)
def test_a_group_grown_on_a_template_of_no_type_keeps_its_type_as_in_the_streaming_rule(
    story, vcpus, monkeypatch, config
):
    """ops runs 10 c5.large; mallory grows the group to 30 on the template's latest version: one
    defined of no type leaves the group's c5.large, one never defined is of no known type, a
    GPU version prices the growth. The SQL and the streaming rule alike."""
    group = _ops_group()
    grown = auto_scaling_group(
        "UpdateAutoScalingGroup", desired=30, userIdentity=iam_user("mallory"), eventTime=at(2)
    )
    grown["requestParameters"]["launchTemplate"] = {"launchTemplateId": LT, "version": "$Latest"}
    events = [group, *_template_events(story), grown]
    totals, streaming = vcpu_totals_on_both_sides(events, monkeypatch, config)
    key = ("principal", USER + "mallory", "8 hours")
    assert (totals.get(key, 0), streaming.get(key, 0)) == (vcpus, vcpus)


ON_LT = {"launchTemplate": {"launchTemplateId": LT, "version": "1"}}
REFRESH_CASES = {  # what follows ops' 10 c5.large (4 hours ago), mallory's vCPUs
    "to gpu types": ([_refreshing(_types("p3.8xlarge"))], 10 * 32),
    "to a template it names": (
        [create_launch_template("p4d.24xlarge", eventTime=at(3)), _refreshing(ON_LT)],
        10 * 96,
    ),
    "to a template defined after": (
        [_refreshing(ON_LT), create_launch_template("p4d.24xlarge", eventTime=at(1))],
        0,
    ),
    "to a template never defined": ([_refreshing(ON_LT)], 0),
    "to the same types": ([_refreshing(_types("c5.large"))], 0),
    "to its own configuration": ([_refreshing(None)], 0),
    "refused": ([_refreshing(_types("p3.8xlarge"), errorCode="AccessDenied")], 0),
    "of a group never sized": ([_refreshing(_types("p3.8xlarge"), group="other")], 0),
    "after the group grew": ([_sized(25), _refreshing(_types("p3.8xlarge"))], 25 * 32),
    "twice": ([_refreshing(_types("p3.8xlarge")), _refreshing(_types("p3.8xlarge"), 1)], 10 * 32),
    "there and back": (
        [_refreshing(_types("p3.8xlarge")), _refreshing(_types("c5.large"), 1)],
        10 * 32 + 10 * 2,
    ),
    "then the replacements launched": (
        [
            _refreshing(_types("p3.8xlarge")),
            service_launch(
                "p3.8xlarge", 10, {"aws:autoscaling:groupName": "workers"}, event_time=at(1, 50)
            ),
        ],
        10 * 32,
    ),
    "to a decoy, then gpus launched": (
        [
            _refreshing(_types("c5.xlarge")),
            service_launch(
                "p3.8xlarge", 10, {"aws:autoscaling:groupName": "workers"}, event_time=at(1, 50)
            ),
        ],
        10 * 4 + 10 * (32 - 4),
    ),
}


@pytest.mark.parametrize("case", REFRESH_CASES)
def test_an_instance_refresh_is_priced_as_the_streaming_rule_prices_it(case, monkeypatch, config):
    """An instance refresh replaces the group's instances: to other types, its whole size counts
    toward whoever started it (the replacements auto scaling launches add only what they cost
    over that); to the same types, its own configuration or a template never seen, nothing.
    The SQL and the streaming rule alike."""
    group = _ops_group()
    events, vcpus = REFRESH_CASES[case]
    totals, streaming = vcpu_totals_on_both_sides([group, *events], monkeypatch, config)
    key = ("principal", USER + "mallory", "8 hours")
    assert (totals.get(key, 0), streaming.get(key, 0)) == (vcpus, vcpus)
    ops = ("principal", USER + "ops", "8 hours")
    assert totals.get(ops) == streaming.get(ops)


def test_a_groups_launches_are_charged_to_its_owner_above_what_the_request_counted():
    """Auto scaling's launches for a group count toward the person who last sized it, for what
    each instance adds over the request's price: a decoy t3.micro named first cannot hide the
    p4d.24xlarge that launched (its group's tag ranks before the EC2 fleet's it also carries). A
    team's group launching what it named adds nothing; a group nobody sized in the lookback is
    not charged to its service role; a fleet in vCPUs paid for whatever it launches; Launches by
    Actor names the owners and counts the instances once."""

    def group(user, name, desired, types, minutes):
        event = auto_scaling_group(desired=desired, override_types=types, eventTime=at(5, minutes))
        event["requestParameters"]["autoScalingGroupName"] = name
        event["userIdentity"] = iam_user(user)
        return event

    def launches(name, instance_type, count, minutes, **tags):
        tags = {"aws:autoscaling:groupName": name, **tags} if name else tags
        return service_launch(instance_type, count, tags, event_time=at(5, minutes))

    fleet = create_fleet(("g5.xlarge",), 64, "maintain", unit="vcpu", identity=iam_user("bob"))
    fleet["eventTime"] = at(5, 30)
    fleet_tag = {"aws:ec2:fleet-id": fleet["responseElements"]["CreateFleetResponse"]["fleetId"]}
    events = [
        group("mallory", "miners", 9, ("t3.micro", "p4d.24xlarge"), 0),  # 9 x 2 vCPUs asked
        # 9 x (96 - 2) over the request; the group's tag ranks before any fleet's
        launches("miners", "p4d.24xlarge", 9, 32, **fleet_tag),
        group("ops", "web", 4, ("c5.large",), 10),
        launches("web", "c5.large", 4, 12),  # what was named: nothing over the request
        launches("legacy", "c5.24xlarge", 9, 20),  # its group's sizing predates the lookback
        fleet,  # 64 vCPUs asked, whatever launches: its launches add nothing
        launches("", "g5.12xlarge", 4, 32, **fleet_tag),
    ]
    rows = {
        (r["window_kind"], r["grouped_value"].rsplit("/", 1)[-1], r["span"]): (
            r["total_vcpus"],
            r["total_accelerators"],
            r["instances"],
        )
        for r in sql.run(query("vcpu_surge_query.yml"), events, NOW)
    }
    assert rows == {
        ("principal", "mallory", "8 hours"): (18 + 9 * 94, 9 * 8, 9),  # over 800
    }
    assert (
        window_totals("ComputeAbuse.AWS.EC2.VCPUSurge", events)[
            ("principal", "arn:aws:iam::111122223333:user/mallory", "8 hours")
        ]
        == 18 + 9 * 94
    )
    actors = {
        r["actor_arn"].rsplit("/", 1)[-1]: (r["instances"], r["vcpus"], r["accelerators"])
        for r in sql.run(query("launches_by_actor_query.yml"), events, NOW)
    }
    # (bob's 64 vCPUs: 16 g5.xlarge, one GPU each)
    assert actors == {"mallory": (9, 18 + 9 * 94, 9 * 8), "ops": (4, 8, 0), "bob": (16, 64, 16)}


@pytest.mark.parametrize(("past", "charged"), [(0, True), (1, False)], ids=["within", "after"])
def test_a_call_of_no_known_type_owns_its_groups_launches_for_the_window_only(past, charged):
    """A pipeline sizes a group on a template neither side knows (nothing priced per instance):
    the group's launches up to VCPUSurge's 8 hours after the call are the pipeline's in full,
    later ones (the group's own scaling) nobody's, on both sides."""
    deploy = auto_scaling_group("UpdateAutoScalingGroup", 40, userIdentity=iam_user("deployer"))
    deploy["eventTime"] = at(10)
    tags = {"aws:autoscaling:groupName": "workers"}
    events = [
        deploy,
        service_launch("c5.4xlarge", 40, tags, event_time=at(10, 1)),
        service_launch("c5.4xlarge", 60, tags, event_time=at(2, past / 60)),  # 8 h + `past` s
    ]
    vcpus = (40 + (60 if charged else 0)) * 16
    actors = {
        r["actor_arn"]: r["vcpus"]
        for r in sql.run(query("launches_by_actor_query.yml"), events, NOW)
    }
    assert actors == {USER + "deployer": vcpus}
    streaming = window_totals("ComputeAbuse.AWS.EC2.VCPUSurge", events)
    assert streaming[("principal", USER + "deployer", "7 days")] == vcpus


def test_the_other_services_query_names_what_each_service_was_asked_for():
    """Per principal and service: SageMaker's ml.* types as EC2's (a GPU training job, refused
    and retried), an EKS node group, an EMR cluster, Batch's vCPUs, Lightsail's bundles, a
    CodeBuild override, Fargate tasks, Application Auto Scaling's minimums; EC2 launches are the
    other queries'."""

    def by(user, event):
        event.update(userIdentity=iam_user(user), eventTime=at(3))
        return event

    def training(instance_type, count, **fields):
        request = {"resourceConfig": {"instanceType": instance_type, "instanceCount": count}}
        return api_call(
            "sagemaker.amazonaws.com", "CreateTrainingJob", requestParameters=request, **fields
        )

    events = [
        by("mallory", training("ml.p4d.24xlarge", 8, errorCode="ResourceLimitExceeded")),
        by("mallory", training("ml.p4d.24xlarge", 4)),
        by("mallory", training("ml.m5.large", 1)),
        by("dana", create_nodegroup(("m5.large",), desired=3)),
        by("dana", run_job_flow((("MASTER", "m5.xlarge", 1), ("CORE", "m5.xlarge", 4)))),
        by("bo", create_compute_environment(("g5",), desired_vcpus=64)),
        by("bo", create_lightsail_instances("gpu_2xl_1_0", count=3)),
        by("ci", start_build("BUILD_GENERAL1_LARGE", override=True)),
        by("ci", run_task(count=5)),
        by("ci", run_instances("p4d.24xlarge", 2, 2)),  # EC2: not this query's
        # minimums Application Auto Scaling raises a service and a Spot Fleet to; a table's
        # throughput is no compute
        by("eve", register_scalable_target("service/default/api", 300)),
        by("eve", put_scheduled_action("spot-fleet-request/sfr-1", 40)),
        by("eve", register_scalable_target("table/orders", 40_000)),
        by("eve", put_scheduled_action("service/default/api", None, 8)),  # a maximum alone
    ]
    rows = sql.run(query("other_services_capacity_query.yml"), events, NOW)
    found = [
        (
            r["principal"].rsplit("/", 1)[1],
            r["service"],
            r["calls"],
            r["refused_or_dry_run"],
            int(r["asked"]),
            int(r["accelerated_asked"]),
            r["named_types"],
        )
        for r in rows
    ]
    assert found == [
        ("bo", "batch", 1, 0, 64, 64, ["g5"]),  # vCPUs of an accelerated family
        ("mallory", "sagemaker", 3, 1, 13, 12, ["m5.large", "p4d.24xlarge"]),
        ("eve", "application-autoscaling", 3, 0, 340, 0, ["unknown"]),
        ("ci", "ecs", 1, 0, 5, 0, ["fargate"]),
        ("dana", "elasticmapreduce", 1, 0, 5, 0, ["m5.xlarge"]),  # every group's instances
        ("bo", "lightsail", 1, 0, 3, 0, ["gpu_2xl_1_0"]),
        ("dana", "eks", 1, 0, 3, 0, ["m5.large"]),
        ("ci", "codebuild", 1, 0, 1, 0, ["build_general1_large"]),
    ]


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


# --- what DuckDB lets through and Snowflake does not ---------------------------------------------

SCHEMA = json.loads(
    (queries.REPO_ROOT / "compute_abuse/data/panther_cloudtrail_schema.json").read_text(
        encoding="utf-8"
    )
)


@pytest.mark.parametrize("name", sorted(p.name for p in queries.QUERIES_DIR.glob("*.yml")))
def test_every_query_parses_with_the_snowflake_parser_pat_validates_with(name):
    """`pat` checks a query's table names with sqlfluff's Snowflake dialect and, where that parser
    fails, skips the check with no more than an INFO line. Every query must parse, so the check
    runs (`POSITION(a IN b)` once failed it; `POSITION(a, b)` parses)."""
    from sqlfluff import parse
    from sqlfluff.core.config import FluffConfig

    config = FluffConfig(overrides={"dialect": "snowflake", "templater": "jinja"})
    parse(query(name), config=config)  # raises on anything it cannot parse


def _code(snowflake_sql: str) -> str:
    """The SQL without its comments and string literals: what the text checks below read."""
    return re.sub(r"--[^\n]*|'[^']*'", "", snowflake_sql)


def lateral_left_of_join(snowflake_sql: str) -> list[str]:
    """Each SELECT whose FROM has a lateral view followed by a JOIN: Snowflake refuses it ("Lateral
    View cannot be on the left side of join"), DuckDB runs it."""
    import sqlglot
    from sqlglot import exp

    found = []
    for select in sqlglot.parse_one(snowflake_sql, read="snowflake").find_all(exp.Select):
        lateral_seen = False
        for join in select.args.get("joins") or []:
            if isinstance(join.this, exp.Lateral):
                lateral_seen = True
            elif lateral_seen:
                found.append(join.sql(dialect="snowflake")[:80])
    return found


def aliases_used_before_defined(snowflake_sql: str) -> list[str]:
    """Each select-list item that reads an alias the same list defines only later ("a alias
    used in b"): DuckDB resolves it, Snowflake documents reading an alias defined before only."""
    import sqlglot
    from sqlglot import exp

    found = []
    for select in sqlglot.parse_one(snowflake_sql, read="snowflake").find_all(exp.Select):
        aliases = [item.alias_or_name.lower() for item in select.expressions]
        for index, item in enumerate(select.expressions):
            for column in item.find_all(exp.Column):
                name = column.name.lower()
                later = name in aliases[index + 1 :] and name not in aliases[: index + 1]
                if later and not column.table and column.find_ancestor(exp.Select) is select:
                    found.append(f"{name} used in {item.alias_or_name}")
    return found


def null_treatment_inside_call(snowflake_sql: str) -> list[str]:
    """Each `IGNORE NULLS` (or `RESPECT NULLS`) written inside a function's parentheses:
    DuckDB reads `LAST_VALUE(x IGNORE NULLS)`; Snowflake documents the treatment after them,
    `LAST_VALUE(x) IGNORE NULLS OVER (...)`, and sqlglot writes Snowflake's so."""
    text = _code(snowflake_sql)
    return re.findall(r"\S+\s+(?:IGNORE|RESPECT)\s+NULLS(?!\s+OVER\b)", text, flags=re.I)


def distinct_ordered_by_source_columns(snowflake_sql: str) -> list[str]:
    """Each ORDER BY key of a SELECT DISTINCT that names a table's column (`a.x`), not one the
    SELECT returns: Snowflake orders a DISTINCT result by its selected columns only."""
    import sqlglot
    from sqlglot import exp

    found = []
    for select in sqlglot.parse_one(snowflake_sql, read="snowflake").find_all(exp.Select):
        if select.args.get("distinct") and select.args.get("order"):
            for key in select.args["order"].expressions:
                found += [c.sql() for c in key.find_all(exp.Column) if c.table]
    return found


def values_without_parentheses(snowflake_sql: str) -> list[str]:
    """Each `FROM VALUES` not in parentheses: Snowflake documents `FROM (VALUES (...), ...)`
    (sqlglot writes it so); DuckDB reads either."""
    text = _code(snowflake_sql)
    return re.findall(r"\bFROM\s+VALUES\b", text, flags=re.I)


_PATH = re.compile(r"(?<![:\w.])(?:[a-z]\.)?([A-Za-z_]\w*)((?:\[\d+\]|:(?!:)[A-Za-z_]\w*)+)")


def variant_paths(snowflake_sql: str) -> set[tuple[str, ...]]:
    """(column, key, key, ...) of every VARIANT path on a table column in the SQL (comments and
    string literals removed; FLATTEN's item.value paths are the raw JSON's own)."""
    text = _code(snowflake_sql)
    paths = set()
    for column, rest in _PATH.findall(text):
        if column in SCHEMA["columns"]:
            paths.add((column, *re.findall(r"\[\d+\]|[A-Za-z_]\w*", rest)))
    return paths


def path_problem(path: tuple[str, ...]) -> str:
    """Why a VARIANT path does not exist in Panther's CloudTrail table as spelt ("" if it does)."""
    column, *keys = path
    if column in SCHEMA["raw_json_columns"]:
        return ""  # CloudTrail's own keys, stored as they came
    known = {**SCHEMA["structs"]}
    for struct, fields in SCHEMA["newer_than_the_parser"].items():
        known[struct] = [*known.get(struct, []), *fields]
    struct = column
    for key in keys:
        if key.startswith("["):
            struct += "[]"
            continue
        fields = known.get(struct)
        if fields is None:
            return f"{struct} is not an object in Panther's schema"
        if key not in fields:
            near = [f for f in fields if f.lower() == key.lower()]
            return f"{struct} has no {key!r}" + (
                f" (Panther spells it {near[0]!r})" if near else ""
            )
        struct = f"{struct}:{key}"
    return ""


def unordered_keys(snowflake_sql: str) -> list[str]:
    """What the final ORDER BY leaves to chance: the outer SELECT's GROUP BY keys it does not
    list, or, for an ungrouped SELECT, no event_id among its keys. Rows with equal leading keys
    (two actors with as many calls) would come out in any order from one run to the next."""
    import sqlglot

    select = sqlglot.parse_one(snowflake_sql, read="snowflake")
    order = select.args.get("order")
    ordered = {e.this.sql(dialect="snowflake") for e in order.expressions} if order else set()
    group = select.args.get("group")
    if group:
        return [k.sql(dialect="snowflake") for k in group.expressions if k.sql() not in ordered]
    return [] if any("event_id" in key for key in ordered) else ["event_id"]


@pytest.mark.parametrize("name", sorted(queries.specs()))
def test_every_query_orders_its_rows_completely(name):
    assert unordered_keys(query(name)) == []


def test_the_order_check_finds_a_missing_tiebreaker():
    assert unordered_keys("SELECT a, b, COUNT(*) AS n FROM t GROUP BY a, b ORDER BY n DESC, a") == [
        "b"
    ]
    assert unordered_keys("SELECT a, b, COUNT(*) AS n FROM t GROUP BY a, b ORDER BY n, b, a") == []
    assert unordered_keys("SELECT p_event_time, x FROM t ORDER BY p_event_time DESC") == [
        "event_id"
    ]


@pytest.mark.parametrize("name", sorted(queries.specs()))
def test_queries_are_valid_on_snowflake_where_duckdb_is_lenient(name):
    text = query(name)
    assert lateral_left_of_join(text) == []
    assert aliases_used_before_defined(text) == []
    assert null_treatment_inside_call(text) == []
    assert values_without_parentheses(text) == []
    assert distinct_ordered_by_source_columns(text) == []
    problems = {":".join(path): path_problem(path) for path in variant_paths(text)}
    assert {path: problem for path, problem in problems.items() if problem} == {}
    assert any(path.startswith("userIdentity:") for path in problems)  # the check saw paths


def test_the_snowflake_checks_catch_what_they_guard():
    """Each check finds the construct it exists for (the queries had both once)."""
    bad = (
        "SELECT 1 FROM actors a, LATERAL FLATTEN(input => a.x) item "
        "LEFT JOIN catalog c ON c.t = item.value"
    )
    assert lateral_left_of_join(bad) != []
    good = (
        "SELECT 1 FROM actors a LEFT JOIN catalog c ON c.t = a.t, LATERAL FLATTEN(input => a.x) i"
    )
    assert lateral_left_of_join(good) == []
    assert aliases_used_before_defined("SELECT n * 2 AS twice, x + 1 AS n FROM t") == [
        "n used in twice"
    ]
    assert aliases_used_before_defined("SELECT x + 1 AS n, n * 2 AS twice FROM t") == []
    inside = "SELECT LAST_VALUE(x IGNORE NULLS) OVER (ORDER BY t) FROM t"
    assert null_treatment_inside_call(inside) == ["LAST_VALUE(x IGNORE NULLS"]
    assert null_treatment_inside_call(inside.replace("x IGNORE NULLS)", "x) IGNORE NULLS")) == []
    assert values_without_parentheses("SELECT * FROM VALUES (1, 'a'), (2, 'b')") == ["FROM VALUES"]
    assert values_without_parentheses("SELECT * FROM (VALUES (1, 'a'), (2, 'b'))") == []
    distinct = "SELECT DISTINCT a.x, a.y FROM t AS a ORDER BY a.x"
    assert distinct_ordered_by_source_columns(distinct) == ["a.x"]
    assert distinct_ordered_by_source_columns(distinct.replace("BY a.x", "BY x")) == []
    assert "Panther spells it 'arn'" in path_problem(("resources", "[0]", "ARN"))
    assert path_problem(("resources", "[0]", "arn")) == ""
    assert "no 'sessionissuer'" in path_problem(("userIdentity", "sessionContext", "sessionissuer"))
    assert path_problem(("requestParameters", "instancesSet", "items", "[0]", "anything")) == ""
    sql_text = "SELECT a.userIdentity:sessionContext:sessionIssuer:arn::STRING, resources[0]:ARN"
    assert variant_paths(sql_text) == {
        ("userIdentity", "sessionContext", "sessionIssuer", "arn"),
        ("resources", "[0]", "ARN"),
    }


def test_a_day_bucket_is_reported_by_one_hourly_run_only():
    """The scheduled query looks back 25 hours every hour and its rule dedups for 1,440 minutes
    at most: a bucket reported by every run would open a second alert on the 25th. It is reported
    by the run after the rows that took it over the threshold arrived, and by no other."""

    day = datetime(2024, 8, 1, tzinfo=UTC)
    calls = [
        arrived(
            run_instances(
                "t3.micro",
                1,
                4,
                identity=iam_user("hal"),
                event_time=(day + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            ),
            day + timedelta(hours=h, minutes=5),
        )
        for h in (1, 2, 3)  # 4 + 4 + 4: the third call, arriving at 03:05, crosses 10
    ]
    late = arrived(
        run_instances(
            "t3.micro",
            1,
            6,
            identity=iam_user("ivy"),
            event_time=(day + timedelta(hours=22)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        ),
        day + timedelta(days=1, minutes=30),
    )  # delivered after midnight
    early = arrived(
        run_instances(
            "t3.micro",
            1,
            5,
            identity=iam_user("ivy"),
            event_time=(day + timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        ),
        day + timedelta(hours=9, minutes=5),
    )
    reports = {}
    for hour in range(1, 27):  # hourly runs from 01:00 to 02:00 the next day
        now = day + timedelta(hours=hour)
        for row in by_principal(sql.run(COUNT, [*calls, early, late], now)):
            reports.setdefault(row["principal"], []).append(hour)
    assert reports == {USER + "hal": [4], USER + "ivy": [25]}
    # The saved (hunting) version reports every bucket at or past the threshold, every time.
    hunting = query("daily_instance_counts_query.yml")
    rows = by_principal(sql.run(hunting, [*calls, early, late], day + timedelta(hours=26)))
    assert sorted(r["principal"] for r in rows) == [USER + "hal", USER + "ivy"]


def test_each_query_reads_in_a_screen_or_two_with_only_the_catalog_rows_it_reads():
    catalog_readers = {
        "vcpu_surge_query.yml": "instance_types",
        "service_vcpu_surge_query.yml": "instance_types",
        "service_high_instance_count_query.yml": "instance_types",  # (Batch's types and families)
        "launches_by_actor_query.yml": "instance_types",
        "high_instance_count_query.yml": "instance_types",  # (fleets in vCPUs: their types')
        "daily_instance_counts_query.yml": "instance_types",
        "accelerated_launches_query.yml": "accelerated_types",
        "other_services_capacity_query.yml": "accelerated_types",
    }
    for path in sorted(queries.QUERIES_DIR.glob("*.yml")):
        text = path.read_text()
        assert len(text.splitlines()) < 300, path.name
        for table in ("instance_types", "accelerated_types"):
            assert (f"{table} (" in text) == (catalog_readers.get(path.name) == table), path.name


# --- New terms (first seen in 30 days) -----------------------------------------------------------


def arrived(event, when):
    return {**event, "p_parse_time": when.strftime("%Y-%m-%dT%H:%M:%SZ")}


def days_ago(days, hours=0):
    return at(24 * days + hours)


def launch(instance_type, days, who="dan", region="us-east-1", **fields):
    identity = fields.pop("identity", None) or iam_user(who)
    return run_instances(
        instance_type,
        identity=identity,
        region=region,
        event_time=days_ago(days),
        eventID=f"{instance_type}-{who}-{region}-{days}-{fields.get('error_code', '')}",
        **fields,
    )


def test_first_seen_family_today_not_in_the_30_days_before():
    history = [
        launch("m5.large", 10),
        launch("m5.xlarge", 0.1),  # routine family, today again
        launch("g4dn.xlarge", 29.5),  # a GPU family seen inside the 30 days
        launch("g4dn.2xlarge", 0.2),
        launch("p3.2xlarge", 31.5),  # last seen before the 30 days
        launch("p3.8xlarge", 0.3),
        launch("g5.48xlarge", 0.4, error_code="VcpuLimitExceeded"),  # refused: still news
        launch("c7i.large", 1.5),  # new yesterday, not today
    ]
    rows = sql.run(query("first_seen_instance_family_query.yml"), history, NOW)
    assert [(r["instance_family"], r["outcomes"]) for r in rows] == [
        ("p3", ["success"]),
        ("g5", ["failure"]),
    ]
    assert rows[0]["principals"] == [USER + "dan"] and rows[0]["launch_calls"] == 1


def test_a_refused_launch_naming_a_gpu_template_is_a_new_family_on_both_sides(kv):
    """A stolen key's first move: a launch template of p4d.24xlarge, then a RunInstances naming
    the template alone, refused for the account's vCPU quota (responseElements null). The family
    is news to the first-seen query and UnusualInstanceType alike. Its everyday counterpart, a
    refused launch of a t3.micro template, and a template defined only after the launch are not;
    nor is a definition alone (a GPU launch configuration nobody launched): no launch, no news."""
    gpu = create_launch_template("p4d.24xlarge", eventTime=days_ago(0, 3))
    small = create_launch_template("t3.micro", "lt-0small", "web", eventTime=days_ago(0, 3))

    def refused(template, hours, who):
        return run_instances(
            None,
            1,
            4,
            launch_template={"launchTemplateId": template, "version": "$Latest"},
            error_code="Client.VcpuLimitExceeded",
            identity=iam_user(who),
            event_time=days_ago(0, hours),
            eventID=f"refused-{template}-{who}",
        )

    late = create_launch_template("g5.48xlarge", "lt-0late", "later", eventTime=days_ago(0, 1))
    events = [gpu, small, late, refused(LT, 2, "mallory"), refused("lt-0small", 2, "dan")]
    events.append(refused("lt-0late", 2, "eve"))  # its template defined an hour after it
    events.append(
        create_launch_configuration(
            "gpu", "p3.2xlarge", userIdentity=iam_user("tess"), eventTime=days_ago(0, 3)
        )
    )
    rows = sql.run(query("first_seen_instance_family_query.yml"), events, NOW)
    assert [(r["instance_family"], r["principals"]) for r in rows] == [
        ("p4d", [USER + "mallory"]),
        ("t3", [USER + "dan"]),  # news to this query (no history here), not unusual
    ]
    principals = sql.run(query("first_seen_principal_query.yml"), events, NOW)
    assert sorted(r["principal"] for r in principals) == [
        USER + w for w in ("dan", "eve", "mallory")
    ]
    unusual = load_rule(rule_spec("ComputeAbuse.AWS.EC2.UnusualInstanceType"))
    ordered = sorted(events, key=lambda e: e["eventTime"])
    alerts = kv.run(unusual, ordered)
    assert [json.loads(a.alert_context_output)["actor_name"] for a in alerts] == ["mallory"]


def test_every_type_a_request_names_is_news_to_the_hunting_queries_as_to_the_streaming_rule(
    memory_kv,
):
    """A fleet, a spot fleet or a mixed instances group may get any type it names: a GPU type
    named after a CPU one (the first named, all the SQL read before) is a new family to the
    first-seen queries and an accelerated launch, once however many subnets name it again, as
    UnusualInstanceType alerts on it. The everyday counterpart, a group mixing two sizes of a
    family the account runs, is no news."""
    history = [launch("c5.large", 10), launch("m5.large", 12)]
    today = days_ago(0.2)
    fleet = create_fleet(
        ("c5.large", "p4d.24xlarge", "p4d.24xlarge"),  # p4d in two subnets
        4,
        "maintain",
        identity=iam_user("mallory"),
        eventTime=today,
    )
    spot = request_spot_fleet(
        ("m5.large", "g5.xlarge"), 8, userIdentity=iam_user("eve"), eventTime=today
    )
    group = auto_scaling_group(desired=6, override_types=("c5.large", "c5.xlarge"))
    group.update(userIdentity=iam_user("dan"), eventTime=today)
    events = [*history, fleet, spot, group]
    families = sql.run(query("first_seen_instance_family_query.yml"), events, NOW)
    assert sorted((r["instance_family"], r["principals"], r["launch_calls"]) for r in families) == [
        ("g5", [USER + "eve"], 1),
        ("p4d", [MALLORY], 1),
    ]
    assert next(r for r in families if r["instance_family"] == "p4d")["instance_types"] == [
        "p4d.24xlarge"
    ]
    accelerated = sql.run(query("accelerated_launches_query.yml"), events, NOW)
    assert sorted((r["actor_arn"], r["instance_type"]) for r in accelerated) == [
        (USER + "eve", "g5.xlarge"),
        (MALLORY, "p4d.24xlarge"),
    ]
    scheduled = sql.run(query("accelerated_family_first_seen_query.yml"), events, NOW)
    assert sorted(r["instance_family"] for r in scheduled) == ["g5", "p4d"]
    unusual = load_rule(rule_spec("ComputeAbuse.AWS.EC2.UnusualInstanceType"))
    alerts = memory_kv.run(unusual, sorted(events, key=lambda e: e["eventTime"]))
    assert sorted(json.loads(a.alert_context_output)["actor_name"] for a in alerts) == [
        "eve",
        "mallory",
    ]


def test_first_seen_region_and_principal():
    team = [launch("m5.large", d, who=w) for d in (3, 12, 0.1) for w in ("ci", "ana")]
    sessions = [  # a CI role's hourly sessions: new session names, the same principal
        launch("c5.large", d, identity=assumed_role("ci-runner", f"build-{d}")) for d in (5, 0.2)
    ]
    newcomers = [
        launch("m5.large", 0.3, who="ana", region="ap-southeast-2"),  # a region never used
        launch("t3.micro", 0.5, who="mallory", error_code="UnauthorizedOperation"),
        # a stolen key's only call: raising a Spot Fleet's minimum, or an ECS service's (a
        # DynamoDB table's is no compute)
        register_scalable_target(
            "spot-fleet-request/sfr-1", 40, userIdentity=iam_user("eve"), eventTime=days_ago(0.4)
        ),
        register_scalable_target(
            "service/default/api", 40, userIdentity=iam_user("zed"), eventTime=days_ago(0.4)
        ),
        register_scalable_target(
            "table/orders", 400, userIdentity=iam_user("tab"), eventTime=days_ago(0.4)
        ),
        # a policy put, not executed: no capacity asked
        put_scaling_policy(adjustment=50, userIdentity=iam_user("pol"), eventTime=days_ago(0.4)),
        # auto scaling's role launching for a group: a service, not a principal new to compute
        service_launch(
            "m5.large", 2, {"aws:autoscaling:groupName": "workers"}, event_time=days_ago(0.3)
        ),
    ]
    events = [*team, *sessions, *newcomers]
    regions = sql.run(query("first_seen_region_query.yml"), events, NOW)
    assert [(r["region"], r["principals"]) for r in regions] == [("ap-southeast-2", [USER + "ana"])]
    principals = sql.run(query("first_seen_principal_query.yml"), events, NOW)
    assert [r["principal"] for r in principals] == [USER + w for w in ("eve", "zed", "mallory")]


def test_first_compute_of_another_service_is_news_to_the_new_term_queries():
    """Capacity is capacity, whichever service sells it: a stolen key's first SageMaker training
    job, in a region the account never used and of a GPU family it never ran (ml.p4d.24xlarge
    is EC2's p4d), and a principal whose first compute is an EKS node group, are news to the
    new-term queries as an EC2 launch would be; the GPU family to the scheduled query too. Their
    everyday counterparts, a data-science role training on g5 every day in its region (new
    sessions each day) and a CI role's Fargate tasks, are not."""
    scientists = assumed_role("data-science", "notebook")
    daily = [
        called_by(
            sagemaker_job("CreateTrainingJob", "ml.g5.xlarge", 1),
            assumed_role("data-science", f"nb-{d}"),
            days_ago(d),
        )
        for d in (20, 9, 2, 0.2)
    ]
    ci = [
        called_by(run_task("build:3", 1), assumed_role("ci-runner", f"b-{d}"), days_ago(d))
        for d in (14, 0.3)
    ]
    thief = called_by(
        sagemaker_job("CreateTrainingJob", "ml.p4d.24xlarge", 8),
        iam_user("backup-sync"),
        days_ago(0.1),
        awsRegion="ap-northeast-3",
    )
    nodes = called_by(create_nodegroup(("m5.large",), desired=3), iam_user("dana"), days_ago(0.4))
    old_node = called_by(create_nodegroup(("m5.large",), desired=3), scientists, days_ago(6))
    events = [*daily, *ci, thief, nodes, old_node]
    regions = sql.run(query("first_seen_region_query.yml"), events, NOW)
    assert [
        (r["region"], r["principals"], r["services"], r["instance_types"]) for r in regions
    ] == [("ap-northeast-3", [THIEF], ["sagemaker"], ["p4d.24xlarge"])]
    principals = sql.run(query("first_seen_principal_query.yml"), events, NOW)
    assert [r["principal"] for r in principals] == [THIEF, USER + "dana"]
    families = sql.run(query("first_seen_instance_family_query.yml"), events, NOW)
    assert [(r["instance_family"], r["principals"], r["services"]) for r in families] == [
        ("p4d", [THIEF], ["sagemaker"])
    ]
    arrived_calls, _ = sql_replay.stamped(events)  # the job arrived minutes after 15:36
    run = datetime(2024, 8, 1, 16, tzinfo=UTC)  # the hourly run after it
    scheduled = sql.run(query("accelerated_family_first_seen_query.yml"), arrived_calls, run)
    assert [(r["instance_family"], r["services"]) for r in scheduled] == [("p4d", ["sagemaker"])]
    rule = load_rule(rule_spec("ComputeAbuse.AWS.EC2.AcceleratedFamilyFirstSeenDataLake"))
    result = run_rule(rule, scheduled[0])
    assert result.title_output.endswith(f"launched by {THIEF} via sagemaker")


def called_by(event, identity, when, **fields):
    """`event` as called by `identity` at `when` (its own event ID)."""
    return {
        **event,
        "userIdentity": identity,
        "eventTime": when,
        "eventID": f"{event['eventName']}-{identity['arn']}-{when}",
        **fields,
    }


def test_accelerated_family_first_seen_is_reported_once_by_the_run_after_it_arrived():
    """Hourly runs over 30 days: each account's new GPU family is reported by one run only, the
    first after its rows arrived, late logs included; families seen within the 30 days, families
    the config does not call unusual and later launches of a reported family stay quiet."""
    start = NOW - timedelta(hours=6)

    def at_hour(instance_type, hour, arrival_hour=None, account="111122223333", **fields):
        event = run_instances(
            instance_type,
            identity=iam_user("eve"),
            event_time=(start + timedelta(hours=hour)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            eventID=f"{instance_type}-{hour}-{account}",
            recipientAccountId=account,
            **fields,
        )
        arrival = arrival_hour if arrival_hour is not None else hour
        return arrived(event, start + timedelta(hours=arrival, minutes=5))

    events = [
        at_hour("g4dn.xlarge", -24 * 20),  # the account ran g4dn 20 days ago
        at_hour("g4dn.12xlarge", 1),
        at_hour("p4d.24xlarge", 1, error_code="InsufficientInstanceCapacity"),  # first: refused
        at_hour("p4d.24xlarge", 2),  # then launched: same family, no second report
        at_hour("p5.48xlarge", 0.5, arrival_hour=3),  # logged late, reported when it arrives
        at_hour("p5.48xlarge", 1, account="444455556666"),  # another account: its own news
        at_hour("c7i.48xlarge", 1),  # big but not accelerated: not this rule's
    ]
    scheduled = query("accelerated_family_first_seen_query.yml")
    reports = {}
    for hour in range(1, 7):
        for row in sql.run(scheduled, events, start + timedelta(hours=hour)):
            reports.setdefault((row["account_id"], row["instance_family"]), []).append(hour)
    assert reports == {
        ("111122223333", "p4d"): [2],
        ("111122223333", "p5"): [4],
        ("444455556666", "p5"): [2],
    }
    spec = rule_spec("ComputeAbuse.AWS.EC2.AcceleratedFamilyFirstSeenDataLake")
    rows = sql.run(scheduled, events[:3], start + timedelta(hours=2))
    (row,) = rows
    result = run_rule(load_rule(spec), row)  # the query's row, as Panther hands it to the rule
    assert result.trigger_alert and row["outcomes"] == ["failure"]
    assert result.title_output == (
        "First p4d instances in 30 days in account 111122223333: tried (not launched) by "
        + USER
        + "eve"
    )


@pytest.mark.parametrize("seed", [7, 8])
def test_count_sql_flags_the_address_and_account_days_the_streaming_rule_alerts_on(seed):
    """Several principals behind one address and in one account, a second office and account
    for some calls, and a Karpenter node controller whose launches neither counts."""
    events = random_launches(seed, actors=5, calls=40)
    moved = {e["eventID"] for e in events[::3]}
    for event in events:
        if event["eventID"] in moved:
            event.update(sourceIPAddress="192.0.2.77", recipientAccountId="444455556666")
    karpenter = assumed_role("KarpenterNodeRole-prod", "1722844800123456789")
    events += [
        run_instances(
            "c6i.2xlarge",
            3,
            3,
            identity=karpenter,
            event_time=at(6, 10 * n),
            userAgent="aws-sdk-go-v2/1.30.3 karpenter.sh-1.0.1",
        )
        for n in range(20)
    ]  # 60 instances: over every threshold were they counted
    lake, streaming = alerts_on_both_sides("ComputeAbuse.AWS.EC2.HighInstanceCount", events)
    assert lake == streaming
    assert {dedup.split(":")[0] for dedup in streaming} >= {"source-ip", "account"}
    assert not any("karpenter" in dedup.lower() for dedup in lake)


def test_allowlists_reach_the_sql_as_the_rules_match_them(monkeypatch, config):
    """Shell patterns as LIKE tests: any case, the session's or the role's ARN, `_` and `%`
    literal; a pattern SQL cannot say is refused when the queries are generated."""
    monkeypatch.setattr(config, "ALLOWLISTED_PRINCIPAL_ARNS", ["arn:aws:iam::*:role/ML-Training"])
    monkeypatch.setattr(config, "ALLOWLISTED_USER_AGENTS", ["*my-batch_scheduler/*"])
    count = queries.count_totals_query()
    calls = [
        run_instances("t3.micro", 12, 12, identity=assumed_role("ml-training", "s1"), **where)
        for where in (
            {"event_time": at(2)},
            {"event_time": at(2, 1), "userAgent": "my-batch_scheduler/2.1", "eventID": "b"},
            {"event_time": at(2, 2), "userAgent": "my-batchXscheduler/2.1", "eventID": "c"},
        )
    ]
    calls[1]["userIdentity"] = iam_user("olga")  # allowlisted by its user agent alone
    calls[2]["userIdentity"] = iam_user("nina")  # `_` is one literal character, not any
    rows = by_principal(sql.run(count, calls, NOW))
    assert [(r["principal"], r["requested_instances"]) for r in rows] == [(USER + "nina", 12)]
    with pytest.raises(ValueError, match="character classes"):
        queries.like_any("user_agent", ["[Kk]arpenter*"])


def test_a_record_with_an_impossible_time_is_named_not_a_traceback():
    bad = run_instances(event_time="2024-02-30T10:00:00Z", eventID="feb-30")
    with pytest.raises(ValueError, match="record feb-30: eventTime '2024-02-30T10:00:00Z'"):
        sql.run(VCPU, [bad], NOW)
