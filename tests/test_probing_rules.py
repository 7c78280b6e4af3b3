"""DryRunProbe, QuotaProbe, RegionSpread and TerminationProtection over event sequences, through
panther_core, on both KV backends (see tests/kv.py)."""

import json
from datetime import UTC, datetime

import pytest

from compute_abuse.content import load_rule, rule_spec
from compute_abuse.events import (
    REGIONS,
    api_call,
    assumed_role,
    create_fleet,
    iam_user,
    launched_item,
    run_instances,
)

T0 = int(datetime(2024, 8, 7, 14, 0, tzinfo=UTC).timestamp())


def rule(name):
    return load_rule(rule_spec(f"ComputeAbuse.AWS.EC2.{name}"))


def at(epoch):
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def quota_lookup(region, epoch, user="mallory", service="ec2"):
    request = {"serviceCode": service, "quotaCode": "L-1216C47A"}
    return api_call(
        "servicequotas.amazonaws.com",
        "GetServiceQuota",
        awsRegion=region,
        eventTime=at(epoch),
        userIdentity=iam_user(user),
        requestParameters=request,
    )


@pytest.mark.parametrize(
    "regions, spacing, alerts",
    # 10 regions in 18 s; 9; 11; 10 in 36 s (in a minute: not a sweep); 10 in 90 s
    [(10, 2, 1), (9, 2, 0), (11, 2, 1), (10, 4, 0), (10, 10, 0)],
)
def test_quota_sweep_needs_ten_regions_in_thirty_seconds(kv, regions, spacing, alerts):
    events = [quota_lookup(REGIONS[i], T0 + i * spacing) for i in range(regions)]
    assert len(kv.run(rule("QuotaProbe"), events)) == alerts


def test_quota_sweep_counts_regions_not_calls_and_ignores_other_services(kv):
    same_region = [quota_lookup("us-east-1", T0 + i) for i in range(20)]
    lambda_quotas = [quota_lookup(REGIONS[i], T0 + i, service="lambda") for i in range(11)]
    assert kv.run(rule("QuotaProbe"), same_region + lambda_quotas) == []


def test_quota_increase_for_gpus_is_high():
    from compute_abuse.content import run_rule

    event = api_call(
        "servicequotas.amazonaws.com",
        "RequestServiceQuotaIncrease",
        requestParameters={"serviceCode": "ec2", "quotaCode": "L-DB2E81BA", "desiredValue": 192},
    )
    result = run_rule(rule("QuotaProbe"), event)
    assert result.trigger_alert and result.severity_output == "HIGH"
    assert "Running On-Demand G and VT instances to 192" in result.title_output


def launch_in(region, epoch, user="mallory", instance_type="c5.large", **fields):
    return run_instances(
        instance_type, region=region, event_time=at(epoch), identity=iam_user(user), **fields
    )


def test_region_spread_three_regions_within_the_hour(kv):
    events = [
        launch_in("us-east-1", T0),
        launch_in("us-west-2", T0 + 600),
        launch_in("us-west-2", T0 + 700),
        launch_in("eu-west-1", T0 + 3000),
        launch_in("ap-south-1", T0 + 3100),
    ]
    (alert,) = kv.run(rule("RegionSpread"), events)  # one alert, at the third region
    context = json.loads(alert.alert_context_output)
    assert context["window_labels"] == ["eu-west-1", "us-east-1", "us-west-2"]


def test_region_spread_slow_tour_and_duplicates_do_not_alert(kv):
    slow = [launch_in(REGIONS[i], T0 + i * 4000) for i in range(5)]  # > 1 h apart
    first = launch_in("us-east-1", T0, user="nina")
    second = launch_in("us-west-2", T0 + 60, user="nina")
    assert kv.run(rule("RegionSpread"), [*slow, first, first, second, second]) == []


def test_region_spread_out_of_order_and_attempts_count(kv):
    failed = launch_in(
        "ap-southeast-1",
        T0 + 900,
        instance_type="p4d.24xlarge",
        error_code="Client.VcpuLimitExceeded",
    )
    events = [launch_in("eu-west-1", T0 + 1800), failed, launch_in("us-east-1", T0)]
    (alert,) = kv.run(rule("RegionSpread"), events)
    assert alert.severity_output == "HIGH"  # accelerators were asked for


