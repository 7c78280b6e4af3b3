"""Launches that name a launch template or configuration without a type of their own are judged by
the template's types (ec2_launch_templates), on both KV backends: refusals and dry runs too."""

import json

import pytest
from ec2_compute_windows import KVStore

import ec2_launch_templates as templates
from compute_abuse.content import load_rule, rule_spec
from compute_abuse.events import (
    auto_scaling_group,
    create_launch_configuration,
    create_launch_template,
    create_launch_template_version,
    iam_user,
    run_instances,
    template_call,
)
from compute_abuse.kvstore import InMemoryKVStore
from ec2_compute_helpers import event_time_epoch, summarize_launch
from tests.kv import StoreInOrder

ATTACKER = iam_user("backup-sync")
BY_ID = {"launchTemplateId": "lt-0780d55503d605988", "version": "$Default"}


def rule_by_id(rule_id):
    return load_rule(rule_spec(f"ComputeAbuse.AWS.EC2.{rule_id}"))


@pytest.fixture(scope="module")
def unusual():
    return rule_by_id("UnusualInstanceType")


@pytest.fixture(scope="module")
def dry_run():
    return rule_by_id("DryRunProbe")


@pytest.fixture(scope="module")
def surge():
    return rule_by_id("VCPUSurge")


def at(minute):
    return f"2024-08-01T10:{minute:02d}:00Z"


def refused_launch(minute, template=None, count=8, error="Client.VcpuLimitExceeded"):
    """A RunInstances that names only a template and was refused: responseElements null."""
    return run_instances(
        None,
        1,
        count,
        launch_template=template or BY_ID,
        error_code=error,
        identity=ATTACKER,
        event_time=at(minute),
    )


def context(result):
    return json.loads(result.alert_context_output)


def test_a_refused_launch_is_judged_by_its_templates_type(kv, unusual):
    events = [create_launch_template("p4d.24xlarge", eventTime=at(0)), refused_launch(5)]
    (alert,) = kv.run(unusual, events)
    assert alert.severity_output == "LOW"
    assert "tried to launch 8 unusual EC2 instance(s) [p4d.24xlarge]" in alert.title_output
    fired = context(alert)
    assert fired["launch_template"] == "lt-0780d55503d605988@$Default"
    assert fired["launch_template_status"] == templates.STATUS_KNOWN
    assert fired["requested_vcpus"] == 8 * 96 and fired["requested_accelerator_count"] == 64


def test_a_template_named_by_name_resolves_too(kv, unusual):
    by_name = {"launchTemplateName": "gpu-workers", "version": "1"}
    events = [create_launch_template("g5.12xlarge", eventTime=at(0)), refused_launch(5, by_name)]
    (alert,) = kv.run(unusual, events)
    assert context(alert)["instance_types"] == ["g5.12xlarge"]


def test_a_dry_run_naming_a_gpu_template_is_a_probe(kv, dry_run):
    events = [
        create_launch_template("p5.48xlarge", eventTime=at(0)),
        refused_launch(3, count=2, error="Client.DryRunOperation"),
    ]
    (alert,) = kv.run(dry_run, events)
    assert alert.severity_output == "HIGH"
    assert "[p5.48xlarge]" in alert.title_output


