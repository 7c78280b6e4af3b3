"""HighInstanceCount and VCPUSurge over event sequences, through panther_core, on both KV backends.

Every scenario runs against the in-memory KV store (clock on event time) and against the real
caching code on moto's DynamoDB (wall clock), and must give the same alerts on both.
"""

import json
import random
from datetime import UTC, datetime

import ec2_compute_windows as windows
import pytest

from compute_abuse.content import function_errors, load_rule, rule_spec, run_rule
from compute_abuse.events import (
    api_call,
    assumed_role,
    auto_scaling_group,
    autoscaling_identity,
    cpu,
    create_fleet,
    iam_user,
    launched_item,
    request_spot_instances,
    run_instances,
)

DAY0 = int(datetime(2024, 8, 1, tzinfo=UTC).timestamp())
HOUR = 3600


def rule_by_id(rule_id):
    return load_rule(rule_spec(f"ComputeAbuse.AWS.EC2.{rule_id}"))


@pytest.fixture(scope="module")
def surge():
    return rule_by_id("VCPUSurge")


@pytest.fixture(scope="module")
def high_count():
    return rule_by_id("HighInstanceCount")


def at(epoch):
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def own_account(user):
    """Each test user's own account and address, so that per-principal scenarios do not add up
    in the per-account and per-IP windows unless a test says so."""
    number = sum(map(ord, user))
    return f"{100000000000 + number:012d}", f"198.51.100.{number % 250 + 1}"


