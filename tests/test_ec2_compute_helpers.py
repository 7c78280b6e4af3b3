"""The shared launch-event helper, on real CloudTrail shapes, as dicts and as PantherEvents."""

import pytest
from panther_core.enriched_event import PantherEvent

import ec2_compute_helpers as helpers
from compute_abuse.events import (
    assumed_role,
    auto_scaling_group,
    autoscaling_identity,
    cpu,
    create_fleet,
    iam_user,
    launched_item,
    request_spot_fleet,
    request_spot_instances,
    run_instances,
    run_scheduled_instances,
)


def both_shapes(event):
    """The same event as a plain dict (unit tests) and as Panther delivers it at run time."""
    return [event, PantherEvent(event)]


# (name, event, expected fields of the LaunchSummary)
SUMMARY_CASES = [
    (
        "string type, cpuOptions on every item, all items counted (not items[0])",
        run_instances(
            "p4d.24xlarge", 3, 3, launched=[launched_item("p4d.24xlarge", cpu(48, 2))] * 3
        ),
        dict(
            outcome="success",
            instance_types=("p4d.24xlarge",),
            requested_instance_count=3,
            launched_instance_count=3,
            launched_vcpus=288,
            launched_accelerators=24,
            vcpus=288,
        ),
    ),
    (
        "dict instanceType and numbers as strings",
        run_instances(
            {"value": "G5.8XLARGE"},
            "2",
            "2",
            launched=[launched_item("g5.8xlarge", cpu("16", "2"))],
        ),
        dict(instance_types=("g5.8xlarge",), requested_instance_count=2, launched_vcpus=32),
    ),
    (
        "missing cpuOptions falls back to the catalog's default vCPUs",
        run_instances("c5.24xlarge", 2, 2),
        dict(launched_instance_count=2, launched_vcpus=192, launched_accelerators=0),
    ),
    (
        "cpuOptions set by the caller wins over the catalog",
        run_instances("c5.24xlarge", 1, 1, launched=[launched_item("c5.24xlarge", cpu(4, 1))]),
        dict(launched_vcpus=4),
    ),
    (
        "launch template: no requested type, launched type from the response",
        run_instances(
            None,
            launch_template={"launchTemplateId": "lt-0123456789abcdef0", "version": "3"},
            launched=[launched_item("g4dn.12xlarge")],
        ),
        dict(
            requested_instance_types=(),
            launched_instance_types=("g4dn.12xlarge",),
            uses_launch_template=True,
            launched_vcpus=48,
            launched_accelerators=4,
        ),
    ),
    (
        "failure with responseElements null: requested vCPUs from count x catalog",
        run_instances("p2.xlarge", 1, 10, error_code="Client.UnauthorizedOperation"),
        dict(
            outcome="failure",
            error_code="Client.UnauthorizedOperation",
            requested_instance_count=10,
            launched_instance_count=0,
            requested_vcpus=40,
            requested_accelerators=10,
            vcpus=40,
            accelerators=10,
            instance_count=10,
        ),
    ),
    (
        "dry run is its own outcome",
        run_instances("p3.2xlarge", 1, 4, error_code="Client.DryRunOperation"),
        dict(outcome="dry_run", requested_vcpus=32, launched_vcpus=0),
    ),
    (
        "exactly 5 instances count as 5 (Elastic's max - min + 1 would say 1)",
        run_instances("t3.micro", 5, 5, error_code="Client.VcpuLimitExceeded"),
        dict(requested_instance_count=5),
    ),
    (
        "maxCount missing falls back to minCount",
        run_instances("t3.micro", 4, None, launched=[]),
        dict(requested_instance_count=4),
    ),
    (
        "unknown instance type counts 0 vCPUs and is reported",
        run_instances("zz9.hyperlarge", 1, 1),
        dict(launched_vcpus=0, unknown_instance_types=("zz9.hyperlarge",)),
    ),
    (
        "type only on the request: launched items inherit it",
        run_instances("g5.xlarge", 1, 1, launched=[launched_item(None)]),
        dict(launched_instance_types=("g5.xlarge",), launched_vcpus=4),
    ),
]