def test_versions_latest_default_and_inherited_types(kv, unusual):
    events = [
        create_launch_template("t3.micro", eventTime=at(0)),  # version 1, the default
        create_launch_template_version(2, "g5.48xlarge", eventTime=at(1)),
        create_launch_template_version(3, None, source_version=2, eventTime=at(2)),
        refused_launch(3),  # $Default: still t3.micro
    ]
    assert kv.run(unusual, events) == []
    latest = refused_launch(4, {**BY_ID, "version": "$Latest"})  # version 3 keeps 2's type
    (alert,) = kv.run(unusual, [latest])
    assert context(alert)["instance_types"] == ["g5.48xlarge"]
    new_default = template_call(
        "ModifyLaunchTemplate",
        request={"SetDefaultVersion": "2"},
        template={"defaultVersionNumber": 2},
        eventTime=at(5),
    )
    (alert,) = kv.run(unusual, [new_default, refused_launch(6, count=3)])
    assert "[g5.48xlarge]" in alert.title_output


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reversed"])
def test_two_default_changes_in_one_second_resolve_alike_in_any_store_order(reverse):
    """Two ModifyLaunchTemplate calls in one second: the larger event ID is the later one (as
    for every change without a version number), whatever order the store returns them in."""
    store = KVStore(**StoreInOrder(reverse).caching_functions())
    defaults = [
        template_call(
            "ModifyLaunchTemplate",
            request={"SetDefaultVersion": str(version)},
            template={"defaultVersionNumber": version},
            eventTime=at(5),
            eventID=f"00000000-0000-4000-8000-{event_id:012x}",
        )
        for version, event_id in ((1, 0xFFFF), (2, 0x0001))
    ]
    events = [
        create_launch_template("t3.micro", eventTime=at(0)),  # version 1
        create_launch_template_version(2, "g5.48xlarge", eventTime=at(1)),
        *defaults,
    ]
    for event in events:
        assert templates.remember_template(event, store) == ""
    launch = refused_launch(6)
    lookup = templates.template_types(launch, summarize_launch(launch), store)
    assert lookup.instance_types == ("t3.micro",)


def test_a_template_deleted_and_made_again_under_its_name_is_the_new_one(kv, unusual):
    by_name = {"launchTemplateName": "gpu-workers"}
    events = [
        create_launch_template("p4d.24xlarge", "lt-0aaa", eventTime=at(0)),
        template_call("DeleteLaunchTemplate", "lt-0aaa", eventTime=at(1)),
        create_launch_template("t3.small", "lt-0bbb", eventTime=at(2)),
        refused_launch(3, by_name),
    ]
    assert kv.run(unusual, events) == []


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reversed"])
def test_a_template_made_again_under_a_deleted_ones_name_is_the_new_one_in_any_store_order(
    reverse,
):
    """Both templates define a version 1 under the name: the new one's is found (the old one's is
    before the deletion), whatever order the store returns them in. Both alert as a GPU type."""
    store = KVStore(**StoreInOrder(reverse).caching_functions())
    events = [
        create_launch_template("t3.small", "lt-0aaa", eventTime=at(0)),
        template_call("DeleteLaunchTemplate", "lt-0aaa", eventTime=at(1)),
        create_launch_template("p4d.24xlarge", "lt-0bbb", eventTime=at(2)),
    ]
    for event in events:
        assert templates.remember_template(event, store) == ""
    launch = refused_launch(3, {"launchTemplateName": "gpu-workers"})
    lookup = templates.template_types(launch, summarize_launch(launch), store)
    assert (lookup.status, lookup.instance_types) == (templates.STATUS_KNOWN, ("p4d.24xlarge",))


def test_a_deleted_version_is_not_resolved(kv, unusual):
    events = [
        create_launch_template("t3.micro", eventTime=at(0)),
        create_launch_template_version(2, "p3.8xlarge", eventTime=at(1)),
        template_call(
            "DeleteLaunchTemplateVersions",
            request={"LaunchTemplateVersion": [{"content": "2", "tag": 1}]},
            eventTime=at(2),
        ),
        refused_launch(3, {**BY_ID, "version": "2"}),
    ]
    assert kv.run(unusual, events) == []


def test_everyday_small_template_refused_for_capacity_stays_quiet(kv, unusual, dry_run):
    events = [
        create_launch_template("t3.micro", eventTime=at(0)),
        refused_launch(1, count=2, error="Server.InsufficientInstanceCapacity"),
        refused_launch(2, count=1, error="Client.DryRunOperation"),
    ]
    assert kv.run(unusual, events) == [] and kv.run(dry_run, events) == []


