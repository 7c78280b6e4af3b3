"""ComputeAbuse.AWS.EC2.UnusualInstanceType through the real Panther engine, on factory events."""

import pytest

from compute_abuse.content import function_errors, load_rule, run_rule, specs_of_type
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

RULE_ID = "ComputeAbuse.AWS.EC2.UnusualInstanceType"
ML_USER_PATTERN = '["arn:aws:iam::*:user/ml"]'  # a JSON list, as a mock returns it


@pytest.fixture(scope="module")
def rule():
    (spec,) = [spec for spec in specs_of_type("rule") if spec.analysis_id == RULE_ID]
    return load_rule(spec)


def run(rule, event, mocks=()):
    result = run_rule(rule, event, mocks=mocks)
    assert function_errors(result) == {}
    return result


# (name, event, alerts, severity, title fragment)
CASES = [
    (
        "IAM user launches GPUs",
        run_instances("p4d.24xlarge", 2, 2, identity=iam_user("mallory")),
        True,
        "HIGH",
        "mallory launched 2 unusual EC2 instance(s) [p4d.24xlarge]",
    ),
    (
        "dict instanceType",
        run_instances({"value": "g5.8xlarge"}, launched=[launched_item("g5.8xlarge")]),
        True,
        "HIGH",
        "[g5.8xlarge]",
    ),
    (
        "launch template: judged by the launched type",
        run_instances(
            None,
            launch_template={"launchTemplateName": "gpu"},
            launched=[launched_item("inf2.xlarge")],
        ),
        True,
        "HIGH",
        "[inf2.xlarge]",
    ),
    (
        "refused by IAM: Low, with the requested count and error",
        run_instances("p2.xlarge", 1, 10, error_code="Client.UnauthorizedOperation"),
        True,
        "LOW",
        "tried to launch 10 unusual EC2 instance(s) [p2.xlarge] in account "
        "111122223333 (us-east-1): Client.UnauthorizedOperation",
    ),
    (
        "refused by the vCPU quota",
        run_instances("p2.xlarge", 1, 10, error_code="Client.VcpuLimitExceeded"),
        True,
        "LOW",
        "Client.VcpuLimitExceeded",
    ),
    (
        "auto scaling on someone's behalf: Medium",
        run_instances(
            "g4dn.xlarge",
            identity=autoscaling_identity(),
            source_ip="autoscaling.amazonaws.com",
            user_agent="autoscaling.amazonaws.com",
        ),
        True,
        "MEDIUM",
        "AWSServiceRoleForAutoScaling/AutoScaling launched 1",
    ),
    (
        "a console launch ('AWS Internal') is the person's: High",
        run_instances(
            "g5.12xlarge",
            identity=assumed_role("DevAdministrator", "temp_user", invokedBy="AWS Internal"),
            source_ip="AWS Internal",
            user_agent="AWS Internal",
        ),
        True,
        "HIGH",
        "DevAdministrator/temp_user launched 1 unusual",
    ),
    (
        "CloudFormation acting with a user's credentials is the user: High",
        run_instances(
            "p3.2xlarge",
            identity={**iam_user("mallory"), "invokedBy": "cloudformation.amazonaws.com"},
            source_ip="cloudformation.amazonaws.com",
            user_agent="cloudformation.amazonaws.com",
        ),
        True,
        "HIGH",
        "mallory launched 1 unusual",
    ),
    (
        "an EKS node group's service-linked role launching: Medium",
        run_instances(
            "g5.xlarge",
            identity=assumed_role(
                "AWSServiceRoleForAmazonEKSNodegroup",
                "EKS",
                invokedBy="eks-nodegroup.amazonaws.com",
            ),
            source_ip="eks-nodegroup.amazonaws.com",
        ),
        True,
        "MEDIUM",
        "AWSServiceRoleForAmazonEKSNodegroup/EKS launched 1",
    ),
    (
        "a stopped instance resized to a GPU type (ModifyInstanceAttribute)",
        api_call(
            "ec2.amazonaws.com",
            "ModifyInstanceAttribute",
            userIdentity=iam_user("mallory"),
            requestParameters={"instanceId": "i-0abc", "instanceType": {"value": "p3.8xlarge"}},
            responseElements={"_return": True},
        ),
        True,
        "HIGH",
        "mallory resized i-0abc to unusual EC2 instance type [p3.8xlarge]",
    ),
    (
        "a resize written as attribute/value",
        api_call(
            "ec2.amazonaws.com",
            "ModifyInstanceAttribute",
            requestParameters={
                "instanceId": "i-0abc",
                "attribute": "instanceType",
                "value": "g5.12xlarge",
            },
        ),
        True,
        "HIGH",
        "[g5.12xlarge]",
    ),
    (
        "everyday: a t3.micro resized to t3.small",
        api_call(
            "ec2.amazonaws.com",
            "ModifyInstanceAttribute",
            requestParameters={"instanceId": "i-0abc", "instanceType": {"value": "t3.small"}},
        ),
        False,
        None,
        None,
    ),
    (
        "user data or termination protection changes are no resize",
        api_call(
            "ec2.amazonaws.com",
            "ModifyInstanceAttribute",
            requestParameters={
                "instanceId": "i-0abc",
                "userData": "<sensitiveDataRemoved>",
                "disableApiTermination": {"value": True},
            },
        ),
        False,
        None,
        None,
    ),
    (
        "FPGA and media accelerators are unusual too",
        run_instances(
            "vt1.3xlarge", launched=[launched_item("vt1.3xlarge"), launched_item("f2.6xlarge")]
        ),
        True,
        "HIGH",
        "[vt1.3xlarge, f2.6xlarge]",
    ),
    (
        "instant CreateFleet of GPUs",
        create_fleet(("g5.xlarge", "m5.large"), 3, launched=[("g5.xlarge", 3)]),
        True,
        "HIGH",
        "launched 3 unusual EC2 instance(s) [g5.xlarge] via CreateFleet",
    ),
    (
        "auto scaling group of GPUs requested by a person",
        auto_scaling_group(desired=8, override_types=("p5.48xlarge",)),
        True,
        "HIGH",
        "requested 8 unusual EC2 instance(s) [p5.48xlarge] via CreateAutoScalingGroup",
    ),
    (
        "spot request refused by the quota",
        request_spot_instances("p3.2xlarge", 4, errorCode="Client.MaxSpotInstanceCountExceeded"),
        True,
        "LOW",
        "via RequestSpotInstances",
    ),
    ("normal type", run_instances("m5.large"), False, None, None),
    (
        "auto scaling group from a launch template only",
        auto_scaling_group(desired=50),
        False,
        None,
        None,
    ),
    ("large CPU type is not accelerated", run_instances("c7i.48xlarge"), False, None, None),
    (
        "dry run",
        run_instances("p5.48xlarge", error_code="Client.DryRunOperation"),
        False,
        None,
        None,
    ),
    ("unknown type", run_instances("zz9.hyperlarge"), False, None, None),
    ("other API", api_call("ec2.amazonaws.com", "StartInstances"), False, None, None),
    ("other service", api_call("s3.amazonaws.com", "GetObject"), False, None, None),
]


