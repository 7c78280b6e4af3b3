"""Charge-back: the instances auto scaling, EC2 Fleet, Spot Fleet and EKS launch for a group or
fleet count toward the person who created or last sized it, at that person's severity, for what
they add over what the person's request counted already (so nothing is counted twice, and what
launches is what is charged: a decoy type cannot hide the real one). A group the pack never saw
sized keeps the service as the actor, as before. Everyday groups stay quiet."""

import pytest

import ec2_compute_helpers as helpers
import ec2_launch_templates as templates
from compute_abuse.content import function_errors, load_rule, rule_spec, run_rule
from compute_abuse.events import (
    api_call,
    assumed_role,
    auto_scaling_group,
    create_launch_template,
    create_nodegroup,
    request_spot_fleet,
    service_launch,
    start_instance_refresh,
)
from tests.scenarios import DAY, HOUR, T0, at, by, context, load_rules, quiet

ASG = {"aws:autoscaling:groupName": "workers"}
MALLORY = "arn:aws:iam::111122223333:user/mallory"


@pytest.fixture(scope="module")
def rules():
    return load_rules()


def launches(instance_type, batches, tags=ASG, start=T0 + 60, **kwargs):
    """The service's RunInstances calls for a group: one per batch size, a minute apart."""
    return [
        service_launch(instance_type, count, tags, eventTime=at(start + 60 * i), **kwargs)
        for i, count in enumerate(batches)
    ]


def decoy_group(desired=20, epoch=T0, user="mallory", name="CreateAutoScalingGroup"):
    """A mixed-instances group listing a tiny decoy next to the GPU type it is for."""
    return by(
        auto_scaling_group,
        name,
        desired,
        override_types=("t3.micro", "p3.16xlarge"),
        epoch=epoch,
        user=user,
    )


def test_a_decoy_group_is_charged_what_launches_to_its_creator(kv, rules):
    """The request counts 20 x t3.micro (40 vCPUs, the floor); the 20 p3.16xlarge auto scaling
    launches add 62 vCPUs and 8 GPUs each over that floor, charged to mallory."""
    events = [decoy_group(), *launches("p3.16xlarge", (10, 10))]
    (surge,) = kv.run(rules["VCPUSurge"], events)
    alert = context(surge)
    assert alert["window_total"] == 40 + 20 * 62
    assert alert["window_accelerator_count"] == 20 * 8
    assert alert["charged_to"] == MALLORY and alert["charged_via"] == "asg:workers"
    assert alert["charged_floor_vcpus"] == 2
    assert surge.dedup_output == MALLORY
    assert surge.title_output.startswith("mallory launched 1280 vCPUs")
    assert surge.severity_output in ("HIGH", "CRITICAL")


def test_the_group_launch_of_an_unusual_type_names_the_owner_at_high(kv, rules):
    group, launch = decoy_group(), service_launch("p3.16xlarge", 4, ASG, eventTime=at(T0 + 60))
    at_request, at_launch = kv.run(rules["UnusualInstanceType"], [group, launch])
    assert at_launch.severity_output == "HIGH"
    assert at_launch.title_output.startswith("mallory (through asg:workers) launched 4 unusual")
    assert at_launch.dedup_output == at_request.dedup_output == f"{MALLORY}:p3.16xlarge"
    assert context(at_launch)["charged_to"] == MALLORY


def test_a_group_on_a_template_the_pack_never_saw_is_charged_in_full(kv, rules):
    """The request names an unknown template (nothing counted, it waits); what the group then
    launches is all new to the ledger: 30 g5.12xlarge, 48 vCPUs and 4 GPUs each."""
    group = by(auto_scaling_group, "CreateAutoScalingGroup", 30)
    events = [group, *launches("g5.12xlarge", (15, 15))]
    (surge,) = kv.run(rules["VCPUSurge"], events)
    assert context(surge)["window_total"] == 30 * 48
    assert context(surge)["charged_floor_vcpus"] == 0
    assert surge.dedup_output == MALLORY