def test_an_auto_scaling_group_of_a_gpu_template_counts_its_vcpus(kv, surge, unusual):
    group = auto_scaling_group(desired=10, userIdentity=ATTACKER, eventTime=at(5))
    group["requestParameters"]["launchTemplate"] = {"launchTemplateId": "lt-0780d55503d605988"}
    events = [create_launch_template("g5.48xlarge", eventTime=at(0)), group]
    (alert,) = kv.run(surge, events)
    assert context(alert)["window_total"] == 10 * 192
    (unusual_alert,) = kv.run(unusual, [group])
    assert "requested 10 unusual EC2 instance(s) [g5.48xlarge]" in unusual_alert.title_output


def test_a_launch_configuration_is_remembered_by_name(kv, unusual):
    group = auto_scaling_group(desired=2, userIdentity=ATTACKER, eventTime=at(5))
    del group["requestParameters"]["launchTemplate"]
    group["requestParameters"]["launchConfigurationName"] = "miners"
    events = [create_launch_configuration("miners", "g4dn.12xlarge", eventTime=at(1)), group]
    (alert,) = kv.run(unusual, events)
    assert "[g4dn.12xlarge]" in alert.title_output
    # The everyday counterpart: a legacy launch configuration of small instances.
    legacy = create_launch_configuration("legacy-workers", "c5.large", eventTime=at(2))
    group["requestParameters"]["launchConfigurationName"] = "legacy-workers"
    assert kv.run(unusual, [legacy, {**group, "eventID": "other"}]) == []


def test_an_unknown_template_is_said_so_and_never_guessed():
    store = InMemoryKVStore()
    functions = store.caching_functions()
    kv = KVStore(
        functions["get_string_set"],
        functions["add_to_string_set"],
        functions["remove_from_string_set"],
    )
    event = refused_launch(5)
    lookup = templates.template_types(event, summarize_launch(event), kv)
    assert lookup == templates.TemplateLookup(
        summarize_launch(event).template, (), templates.STATUS_UNKNOWN
    )
    # A template created after the launch (out of order) does not price it either.
    assert templates.remember_template(create_launch_template(eventTime=at(9)), kv) == ""
    assert templates.template_types(event, summarize_launch(event), kv).status == (
        templates.STATUS_UNKNOWN
    )


def test_a_store_outage_judges_the_launch_without_its_template(memory_kv, unusual):
    memory_kv.memory.fail_with = TimeoutError("throttled")
    events = [create_launch_template("p4d.24xlarge", eventTime=at(0)), refused_launch(5)]
    assert memory_kv.run(unusual, events) == []  # nothing known: nothing unusual, no error


def test_template_memory_stays_bounded():
    store = InMemoryKVStore()
    functions = store.caching_functions()
    kv = KVStore(
        functions["get_string_set"],
        functions["add_to_string_set"],
        functions["remove_from_string_set"],
    )
    for version in range(2, 2 + templates.MAX_ENTRIES + 50):
        event = create_launch_template_version(
            version,
            "t3.micro",
            eventTime=f"2024-08-{1 + version // 1440:02d}T"
            f"{version // 60 % 24:02d}:{version % 60:02d}:00Z",
        )
        assert templates.remember_template(event, kv) == ""
    sizes = [len(item.members) for item in store.items.values()]
    assert sizes and max(sizes) <= templates.MAX_ENTRIES


# --- A launch that arrives before its template waits for it ------------------------------------


def gpu_group(minute, desired=10, **overrides):
    """An auto scaling group a user creates from a template that names only its ID."""
    group = auto_scaling_group(
        desired=desired, userIdentity=ATTACKER, eventTime=at(minute), **overrides
    )
    group["requestParameters"]["launchTemplate"] = {"launchTemplateId": "lt-0780d55503d605988"}
    return group


