"""HijackPlaybook over event sequences, through panther_core, on both KV backends: the whole
playbook raises one Critical alert telling the story in order; teams doing one or two of its
stages stay quiet."""

import json
import random
from datetime import UTC, datetime

import pytest

from compute_abuse.content import load_rule, rule_spec
from compute_abuse.events import (
    api_call,
    assumed_role,
    auto_scaling_group,
    autoscaling_identity,
    iam_user,
    run_instances,
)

DAY0 = int(datetime(2024, 8, 7, 14, 0, tzinfo=UTC).timestamp())
MINUTE, HOUR, DAY = 60, 3600, 86400
PLAYBOOK = "ComputeAbuse.AWS.EC2.HijackPlaybook"


@pytest.fixture(scope="module")
def playbook():
    return load_rule(rule_spec(PLAYBOOK))


def at(epoch):
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def quota(
    name, epoch, user="mallory", region="us-east-1", code="L-417A185B", service="ec2", **request
):
    return api_call(
        "servicequotas.amazonaws.com",
        name,
        eventTime=at(epoch),
        awsRegion=region,
        userIdentity=iam_user(user),
        requestParameters={"serviceCode": service, "quotaCode": code, **request},
    )


def launch(instance_type, count, epoch, user="mallory", region="us-east-1", **fields):
    return run_instances(
        instance_type,
        count,
        count,
        event_time=at(epoch),
        region=region,
        identity=fields.pop("identity", None) or iam_user(user),
        **fields,
    )


def protect(epoch, user="mallory", region="us-west-2", attribute="disableApiTermination"):
    return api_call(
        "ec2.amazonaws.com",
        "ModifyInstanceAttribute",
        eventTime=at(epoch),
        awsRegion=region,
        userIdentity=iam_user(user),
        requestParameters={"instanceId": "i-0123", attribute: {"value": True}},
    )


def protected(event):
    """The launch with termination protection on."""
    event["requestParameters"]["disableApiTermination"] = True
    return event


def attack(user="mallory", start=DAY0):
    """The playbook of AWS's and Invictus' reports, in 40 minutes."""
    return [
        *[
            quota("GetServiceQuota", start + i, user, region)
            for i, region in enumerate(["us-east-1", "us-east-2", "us-west-2"])
        ],
        quota("RequestServiceQuotaIncrease", start + MINUTE, user, desiredValue=384.0),
        launch("p4d.24xlarge", 2, start + 2 * MINUTE, user, error_code="Client.DryRunOperation"),
        launch("p4d.24xlarge", 2, start + 5 * MINUTE, user),
        launch("g5.12xlarge", 4, start + 20 * MINUTE, user, region="us-west-2"),
        protect(start + 40 * MINUTE, user),
    ]


def context(result):
    return json.loads(result.alert_context_output)


def test_the_playbook_raises_one_critical_alert_telling_the_story_in_order(kv, playbook):
    alerts = kv.run(playbook, attack())
    assert {alert.dedup_output for alert in alerts} == {
        "playbook:arn:aws:iam::111122223333:user/mallory"
    }
    first = alerts[0]
    assert first.title_output == (
        "mallory ran the compute-hijacking playbook in account 111122223333: quota or "
        "instance-type look-ups → quota increase request → dry run of unusual or large "
        "capacity (3 stages within 6 hours)"
    )
    stages = context(first)["stages"]
    assert [(s["stage"], s["first_event_region"]) for s in stages] == [
        ("recon", "us-east-1"),
        ("quota-increase", "us-east-1"),
        ("dry-run", "us-east-1"),
    ]
    assert stages[0]["first_event_time"] == at(DAY0)
    # Each later stage's first event joins the alert (same dedup string): the launch, the
    # protection; the second launch is a stage already seen.
    assert len(alerts) == 3
    assert [context(a)["window_total"] for a in alerts] == [3, 4, 5]


def test_duplicates_and_reordering_give_the_same_alert(kv, playbook):
    events = attack()
    shuffled = events + events[2:5]  # CloudTrail delivers some twice
    random.Random(7).shuffle(shuffled)
    alerts = kv.run(playbook, shuffled)
    assert {alert.dedup_output for alert in alerts} == {
        "playbook:arn:aws:iam::111122223333:user/mallory"
    }
    assert max(context(a)["window_total"] for a in alerts) == 5  # every stage seen, once


def test_launches_across_regions_are_a_stage(kv, playbook):
    small = [
        launch("t3.micro", 1, DAY0 + i * MINUTE, region=region)
        for i, region in enumerate(["us-east-1", "eu-west-1", "ap-south-1"])
    ]
    events = [
        quota("GetServiceQuota", DAY0 - MINUTE),
        *small,
        quota("RequestServiceQuotaIncrease", DAY0 + 10 * MINUTE),
    ]
    (alert,) = kv.run(playbook, events)
    assert [s["stage"] for s in context(alert)["stages"]] == ["recon", "regions", "quota-increase"]


def test_stop_protection_and_new_access_keys_are_stages(kv, playbook):
    events = [
        api_call(
            "iam.amazonaws.com",
            "CreateAccessKey",
            eventTime=at(DAY0),
            userIdentity=iam_user("mallory"),
            requestParameters={"userName": "mallory"},
        ),
        launch("c7i.48xlarge", 2, DAY0 + MINUTE),  # 384 vCPUs: large
        protect(DAY0 + 2 * MINUTE, attribute="disableApiStop"),
    ]
    (alert,) = kv.run(playbook, events)
    assert [s["stage"] for s in context(alert)["stages"]] == ["credentials", "launch", "protection"]