@pytest.mark.parametrize(
    ("later", "alerts"), [(8 * HOUR, True), (8 * HOUR + 1, False)], ids=["within", "after"]
)
def test_a_call_on_an_unknown_template_owns_its_groups_launches_for_the_window_only(
    kv, rules, later, alerts
):
    """A pipeline sizes a group on a template the pack never saw (40 instances: nothing priced
    per instance). The 40 c5.4xlarge launched at once are its (640 vCPUs); 60 more the group's
    own scaling launches are its too up to VCPUSurge's 8 hours after the call (1,600 in the
    window: an alert), not a second later (the group's own scaling: nothing is charged)."""
    deploy = by(auto_scaling_group, "UpdateAutoScalingGroup", 40, user="deployer")
    events = [
        deploy,
        *launches("c5.4xlarge", (20, 20)),
        *launches("c5.4xlarge", (60,), start=T0 + later),
    ]
    surges = kv.run(rules["VCPUSurge"], events)
    assert bool(surges) is alerts
    if alerts:
        assert context(surges[0])["window_total"] == 100 * 16
        assert context(surges[0])["charged_to"].endswith("user/deployer")


def test_a_pipeline_sizing_a_group_on_an_unknown_template_stays_quiet_as_the_group_scales(
    kv, rules
):
    """Everyday, on the pack's first day: a deploy pipeline resizes a big group whose template
    predates the pack, every morning; the group then scales out and in by itself all day (60
    c5.4xlarge, 960 vCPUs, twice a day). Only what each deploy launched is the pipeline's:
    charged the group's own scaling too, it would cross 800 vCPUs in 8 hours every day."""
    events = []
    for day in range(3):
        start = T0 + day * DAY
        events += [
            by(auto_scaling_group, "UpdateAutoScalingGroup", 40, epoch=start, user="deployer"),
            *launches("c5.4xlarge", (20, 20), start=start + 60),
            *launches("c5.4xlarge", (30, 30), start=start + 9 * HOUR),
            *launches("c5.4xlarge", (30, 30), start=start + 18 * HOUR),
        ]
    assert kv.run(rules["VCPUSurge"], events) == []  # (HighInstanceCount counts the first 40)


def test_a_group_moved_to_an_unknown_template_is_not_priced_by_its_older_types(kv, rules):
    """The group once named c5.large (2 instances, 4 vCPUs); resized onto a template the pack
    never saw, its request waits and counts nothing, so its launches count whole: the c5.large
    the group named before is no floor for them."""
    first = by(auto_scaling_group, "CreateAutoScalingGroup", 2, override_types=("c5.large",))
    moved = by(auto_scaling_group, "UpdateAutoScalingGroup", 32, epoch=T0 + 30)
    events = [first, moved, *launches("g5.12xlarge", (15, 15))]
    (surge,) = kv.run(rules["VCPUSurge"], events)
    assert context(surge)["charged_floor_vcpus"] == 0
    assert context(surge)["window_total"] == 4 + 30 * 48


def test_a_group_created_again_on_an_unknown_template_is_not_priced_by_the_old_groups_types(
    kv, rules
):
    """A group of c5.2xlarge, deleted and created again under its name on a template the pack
    never saw: the new group's 20 instances are counted by number (no vCPUs: its types are the
    template's), and what it launches is charged in full, once."""
    first = by(auto_scaling_group, "CreateAutoScalingGroup", 2, override_types=("c5.2xlarge",))
    again = by(auto_scaling_group, "CreateAutoScalingGroup", 20, epoch=T0 + 30)
    events = [first, again, *launches("g5.12xlarge", (10, 10))]
    (surge,) = kv.run(rules["VCPUSurge"], events)
    assert context(surge)["window_total"] == 2 * 8 + 20 * 48


def test_a_group_the_pack_never_saw_sized_keeps_the_service_as_actor(kv, rules):
    """No owner known (the group predates the pack): not counted again, and an unusual type is
    the service role's, at Medium, as before."""
    events = launches("p3.16xlarge", (10, 10))
    assert kv.run(rules["VCPUSurge"], events) == []
    unusual = kv.run(rules["UnusualInstanceType"], events)
    assert unusual and {a.severity_output for a in unusual} == {"MEDIUM"}
    assert context(unusual[0])["charged_to"] == ""
    assert "AWSServiceRoleForAutoScaling" in unusual[0].dedup_output