@pytest.mark.parametrize(
    "event, expected", [case[1:] for case in SUMMARY_CASES], ids=[c[0] for c in SUMMARY_CASES]
)
def test_summarize_launch(event, expected):
    for shape in both_shapes(event):
        summary = helpers.summarize_launch(shape)
        actual = {name: getattr(summary, name) for name in expected}
        assert actual == expected


# Malformed and partial events: the helper never raises and returns safe values.
MALFORMED = [
    {},
    {"eventName": "RunInstances", "eventSource": "ec2.amazonaws.com"},
    run_instances(requestParameters=None, responseElements=None),
    run_instances(requestParameters={"omitted": True, "reason": "requestParameters too large"}),
    run_instances(requestParameters=[1, 2], responseElements="junk"),
    run_instances(requestParameters={"instancesSet": {"items": "junk"}, "instanceType": 7}),
    run_instances(launched=[None, 7, "x", {"instanceType": {"value": []}, "cpuOptions": "2"}]),
    run_instances(
        "p5.48xlarge",
        launched=[launched_item("p5.48xlarge", cpu(float("inf"), -2))],
        requestParameters={
            "instanceType": "p5.48xlarge",
            "instancesSet": {"items": [{"maxCount": 10**40}]},
        },
    ),
    run_instances("t3.micro", "-5", "NaN", launched=[]),
    run_instances("x" * 10_000, True, [1], launched=[]),
]


@pytest.mark.parametrize("event", MALFORMED)
def test_malformed_events_give_safe_values(event):
    for shape in both_shapes(event):
        summary = helpers.summarize_launch(shape)
        for name in (
            "requested_instance_count",
            "launched_instance_count",
            "requested_vcpus",
            "launched_vcpus",
            "requested_accelerators",
            "launched_accelerators",
        ):
            value = getattr(summary, name)
            assert isinstance(value, int) and not isinstance(value, bool) and value >= 0, name
        assert all(isinstance(t, str) and len(t) <= 64 for t in summary.instance_types)
        context = helpers.launch_alert_context(shape)
        assert isinstance(context, dict)
        helpers.actor(shape)
        helpers.event_time_epoch(shape)


def test_huge_counts_are_clamped():
    event = run_instances("t3.micro", 1, 10**40, error_code="Client.VcpuLimitExceeded")
    assert helpers.summarize_launch(event).requested_instance_count == helpers.MAX_COUNT


def test_request_sums_every_instances_set_item():
    event = run_instances("t3.micro", error_code="Client.InvalidParameterValue")
    event["requestParameters"]["instancesSet"]["items"] = [
        {"minCount": 1, "maxCount": 3},
        {"minCount": 2},
        {},
    ]
    assert helpers.summarize_launch(event).requested_instance_count == 3 + 2 + 1


@pytest.mark.parametrize(
    "value, expected",
    [
        ("p2.xlarge", "p2.xlarge"),
        ({"value": "g5.8xlarge"}, "g5.8xlarge"),
        (" P4D.24XLARGE ", "p4d.24xlarge"),
        ({"value": {"value": "x"}}, ""),
        (None, ""),
        (12, ""),
        (["p2.xlarge"], ""),
    ],
)
def test_normalize_instance_type(value, expected):
    assert helpers.normalize_instance_type(value) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        (3, 3),
        ("10", 10),
        (" 7 ", 7),
        (2.9, 2),
        ("1e3", 1000),
        (-4, 0),
        ("-4", 0),
        (True, None),
        (None, None),
        ("ten", None),
        ([], None),
        (float("nan"), 0),
        (float("inf"), helpers.MAX_COUNT),
    ],
)
def test_as_count(value, expected):
    assert helpers.as_count(value) == expected