def test_dry_run_probe_ignores_karpenter_but_not_its_user_agent_alone(kv):
    karpenter_ua = "aws-sdk-go/1.51.16 karpenter.sh-v0.36.1"
    controller = assumed_role("KarpenterControllerRole-prod", "1722844800123456789")
    events = [
        run_instances(
            "g5.2xlarge",
            identity=controller,
            user_agent=karpenter_ua,
            error_code="Client.DryRunOperation",
        ),
        run_instances(
            "g5.2xlarge",
            identity=iam_user("mallory"),
            user_agent=karpenter_ua,
            error_code="Client.DryRunOperation",
        ),
    ]
    (alert,) = kv.run(rule("DryRunProbe"), events)
    assert "mallory dry-ran RunInstances" in alert.title_output


def protect(instance_id, epoch, user="mallory", value=True):
    return api_call(
        "ec2.amazonaws.com",
        "ModifyInstanceAttribute",
        eventTime=at(epoch),
        userIdentity=iam_user(user),
        requestParameters={"instanceId": instance_id, "disableApiTermination": {"value": value}},
    )


def test_protecting_an_unusual_instance_alerts(kv):
    gpu = launched_item("g5.12xlarge", instance_id="i-gpu1")
    launch = run_instances(
        "g5.12xlarge", launched=[gpu], identity=iam_user("mallory"), event_time=at(T0)
    )
    alerts = kv.run(rule("TerminationProtection"), [launch, protect("i-gpu1", T0 + 86400, "ops")])
    (alert,) = alerts  # a day later, by someone else: the instance is what matters
    assert alert.severity_output == "HIGH"
    assert json.loads(alert.alert_context_output)["protected_instance_types"] == ["g5.12xlarge"]


@pytest.mark.parametrize("days, alerts", [(6, 1), (8, 0)])
def test_an_unusual_instance_is_remembered_for_a_week_of_event_time(kv, days, alerts):
    """Protecting an unusual instance launched 6 days before alerts; 8 days before, it is
    forgotten (the account's later unusual launch prunes what is older than the memory)."""

    def gpu_launch(instance_id, epoch):
        item = launched_item("g5.12xlarge", instance_id=instance_id)
        return run_instances("g5.12xlarge", launched=[item], event_time=at(epoch))

    later = T0 + days * 86400
    events = [gpu_launch("i-gpu-old", T0), gpu_launch("i-gpu-new", later)]
    events.append(protect("i-gpu-old", later + 60, "ops"))
    assert len(kv.run(rule("TerminationProtection"), events)) == alerts


def test_each_instance_is_judged_by_its_own_type(kv):
    """An instant fleet launched a GPU instance and a t3.micro: protecting the GPU instance is
    High, protecting the t3.micro only pairs with the launch burst (Medium), never "unusual"."""
    launch = create_fleet(
        ("p3.2xlarge", "t3.micro"),
        2,
        launched=[("p3.2xlarge", 1), ("t3.micro", 1)],
        identity=iam_user("mallory"),
        eventTime=at(T0),
    )
    gpu, small = (
        item["instanceIds"]["item"][0]
        for item in launch["responseElements"]["CreateFleetResponse"]["fleetInstanceSet"]["item"]
    )
    alerts = kv.run(
        rule("TerminationProtection"), [launch, protect(gpu, T0 + 600), protect(small, T0 + 900)]
    )
    judged = {
        tuple(context["protected_instance_ids"]): (alert.severity_output, context["reason"])
        for alert in alerts
        for context in [json.loads(alert.alert_context_output)]
    }
    assert judged == {
        (gpu,): ("HIGH", "protected unusual instance(s) [p3.2xlarge]"),
        (small,): ("MEDIUM", "protected instances within 60 minutes of a launch burst"),
    }


def test_protection_after_a_burst_within_the_hour_only(kv):
    burst = run_instances("c5.large", 6, 6, identity=iam_user("mallory"), event_time=at(T0))
    soon = protect("i-any", T0 + 1800)
    late = protect("i-other", T0 + 3 * 3600)
    other_actor = protect("i-x", T0 + 600, user="ops")
    turned_off = protect("i-y", T0 + 700, value=False)
    alerts = kv.run(rule("TerminationProtection"), [burst, soon, late, other_actor, turned_off])
    assert [json.loads(a.alert_context_output)["protected_instance_ids"] for a in alerts] == [
        ["i-any"]
    ]