def test_the_last_person_to_size_a_group_is_charged(kv, rules):
    """alice created the group for two c5.large; mallory later resized it to 20 with a decoy:
    the launches after that are mallory's."""
    create = by(
        auto_scaling_group, "CreateAutoScalingGroup", 2, override_types=("c5.large",), user="alice"
    )
    resize = decoy_group(epoch=T0 + HOUR, name="UpdateAutoScalingGroup")
    events = [
        create,
        *launches("c5.large", (2,)),
        resize,
        *launches("p3.16xlarge", (18,), start=T0 + HOUR + 60),
    ]
    (surge,) = kv.run(rules["VCPUSurge"], events)
    assert surge.dedup_output == MALLORY
    assert context(surge)["charged_since_event_id"] == resize["eventID"]


def test_a_spot_fleet_and_an_eks_node_group_are_charged_back(kv, rules):
    fleet = by(request_spot_fleet, ("t3.micro", "p3.16xlarge"), 20)
    fleet_launches = launches(
        "p3.16xlarge",
        (20,),
        {"aws:ec2spot:fleet-request-id": "sfr-1"},
        service="spotfleet.amazonaws.com",
    )
    (surge,) = kv.run(rules["VCPUSurge"], [fleet, *fleet_launches])
    assert context(surge)["charged_via"] == "spot-fleet:sfr-1"
    assert context(surge)["window_total"] == 40 + 20 * 62

    nodegroup = by(create_nodegroup, None, 3, epoch=T0 + 9 * HOUR, user="eve")  # t3.medium floor
    nodes = launches(
        "p4d.24xlarge",
        (3,),
        {
            "aws:autoscaling:groupName": "eks-workers-1a2b",
            "eks:cluster-name": "prod",
            "eks:nodegroup-name": "workers",
        },
        start=T0 + 9 * HOUR + 60,
    )
    assert kv.run(rules["VCPUSurge"], [nodegroup, *nodes]) == []  # 6 + 3 x 94 vCPUs: under
    (unusual,) = kv.run(rules["UnusualInstanceType"], nodes[:1])
    assert context(unusual)["charged_via"] == "nodegroup:prod/workers"
    assert unusual.dedup_output.endswith("user/eve:p4d.24xlarge")


def test_everyday_groups_stay_quiet(kv, rules):
    """A group of c5.large scaled 2 to 4 and its launches; a Karpenter-sized fleet of c5.large
    nodes all day: what launches is what the request counted."""
    create = by(
        auto_scaling_group, "CreateAutoScalingGroup", 2, override_types=("c5.large",), user="ops"
    )
    scale = by(
        api_call,
        "autoscaling.amazonaws.com",
        "SetDesiredCapacity",
        epoch=T0 + HOUR,
        user="ops",
        requestParameters={"autoScalingGroupName": "workers", "desiredCapacity": 4},
    )
    events = [
        create,
        *launches("c5.large", (2,)),
        scale,
        *launches("c5.large", (1, 1), start=T0 + HOUR + 60),
    ]
    events += launches("c5.large", [1] * 40, start=T0 + 2 * HOUR)  # churn: replacements
    quiet(kv, rules, events)


def test_an_allowlisted_owner_stays_allowlisted_through_its_groups(memory_kv, rules):
    rule = rules["VCPUSurge"]
    patches = {**memory_kv.patches, "allowlisted_principal_arns": lambda: [MALLORY]}
    for event in [decoy_group(), *launches("p3.16xlarge", (10, 10))]:
        memory_kv.now[0] = helpers.event_time_epoch(event)
        result = run_rule(rule, event, patches=patches)
        assert function_errors(result) == {} and not result.trigger_alert


def test_launches_delivered_before_their_owner_wait_for_it(kv, rules):
    """Delivered before the group's creation (another invocation, a later log file), the
    launches find no owner and wait under the group's key; the creation, once judged, charges
    them to its caller: the alert comes at the creation, about the launch that crossed. Delivered
    again, nothing is counted twice."""
    group, *rest = [decoy_group(), *launches("p3.16xlarge", (10, 10))]
    (surge,) = kv.run(rules["VCPUSurge"], [*rest, group])
    assert context(surge)["window_total"] == 40 + 20 * 62
    assert context(surge)["event_id"] == rest[1]["eventID"]  # the launch that crossed
    assert surge.dedup_output == MALLORY
    assert kv.run(rules["VCPUSurge"], [*rest, group]) == []