@pytest.mark.parametrize(
    "event_time, expected",
    [
        ("2024-08-01T11:30:23Z", 1722511823.0),
        ("2024-12-16 18:41:07.000000000", 1734374467.0),
        ("2024-12-16T18:41:07.250Z", 1734374467.25),
        ("2024-12-16T20:41:07+02:00", 1734374467.0),
        ("2024-13-45T00:00:00Z", None),
        ("2024-02-30T11:30:23Z", None),  # CloudTrail's form, but no such day
        ("2024-08-01T11:30:2xZ", None),
        ("2024-W31-4T11:30:23Z", None),  # an ISO week date: not a CloudTrail time
        (" 2024-08-01T11:30:23Z ", 1722511823.0),
        ("yesterday", None),
        (1722511823, None),
        (None, None),
    ],
)
def test_event_time_epoch(event_time, expected):
    for shape in both_shapes({"eventTime": event_time}):
        assert helpers.event_time_epoch(shape) == expected


# (name, userIdentity and other fields, expected Actor fields)
ACTOR_CASES = [
    (
        "IAM user",
        {"userIdentity": iam_user("bob")},
        dict(arn="arn:aws:iam::111122223333:user/bob", user_name="bob", name="bob", upn_suffix=""),
    ),
    (
        "SSO session name split into name and UPN suffix (Sentinel's AccountUPNSuffix)",
        {"userIdentity": assumed_role("AWSReservedSSO_Admin_0123", "alice@example.com")},
        dict(user_name="alice@example.com", name="alice", upn_suffix="example.com"),
    ),
    (
        "no userIdentity.arn: Sentinel's fallback to resources[0].ARN",
        {
            "userIdentity": {"type": "AssumedRole", "accountId": "111122223333"},
            "resources": [{"ARN": "arn:aws:sts::111122223333:assumed-role/Ops/carol"}],
        },
        dict(arn="arn:aws:sts::111122223333:assumed-role/Ops/carol", user_name="carol"),
    ),
    (
        "anonymous principal",
        {"userIdentity": {"type": "AWSAccount", "principalId": "Anonymous"}},
        dict(user_name="Anonymous", key="111122223333:Anonymous"),
    ),
    (
        "auto scaling on someone's behalf is service-invoked",
        {
            "userIdentity": autoscaling_identity(),
            "sourceIPAddress": "autoscaling.amazonaws.com",
        },
        dict(service_invoked=True, invoked_by="autoscaling.amazonaws.com", name="AutoScaling"),
    ),
    (
        "an EKS node group's service-linked role is service-invoked",
        {
            "userIdentity": {
                **assumed_role("AWSServiceRoleForAmazonEKSNodegroup", "EKS"),
                "sessionContext": {
                    "sessionIssuer": {
                        "arn": "arn:aws:iam::111122223333:role/"
                        "aws-service-role/eks-nodegroup.amazonaws.com/AWSServiceRoleForAmazonEKSNodegroup"
                    }
                },
            },
            "sourceIPAddress": "AWS Internal",
        },
        dict(service_invoked=True),
    ),
    (
        "a console launch ('AWS Internal') by a person is the person's",
        {
            "userIdentity": assumed_role("DevAdministrator", "temp_user", invokedBy="AWS Internal"),
            "sourceIPAddress": "AWS Internal",
        },
        dict(service_invoked=False, key="arn:aws:iam::111122223333:role/DevAdministrator"),
    ),
    (
        "CloudFormation acting with a user's credentials is the user's",
        {
            "userIdentity": {**iam_user("mallory"), "invokedBy": "cloudformation.amazonaws.com"},
            "sourceIPAddress": "cloudformation.amazonaws.com",
        },
        dict(service_invoked=False, key="arn:aws:iam::111122223333:user/mallory"),
    ),
    (
        "an IAM user in the console (signin.amazonaws.com) is the person",
        {"userIdentity": {**iam_user("carol"), "invokedBy": "signin.amazonaws.com"}},
        dict(service_invoked=False),
    ),
    (
        "a person's call from an IP is not service-invoked",
        {"userIdentity": iam_user("dave"), "sourceIPAddress": "198.51.100.1"},
        dict(service_invoked=False, key="arn:aws:iam::111122223333:user/dave"),
    ),
    (
        "no identity at all: a stable placeholder key",
        {"userIdentity": None, "recipientAccountId": None},
        dict(key="unknown", arn="", user_name=""),
    ),
    (
        "no ARN: account and principal ID make the key",
        {"userIdentity": {"type": "IAMUser", "principalId": "AIDAX", "accountId": "123"}},
        dict(key="123:AIDAX", arn=""),
    ),
]