@pytest.mark.parametrize(
    "event, alerts, severity, title", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_unusual_instance_type(rule, event, alerts, severity, title):
    result = run(rule, event)
    assert result.trigger_alert is alerts
    if alerts:
        assert result.severity_output == severity
        assert title in result.title_output


def test_dedup_groups_by_actor_and_types(rule):
    first = run(rule, run_instances("p3.2xlarge", identity=iam_user("eve")))
    again = run(rule, run_instances("p3.2xlarge", identity=iam_user("eve"), region="eu-west-1"))
    other_type = run(rule, run_instances("p3.8xlarge", identity=iam_user("eve")))
    other_actor = run(rule, run_instances("p3.2xlarge", identity=iam_user("frank")))
    assert first.dedup_output == again.dedup_output
    assert len({first.dedup_output, other_type.dedup_output, other_actor.dedup_output}) == 3


def test_alert_context_says_what_and_how_much(rule):
    event = run_instances(
        "p5.48xlarge",
        4,
        4,
        launched=[launched_item("p5.48xlarge", cpu(96, 2))] * 4,
        identity=assumed_role("AWSReservedSSO_Admin_0123", "alice@example.com"),
    )
    context = run(rule, event).alert_context_output
    assert '"unusual_instance_types": ["p5.48xlarge"]' in context
    assert '"launched_vcpus": 768' in context
    assert '"launched_accelerator_count": 32' in context
    assert '"actor_upn_suffix": "example.com"' in context


@pytest.mark.parametrize(
    "mocks, event, alerts",
    [
        (
            [{"objectName": "unusual_instance_types", "returnValue": "p2.xlarge,g5.8xlarge"}],
            run_instances("g5.8xlarge"),
            True,
        ),
        (
            [{"objectName": "unusual_instance_types", "returnValue": "p2.xlarge,g5.8xlarge"}],
            run_instances("p4d.24xlarge"),
            False,
        ),
        (
            [{"objectName": "unusual_instance_types", "returnValue": "c7i"}],
            run_instances("c7i.48xlarge"),
            True,
        ),
        (
            [{"objectName": "usual_instance_types", "returnValue": "g5.xlarge"}],
            run_instances("g5.xlarge"),
            False,
        ),
        (
            [{"objectName": "usual_instance_types", "returnValue": "g5.xlarge"}],
            run_instances("g5.2xlarge"),
            True,
        ),
        (
            [{"objectName": "allowlisted_user_agents", "returnValue": "*sagemaker*"}],
            run_instances("g5.2xlarge", user_agent="sagemaker.amazonaws.com"),
            False,
        ),
        (
            [{"objectName": "allowlisted_principal_arns", "returnValue": ML_USER_PATTERN}],
            run_instances("g5.2xlarge", identity=iam_user("ml")),
            False,
        ),
        (
            [{"objectName": "allowlisted_principal_arns", "returnValue": ML_USER_PATTERN}],
            run_instances("g5.2xlarge", identity=iam_user("ml-intern")),
            True,
        ),
    ],
)
def test_configuration_through_mocked_strings(rule, mocks, event, alerts):
    assert run(rule, event, mocks).trigger_alert is alerts