def test_an_unusual_launch_before_its_owner_alerts_as_the_service_then_as_the_owner(kv, rules):
    """UnusualInstanceType cannot hold an alert back: judged before its owner's call, a launch
    is the service's (Medium); the call, when it comes, raises the owner's (High)."""
    group, launch = decoy_group(), service_launch("p3.16xlarge", 2, ASG, eventTime=at(T0 + 60))
    early, at_owner = kv.run(rules["UnusualInstanceType"], [launch, group])
    assert early.severity_output == "MEDIUM" and "AutoScaling" in early.dedup_output
    assert at_owner.severity_output == "HIGH" and at_owner.dedup_output == f"{MALLORY}:p3.16xlarge"


def test_a_large_service_launch_waits_cut_to_what_prices_it(kv, rules):
    """A service's RunInstances response runs to kilobytes per instance: the waiting copy keeps
    each instance's ID, type, CPU options, subnet and tags, so 40 instances still wait."""
    launch = service_launch("c5.24xlarge", 40, ASG, eventTime=at(T0 + 60))
    for item in launch["responseElements"]["instancesSet"]["items"]:
        item["networkInterfaceSet"] = {"items": [{"description": "x" * 600}]}
    (surge,) = kv.run(rules["VCPUSurge"], [launch, decoy_group(40)])
    assert context(surge)["window_total"] == 40 * 2 + 40 * 94
    assert context(surge)["launch_template_degraded"] == ""


def test_owners_kept_per_group_are_bounded(kv, rules):
    resizes = [
        decoy_group(epoch=T0 + i * 60, name="UpdateAutoScalingGroup")
        for i in range(templates.MAX_OWNERS + 5)
    ]
    kv.run(rules["VCPUSurge"], resizes)
    key = templates._owner_key(resizes[0], "asg:workers")
    stored = templates._members(kv.store().get_string_set(key))
    assert len(stored) == templates.MAX_OWNERS
    latest = max(templates._decode_owner(m, "asg:workers") for m in stored)
    assert latest.event_id == resizes[-1]["eventID"]


# --- The references and prices charge-back is built on ------------------------------------------


@pytest.mark.parametrize(
    "event, refs",
    [
        (decoy_group(), ("asg:workers",)),
        (by(create_nodegroup, ("m5.large",), 2), ("nodegroup:prod/workers",)),
        (by(request_spot_fleet, ("c5.large",), 2), ("spot-fleet:sfr-1",)),
        (
            by(request_spot_fleet, ("c5.large",), 2)
            | {"responseElements": {"RequestSpotFleetResponse": {"spotFleetRequestId": "sfr-9"}}},
            ("spot-fleet:sfr-9",),
        ),
        (
            by(
                api_call,
                "elasticmapreduce.amazonaws.com",
                "AddInstanceGroups",
                requestParameters={
                    "jobFlowId": "j-1",
                    "instanceGroups": [{"instanceType": "c5.large", "instanceCount": 2}],
                },
            ),
            ("emr:j-1",),
        ),
        # Refused, or made by a service: nobody becomes an owner.
        (decoy_group() | {"errorCode": "AccessDenied"}, ()),
        (service_launch("c5.large", 1, ASG), ()),
        (
            by(
                api_call,
                "autoscaling.amazonaws.com",
                "PutScalingPolicy",
                requestParameters={"autoScalingGroupName": "workers"},
            ),
            (),
        ),
    ],
)
def test_owned_capacity_refs(event, refs):
    assert helpers.owned_capacity_refs(event) == refs