def launch(vcpus, epoch, user="alice", instance_type="m5.24xlarge", account=None, **fields):
    """A successful RunInstances that launched exactly `vcpus` vCPUs (96 per m5.24xlarge item,
    the remainder on one item whose cpuOptions says so)."""
    items = [launched_item(instance_type, cpu(48, 2)) for _ in range(vcpus // 96)]
    if vcpus % 96:
        items.append(launched_item(instance_type, cpu(vcpus % 96, 1)))
    default_account, default_ip = own_account(user)
    fields.setdefault("source_ip", default_ip)
    fields.setdefault("recipientAccountId", account or default_account)
    return run_instances(
        instance_type,
        len(items),
        len(items),
        launched=items,
        event_time=at(epoch),
        identity=iam_user(user, account or default_account),
        **fields,
    )


def request(
    count, epoch, user="alice", instance_type="t3.micro", error_code=None, account=None, **fields
):
    default_account, default_ip = own_account(user)
    fields.setdefault("source_ip", default_ip)
    fields.setdefault("recipientAccountId", account or default_account)
    return run_instances(
        instance_type,
        1,
        count,
        event_time=at(epoch),
        identity=iam_user(user, account or default_account),
        error_code=error_code,
        **fields,
    )


def context(result):
    return json.loads(result.alert_context_output)


# --- VCPUSurge ------------------------------------------------------------------------------------


def test_slow_drip_does_not_alert_but_the_same_burst_does(kv, surge):
    drip = [launch(100, DAY0 + i * 9 * HOUR) for i in range(19)]  # a week, 1,900 vCPUs
    assert kv.run(surge, drip) == []
    burst = [
        launch(100, DAY0 + 30 * 24 * HOUR + i * 360, user="bob", source_ip="198.51.100.23")
        for i in range(19)
    ]  # 2 h
    alerts = kv.run(surge, burst)
    fired = context(alerts[0])
    assert fired["window_total"] == 900  # the 9th launch crossed 800
    assert fired["window_event_count"] == 9
    # Its source IP's window (1,300 > 1,200, bob alone) and its 24 hours (1,700 > 1,600, with
    # the 8 hours past 800) say nothing new: one alert, not three.
    assert [context(alert)["window"] for alert in alerts] == ["principal, 8 hours"]


@pytest.mark.parametrize("total, alerts", [(800, 0), (801, 1)])
def test_threshold_is_strictly_more_than_800(kv, surge, total, alerts):
    events = [launch(400, DAY0), launch(total - 400, DAY0 + HOUR)]
    assert len(kv.run(surge, events)) == alerts


def test_one_call_over_the_threshold_alerts_at_once(kv, surge):
    (alert,) = kv.run(surge, [launch(960, DAY0)])
    assert context(alert)["window_event_count"] == 1
    assert alert.severity_output == "MEDIUM"


def test_window_slides_on_event_time(kv, surge):
    # 500 at 00:00 and 500 at 07:59 share a window; 500 at 08:00 with the first would not.
    assert len(kv.run(surge, [launch(500, DAY0), launch(500, DAY0 + 8 * HOUR - 1)])) == 1
    assert (
        kv.run(surge, [launch(500, DAY0, user="c"), launch(500, DAY0 + 8 * HOUR, user="c")]) == []
    )


def test_duplicate_delivery_adds_nothing(kv, surge):
    first, second = launch(500, DAY0), launch(500, DAY0 + HOUR)
    assert kv.run(surge, [first, first, first]) == []  # 500 three times is still 500
    (alert,) = kv.run(surge, [second, second])  # crosses once; its duplicate does not re-alert
    assert context(alert)["window_total"] == 1000


def test_out_of_order_events_give_the_same_alerts(kv, surge):
    events = [launch(150, DAY0 + i * 600, user="dora") for i in range(8)]  # 1,200 in 70 min
    random.Random(7).shuffle(events)
    alerts = kv.run(surge, events)
    assert len(alerts) == 1
    assert context(alerts[0])["window_total"] in range(801, 951)


def test_late_event_that_completes_an_earlier_window_alerts(kv, surge):
    # The 03:00 launch arrives after the 10:00 one; with the 00:00 launch it makes 900 in 3 h.
    events = [launch(450, DAY0), launch(450, DAY0 + 10 * HOUR), launch(450, DAY0 + 3 * HOUR)]
    (alert,) = kv.run(surge, events)
    assert context(alert)["window_event_ids"] == [events[0]["eventID"], events[2]["eventID"]]


def test_interleaved_actors_are_counted_apart(kv, surge):
    events = []
    for i in range(2):
        events += [
            launch(500, DAY0 + i * HOUR, user="erin"),
            launch(500, DAY0 + i * HOUR, user="finn"),
        ]
    events.append(launch(500, DAY0 + HOUR, user="gail"))
    alerts = kv.run(surge, events)
    assert sorted(a.dedup_output.rsplit("/", 1)[1] for a in alerts) == ["erin", "finn"]


def test_failures_and_dry_runs_are_not_launches(kv, surge):
    failed = request(20, DAY0, instance_type="m5.24xlarge", error_code="Client.VcpuLimitExceeded")
    dry = request(20, DAY0, instance_type="m5.24xlarge", error_code="Client.DryRunOperation")
    assert kv.run(surge, [failed, dry, launch(100, DAY0)]) == []


def test_gpu_surge_is_more_severe(kv, surge):
    (alert,) = kv.run(surge, [launch(960, DAY0, instance_type="p4d.24xlarge")])
    assert alert.severity_output == "HIGH"
    (big,) = kv.run(surge, [launch(4000, DAY0, user="hank", instance_type="p4d.24xlarge")])
    assert big.severity_output == "CRITICAL"


def test_title_and_context_explain_the_alert(kv, surge):
    events = [launch(500, DAY0), launch(400, DAY0 + 2 * HOUR)]
    (alert,) = kv.run(surge, events)
    assert alert.title_output.startswith("alice launched 900 vCPUs within 8 hours")
    fired = context(alert)
    assert fired["window_first_event_time"] == at(DAY0)
    assert fired["window_last_event_time"] == at(DAY0 + 2 * HOUR)
    assert fired["window_event_ids"] == [e["eventID"] for e in events]
    assert fired["threshold"] == 800 and fired["degraded"] == ""


def test_kv_store_outage_never_raises_and_judges_the_event_alone(memory_kv, surge):
    memory_kv.memory.fail_with = ConnectionError("DynamoDB unreachable")
    assert memory_kv.run(surge, [launch(500, DAY0), launch(500, DAY0 + HOUR)]) == []
    (alert,) = memory_kv.run(surge, [launch(1000, DAY0 + 2 * HOUR)])
    assert "kv store error: ConnectionError" in context(alert)["degraded"]


@pytest.mark.parametrize(
    "junk", [True, "not-a-set", 42, {"a": 1}, ["x|y|z|w", "e|1|-5|0", None], "[1, 2"]
)
def test_kv_store_returning_junk_never_raises(surge, junk):
    def returns_junk(*_args, **_kwargs):
        return junk

    patches = dict.fromkeys(
        ("get_string_set", "add_to_string_set", "remove_from_string_set"), returns_junk
    )
    for vcpus, alerts in ((100, False), (900, True)):
        result = run_rule(surge, launch(vcpus, DAY0), patches=patches)
        assert function_errors(result) == {}
        assert result.trigger_alert is alerts


def test_state_stays_bounded(memory_kv, surge):
    memory_kv.run(surge, [launch(10, DAY0 + i * 1800) for i in range(800)])  # 400 hours
    widths = {
        "vcpu-surge": 8 * HOUR,
        "vcpu-surge-24h": 24 * HOUR,
        "vcpu-surge-7d": 168 * HOUR,
        "vcpu-surge-ip": 8 * HOUR,
        "vcpu-surge-account": 8 * HOUR,
    }
    items = memory_kv.memory.items
    assert {key.split(":")[1] for key in items} == {*widths, "instances"}
    for key, item in items.items():
        kind = key.split(":")[1]
        if kind == "instances":  # the launched instances, for StartInstances: 30 days, 1,000
            assert len(item.members) <= windows.MAX_ENTRIES
            assert memory_kv.memory.ttl_remaining(key) <= 30 * 24 * HOUR + HOUR
            continue
        # two windows of half-hourly launches, no more
        assert len(item.members) <= 2 * widths[kind] // 1800 + 1
        assert memory_kv.memory.ttl_remaining(key) <= 2 * widths[kind] + HOUR


def test_replay_gives_the_same_alerts_as_live(surge):
    from tests.kv import _memory_backend

    events = [launch(300, DAY0 + i * HOUR, user=f"u{i % 2}") for i in range(12)]
    live, replay = _memory_backend(), _memory_backend()
    live_alerts = [(a.dedup_output, a.alert_context_output) for a in live.run(surge, events)]
    replay.follow_event_time = False
    replay.now[0] = DAY0 + 7 * 24 * HOUR  # a week later, all at once
    replayed = [(a.dedup_output, a.alert_context_output) for a in replay.run(surge, events)]
    # Each principal crosses 800 in 8 hours; 1,600 in 24 hours comes while it is still past 800
    # in 8 hours, which says nothing new.
    assert live_alerts == replayed and len(live_alerts) == 2


# --- VCPUSurge beside the principal: source IP, account, 24 hours, 7 days -------------------------


def spread_evenly(total, hours, start, user, per_launch=96, **fields):
    """`total` vCPUs launched by one user in equal launches over `hours` hours."""
    count = total // per_launch
    return [
        launch(per_launch, start + int(i * hours * HOUR / count), user=user, **fields)
        for i in range(count)
    ]


def windows_of(alerts):
    return [context(alert)["window"] for alert in alerts]


def test_two_principals_from_one_address_alert_on_the_address(kv, surge):
    """Two keys, 700 and 600 vCPUs, each below the principal's 800: the address's 1,300 is
    above its 1,200 (an address window is told unless a single principal is behind it)."""
    events = [
        launch(vcpus, DAY0 + 60 * i, user=name, source_ip="203.0.113.9")
        for i, (name, vcpus) in enumerate([("ana", 700), ("ben", 600)])
    ]
    (alert,) = kv.run(surge, events)
    fired = context(alert)
    assert fired["window"] == "source IP 203.0.113.9, 8 hours"
    assert [p["principal"] for p in fired["window_principals"]] == ["ana", "ben"]


def test_stolen_keys_of_several_users_used_from_one_address_alert_on_the_address(kv, surge):
    """Three principals in two accounts, each below 800 vCPUs, from one address."""
    events = [
        launch(480, DAY0 + 60 * i, user=name, account=account, source_ip="203.0.113.9")
        for i, (name, account) in enumerate(
            [("ana", "210000000001"), ("ben", "210000000001"), ("cy", "210000000002")]
        )
    ]
    (alert,) = kv.run(surge, events)
    fired = context(alert)
    assert fired["window"] == "source IP 203.0.113.9, 8 hours"
    assert alert.dedup_output == "source-ip:203.0.113.9"
    assert [p["principal"] for p in fired["window_principals"]] == ["ana", "ben", "cy"]
    assert alert.title_output.startswith("3 principal(s) [ana, ben, cy] launched 1440 vCPUs")


def test_five_users_behind_one_office_nat_stay_quiet(kv, surge):
    events = [
        e
        for n in range(5)
        for e in spread_evenly(
            192, 6, DAY0, f"dev{n}", source_ip="198.51.100.200", account="310000000001"
        )
    ]
    assert kv.run(surge, events) == []


def test_a_runner_deploying_to_two_accounts_stays_quiet(kv, surge):
    events = [
        e
        for account in ("410000000001", "410000000002")
        for e in spread_evenly(384, 2, DAY0, "ci-runner", account=account, source_ip="192.0.2.44")
    ]
    assert kv.run(surge, events) == []


def test_several_principals_in_one_account_alert_on_the_account(kv, surge):
    quiet = [launch(700, DAY0 + i * HOUR, user=f"p{i}", account="510000000001") for i in range(3)]
    assert kv.run(surge, quiet) == []  # 2,100 vCPUs in 3 hours
    (alert,) = kv.run(surge, [launch(700, DAY0 + 3 * HOUR, user="p3", account="510000000001")])
    assert context(alert)["window"] == "account 510000000001, 8 hours"
    assert alert.dedup_output == "account:510000000001"


def test_aws_service_addresses_and_the_console_have_no_address_window(kv, surge):
    addresses = ["AWS Internal", "AWS Internal", "ec2.amazonaws.com", "not an address"]
    events = [
        launch(500, DAY0 + i, user=f"svc{i}", source_ip=address)
        for i, address in enumerate(addresses)
    ]
    assert kv.run(surge, events) == []


def test_2300_vcpus_a_day_never_terminated_alert_on_the_first_day(kv, surge):
    events = [
        e for day in range(3) for e in spread_evenly(2304, 24, DAY0 + day * 24 * HOUR, "slow-miner")
    ]
    alerts = kv.run(surge, events)
    assert windows_of(alerts) == ["principal, 24 hours"]
    assert at(DAY0) <= context(alerts[0])["window_last_event_time"] < at(DAY0 + 24 * HOUR)


def test_a_weeks_build_up_below_every_daily_window_alerts_on_the_7_day_window(kv, surge):
    events = [
        e for day in range(7) for e in spread_evenly(1152, 24, DAY0 + day * 24 * HOUR, "patient")
    ]
    alerts = kv.run(surge, events)
    assert windows_of(alerts) == ["principal, 7 days"]
    assert context(alerts[0])["window_total"] == 7008  # 73 launches of 96, on the 7th day


def test_a_longer_window_is_told_by_a_shorter_one_at_exactly_its_threshold(kv, surge):
    """800 vCPUs, then 801 ten hours later: the 8-hour window holds exactly 801 (its first total
    above 800) and the 24-hour window 1,601 (above 1,600). One event crosses both; the 8-hour
    window's alert tells it, so the 24-hour window is not listed as crossed too."""
    (alert,) = kv.run(surge, [launch(800, DAY0), launch(801, DAY0 + 10 * HOUR)])
    fired = context(alert)
    assert fired["window_totals"]["principal, 8 hours"] == 801
    assert fired["window_totals"]["principal, 24 hours"] == 1601
    assert [w["window"] for w in fired["windows_crossed"]] == ["principal, 8 hours"]


@pytest.mark.parametrize(
    "name, events",
    [
        ("a developer: 960 vCPUs in 10 hours", lambda: spread_evenly(960, 10, DAY0, "dev")),
        (
            "an autoscaler: ~900 vCPUs a day for a week",
            lambda: [
                e
                for day in range(7)
                for e in spread_evenly(
                    864,
                    24,
                    DAY0 + day * 24 * HOUR,
                    "autoscaler",
                    per_launch=32,
                    instance_type="c5.8xlarge",
                )
            ],
        ),
        (
            "a CI drip: ~900 vCPUs over a week",
            lambda: spread_evenly(896, 168, DAY0, "ci", per_launch=8, instance_type="c5.2xlarge"),
        ),
    ],
)
def test_everyday_accumulation_stays_quiet(kv, surge, name, events):
    assert kv.run(surge, events()) == [], name


# --- HighInstanceCount ----------------------------------------------------------------------------


@pytest.mark.parametrize("count, alerts", [(9, 0), (10, 1)])
def test_instance_count_threshold_edge(kv, high_count, count, alerts):
    events = [request(1, DAY0 + i * 60) for i in range(count)]
    assert len(kv.run(high_count, events)) == alerts


def test_one_alert_per_bucket_not_per_later_event(kv, high_count):
    events = [request(3, DAY0 + i * 60) for i in range(8)]  # 24 instances
    (alert,) = kv.run(high_count, events)
    assert context(alert)["window_total"] == 12  # the 4th request reached 10


def test_a_failed_request_for_ten_gpus_alerts(kv, high_count):
    event = request(10, DAY0, instance_type="p3.2xlarge", error_code="Client.VcpuLimitExceeded")
    (alert,) = kv.run(high_count, [event])
    assert "alice requested 10 instances on 2024-08-01" in alert.title_output
    assert "10 refused" in alert.title_output
    assert alert.severity_output == "MEDIUM"  # all refused (Low), one step up for GPUs
    (bucket,) = context(alert)["elastic_buckets"]
    assert bucket == {
        "outcome": "failure",
        "instance_type": "p3.2xlarge",
        "subnet_id": "subnet-0123456789abcdef0",
        "instances": 10,
    }


def test_one_bucket_per_principal_and_utc_day_across_subnets_types_and_outcomes(kv, high_count):
    events = [
        request(6, DAY0 + 23 * HOUR),  # day 1
        request(3, DAY0 + 25 * HOUR),  # day 2 ...
        request(2, DAY0 + 26 * HOUR, instance_type="t3.small"),
        request(2, DAY0 + 26 * HOUR, error_code="Client.InvalidParameterValue"),
    ]
    assert kv.run(high_count, events) == []
    (alert,) = kv.run(high_count, [request(3, DAY0 + 27 * HOUR, subnet_id="subnet-0bbb")])
    fired = context(alert)
    assert fired["bucket_day"] == "2024-08-02" and fired["window_total"] == 10
    assert "3 refused" not in alert.title_output and "2 refused" in alert.title_output
    buckets = {tuple(bucket.values()) for bucket in fired["elastic_buckets"]}
    subnet = "subnet-0123456789abcdef0"
    assert buckets == {
        ("success", "t3.micro", subnet, 3),
        ("success", "t3.small", subnet, 2),
        ("failure", "t3.micro", subnet, 2),
        ("success", "t3.micro", "subnet-0bbb", 3),
    }
    assert alert.severity_output == "MEDIUM"


def test_ten_one_instance_launches_in_ten_subnets_alert(kv, high_count):
    """AWS's crypto-mining simulation: one user, one instance per subnet, seconds apart."""
    events = [
        request(1, DAY0 + 3 * i, subnet_id=f"subnet-{i:04d}", instance_type=kind)
        for i, kind in enumerate(["c5.4xlarge", "m5.2xlarge"] * 5)
    ]
    alerts = kv.run(high_count, events)
    assert len(alerts) == 1 and context(alerts[0])["window_event_count"] == 10
    assert len(context(alerts[0])["elastic_buckets"]) == 10


def test_rotating_sessions_of_one_role_count_as_one_principal(kv, high_count):
    events = [
        run_instances(
            "t3.micro",
            1,
            2,
            event_time=at(DAY0 + i * HOUR),
            source_ip=f"192.0.2.{i}",
            identity=assumed_role("deployer", f"session-{i}"),
            user_agent=f"agent/{i}",
        )
        for i in range(5)
    ]
    (alert,) = kv.run(high_count, events)
    assert alert.dedup_output == "arn:aws:iam::111122223333:role/deployer:2024-08-01"
    assert alert.title_output.startswith("deployer/session-4 requested 10 instances")
    assert context(alert)["session_name"] == "session-4"


def test_a_node_controller_launching_all_day_stays_quiet(kv, high_count):
    """Karpenter's role gets a new session every hour and launches small nodes all day."""
    events = [
        run_instances(
            "c5.large",
            1,
            1,
            event_time=at(DAY0 + i * 1200),
            identity=assumed_role("KarpenterControllerRole-prod", f"{1722844800 + i // 3}"),
            user_agent="aws-sdk-go/1.51.16 (go1.22.2; linux; amd64) karpenter.sh-v0.36.1",
        )
        for i in range(72)
    ]
    assert kv.run(high_count, events) == []
    # The same role's key used by anyone else (another user agent) is counted.
    stolen = [
        run_instances(
            "c5.large",
            1,
            5,
            event_time=at(DAY0 + i * 60),
            identity=assumed_role("KarpenterControllerRole-prod", "x"),
            user_agent="python-requests/2.31",
        )
        for i in range(2)
    ]
    assert len(kv.run(high_count, stolen)) == 1


def test_stolen_keys_of_several_users_from_one_address_alert_on_the_address(kv, high_count):
    """Three users in two accounts, each below 10 instances a day, from one address."""
    quiet = [
        request(8, DAY0 + 60 * i, user=name, account=account, source_ip="203.0.113.9")
        for i, (name, account) in enumerate(
            [("ana", "210000000001"), ("ben", "210000000001"), ("cy", "210000000002")]
        )
    ]
    assert kv.run(high_count, quiet) == []  # 24 instances
    (alert,) = kv.run(
        high_count,
        [request(2, DAY0 + 600, user="dee", account="210000000002", source_ip="203.0.113.9")],
    )
    fired = context(alert)
    assert fired["window"] == "source IP 203.0.113.9, UTC day 2024-08-01"
    assert alert.dedup_output == "source-ip:203.0.113.9:2024-08-01"
    assert fired["window_principals"] == [
        {"principal": name, "instances": n}
        for name, n in (("ana", 8), ("ben", 8), ("cy", 8), ("dee", 2))
    ]
    assert alert.title_output.startswith(
        "4 principal(s) [ana, ben, cy, dee] requested 26 instances"
    )
    assert fired["windows_crossed"] == [
        {
            "window": "source IP 203.0.113.9, UTC day 2024-08-01",
            "threshold": 25,
            "total": 26,
            "dedup": "source-ip:203.0.113.9:2024-08-01",
        }
    ]
    # Elastic's breakdown stays the principal's own.
    assert [b["instances"] for b in fired["elastic_buckets"]] == [2]


def test_everyday_users_behind_one_address_or_one_account_stay_quiet(kv, high_count):
    office = [
        request(
            4, DAY0 + HOUR * n, user=f"dev{n}", source_ip="198.51.100.200", account="310000000001"
        )
        for n in range(5)
    ]
    runner = [
        request(8, DAY0 + HOUR * n, user="ci-runner", account=account, source_ip="192.0.2.44")
        for n, account in enumerate(("410000000001", "410000000002"))
    ]
    assert kv.run(high_count, office + runner) == []  # 20 from one NAT, 16 from one runner


def test_many_principals_in_one_account_alert_on_the_account(kv, high_count):
    quiet = [request(8, DAY0 + i * HOUR, user=f"p{i}", account="510000000001") for i in range(4)]
    assert kv.run(high_count, quiet) == []  # 32 instances, each principal below 10
    (alert,) = kv.run(high_count, [request(8, DAY0 + 5 * HOUR, user="p5", account="510000000001")])
    assert context(alert)["window"] == "account 510000000001, UTC day 2024-08-01"
    assert alert.dedup_output == "account:510000000001:2024-08-01"
    # The next UTC day starts again.
    assert (
        kv.run(high_count, [request(8, DAY0 + 25 * HOUR, user="p6", account="510000000001")]) == []
    )


def test_console_and_service_addresses_have_no_instance_count_address_window(kv, high_count):
    events = [
        request(8, DAY0 + i, user=f"svc{i}", source_ip=address)
        for i, address in enumerate(
            ["AWS Internal", "AWS Internal", "ec2.amazonaws.com", "not an address"]
        )
    ]
    assert kv.run(high_count, events) == []


def test_duplicate_request_counts_once(kv, high_count):
    first = request(6, DAY0)
    assert kv.run(high_count, [first, first]) == []
    assert len(kv.run(high_count, [request(4, DAY0 + 60)])) == 1


def test_dry_runs_are_not_counted(kv, high_count):
    assert kv.run(high_count, [request(20, DAY0, error_code="Client.DryRunOperation")]) == []


def test_instance_count_outage_judges_the_request_alone(memory_kv, high_count):
    memory_kv.memory.fail_with = TimeoutError("throttled")
    assert memory_kv.run(high_count, [request(5, DAY0), request(5, DAY0)]) == []
    (alert,) = memory_kv.run(high_count, [request(12, DAY0)])
    assert context(alert)["degraded"].startswith("kv store error: TimeoutError")


# --- every launch API, counted once ---------------------------------------------------------------


def test_a_users_auto_scaling_group_counts_once_not_again_at_each_launch(kv, surge, high_count):
    group = auto_scaling_group(desired=60, override_types=("g5.4xlarge",), eventTime=at(DAY0))
    on_behalf = [
        run_instances(
            "g5.4xlarge",
            identity=autoscaling_identity(),
            source_ip="autoscaling.amazonaws.com",
            event_time=at(DAY0 + 60 + i),
        )
        for i in range(60)
    ]
    (surge_alert,) = kv.run(surge, [group, *on_behalf])
    assert context(surge_alert)["window_total"] == 960  # 60 x 16 vCPUs requested, counted once
    (count_alert,) = kv.run(high_count, [group, *on_behalf])
    assert context(count_alert)["window_total"] == 60


def test_fleet_and_spot_requests_count_their_capacity(kv, surge, high_count):
    fleet = create_fleet(("p4d.24xlarge",), 10, fleet_type="maintain", eventTime=at(DAY0))
    spot = request_spot_instances("c5.large", 12, eventTime=at(DAY0 + 60))
    (alert,) = kv.run(surge, [fleet])
    assert context(alert)["window_total"] == 960
    (count_alert,) = kv.run(high_count, [spot])
    assert context(count_alert)["window_total"] == 12


def test_a_crossed_day_bucket_stops_growing(memory_kv, high_count):
    events = [request(1, DAY0 + i * 60) for i in range(50)]
    (alert,) = memory_kv.run(high_count, events)
    assert context(alert)["window_total"] == 10
    (members,) = [
        item.members
        for key, item in memory_kv.memory.items.items()
        if key.startswith("ec2-compute-abuse:instance-count:")
    ]
    assert len(members) == 10  # later requests are counted in results, not stored


def test_a_resize_counts_its_new_vcpus_but_no_new_instance(kv, surge, high_count):
    resizes = [
        api_call(
            "ec2.amazonaws.com",
            "ModifyInstanceAttribute",
            userIdentity=iam_user("rita"),
            eventTime=at(DAY0 + i * 60),
            requestParameters={
                "instanceId": f"i-{i:04d}",
                "instanceType": {"value": "p4d.24xlarge"},
            },
        )
        for i in range(10)
    ]
    (alert,) = kv.run(surge, resizes)
    assert context(alert)["window_total"] == 9 * 96  # the 9th resize crosses 800 vCPUs
    assert kv.run(high_count, resizes) == []