@pytest.mark.parametrize(
    "name, events",
    [
        (
            "a platform team raises a quota, then launches GPUs the next week",
            lambda: [
                quota("GetServiceQuota", DAY0, "platform"),
                quota("RequestServiceQuotaIncrease", DAY0 + MINUTE, "platform"),
                launch("p4d.24xlarge", 2, DAY0 + 7 * DAY, "platform"),
                protect(DAY0 + 7 * DAY + HOUR, "platform"),
            ],
        ),
        (
            "Karpenter's dry runs, then its launches, in three regions",
            lambda: [
                launch(
                    "g5.2xlarge",
                    1,
                    DAY0 + i * MINUTE,
                    region=region,
                    identity=assumed_role("KarpenterControllerRole-prod", "1722844800123"),
                    user_agent="aws-sdk-go/1.51.16 karpenter.sh-v0.36.1",
                    error_code="Client.DryRunOperation" if i % 2 == 0 else None,
                )
                for i, region in enumerate(["us-east-1", "us-east-1", "eu-west-1", "eu-west-1"])
            ],
        ),
        (
            "a data scientist checks quotas and launches a GPU",
            lambda: [
                quota("GetServiceQuota", DAY0, "ds"),
                launch("g5.xlarge", 1, DAY0 + MINUTE, "ds"),
                launch("g5.xlarge", 1, DAY0 + HOUR, "ds"),
            ],
        ),
        (
            "Terraform checks quotas, deploys protected small instances to three regions",
            lambda: [
                quota("GetServiceQuota", DAY0 - MINUTE, "terraform"),
                *[
                    protected(launch("m5.large", 2, DAY0 + i * MINUTE, "terraform", region=region))
                    for i, region in enumerate(["us-east-1", "eu-west-1", "ap-south-1"])
                ],
            ],
        ),
        (
            "an auto scaling group of GPUs and its own launches",
            lambda: [
                auto_scaling_group(desired=4, override_types=("g5.4xlarge",), eventTime=at(DAY0)),
                *[
                    run_instances(
                        "g5.4xlarge",
                        identity=autoscaling_identity(),
                        region=region,
                        source_ip="autoscaling.amazonaws.com",
                        event_time=at(DAY0 + 60 + i),
                    )
                    for i, region in enumerate(["us-east-1", "us-east-2", "us-west-2"])
                ],
            ],
        ),
        (
            "three stages a day apart",
            lambda: [
                quota("GetServiceQuota", DAY0),
                quota("RequestServiceQuotaIncrease", DAY0 + DAY),
                launch("p4d.24xlarge", 1, DAY0 + 2 * DAY),
            ],
        ),
    ],
)
def test_everyday_work_with_one_or_two_stages_stays_quiet(kv, playbook, name, events):
    assert kv.run(playbook, events()) == [], name


def test_a_failing_store_never_raises_and_sees_no_playbook(memory_kv, playbook):
    memory_kv.memory.fail_with = TimeoutError("throttled")
    assert memory_kv.run(playbook, attack()) == []


def test_two_principals_each_with_two_stages_stay_apart(kv, playbook):
    events = [
        quota("GetServiceQuota", DAY0, "ann"),
        quota("RequestServiceQuotaIncrease", DAY0 + MINUTE, "ann"),
        launch("p4d.24xlarge", 1, DAY0 + 2 * MINUTE, "bea"),
        protect(DAY0 + 3 * MINUTE, "bea"),
    ]
    assert kv.run(playbook, events) == []


def new_access_key(epoch, user="mallory"):
    return api_call(
        "iam.amazonaws.com",
        "CreateAccessKey",
        eventTime=at(epoch),
        userIdentity=iam_user(user),
        requestParameters={"userName": user},
    )


# DryRunProbe's threshold: 64 vCPUs (m5.16xlarge) is large, 48 (m5.12xlarge) is not
@pytest.mark.parametrize("instance_type, alerts", [("m5.16xlarge", 1), ("m5.12xlarge", 0)])
def test_a_dry_run_of_large_capacity_is_a_stage_from_the_minimum_on(
    kv, playbook, instance_type, alerts
):
    new_key = new_access_key(DAY0)
    dry_run = launch(instance_type, 1, DAY0 + MINUTE, error_code="Client.DryRunOperation")
    protection = protect(DAY0 + 2 * MINUTE)
    assert len(kv.run(playbook, [new_key, dry_run, protection])) == alerts


# PLAYBOOK_LARGE_LAUNCH_VCPUS: four m5.24xlarge (384 vCPUs) in one call are large, three are not
@pytest.mark.parametrize("count, alerts", [(4, 1), (3, 0)])
def test_a_launch_of_large_capacity_is_a_stage_from_the_minimum_on(kv, playbook, count, alerts):
    new_key = new_access_key(DAY0)
    large = launch("m5.24xlarge", count, DAY0 + MINUTE)
    assert len(kv.run(playbook, [new_key, large, protect(DAY0 + 2 * MINUTE)])) == alerts


def test_instance_type_look_ups_are_recon_only_from_ec2(kv, playbook):
    spoofed = api_call(
        "example.amazonaws.com",
        "DescribeInstanceTypeOfferings",
        eventTime=at(DAY0),
        userIdentity=iam_user("mallory"),
    )
    dry_run = launch("c7i.48xlarge", 2, DAY0 + MINUTE, error_code="Client.DryRunOperation")
    increase = quota("RequestServiceQuotaIncrease", DAY0 + 2 * MINUTE, desiredValue=1024)
    assert kv.run(playbook, [spoofed, dry_run, increase]) == []