def test_launch_owner_refs_read_tags_most_specific_first():
    tags = {
        "aws:ec2:fleet-id": "fleet-x",
        "aws:autoscaling:groupName": "eks-ng-1",
        "eks:cluster-name": "prod",
        "eks:nodegroup-name": "gpu",
    }
    event = service_launch("c5.large", 1, tags)
    token = event["requestParameters"]["clientToken"].rsplit("-", 1)[0]
    assert helpers.launch_owner_refs(event) == (
        "nodegroup:prod/gpu",
        "asg:eks-ng-1",
        "fleet:fleet-x",
        f"fleet:{token}",
    )
    # Tags in the request's tag specifications, in PascalCase, count too.
    request_tags = service_launch("c5.large", 1)
    request_tags["requestParameters"]["tagSpecificationSet"] = {
        "items": [
            {
                "resourceType": "instance",
                "tags": [{"Key": "aws:autoscaling:groupName", "Value": "batch-ce"}],
            }
        ]
    }
    assert helpers.launch_owner_refs(request_tags)[0] == "asg:batch-ce"
    # A person's own launch is nobody else's to charge.
    person = by(service_launch, "c5.large", 1, ASG)
    person["sourceIPAddress"] = "198.51.100.7"
    person["userAgent"] = "aws-cli/2"
    assert helpers.launch_owner_refs(person) == ()


def test_floors_and_what_a_launch_adds_above_them():
    summary = helpers.summarize_launch(decoy_group())
    floor = helpers.instance_floor(summary)
    assert floor == helpers.Floor(2, 0)
    launch = service_launch("p3.16xlarge", 3, ASG)
    assert helpers.above_floor(launch, floor) == helpers.Floor(3 * 62, 3 * 8)
    # A launched type smaller than the floor adds nothing (and takes nothing away).
    assert helpers.above_floor(service_launch("t3.nano", 2, ASG), floor) == helpers.Floor(0, 0)
    assert helpers.instance_floor(
        helpers.summarize_launch(by(auto_scaling_group, "CreateAutoScalingGroup", 2))
    ) == helpers.Floor(0, 0)


@pytest.mark.parametrize(
    "member",
    [
        None,
        7,
        "",
        "1|e|2|0",
        "x|e|2|0|[]",
        "1|e|2|0|not json",
        "1|e|2|0|[1,2,3,4,5,6]",
        '1|e|2|0|["a","b"]',
        "1|e|-2|0|" + '["a","b","c","d","e","f"]',
    ],
)
def test_junk_owner_entries_are_skipped(member):
    assert templates._decode_owner(member, "asg:x") is None


def test_a_failing_store_degrades_to_the_service_as_actor(rules):
    """Reads and writes that raise: the launch is judged without an owner, never an error."""

    def broken(*_args, **_kwargs):
        raise ConnectionError("DynamoDB unavailable")

    patches = {
        "get_string_set": broken,
        "add_to_string_set": broken,
        "remove_from_string_set": broken,
    }
    for name in ("VCPUSurge", "UnusualInstanceType"):
        for event in [decoy_group(), *launches("p3.16xlarge", (10,))]:
            result = run_rule(rules[name], event, patches=patches)
            assert function_errors(result) == {}, name
    result = run_rule(
        rules["UnusualInstanceType"], service_launch("p3.16xlarge", 1, ASG), patches=patches
    )
    assert result.severity_output == "MEDIUM"
    assert "DynamoDB unavailable" in context(result)["launch_template_degraded"]


def test_an_owner_is_a_person_not_the_service_that_sized_for_them():
    eks_role = assumed_role(
        "AWSServiceRoleForAmazonEKSNodegroup", "EKS", invokedBy="eks-nodegroup.amazonaws.com"
    )
    group = auto_scaling_group(
        "CreateAutoScalingGroup",
        2,
        userIdentity=eks_role,
        sourceIPAddress="eks-nodegroup.amazonaws.com",
    )
    assert helpers.owned_capacity_refs(group) == ()