@pytest.mark.parametrize(
    "fields, expected", [case[1:] for case in ACTOR_CASES], ids=[c[0] for c in ACTOR_CASES]
)
def test_actor(fields, expected):
    for shape in both_shapes(run_instances(**fields)):
        who = helpers.actor(shape)
        assert {name: getattr(who, name) for name in expected} == expected


SSO_ROLE = "AWSReservedSSO_AdministratorAccess_1b74cd717d47002b"
PRINCIPAL_CASES = [
    (
        "IAM user: the user's ARN, the access key as context",
        iam_user("bob"),
        dict(
            key="arn:aws:iam::111122223333:user/bob",
            kind="user",
            name="bob",
            access_key_id="AKIAEXAMPLEKEY",
            display="bob",
        ),
    ),
    (
        "assumed role: the role's ARN from sessionIssuer, the session kept for the alert",
        assumed_role("ci-deployer", "GitHubActions-run-1234"),
        dict(
            key="arn:aws:iam::111122223333:role/ci-deployer",
            kind="role",
            session_name="GitHubActions-run-1234",
            display="ci-deployer/GitHubActions-run-1234",
        ),
    ),
    (
        "assumed role without sessionContext: the role ARN from the assumed-role ARN",
        {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/Ops/carol"},
        dict(key="arn:aws:iam::111122223333:role/Ops", session_name="carol", name="Ops"),
    ),
    (
        "a role with a path keeps the issuer's full ARN (a real traildiscover shape)",
        {
            **assumed_role(SSO_ROLE.replace("SSO", "XYZ"), "x"),
            "sessionContext": {
                "sessionIssuer": {
                    "arn": "arn:aws:iam::111111111111:role/aws-reserved/app/Deploy",
                    "userName": "Deploy",
                }
            },
        },
        dict(key="arn:aws:iam::111111111111:role/aws-reserved/app/Deploy", name="Deploy"),
    ),
    (
        "Identity Center: the person, whichever account or permission set",
        assumed_role(SSO_ROLE, "AdanAlvarez", "999988887777"),
        dict(
            key="identity-center-user:adanalvarez",
            kind="identity-center-user",
            name="AdanAlvarez",
            display="AdanAlvarez",
        ),
    ),
    (
        "Identity Center with onBehalfOf: the identity store's user ID",
        assumed_role(
            SSO_ROLE,
            "adan",
            onBehalfOf={"userId": "906727d8-1234", "identityStoreArn": "arn:aws:identitystore::1"},
        ),
        dict(key="identity-center-user:906727d8-1234"),
    ),
    (
        "federated user (GetFederationToken): the IAM user who minted the token",
        {
            "type": "FederatedUser",
            "arn": "arn:aws:sts::742491224508:federated-user/stratus",
            "accountId": "742491224508",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "IAMUser",
                    "arn": "arn:aws:iam::742491224508:user/fed-minter",
                    "userName": "fed-minter",
                }
            },
        },
        dict(
            key="arn:aws:iam::742491224508:user/fed-minter",
            kind="federated-user",
            session_name="stratus",
            display="fed-minter/stratus",
        ),
    ),
    (
        "root",
        {"type": "Root", "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333"},
        dict(key="arn:aws:iam::111122223333:root", kind="root", display="root (111122223333)"),
    ),
    (
        "an AWS service with no identity of its own",
        {"type": "AWSService", "invokedBy": "autoscaling.amazonaws.com"},
        dict(key="service:autoscaling.amazonaws.com", kind="service"),
    ),
    ("junk identity", ["not", "a", "mapping"], dict(key="unknown", kind="")),
]