def test_protection_rule_survives_a_kv_outage(memory_kv):
    memory_kv.memory.fail_with = ConnectionError("down")
    launch = run_instances("g5.12xlarge", identity=iam_user("mallory"), event_time=at(T0))
    launch["requestParameters"]["disableApiTermination"] = True
    (alert,) = memory_kv.run(rule("TerminationProtection"), [launch, protect("i-1", T0 + 60)])
    assert "kv store error" in json.loads(alert.alert_context_output)["degraded"]


def test_a_protection_judged_before_its_launch_alerts_on_the_launch(kv):
    """Two invocations may judge a launch and its protection call in either order: each side
    writes, then reads the other, so the pair alerts whichever is judged second."""
    gpu = launched_item("g5.12xlarge", instance_id="i-gpu1")
    launch = run_instances(
        "g5.12xlarge", launched=[gpu], identity=iam_user("mallory"), event_time=at(T0)
    )
    (alert,) = kv.run(rule("TerminationProtection"), [protect("i-gpu1", T0 + 60, "ops"), launch])
    context = json.loads(alert.alert_context_output)
    assert context["judged_on"] == "launch" and context["protected_instance_ids"] == ["i-gpu1"]
    assert alert.severity_output == "HIGH" and "i-gpu1 that mallory launched" in alert.title_output
    in_order = kv.run(rule("TerminationProtection"), [launch, protect("i-gpu1", T0 + 60, "ops")])
    assert {a.dedup_output for a in in_order} == {alert.dedup_output}  # one alert in Panther


def test_a_burst_judged_after_its_protection_pairs_by_principal_and_hour(kv):
    burst = run_instances("c5.large", 6, 6, identity=iam_user("mallory"), event_time=at(T0))
    early = [protect("i-any", T0 + 1800)]
    assert len(kv.run(rule("TerminationProtection"), [*early, burst])) == 1
    quiet = run_instances("c5.large", 6, 6, identity=iam_user("eve"), event_time=at(T0))
    others = [protect("i-x", T0 + 600, user="ops"), protect("i-late", T0 + 3 * 3600, user="eve")]
    assert kv.run(rule("TerminationProtection"), [*others, quiet]) == []


# --- boundaries (each found by `make mutants`: a flipped comparison or moved number passed) -----


@pytest.mark.parametrize("regions, severity", [(5, "MEDIUM"), (6, "HIGH")])
def test_region_spread_is_high_from_twice_the_minimum_regions(kv, regions, severity):
    events = [launch_in(REGIONS[i], T0 + i * 60) for i in range(regions)]
    alerts = kv.run(rule("RegionSpread"), events)
    assert len(alerts) == 1  # one alert per principal; its severity is read at the last event
    last = events[-1]
    from compute_abuse.content import run_rule

    result = run_rule(rule("RegionSpread"), last, patches=kv.patches)
    assert result.severity_output == severity
    assert "within 60 minutes" in alerts[0].title_output


@pytest.mark.parametrize("instance_type, alerts", [("m5.16xlarge", 1), ("m5.12xlarge", 0)])
def test_dry_run_probe_alerts_from_the_vcpu_threshold_on(kv, instance_type, alerts):
    # 64 vCPUs (the threshold) alerts; 48 does not. Neither type is accelerated.
    dry_run = run_instances(
        instance_type, identity=iam_user("mallory"), error_code="Client.DryRunOperation"
    )
    found = kv.run(rule("DryRunProbe"), [dry_run])
    assert len(found) == alerts
    if found:
        assert "64 vCPUs" in found[0].title_output and "64-64" not in found[0].title_output


@pytest.mark.parametrize(
    "instances, delay, protected_first, alerts",
    [
        (5, 0, False, 1),  # a burst of exactly 5, protected in the same second
        (5, 3600, False, 1),  # protected exactly an hour after
        (5, 3601, False, 0),  # a second later
        (4, 60, False, 0),  # one short of a burst
        (5, 0, True, 1),  # the protection judged first, the burst in the same second
        (5, 3600, True, 1),  # the protection judged first, an hour after the burst
    ],
)
def test_protection_after_a_burst_at_its_edges(kv, instances, delay, protected_first, alerts):
    burst = run_instances(
        "c5.large", instances, instances, identity=iam_user("mallory"), event_time=at(T0)
    )
    protection = protect("i-any", T0 + delay)
    events = [protection, burst] if protected_first else [burst, protection]
    found = kv.run(rule("TerminationProtection"), events)
    assert len(found) == alerts
    if found:
        assert "within 60 minutes of a launch burst" in found[0].title_output + json.dumps(
            json.loads(found[0].alert_context_output)
        )