@pytest.mark.parametrize(
    "name, severity, who",
    [
        (
            "Auto scaling launch of a GPU type charged to the person who sized the group (High)",
            "HIGH",
            "mallory (through asg:workers)",
        ),
        (
            "Service-invoked auto scaling launch of a GPU type (group owner unknown, Medium)",
            "MEDIUM",
            "AWSServiceRoleForAutoScaling/AutoScaling",
        ),
    ],
)
def test_the_yaml_charge_back_cases_say_who_and_how_severe(name, severity, who):
    """`pat test` checks only that these alert; this checks who they name and at what level,
    with the owner entry the YAML mock returns."""
    spec = rule_spec("ComputeAbuse.AWS.EC2.UnusualInstanceType")
    (test,) = [t for t in spec.body["Tests"] if t["Name"] == name]
    result = run_rule(load_rule(spec), test["Log"], mocks=test["Mocks"])
    assert result.severity_output == severity
    assert result.title_output.startswith(f"{who} launched 1 unusual")


# --- Instance refreshes: a change of types is counted, a rolling deploy is not ----------------


def ops_group(desired=20, instance_type="c5.large"):
    return by(
        auto_scaling_group,
        "CreateAutoScalingGroup",
        desired,
        override_types=(instance_type,),
        user="ops",
    )


def to_types(*types):
    return {
        "mixedInstancesPolicy": {
            "launchTemplate": {
                "launchTemplateSpecification": {
                    "launchTemplateId": "lt-0a1b2c3d4e5f60708",
                    "version": "$Latest",
                },
                "overrides": [{"instanceType": t} for t in types],
            }
        }
    }


def test_a_refresh_to_gpu_types_is_charged_to_whoever_started_it(kv, rules):
    """ops runs 20 c5.large; mallory refreshes the group to p3.16xlarge: 20 x 64 vCPUs at the
    refresh, hers; the replacements auto scaling then launches add nothing over that."""
    refresh = by(start_instance_refresh, "workers", to_types("p3.16xlarge"), epoch=T0 + HOUR)
    events = [ops_group(), refresh, *launches("p3.16xlarge", (10, 10), start=T0 + HOUR + 60)]
    (surge,) = kv.run(rules["VCPUSurge"], events)
    assert surge.dedup_output == MALLORY
    assert context(surge)["event_id"] == refresh["eventID"]
    assert context(surge)["window_total"] == 20 * 64
    unusual = kv.run(rules["UnusualInstanceType"], events)
    assert unusual[0].title_output.startswith(
        "mallory requested 20 unusual EC2 instance(s) [p3.16xlarge] via StartInstanceRefresh"
    )
    assert {a.dedup_output for a in unusual} == {f"{MALLORY}:p3.16xlarge"}
    assert {a.severity_output for a in unusual} == {"HIGH"}


def test_a_refresh_to_a_template_the_pack_knows_is_priced_by_it(kv, rules):
    template = by(
        create_launch_template, "g5.48xlarge", "lt-0fedcba987654321f", "gpu", epoch=T0 + HOUR - 60
    )
    desired = {"launchTemplate": {"launchTemplateId": "lt-0fedcba987654321f", "version": "1"}}
    refresh = by(start_instance_refresh, "workers", desired, epoch=T0 + HOUR)
    (surge,) = kv.run(rules["VCPUSurge"], [ops_group(10), template, refresh])
    assert context(surge)["window_total"] == 10 * 192 and surge.dedup_output == MALLORY


def test_rolling_deploys_stay_quiet(kv, rules):
    """A CI role refreshes its group every hour, to the group's own configuration or to the same
    types, and auto scaling replaces every instance each time."""
    ci = assumed_role("deploy-pipeline", "build-1234")
    events = [ops_group(8)]
    for hour in range(1, 9):
        desired = to_types("c5.large") if hour % 2 else None
        events.append(
            start_instance_refresh(
                "workers", desired, userIdentity=ci, eventTime=at(T0 + hour * HOUR)
            )
        )
        events += launches("c5.large", (4, 4), start=T0 + hour * HOUR + 60)
    quiet(kv, rules, events)


def test_a_refresh_reads_its_desired_configuration():
    summary = helpers.summarize_launch(start_instance_refresh("workers", to_types("g5.xlarge")))
    assert summary.requested_instance_types == ("g5.xlarge",)
    assert helpers.is_launch_event(start_instance_refresh())
    assert helpers.owned_capacity_refs(start_instance_refresh("blue")) == ("asg:blue",)
    plain = helpers.summarize_launch(start_instance_refresh())
    assert (plain.requested_instance_types, plain.requested_instance_count) == ((), 0)