@pytest.mark.parametrize(
    "identity, expected",
    [case[1:] for case in PRINCIPAL_CASES],
    ids=[c[0] for c in PRINCIPAL_CASES],
)
def test_principal(identity, expected):
    for shape in both_shapes(run_instances(identity=identity)):
        person = helpers.principal(shape)
        assert {name: getattr(person, name) for name in expected} == expected


def test_rotating_sessions_ips_and_user_agents_keep_one_principal():
    keys = {
        helpers.principal(
            PantherEvent(
                run_instances(
                    identity=assumed_role("deployer", f"s-{i}"),
                    source_ip=f"192.0.2.{i}",
                    user_agent=f"agent/{i}",
                )
            )
        ).key
        for i in range(5)
    }
    assert keys == {"arn:aws:iam::111122223333:role/deployer"}


@pytest.mark.parametrize(
    "configured, instance_type, expected",
    [
        (["p2"], "p2.xlarge", True),
        (["p2.xlarge"], "p2.xlarge", True),
        (["p2.8xlarge"], "p2.xlarge", False),
        ("p2.xlarge,g5.8xlarge", "g5.8xlarge", True),
        ('["g5"]', "g5.xlarge", True),
        ("g5g.xlarge", "g5.xlarge", False),  # a substring test would say True
        ("p4de", "p4d.24xlarge", False),  # likewise
        ("", "p2.xlarge", False),
    ],
)
def test_matches_instance_type_parses_configured_lists(configured, instance_type, expected):
    assert helpers.matches_instance_type(instance_type, configured) is expected


def test_unusual_instance_types_in_removes_usual_ones():
    summary = helpers.summarize_launch(
        run_instances(None, launched=[launched_item("g5.xlarge"), launched_item("g5.48xlarge")])
    )
    assert helpers.unusual_instance_types_in(summary, ["g5"], ["g5.xlarge"]) == ["g5.48xlarge"]


@pytest.mark.parametrize(
    "principals, agents, identity, user_agent, expected",
    [
        ("arn:aws:iam::111122223333:user/ml-*", "", iam_user("ml-bot"), "aws-cli/2", True),
        ("arn:aws:iam::111122223333:user/ml-*", "", iam_user("eve"), "aws-cli/2", False),
        ("arn:aws:iam::111122223333:user/ML-*", "", iam_user("ml-bot"), "aws-cli/2", True),
        ('["arn:aws:iam::111122223333:role/ci"]', "", assumed_role("ci", "run-7"), "", True),
        ("arn:aws:iam::111122223333:role/ci", "", assumed_role("cd", "run-7"), "", False),
        ("", "*karpenter*", iam_user("eve"), "aws-sdk-go/1.0 Karpenter/0.37", True),
        ("", "*karpenter*", iam_user("eve"), "aws-cli/2", False),
        ([], [], iam_user("eve"), "", False),
    ],
)
def test_is_allowlisted(principals, agents, identity, user_agent, expected):
    event = run_instances(identity=identity, user_agent=user_agent)
    assert helpers.is_allowlisted(PantherEvent(event), principals, agents) is expected


def test_alert_context_names_the_launch():
    event = run_instances(
        "p3.16xlarge",
        2,
        2,
        identity=iam_user("mallory"),
        source_ip="203.0.113.5",
        region="ap-south-1",
    )
    context = helpers.launch_alert_context(PantherEvent(event))
    assert context["actor_arn"] == "arn:aws:iam::111122223333:user/mallory"
    assert context["account_id"] == "111122223333"
    assert context["region"] == "ap-south-1"
    assert context["source_ip"] == "203.0.113.5"
    assert context["instance_types"] == ["p3.16xlarge"]
    assert context["accelerators"] == ["gpu: NVIDIA V100"]
    assert (context["requested_instance_count"], context["launched_instance_count"]) == (2, 2)
    assert (context["launched_vcpus"], context["launched_accelerator_count"]) == (128, 16)
    assert len(context["instance_ids"]) == 2
    assert context["outcome"] == "success"