@pytest.mark.parametrize(
    "rule_id, launch",
    [
        ("UnusualInstanceType", lambda: refused_launch(5)),
        ("DryRunProbe", lambda: refused_launch(5, error="Client.DryRunOperation")),
        ("VCPUSurge", lambda: gpu_group(5)),
    ],
)
def test_a_launch_delivered_before_its_template_alerts_when_the_template_arrives(
    kv, memory_kv, rule_id, launch
):
    """Out of order (or judged by another invocation before the template was written): the
    launch waits, and the template event raises the alert the in-order run raises, about the
    launch (same title and dedup), once."""
    rule, event = rule_by_id(rule_id), launch()
    template = create_launch_template("g5.48xlarge", eventTime=at(0))
    (in_order,) = memory_kv.run(rule, [template, event])
    assert kv.run(rule, [event]) == []  # its template unknown: nothing yet
    (late,) = kv.run(rule, [template])
    assert late.title_output == in_order.title_output
    assert late.dedup_output == in_order.dedup_output
    assert context(late)["launch_template_status"] == templates.STATUS_KNOWN
    assert context(late)["event_id"] == event["eventID"]
    # Delivered again, launch and template: a window counts the launch once, no new crossing.
    again = kv.run(rule, [event, template])
    assert again == [] if rule_id == "VCPUSurge" else len(again) == 2


def test_a_group_seen_by_both_sides_is_counted_once(memory_kv, surge):
    """The race where each side sees the other: the launch waited, the template was written, the
    launch looked again and counted itself; then the template event finds the launch waiting.
    Both write the same entry: the window holds 1,920 vCPUs, not twice that."""
    group = gpu_group(5)
    memory_kv.now[0] = event_time_epoch(group)  # the store's clock, for the direct calls' TTLs
    kv = KVStore(**memory_kv.patches)
    summary = summarize_launch(group)
    assert templates.wait_for_template(group, summary.template, kv) == ""
    template = create_launch_template("g5.48xlarge", eventTime=at(0))
    assert templates.remember_template(template, kv) == ""
    (alert,) = memory_kv.run(surge, [group])
    assert context(alert)["window_total"] == 10 * 192
    assert memory_kv.run(surge, [template]) == []  # the same entry: a duplicate, no new crossing


def test_launches_wait_only_for_a_template_defined_before_them(memory_kv, unusual, surge):
    """A template created after the launch's event time does not price it (its ID was reused or
    the launch named something else), and an everyday group of small instances stays quiet."""
    assert (
        memory_kv.run(unusual, [refused_launch(5), create_launch_template(eventTime=at(9))]) == []
    )
    small = gpu_group(20, desired=4)
    assert memory_kv.run(surge, [small, create_launch_template("c5.large", eventTime=at(15))]) == []


def test_waiting_launches_stay_bounded():
    store = InMemoryKVStore()
    kv = KVStore(**store.caching_functions())
    for minute in range(templates.MAX_WAITING + 30):
        launch = refused_launch(minute % 60)
        launch["eventTime"] = f"2024-08-01T{10 + minute // 60:02d}:{minute % 60:02d}:00Z"
        launch["eventID"] = f"launch-{minute}"
        assert templates.wait_for_template(launch, summarize_launch(launch).template, kv) == ""
    (members,) = [item.members for key, item in store.items.items() if "waiting" in key]
    assert len(members) == templates.MAX_WAITING
    assert max(map(len, members)) <= templates.MAX_WAITING_BYTES + 20
    # The newest are kept: the oldest launch is gone, the newest is there.
    assert not any('"launch-0"' in member for member in members)
    assert any(f'"launch-{templates.MAX_WAITING + 29}"' in member for member in members)
    huge = refused_launch(5)
    huge["requestParameters"]["tagSpecificationSet"] = {"items": [{"tag": "x" * 9000}]}
    why = templates.wait_for_template(huge, summarize_launch(huge).template, kv)
    assert why.startswith("launch too large to wait for its template")
    deep = refused_launch(5)
    nested = deep["requestParameters"]["tagSpecificationSet"] = {}
    for _ in range(100_000):  # deeper than JSON can write back: said, never raised
        nested["items"] = {}
        nested = nested["items"]
    why = templates.wait_for_template(deep, summarize_launch(deep).template, kv)
    assert why == "launch cannot wait for its template: RecursionError"