def test_alert_context_caps_listed_instance_ids():
    event = run_instances("t3.micro", 50, 50)
    context = helpers.launch_alert_context(event)
    assert context["launched_instance_count"] == 50
    assert len(context["instance_ids"]) == helpers.MAX_LISTED_INSTANCE_IDS


# --- every launch API -------------------------------------------------------------------------

# (name, event, expected LaunchSummary fields)
API_CASES = [
    (
        "instant CreateFleet: launched per type, refused capacity in errorSet",
        create_fleet(
            ("g5.xlarge", "g5.2xlarge"),
            4,
            launched=[("g5.xlarge", 3)],
            errors=[("g5.2xlarge", "InsufficientInstanceCapacity")],
        ),
        dict(
            outcome="success",
            instance_types=("g5.xlarge", "g5.2xlarge"),
            requested_instance_count=4,
            launched_instance_count=3,
            launched_vcpus=12,
            launched_accelerators=3,
            requested_vcpus=16,
            launches_later=False,
        ),
    ),
    (
        "instant CreateFleet refused entirely: a failure with the errorSet's code",
        create_fleet(
            ("p4d.24xlarge",), 2, launched=[], errors=[("p4d.24xlarge", "VcpuLimitExceeded")]
        ),
        dict(
            outcome="failure", error_code="VcpuLimitExceeded", requested_vcpus=192, accelerators=16
        ),
    ),
    (
        "maintain CreateFleet in vCPU units: capacity is vCPUs, launched later",
        create_fleet(("c6i.large",), 64, fleet_type="maintain", unit="vcpu"),
        dict(requested_vcpus=64, requested_instance_count=32, vcpus=64, launches_later=True),
    ),
    (
        "CreateFleet refused by IAM (Karpenter without permission)",
        create_fleet(("m5.large",), 1, errorCode="Client.UnauthorizedOperation"),
        dict(outcome="failure", error_code="Client.UnauthorizedOperation", requested_vcpus=2),
    ),
    (
        "RequestSpotInstances: instanceCount x launchSpecification.instanceType",
        request_spot_instances("g4dn.xlarge", "5"),
        dict(
            instance_types=("g4dn.xlarge",),
            requested_instance_count=5,
            vcpus=20,
            accelerators=5,
            launches_later=True,
        ),
    ),
    (
        "RequestSpotFleet: targetCapacity, the smallest type of the launch specifications",
        request_spot_fleet(("p3.8xlarge", "p3.2xlarge"), 4),
        dict(
            instance_types=("p3.8xlarge", "p3.2xlarge"),
            requested_vcpus=32,
            requested_accelerators=4,
            subnet_id="subnet-0aa1",
        ),
    ),
    (
        "RunScheduledInstances",
        run_scheduled_instances("c5.large", 2),
        dict(requested_instance_count=2, vcpus=4),
    ),
    (
        "CreateAutoScalingGroup with mixed instances overrides: desired now, max reported",
        auto_scaling_group(desired=20, max_size=100, override_types=("g5.xlarge", "g5.2xlarge")),
        dict(
            requested_instance_count=20,
            requested_vcpus=80,
            max_capacity=100,
            uses_launch_template=True,
            subnet_id="subnet-0aa1",
            launches_later=True,
        ),
    ),
    (
        "UpdateAutoScalingGroup without desiredCapacity: AWS raises desired to minSize",
        auto_scaling_group("UpdateAutoScalingGroup", min_size=3, max_size=50),
        dict(instance_types=(), requested_instance_count=3, max_capacity=50),
    ),
]


@pytest.mark.parametrize(
    "event, expected", [case[1:] for case in API_CASES], ids=[c[0] for c in API_CASES]
)
def test_every_launch_api(event, expected):
    assert helpers.is_launch_event(event)
    for shape in both_shapes(event):
        summary = helpers.summarize_launch(shape)
        actual = {name: getattr(summary, name) for name in expected}
        assert actual == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        ([{"a": 1}, {"a": 2}, "junk"], [{"a": 1}, {"a": 2}]),
        ({"a": 1, "tag": 1}, [{"a": 1, "tag": 1}]),  # a one-item list, as CloudTrail writes it
        ({"item": [{"a": 1}]}, [{"a": 1}]),
        ({"items": {"a": 1}}, [{"a": 1}]),
        (None, []),
        ("x", []),
    ],
)
def test_listed_reads_every_list_serialisation(value, expected):
    assert helpers.listed(value) == expected


@pytest.mark.parametrize(
    "identity, source, on_behalf",
    [
        ({"invokedBy": "autoscaling.amazonaws.com"}, "autoscaling.amazonaws.com", True),
        ({"invokedBy": "ec2fleet.amazonaws.com"}, "ec2fleet.amazonaws.com", True),
        ({}, "spotfleet.amazonaws.com", True),
        # EKS node groups, EMR clusters and Batch environments are priced at the caller's
        # request: the service's own launch calls are that capacity again.
        ({"invokedBy": "eks-nodegroup.amazonaws.com"}, "eks-nodegroup.amazonaws.com", True),
        ({"invokedBy": "elasticmapreduce.amazonaws.com"}, "elasticmapreduce.amazonaws.com", True),
        ({"invokedBy": "batch.amazonaws.com"}, "batch.amazonaws.com", True),
        # The console and CloudFormation act for the person: never "on behalf".
        ({"invokedBy": "AWS Internal"}, "AWS Internal", False),
        ({"invokedBy": "cloudformation.amazonaws.com"}, "cloudformation.amazonaws.com", False),
        ({}, "198.51.100.1", False),
    ],
)
def test_launched_on_behalf(identity, source, on_behalf):
    event = run_instances(identity={**iam_user(), **identity}, source_ip=source)
    assert helpers.launched_on_behalf(PantherEvent(event)) is on_behalf


@pytest.mark.parametrize(
    "event, low, high, accelerators_high",
    [
        # A maintain fleet listing a tiny decoy next to the big type: both bounds reported.
        (create_fleet(("t3.nano", "p4d.24xlarge"), 4, fleet_type="maintain"), 8, 384, 32),
        # Capacity in vCPUs: the same vCPUs either way; the largest type has the accelerators.
        (create_fleet(("t3.nano", "p4d.24xlarge"), 192, "maintain", unit="vcpu"), 192, 192, 16),
        # A mixed-instances group of 3.
        (auto_scaling_group(desired=3, override_types=("t3.micro", "g5.12xlarge")), 6, 144, 12),
        # One type: both bounds equal.
        (run_instances("c5.large", 1, 3, error_code="Client.VcpuLimitExceeded"), 6, 6, 0),
    ],
)
def test_requests_report_their_lower_and_upper_bound(event, low, high, accelerators_high):
    for shape in both_shapes(event):
        summary = helpers.summarize_launch(shape)
        assert (summary.requested_vcpus, summary.requested_vcpus_max) == (low, high)
        assert summary.requested_accelerators_max == accelerators_high


def test_a_template_prices_a_launch_only_when_it_names_no_type():
    refused = run_instances(
        None,
        1,
        4,
        launch_template={"launchTemplateId": "lt-1"},
        error_code="Client.VcpuLimitExceeded",
    )
    priced = helpers.with_template_types(helpers.summarize_launch(refused), ["P3.8XLARGE"])
    assert priced.requested_instance_types == ("p3.8xlarge",)
    assert (priced.requested_vcpus, priced.requested_accelerators) == (128, 16)
    typed = helpers.summarize_launch(
        run_instances("t3.micro", launch_template={"launchTemplateId": "lt-1"})
    )
    assert helpers.with_template_types(typed, ["p3.8xlarge"]).instance_types == ("t3.micro",)
