"""Factories for CloudTrail events in their real shapes (see the shared CLOUDTRAIL-NOTES).

Tests and the sample-data generator build events here instead of copying JSON blobs:
`run_instances(...)` gives a realistic RunInstances record and keyword arguments change the parts
that matter. IDs come from one counter; `seed_ids` restarts it for reproducible output.
"""

import itertools
from typing import Any

ACCOUNT_ID = "111122223333"
# Commercial regions, in the order sweeps, tours and sequences of events walk them.
REGIONS = (
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-west-2",
    "eu-central-1",
    "ap-south-1",
    "ap-southeast-1",
    "ap-northeast-1",
    "sa-east-1",
    "ca-central-1",
)
_ids = itertools.count(1)


def seed_ids(start: int = 1) -> None:
    """Restart the ID counter, so the same calls give the same IDs."""
    global _ids  # noqa: PLW0603 - one counter for every factory
    _ids = itertools.count(start)


_MISSING = object()


def iam_user(name: str = "alice", account_id: str = ACCOUNT_ID) -> dict:
    return {
        "type": "IAMUser",
        "principalId": f"AIDA{name.upper()}EXAMPLE",
        "arn": f"arn:aws:iam::{account_id}:user/{name}",
        "accountId": account_id,
        "accessKeyId": "AKIAEXAMPLEKEY",
        "userName": name,
    }


def assumed_role(role: str, session: str, account_id: str = ACCOUNT_ID, **extra: Any) -> dict:
    return {
        "type": "AssumedRole",
        "principalId": f"AROA{role.upper()}:{session}",
        "arn": f"arn:aws:sts::{account_id}:assumed-role/{role}/{session}",
        "accountId": account_id,
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "arn": f"arn:aws:iam::{account_id}:role/{role}",
                "accountId": account_id,
                "userName": role,
            }
        },
        **extra,
    }


APPLICATION_AUTOSCALING_ROLES = {
    "ecs": "ECSService",
    "ec2": "EC2SpotFleetRequest",
    "lambda": "LambdaConcurrency",
}


def application_autoscaling_call(namespace: str, account_id: str = ACCOUNT_ID) -> dict:
    """The fields of a call Application Auto Scaling makes with its service-linked role for a
    namespace (ECS services, Spot Fleets, Lambda provisioned concurrency, ...): its identity,
    address and user agent."""
    service = f"{namespace}.application-autoscaling.amazonaws.com"
    role = f"AWSServiceRoleForApplicationAutoScaling_{APPLICATION_AUTOSCALING_ROLES[namespace]}"
    return {
        "userIdentity": assumed_role(role, "AutoScaling", account_id, invokedBy=service),
        "sourceIPAddress": service,
        "userAgent": service,
    }


def autoscaling_identity(account_id: str = ACCOUNT_ID) -> dict:
    return assumed_role(
        "AWSServiceRoleForAutoScaling",
        "AutoScaling",
        account_id,
        invokedBy="autoscaling.amazonaws.com",
    )


def launched_item(
    instance_type: str | None = "t3.micro",
    cpu_options: Any = _MISSING,
    instance_id: str | None = None,
) -> dict:
    """One entry of responseElements.instancesSet.items; `cpu_options=None` leaves it out."""
    item: dict = {
        "instanceId": instance_id or f"i-{next(_ids):017x}",
        "imageId": "ami-0abcdef1234567890",
        "instanceState": {"code": 0, "name": "pending"},
        "placement": {"availabilityZone": "us-east-1a", "tenancy": "default"},
        "subnetId": "subnet-0123456789abcdef0",
        "launchTime": 1722511823000,
    }
    if instance_type is not None:
        item["instanceType"] = instance_type
    if cpu_options is not _MISSING and cpu_options is not None:
        item["cpuOptions"] = cpu_options
    return item


def cpu(cores: Any, threads: Any) -> dict:
    return {"coreCount": cores, "threadsPerCore": threads}


def run_instances(
    instance_type: Any = "t3.micro",
    min_count: Any = 1,
    max_count: Any = 1,
    launched: list | None = None,
    error_code: str | None = None,
    identity: dict | None = None,
    launch_template: dict | None = None,
    event_time: str = "2024-08-01T11:30:23Z",
    region: str = "us-east-1",
    source_ip: str = "198.51.100.23",
    user_agent: str = "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0",
    subnet_id: str = "subnet-0123456789abcdef0",
    **overrides: Any,
) -> dict:
    """A RunInstances record. `launched` lists response items (default: `max_count` instances of
    `instance_type` with cpuOptions absent); with `error_code`, `responseElements` is null as in
    real failures. `instance_type=None` leaves the request without one (launch templates)."""
    request: dict = {
        "instancesSet": {
            "items": [
                {"imageId": "ami-0abcdef1234567890", "minCount": min_count, "maxCount": max_count}
            ]
        },
        "subnetId": subnet_id,
        "disableApiTermination": False,
        "monitoring": {"enabled": False},
    }
    if instance_type is not None:
        request["instanceType"] = instance_type
    if launch_template is not None:
        request["launchTemplate"] = launch_template
    if error_code:
        response = None
    else:
        if launched is None:
            launched = [launched_item(instance_type) for _ in range(int(max_count))]
        response = {
            "reservationId": f"r-{next(_ids):017x}",
            "ownerId": ACCOUNT_ID,
            "instancesSet": {"items": launched},
            "requestId": "95cdbe4d-8ff7-4111-8f08-44f510371035",
        }
    event = {
        "eventVersion": "1.09",
        "userIdentity": identity or iam_user(),
        "eventTime": event_time,
        "eventSource": "ec2.amazonaws.com",
        "eventName": "RunInstances",
        "awsRegion": region,
        "sourceIPAddress": source_ip,
        "userAgent": user_agent,
        "requestParameters": request,
        "responseElements": response,
        "requestID": "95cdbe4d-8ff7-4111-8f08-44f510371035",
        "eventID": f"00000000-0000-4000-8000-{next(_ids):012x}",
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT_ID,
        "eventCategory": "Management",
        "p_log_type": "AWS.CloudTrail",
    }
    if error_code:
        event["errorCode"] = error_code
        event["errorMessage"] = {
            "Client.DryRunOperation": "Request would have succeeded, but DryRun flag is set.",
            "Client.UnauthorizedOperation": "You are not authorized to perform this operation.",
        }.get(error_code, "An error occurred.")
    return _overridden(event, overrides)


def service_launch(
    instance_type: str = "c5.large",
    count: int = 1,
    tags: dict | None = None,
    *,
    service: str = "autoscaling.amazonaws.com",
    **overrides: Any,
) -> dict:
    """A RunInstances a service made for a group or fleet, as auto scaling writes it: its
    service-linked role invoked by the service, the service as source and user agent, a fleet
    client token, and `tags` (e.g. {"aws:autoscaling:groupName": "workers"}) on every launched
    instance."""
    launched = [launched_item(instance_type) for _ in range(count)]
    for item in launched:
        item["tagSet"] = {"items": [{"key": k, "value": v} for k, v in (tags or {}).items()]}
    identity = assumed_role("AWSServiceRoleForAutoScaling", "AutoScaling", invokedBy=service)
    identity["sessionContext"]["sessionIssuer"]["arn"] = (
        f"arn:aws:iam::{ACCOUNT_ID}:role/aws-service-role/{service}/AWSServiceRoleForAutoScaling"
    )
    event = run_instances(
        instance_type,
        count,
        count,
        launched=launched,
        identity=identity,
        source_ip=service,
        user_agent=service,
        **overrides,
    )
    event["requestParameters"]["clientToken"] = f"fleet-{next(_ids):08x}-0000-4000-8000-{0:012x}-0"
    return event


# A CloudTrail record's top-level fields (AWS's "CloudTrail record contents" reference) and, below,
# Panther's p_ fields: the only overrides a factory takes. Any other keyword is a mistake, such as
# `identity=` where a factory takes `userIdentity=`, that would otherwise leave the default
# caller in place without a word.
RECORD_FIELDS = frozenset(
    {
        *("eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion"),
        *("sourceIPAddress", "userAgent", "errorCode", "errorMessage", "requestParameters"),
        *("responseElements", "additionalEventData", "requestID", "eventID", "readOnly"),
        *("resources", "eventType", "apiVersion", "managementEvent", "recipientAccountId"),
        *("serviceEventDetails", "sharedEventID", "vpcEndpointId", "vpcEndpointAccountId"),
        *("eventCategory", "tlsDetails", "sessionCredentialFromConsole", "addendum"),
        *("edgeDeviceDetails", "insightDetails"),
    }
)


def _overridden(event: dict, overrides: dict) -> dict:
    """`event` with `overrides` set; a keyword that is no record field is refused (TypeError)."""
    unknown = sorted(k for k in overrides if k not in RECORD_FIELDS and not k.startswith("p_"))
    if unknown:
        raise TypeError(f"not CloudTrail record fields (a misspelt keyword?): {', '.join(unknown)}")
    event.update(overrides)
    return event


def api_call(event_source: str, event_name: str, **overrides: Any) -> dict:
    """Any other CloudTrail API call, for negative tests."""
    event = {
        "eventVersion": "1.09",
        "userIdentity": iam_user(),
        "eventTime": "2024-08-01T11:30:23Z",
        "eventSource": event_source,
        "eventName": event_name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.23",
        "userAgent": "aws-cli/2.15.30",
        "requestParameters": {},
        "responseElements": None,
        "eventID": f"00000000-0000-4000-8000-{next(_ids):012x}",
        "recipientAccountId": ACCOUNT_ID,
        "p_log_type": "AWS.CloudTrail",
    }
    return _overridden(event, overrides)


def start_instances(instance_ids: list, **overrides: Any) -> dict:
    """StartInstances of stopped instances; the response lists each (stopped -> pending)."""
    items = [
        {
            "instanceId": i,
            "currentState": {"code": 0, "name": "pending"},
            "previousState": {"code": 80, "name": "stopped"},
        }
        for i in instance_ids
    ]
    return api_call(
        "ec2.amazonaws.com",
        "StartInstances",
        requestParameters={"instancesSet": {"items": [{"instanceId": i} for i in instance_ids]}},
        responseElements={"requestId": f"{next(_ids):08x}", "instancesSet": {"items": items}},
        **overrides,
    )


def modify_fleet(fleet_id: str, capacity: Any, **overrides: Any) -> dict:
    """ModifyFleet of an EC2 Fleet's total target capacity (CreateFleet's PascalCase wrapper)."""
    request = {
        "ModifyFleetRequest": {
            "FleetId": fleet_id,
            "TargetCapacitySpecification": {"TotalTargetCapacity": capacity},
        }
    }
    return api_call(
        "ec2.amazonaws.com",
        "ModifyFleet",
        requestParameters=request,
        responseElements={"ModifyFleetResponse": {"return": True}},
        **overrides,
    )


def modify_spot_fleet_request(request_id: str, capacity: Any, **overrides: Any) -> dict:
    """ModifySpotFleetRequest of a Spot Fleet request's target capacity."""
    return api_call(
        "ec2.amazonaws.com",
        "ModifySpotFleetRequest",
        requestParameters={"spotFleetRequestId": request_id, "targetCapacity": capacity},
        responseElements={"return": True},
        **overrides,
    )


_SCALABLE_DIMENSIONS = {  # Application Auto Scaling's namespace -> its compute dimension
    "service/": ("ecs", "ecs:service:DesiredCount"),
    "spot-fleet-request/": ("ec2", "ec2:spot-fleet-request:TargetCapacity"),
    "instancegroup/": ("elasticmapreduce", "elasticmapreduce:instancegroup:InstanceCount"),
    "table/": ("dynamodb", "dynamodb:table:ReadCapacityUnits"),
}


def _scalable_target(resource_id: str) -> dict:
    prefix = next(p for p in _SCALABLE_DIMENSIONS if resource_id.startswith(p))
    namespace, dimension = _SCALABLE_DIMENSIONS[prefix]
    return {
        "serviceNamespace": namespace,
        "resourceId": resource_id,
        "scalableDimension": dimension,
    }


def register_scalable_target(
    resource_id: str, minimum: Any, maximum: Any = None, **overrides: Any
) -> dict:
    """RegisterScalableTarget of a resource ("service/<cluster>/<service>", "spot-fleet-request/
    <id>", ...) with a minimum (None leaves it out) and a maximum (None: 10 over the minimum)."""
    request = _scalable_target(resource_id)
    if minimum is not None:
        request["minCapacity"] = minimum
    request["maxCapacity"] = maximum if maximum is not None else (minimum or 0) + 10
    target = f"{next(_ids):032x}"
    return api_call(
        "application-autoscaling.amazonaws.com",
        "RegisterScalableTarget",
        requestParameters=request,
        responseElements={
            "scalableTargetARN": f"arn:aws:application-autoscaling:us-east-1:{ACCOUNT_ID}:"
            f"scalable-target/{target}"
        },
        userAgent="aws-cli/2.15.30 md/command#application-autoscaling.register-scalable-target",
        **overrides,
    )


def put_scheduled_action(
    resource_id: str, minimum: Any, maximum: Any = None, **overrides: Any
) -> dict:
    """PutScheduledAction: a cron schedule setting a resource's minimum (None leaves it out) and
    maximum (None leaves it out); its response is empty."""
    action = {}
    if minimum is not None:
        action["minCapacity"] = minimum
    if maximum is not None:
        action["maxCapacity"] = maximum
    request = {
        **_scalable_target(resource_id),
        "scheduledActionName": f"scale-{next(_ids)}",
        "schedule": "cron(0 8 * * ? *)",
        "scalableTargetAction": action,
    }
    return api_call(
        "application-autoscaling.amazonaws.com",
        "PutScheduledAction",
        requestParameters=request,
        **overrides,
    )


def resize_instance(instance_id: str, instance_type: str, **overrides: Any) -> dict:
    """ModifyInstanceAttribute of a stopped instance's instanceType (CloudTrail's `value` form)."""
    return api_call(
        "ec2.amazonaws.com",
        "ModifyInstanceAttribute",
        requestParameters={"instanceId": instance_id, "instanceType": {"value": instance_type}},
        responseElements={"requestId": f"{next(_ids):08x}", "_return": True},
        **overrides,
    )


def create_fleet(
    instance_types: tuple = ("g5.xlarge",),
    capacity: Any = 1,
    fleet_type: str = "instant",
    launched: list | None = None,
    errors: list | None = None,
    unit: str | None = None,
    identity: dict | None = None,
    **overrides: Any,
) -> dict:
    """A CreateFleet record: PascalCase request under CreateFleetRequest (one-item lists written
    as bare objects with a "tag", as CloudTrail does), instant fleets' instances per type in
    fleetInstanceSet and refused capacity in errorSet. `launched` lists (type, instance count)."""
    overrides_list = [
        {"InstanceType": t, "SubnetId": "subnet-0123456789abcdef0", "tag": i + 1}
        for i, t in enumerate(instance_types)
    ]
    capacity_spec: dict = {
        "TotalTargetCapacity": capacity,
        "DefaultTargetCapacityType": "on-demand",
    }
    if unit:
        capacity_spec["TargetCapacityUnitType"] = unit
    request = {
        "CreateFleetRequest": {
            "Type": fleet_type,
            "TargetCapacitySpecification": capacity_spec,
            "LaunchTemplateConfigs": {
                "LaunchTemplateSpecification": {
                    "LaunchTemplateName": "fleet-template",
                    "Version": "1",
                },
                "Overrides": overrides_list[0] if len(overrides_list) == 1 else overrides_list,
                "tag": 1,
            },
        }
    }
    response = None
    if fleet_type != "instant" and "errorCode" not in overrides:  # its instances come later
        response = {"CreateFleetResponse": {"fleetId": f"fleet-{next(_ids):032x}"}}
    if fleet_type == "instant" and "errorCode" not in overrides:
        response = {
            "CreateFleetResponse": {
                "fleetId": f"fleet-{next(_ids):032x}",
                "fleetInstanceSet": {
                    "item": [
                        {
                            "instanceIds": {"item": [f"i-{next(_ids):017x}" for _ in range(n)]},
                            "instanceType": t,
                            "lifecycle": "on-demand",
                        }
                        for t, n in (launched or [])
                    ]
                },
                "errorSet": {
                    "item": [
                        {
                            "errorCode": code,
                            "errorMessage": "capacity refused",
                            "launchTemplateAndOverrides": {"overrides": {"instanceType": t}},
                        }
                        for t, code in (errors or [])
                    ]
                },
            }
        }
    elif fleet_type != "instant" and "errorCode" not in overrides:
        response = {"CreateFleetResponse": {"fleetId": f"fleet-{next(_ids):032x}"}}
    return api_call(
        "ec2.amazonaws.com",
        "CreateFleet",
        userIdentity=identity or iam_user(),
        requestParameters=request,
        responseElements=response,
        **overrides,
    )


def request_spot_instances(instance_type: str = "g4dn.xlarge", count: Any = 1, **overrides: Any):
    request = {
        "instanceCount": count,
        "type": "one-time",
        "launchSpecification": {
            "imageId": "ami-0abcdef1234567890",
            "instanceType": instance_type,
            "subnetId": "subnet-0123456789abcdef0",
        },
    }
    response = {
        "spotInstanceRequestSet": {
            "items": [
                {"spotInstanceRequestId": f"sir-{next(_ids):08x}", "state": "open"}
                for _ in range(int(count) if str(count).isdigit() else 1)
            ]
        }
    }
    return api_call(
        "ec2.amazonaws.com",
        "RequestSpotInstances",
        requestParameters=request,
        responseElements=response,
        **overrides,
    )


def request_spot_fleet(instance_types: tuple = ("p3.2xlarge",), capacity: Any = 4, **overrides):
    config = {
        "targetCapacity": capacity,
        "iamFleetRole": "arn:aws:iam::111122223333:role/aws-ec2-spot-fleet-tagging-role",
        "launchSpecifications": [
            {"imageId": "ami-0abcdef1234567890", "instanceType": t, "subnetId": "subnet-0aa1"}
            for t in instance_types
        ],
    }
    return api_call(
        "ec2.amazonaws.com",
        "RequestSpotFleet",
        requestParameters={"spotFleetRequestConfig": config},
        responseElements={"spotFleetRequestId": "sfr-1"},
        **overrides,
    )


def run_scheduled_instances(instance_type: str | None = "c5.large", count: Any = 2, **overrides):
    spec: dict = {"imageId": "ami-0abcdef1234567890"}
    if instance_type:
        spec["instanceType"] = instance_type
    request = {
        "scheduledInstanceId": "sci-1234",
        "instanceCount": count,
        "launchSpecification": spec,
    }
    return api_call(
        "ec2.amazonaws.com",
        "RunScheduledInstances",
        requestParameters=request,
        responseElements={"instanceIdSet": {"items": []}},
        **overrides,
    )


def auto_scaling_group(
    event_name: str = "CreateAutoScalingGroup",
    desired: Any = None,
    min_size: Any = 1,
    max_size: Any = 10,
    override_types: tuple = (),
    **overrides: Any,
) -> dict:
    """Create/UpdateAutoScalingGroup: flat camelCase parameters, a launch template, and a mixed
    instances policy with overrides when `override_types` is given."""
    request: dict = {
        "autoScalingGroupName": "workers",
        "minSize": min_size,
        "maxSize": max_size,
        "vPCZoneIdentifier": "subnet-0aa1,subnet-0bb2",
    }
    if desired is not None:
        request["desiredCapacity"] = desired
    template = {"launchTemplateId": "lt-0a1b2c3d4e5f60708", "version": "$Latest"}
    if override_types:
        request["mixedInstancesPolicy"] = {
            "launchTemplate": {
                "launchTemplateSpecification": template,
                "overrides": [{"instanceType": t} for t in override_types],
            }
        }
    else:
        request["launchTemplate"] = template
    return api_call(
        "autoscaling.amazonaws.com",
        event_name,
        requestParameters=request,
        responseElements=None,
        **overrides,
    )


def scheduled_group_action(
    group: str = "workers", desired: Any = None, min_size: Any = None, **overrides: Any
) -> dict:
    """PutScheduledUpdateGroupAction (Auto Scaling API reference; camelCase as CloudTrail writes
    auto scaling calls): a group's desired size, or a new minimum, at a set time."""
    request: dict = {
        "autoScalingGroupName": group,
        "scheduledActionName": "nightly",
        "startTime": "2024-08-08T01:00:00Z",
    }
    if desired is not None:
        request["desiredCapacity"] = desired
    if min_size is not None:
        request["minSize"] = min_size
    return api_call(
        "autoscaling.amazonaws.com",
        "PutScheduledUpdateGroupAction",
        requestParameters=request,
        **overrides,
    )


def put_scaling_policy(
    group: str = "workers",
    name: str = "burst",
    kind: str = "ChangeInCapacity",
    adjustment: Any = None,
    steps: tuple = (),
    **overrides: Any,
) -> dict:
    """PutScalingPolicy (Auto Scaling API reference, camelCase as CloudTrail writes it): a simple
    scaling policy's `adjustment`, or a step scaling policy's `steps` (each step's adjustment)."""
    request: dict = {"autoScalingGroupName": group, "policyName": name, "adjustmentType": kind}
    if steps:
        request["policyType"] = "StepScaling"
        request["stepAdjustments"] = [
            {"metricIntervalLowerBound": 10.0 * i, "scalingAdjustment": step}
            for i, step in enumerate(steps)
        ]
    else:
        request.update(policyType="SimpleScaling", scalingAdjustment=adjustment)
    response = {"policyARN": _policy_arn(group, name), "alarms": []}
    return api_call(
        "autoscaling.amazonaws.com",
        "PutScalingPolicy",
        requestParameters=request,
        responseElements=response,
        **overrides,
    )


def _policy_arn(group: str, name: str) -> str:
    """A scaling policy's ARN, as PutScalingPolicy returns it and ExecutePolicy may name it."""
    return (
        f"arn:aws:autoscaling:us-east-1:{ACCOUNT_ID}:scalingPolicy:{next(_ids):08x}-0000-4000"
        f"-8000-000000000000:autoScalingGroupName/{group}:policyName/{name}"
    )


def execute_policy(
    group: str = "workers", policy: str = "burst", by_arn: bool = False, **overrides: Any
) -> dict:
    """ExecutePolicy: runs a group's scaling policy, named by its name or its ARN; `by_arn`
    names it by an ARN and leaves the group to it (the group's name is optional then)."""
    request = {"autoScalingGroupName": group, "policyName": policy, "honorCooldown": False}
    if by_arn:
        del request["autoScalingGroupName"]
        request["policyName"] = _policy_arn(group, policy)
    return api_call(
        "autoscaling.amazonaws.com", "ExecutePolicy", requestParameters=request, **overrides
    )


def start_instance_refresh(
    group: str = "workers", desired_configuration: dict | None = None, **overrides: Any
) -> dict:
    """StartInstanceRefresh (shape from the Auto Scaling API reference, camelCase as CloudTrail
    writes auto scaling calls): a rolling replacement, to `desired_configuration` if given."""
    preferences = {"minHealthyPercentage": 90, "instanceWarmup": 300}
    request: dict = {
        "autoScalingGroupName": group,
        "strategy": "Rolling",
        "preferences": preferences,
    }
    if desired_configuration is not None:
        request["desiredConfiguration"] = desired_configuration
    response = {"instanceRefreshId": f"{next(_ids):08x}-0000-4000-8000-000000000000"}
    return api_call(
        "autoscaling.amazonaws.com",
        "StartInstanceRefresh",
        requestParameters=request,
        responseElements=response,
        **overrides,
    )


def create_launch_template(
    instance_type: str | None = "p4d.24xlarge",
    template_id: str = "lt-0780d55503d605988",
    name: str = "gpu-workers",
    **overrides: Any,
) -> dict:
    """CreateLaunchTemplate as CloudTrail records it (seen in public samples): a PascalCase request
    wrapper and a camelCase response with the new template's ID, name and version numbers."""
    data: dict = {"ImageId": "ami-0b98a32b1c5e0d105"}
    if instance_type is not None:
        data["InstanceType"] = instance_type
    request = {
        "CreateLaunchTemplateRequest": {"LaunchTemplateName": name, "LaunchTemplateData": data}
    }
    response = {
        "CreateLaunchTemplateResponse": {
            "launchTemplate": {
                "launchTemplateId": template_id,
                "launchTemplateName": name,
                "defaultVersionNumber": 1,
                "latestVersionNumber": 1,
                "createTime": "2024-08-01T10:00:00.000Z",
            }
        }
    }
    return api_call(
        "ec2.amazonaws.com",
        "CreateLaunchTemplate",
        requestParameters=request,
        responseElements=response,
        **overrides,
    )


def create_launch_template_version(
    version: int,
    instance_type: str | None = "g5.48xlarge",
    template_id: str = "lt-0780d55503d605988",
    name: str = "gpu-workers",
    source_version: Any = None,
    **overrides: Any,
) -> dict:
    """CreateLaunchTemplateVersion in the wrappers the API reference documents (inferred: no
    public sample found)."""
    data: dict = {}
    if instance_type is not None:
        data["InstanceType"] = instance_type
    request: dict = {"LaunchTemplateId": template_id, "LaunchTemplateData": data}
    if source_version is not None:
        request["SourceVersion"] = source_version
    response = {
        "CreateLaunchTemplateVersionResponse": {
            "launchTemplateVersion": {
                "launchTemplateId": template_id,
                "launchTemplateName": name,
                "versionNumber": version,
                "defaultVersion": False,
            }
        }
    }
    return api_call(
        "ec2.amazonaws.com",
        "CreateLaunchTemplateVersion",
        requestParameters={"CreateLaunchTemplateVersionRequest": request},
        responseElements=response,
        **overrides,
    )


def template_call(
    event_name: str,
    template_id: str = "lt-0780d55503d605988",
    name: str = "gpu-workers",
    request: dict | None = None,
    template: dict | None = None,
    **overrides: Any,
) -> dict:
    """ModifyLaunchTemplate, DeleteLaunchTemplate or DeleteLaunchTemplateVersions (inferred
    shapes): `request` joins the request wrapper, `template` the response's launchTemplate."""
    wrapper = {"LaunchTemplateId": template_id, **(request or {})}
    response = {
        f"{event_name}Response": {
            "launchTemplate": {
                "launchTemplateId": template_id,
                "launchTemplateName": name,
                **(template or {}),
            }
        }
    }
    return api_call(
        "ec2.amazonaws.com",
        event_name,
        requestParameters={f"{event_name}Request": wrapper},
        responseElements=response,
        **overrides,
    )


def create_launch_configuration(
    name: str = "legacy-workers", instance_type: str = "c5.large", **overrides: Any
) -> dict:
    return api_call(
        "autoscaling.amazonaws.com",
        "CreateLaunchConfiguration",
        requestParameters={
            "launchConfigurationName": name,
            "instanceType": instance_type,
            "imageId": "ami-0abcdef1234567890",
        },
        responseElements=None,
        **overrides,
    )


# --- ECS ------------------------------------------------------------------------------------------
# Shapes from the ECS API reference (CloudTrail records the request and response as the API
# writes them, camelCase): RegisterTaskDefinition, RunTask, CreateService.


def register_task_definition(
    family: str = "worker",
    cpu: Any = "4096",
    gpus: int = 0,
    revision: int = 1,
    fargate: bool = True,
    **overrides: Any,
) -> dict:
    """A task definition of one container: task-level `cpu` (units, or "4 vCPU"), GPUs as the
    container's resourceRequirements."""
    container: dict = {"name": family, "image": "docker.io/library/alpine:3.20", "essential": True}
    if gpus:
        container["resourceRequirements"] = [{"type": "GPU", "value": str(gpus)}]
    request: dict = {
        "family": family,
        "containerDefinitions": [container],
        "networkMode": "awsvpc" if fargate else "bridge",
    }
    if cpu is not None:
        request["cpu"], request["memory"] = cpu, "8192"
    if fargate:
        request["requiresCompatibilities"] = ["FARGATE"]
    arn = f"arn:aws:ecs:us-east-1:{ACCOUNT_ID}:task-definition/{family}:{revision}"
    response = {
        "taskDefinition": {
            **request,
            "taskDefinitionArn": arn,
            "revision": revision,
            "status": "ACTIVE",
        }
    }
    return api_call(
        "ecs.amazonaws.com",
        "RegisterTaskDefinition",
        requestParameters=request,
        responseElements=response,
        **overrides,
    )


def run_task(
    task_definition: str = "worker",
    count: int = 1,
    launch_type: str | None = "FARGATE",
    cpu: str | None = "4096",
    placed: int | None = None,
    **overrides: Any,
) -> dict:
    """RunTask: `placed` tasks listed in the response (all by default, each of `cpu` units), the
    rest as failures (ECS's partial refusals: `RESOURCE:CPU`)."""
    request: dict = {"cluster": "default", "taskDefinition": task_definition, "count": count}
    if launch_type:
        request["launchType"] = launch_type
    placed = count if placed is None else placed
    task: dict = {
        "lastStatus": "PROVISIONING",
        "containers": [{"name": "c"}],
        "taskDefinitionArn": task_definition,
    }
    if cpu is not None:
        task["cpu"] = cpu
    tasks = [
        {**task, "taskArn": f"arn:aws:ecs:us-east-1:{ACCOUNT_ID}:task/default/{i:032x}"}
        for i in range(placed)
    ]
    failures = [{"reason": "RESOURCE:CPU"} for _ in range(count - placed)]
    response = {"tasks": tasks, "failures": failures}
    return api_call(
        "ecs.amazonaws.com",
        "RunTask",
        requestParameters=request,
        responseElements=response,
        **overrides,
    )


def create_service(
    task_definition: str = "worker",
    desired: int = 2,
    launch_type: str | None = "FARGATE",
    name: str = "web",
    **overrides: Any,
):
    """CreateService: `desired` tasks the service scheduler starts after the call."""
    request: dict = {
        "cluster": "default",
        "serviceName": name,
        "taskDefinition": task_definition,
        "desiredCount": desired,
    }
    if launch_type:
        request["launchType"] = launch_type
    response = {
        "service": {
            "serviceName": name,
            "desiredCount": desired,
            "runningCount": 0,
            "serviceArn": f"arn:aws:ecs:us-east-1:{ACCOUNT_ID}:service/{name}",
        }
    }
    return api_call(
        "ecs.amazonaws.com",
        "CreateService",
        requestParameters=request,
        responseElements=response,
        **overrides,
    )


def update_service(
    service: str = "web",
    desired: int | None = None,
    task_definition: str | None = None,
    cluster: str = "default",
    **overrides: Any,
) -> dict:
    """UpdateService: a service's new desired count and/or task definition (the service named
    by name or ARN, as `service`)."""
    request: dict = {"cluster": cluster, "service": service}
    if desired is not None:
        request["desiredCount"] = desired
    if task_definition:
        request["taskDefinition"] = task_definition
    return api_call(
        "ecs.amazonaws.com",
        "UpdateService",
        requestParameters=request,
        **{"responseElements": {"service": {"serviceName": service}}, **overrides},
    )


def sagemaker_job(event_name: str, instance_type: Any, count: Any, **overrides: Any) -> dict:
    """A SageMaker CreateTrainingJob, CreateProcessingJob, CreateTransformJob or (HyperPod)
    CreateCluster of `count` instances of an ml.* type, where each API names them."""
    config = {"instanceType": instance_type, "instanceCount": count, "volumeSizeInGB": 50}
    request = {
        "CreateTrainingJob": {"trainingJobName": "job", "resourceConfig": config},
        "CreateProcessingJob": {
            "processingJobName": "process",
            "processingResources": {"clusterConfig": config},
        },
        "CreateTransformJob": {"transformJobName": "score", "transformResources": config},
        "CreateCluster": {
            "clusterName": "pod",
            "instanceGroups": [{**config, "instanceGroupName": "workers"}],
        },
    }[event_name]
    return api_call(
        "sagemaker.amazonaws.com",
        event_name,
        requestParameters=request,
        **{"responseElements": {"arn": "arn:aws:sagemaker:x"}, **overrides},
    )


def tuning_job(instance_type: Any, count: Any, parallel: int, **overrides: Any) -> dict:
    """A SageMaker CreateHyperParameterTuningJob running up to `parallel` training jobs of
    `count` instances of an ml.* type at once."""
    request = {
        "hyperParameterTuningJobName": "tune",
        "hyperParameterTuningJobConfig": {
            "strategy": "Bayesian",
            "resourceLimits": {"maxParallelTrainingJobs": parallel, "maxNumberOfTrainingJobs": 50},
        },
        "trainingJobDefinition": {
            "resourceConfig": {"instanceType": instance_type, "instanceCount": count},
        },
    }
    arn = f"arn:aws:sagemaker:us-east-1:{ACCOUNT_ID}:hyper-parameter-tuning-job/tune"
    return api_call(
        "sagemaker.amazonaws.com",
        "CreateHyperParameterTuningJob",
        requestParameters=request,
        **{"responseElements": {"hyperParameterTuningJobArn": arn}, **overrides},
    )


def create_endpoint_config(name: str, variants: list, **overrides: Any) -> dict:
    """A SageMaker CreateEndpointConfig of production variants, each (ml.* type, initial
    instances); a variant without a type is serverless."""
    production = [
        {"variantName": f"v{i}", "modelName": "model"}
        | ({"instanceType": t, "initialInstanceCount": n} if t else {"serverlessConfig": {}})
        for i, (t, n) in enumerate(variants)
    ]
    arn = f"arn:aws:sagemaker:us-east-1:{ACCOUNT_ID}:endpoint-config/{name}"
    return api_call(
        "sagemaker.amazonaws.com",
        "CreateEndpointConfig",
        requestParameters={"endpointConfigName": name, "productionVariants": production},
        **{"responseElements": {"endpointConfigArn": arn}, **overrides},
    )


def create_endpoint(
    config: str, endpoint: str = "serve", event_name: str = "CreateEndpoint", **overrides: Any
) -> dict:
    """A SageMaker CreateEndpoint (or UpdateEndpoint) naming an endpoint config."""
    arn = f"arn:aws:sagemaker:us-east-1:{ACCOUNT_ID}:endpoint/{endpoint}"
    return api_call(
        "sagemaker.amazonaws.com",
        event_name,
        requestParameters={"endpointName": endpoint, "endpointConfigName": config},
        **{"responseElements": {"endpointArn": arn}, **overrides},
    )


# --- EKS, EMR, Batch, Lightsail, CodeBuild (shapes from the API references, camelCase) --------


def create_nodegroup(
    instance_types: tuple | None = ("m5.large",),
    desired: int | None = 2,
    max_size: int = 4,
    cluster: str = "prod",
    name: str = "workers",
    **overrides: Any,
) -> dict:
    """EKS CreateNodegroup (the cluster's name is the request's `name`, from the URL path)."""
    request: dict = {
        "name": cluster,
        "nodegroupName": name,
        "subnets": ["subnet-0a1b2c3d"],
        "nodeRole": f"arn:aws:iam::{ACCOUNT_ID}:role/eks-node",
        "scalingConfig": {"minSize": 1, "maxSize": max_size},
    }
    if desired is not None:
        request["scalingConfig"]["desiredSize"] = desired
    if instance_types is not None:
        request["instanceTypes"] = list(instance_types)
    response = {
        "nodegroup": {
            "nodegroupName": name,
            "clusterName": cluster,
            "status": "CREATING",
            "nodegroupArn": f"arn:aws:eks:us-east-1:{ACCOUNT_ID}:nodegroup/{cluster}/{name}/0",
        }
    }
    return api_call(
        "eks.amazonaws.com",
        "CreateNodegroup",
        requestParameters=request,
        responseElements=response,
        **overrides,
    )


def update_nodegroup_config(
    desired: int, cluster: str = "prod", name: str = "workers", **overrides: Any
) -> dict:
    request = {
        "name": cluster,
        "nodegroupName": name,
        "scalingConfig": {"desiredSize": desired, "maxSize": max(desired, 4)},
    }
    response = {"update": {"id": "u-1", "status": "InProgress", "type": "ConfigUpdate"}}
    return api_call(
        "eks.amazonaws.com",
        "UpdateNodegroupConfig",
        requestParameters=request,
        responseElements=response,
        **overrides,
    )


def run_job_flow(
    groups: tuple = (("MASTER", "m5.xlarge", 1), ("CORE", "m5.xlarge", 2)),
    fleets: tuple = (),
    **overrides: Any,
) -> dict:
    """EMR RunJobFlow with instance groups of (role, type, count), or with instance fleets
    (instance_fleet) where `fleets` are given."""
    if fleets:
        instances: dict = {"instanceFleets": list(fleets)}
    else:
        instances = {
            "instanceGroups": [
                {
                    "instanceRole": role,
                    "instanceType": instance_type,
                    "instanceCount": count,
                    "market": "ON_DEMAND",
                }
                for role, instance_type, count in groups
            ]
        }
    request = {
        "name": "etl",
        "releaseLabel": "emr-7.1.0",
        "instances": {**instances, "keepJobFlowAliveWhenNoSteps": True},
    }
    return api_call(
        "elasticmapreduce.amazonaws.com",
        "RunJobFlow",
        requestParameters=request,
        responseElements={"jobFlowId": "j-2AXXXXXXGAPLF"},
        **overrides,
    )


def instance_fleet(role: str, types: tuple, on_demand: Any = 0, spot: Any = 0) -> dict:
    """An EMR instance fleet of `role` (MASTER, CORE, TASK): target units of any of `types`."""
    return {
        "instanceFleetType": role,
        "targetOnDemandCapacity": on_demand,
        "targetSpotCapacity": spot,
        "instanceTypeConfigs": [{"instanceType": t, "weightedCapacity": 1} for t in types],
    }


def add_instance_fleet(cluster_id: str, fleet: dict, **overrides: Any) -> dict:
    """EMR AddInstanceFleet: one more fleet (instance_fleet) in a running cluster."""
    return api_call(
        "elasticmapreduce.amazonaws.com",
        "AddInstanceFleet",
        requestParameters={"clusterId": cluster_id, "instanceFleet": fleet},
        responseElements={"clusterId": cluster_id, "instanceFleetId": "if-1XXXXXXXXXXXX"},
        **overrides,
    )


def modify_instance_groups(cluster_id: str, sizes: dict, **overrides: Any) -> dict:
    """EMR ModifyInstanceGroups: each instance group ID given its new instance count (None: a
    reconfiguration of the group alone, no count)."""
    groups = [
        {"instanceGroupId": group}
        | ({"instanceCount": count} if count is not None else {"configurations": []})
        for group, count in sizes.items()
    ]
    return api_call(
        "elasticmapreduce.amazonaws.com",
        "ModifyInstanceGroups",
        requestParameters={"clusterId": cluster_id, "instanceGroups": groups},
        **overrides,
    )


def modify_instance_fleet(
    cluster_id: str, fleet_id: str, on_demand: Any = None, spot: Any = None, **overrides: Any
) -> dict:
    """EMR ModifyInstanceFleet: a fleet's new on-demand and spot target units (None: not set)."""
    targets = {"targetOnDemandCapacity": on_demand, "targetSpotCapacity": spot}
    fleet = {"instanceFleetId": fleet_id} | {k: v for k, v in targets.items() if v is not None}
    return api_call(
        "elasticmapreduce.amazonaws.com",
        "ModifyInstanceFleet",
        requestParameters={"clusterId": cluster_id, "instanceFleet": fleet},
        **overrides,
    )


def create_compute_environment(
    instance_types: tuple = ("optimal",),
    min_vcpus: int = 0,
    max_vcpus: int = 256,
    desired_vcpus: int | None = None,
    kind: str = "EC2",
    name: str = "jobs",
    **overrides: Any,
) -> dict:
    """Batch CreateComputeEnvironment (AWS's documented CloudTrail example, sized)."""
    resources: dict = {
        "type": kind,
        "minvCpus": min_vcpus,
        "maxvCpus": max_vcpus,
        "subnets": ["subnet-0a1b2c3d"],
        "securityGroupIds": ["sg-0a1b2c3d"],
    }
    if kind not in ("FARGATE", "FARGATE_SPOT"):
        resources["instanceTypes"] = list(instance_types)
        resources["instanceRole"] = "ecsInstanceRole"
    if desired_vcpus is not None:
        resources["desiredvCpus"] = desired_vcpus
    request = {
        "computeEnvironmentName": name,
        "type": "MANAGED",
        "state": "ENABLED",
        "computeResources": resources,
    }
    response = {
        "computeEnvironmentName": name,
        "computeEnvironmentArn": f"arn:aws:batch:us-east-1:{ACCOUNT_ID}:compute-environment/{name}",
    }
    return api_call(
        "batch.amazonaws.com",
        "CreateComputeEnvironment",
        requestParameters=request,
        responseElements=response,
        **overrides,
    )


def update_compute_environment(
    desired_vcpus: int | None = None,
    min_vcpus: int | None = None,
    instance_types: tuple = (),
    name: str = "jobs",
    **overrides: Any,
) -> dict:
    """Batch UpdateComputeEnvironment, naming the environment by its ARN (ComputeResourceUpdate:
    only what changes; instanceTypes where the allocation strategy allows changing them)."""
    arn = f"arn:aws:batch:us-east-1:{ACCOUNT_ID}:compute-environment/{name}"
    resources: dict = {"minvCpus": min_vcpus, "desiredvCpus": desired_vcpus}
    resources = {key: value for key, value in resources.items() if value is not None}
    if instance_types:
        resources["instanceTypes"] = list(instance_types)
    return api_call(
        "batch.amazonaws.com",
        "UpdateComputeEnvironment",
        requestParameters={"computeEnvironment": arn, "computeResources": resources},
        responseElements={"computeEnvironmentName": name, "computeEnvironmentArn": arn},
        **overrides,
    )


def create_lightsail_instances(bundle: str = "nano_3_0", count: int = 1, **overrides: Any) -> dict:
    request = {
        "instanceNames": [f"node-{i}" for i in range(count)],
        "bundleId": bundle,
        "blueprintId": "ubuntu_22_04",
        "availabilityZone": "us-east-1a",
    }
    response = {
        "operations": [
            {"resourceName": f"node-{i}", "operationType": "CreateInstance", "status": "Started"}
            for i in range(count)
        ]
    }
    return api_call(
        "lightsail.amazonaws.com",
        "CreateInstances",
        requestParameters=request,
        responseElements=response,
        **overrides,
    )


def start_build(
    compute_type: str = "BUILD_GENERAL1_SMALL",
    environment: str = "LINUX_CONTAINER",
    override: bool = False,
    **overrides: Any,
) -> dict:
    """CodeBuild StartBuild: the compute type overridden in the request, or only in the response
    (the project's own)."""
    request: dict = {"projectName": "app"}
    if override:
        request.update(computeTypeOverride=compute_type, environmentTypeOverride=environment)
    response = {
        "build": {
            "id": f"app:{next(_ids):08x}",
            "buildStatus": "IN_PROGRESS",
            "timeoutInMinutes": 60,
            "environment": {
                "type": environment,
                "computeType": compute_type,
                "image": "aws/codebuild/standard:7.0",
            },
        }
    }
    return api_call(
        "codebuild.amazonaws.com",
        "StartBuild",
        requestParameters=request,
        responseElements=response,
        **overrides,
    )


def create_codebuild_project(
    name: str = "app",
    compute_type: str = "BUILD_GENERAL1_SMALL",
    environment: str = "LINUX_CONTAINER",
    privileged: bool = False,
    event_name: str = "CreateProject",
    **overrides: Any,
) -> dict:
    """CodeBuild Create/UpdateProject: the project's environment (compute type, privileged
    mode), repeated in the response's project."""
    environment_spec = {
        "type": environment,
        "computeType": compute_type,
        "image": "aws/codebuild/standard:7.0",
        "privilegedMode": privileged,
    }
    request = {
        "name": name,
        "source": {"type": "NO_SOURCE", "buildspec": "version: 0.2"},
        "artifacts": {"type": "NO_ARTIFACTS"},
        "environment": environment_spec,
        "serviceRole": f"arn:aws:iam::{ACCOUNT_ID}:role/codebuild-{name}",
    }
    response = {
        "project": {**request, "arn": f"arn:aws:codebuild:us-east-1:{ACCOUNT_ID}:project/{name}"}
    }
    return api_call(
        "codebuild.amazonaws.com",
        event_name,
        requestParameters=request,
        responseElements=response,
        **overrides,
    )


def create_amplify_app(
    app_id: str = "d2abc123example",
    compute_type: str | None = None,
    event_name: str = "CreateApp",
    **overrides: Any,
) -> dict:
    """Amplify CreateApp (the app's ID in the response) or UpdateApp (in the request), with
    `jobConfig.buildComputeType` where set."""
    request: dict = {"name": "site"} if event_name == "CreateApp" else {"appId": app_id}
    if compute_type is not None:
        request["jobConfig"] = {"buildComputeType": compute_type}
    app = {
        "appId": app_id,
        "name": "site",
        "platform": "WEB",
        "appArn": f"arn:aws:amplify:us-east-1:{ACCOUNT_ID}:apps/{app_id}",
    }
    return api_call(
        "amplify.amazonaws.com",
        event_name,
        requestParameters=request,
        responseElements={"app": app},
        **overrides,
    )


def start_amplify_job(
    app_id: str = "d2abc123example", branch: str = "main", **overrides: Any
) -> dict:
    """Amplify StartJob: one build of a branch."""
    request = {"appId": app_id, "branchName": branch, "jobType": "RELEASE"}
    response = {
        "jobSummary": {"jobId": str(next(_ids) % 1000), "status": "PENDING", "jobType": "RELEASE"}
    }
    return api_call(
        "amplify.amazonaws.com",
        "StartJob",
        requestParameters=request,
        responseElements=response,
        **overrides,
    )


def register_job_definition(
    name: str = "crunch",
    vcpus: str | None = "4",
    gpus: int = 0,
    revision: int = 1,
    nodes: int = 0,
    **overrides: Any,
) -> dict:
    """Batch RegisterJobDefinition: a container job (VCPU and GPU resourceRequirements), or a
    multi-node job of `nodes` nodes of that container."""
    requirements = [{"type": "MEMORY", "value": "8192"}]
    if vcpus is not None:
        requirements.append({"type": "VCPU", "value": vcpus})
    if gpus:
        requirements.append({"type": "GPU", "value": str(gpus)})
    container = {
        "image": "public.ecr.aws/docker/library/alpine:3.20",
        "resourceRequirements": requirements,
    }
    request: dict = {"jobDefinitionName": name}
    if nodes:
        request.update(
            type="multinode",
            nodeProperties={
                "numNodes": nodes,
                "mainNode": 0,
                "nodeRangeProperties": [{"targetNodes": "0:", "container": container}],
            },
        )
    else:
        request.update(type="container", containerProperties=container)
    arn = f"arn:aws:batch:us-east-1:{ACCOUNT_ID}:job-definition/{name}:{revision}"
    response = {"jobDefinitionName": name, "jobDefinitionArn": arn, "revision": revision}
    return api_call(
        "batch.amazonaws.com",
        "RegisterJobDefinition",
        requestParameters=request,
        responseElements=response,
        **overrides,
    )


def submit_job(
    job_definition: str = "crunch",
    array_size: int | None = None,
    vcpus: str | None = None,
    gpus: int = 0,
    **overrides: Any,
) -> dict:
    """Batch SubmitJob: an array of `array_size` jobs (one job without), with containerOverrides
    where `vcpus` or `gpus` are given."""
    request: dict = {
        "jobName": "crunch-run",
        "jobQueue": "default",
        "jobDefinition": job_definition,
    }
    if array_size is not None:
        request["arrayProperties"] = {"size": array_size}
    requirements = ([{"type": "VCPU", "value": vcpus}] if vcpus is not None else []) + (
        [{"type": "GPU", "value": str(gpus)}] if gpus else []
    )
    if requirements:
        request["containerOverrides"] = {"resourceRequirements": requirements}
    job_id = f"{next(_ids):08x}-0000-4000-8000-000000000000"
    response = {
        "jobArn": f"arn:aws:batch:us-east-1:{ACCOUNT_ID}:job/{job_id}",
        "jobName": "crunch-run",
        "jobId": job_id,
    }
    return api_call(
        "batch.amazonaws.com",
        "SubmitJob",
        requestParameters=request,
        responseElements=response,
        **overrides,
    )


def create_function(
    name: str = "resize-images",
    memory: int | None = 512,
    event_name: str = "CreateFunction20150331",
    **overrides: Any,
) -> dict:
    """Lambda CreateFunction20150331 or UpdateFunctionConfiguration20150331v2: the response
    repeats the configuration, memory included (Lambda's 128 MB default when the request sets
    none)."""
    request: dict = {"functionName": name}
    if memory is not None:
        request["memorySize"] = memory
    if event_name.startswith("CreateFunction"):
        request.update(
            runtime="python3.12",
            handler="app.handler",
            role=f"arn:aws:iam::{ACCOUNT_ID}:role/{name}-role",
        )
    arn = f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:{name}"
    response = {
        "functionName": name,
        "functionArn": arn,
        "memorySize": memory or 128,
        "runtime": "python3.12",
        "state": "Pending",
    }
    return api_call(
        "lambda.amazonaws.com",
        event_name,
        requestParameters=request,
        responseElements=response,
        **overrides,
    )


def function_concurrency(
    name: str = "resize-images",
    provisioned: int | None = None,
    reserved: int | None = None,
    **overrides: Any,
) -> dict:
    """Lambda PutProvisionedConcurrencyConfig (`provisioned`, on the alias "live") or
    PutFunctionConcurrency20171031 (`reserved`)."""
    if provisioned is not None:
        request = {
            "functionName": name,
            "qualifier": "live",
            "provisionedConcurrentExecutions": provisioned,
        }
        response = {
            "requestedProvisionedConcurrentExecutions": provisioned,
            "status": "IN_PROGRESS",
        }
        return api_call(
            "lambda.amazonaws.com",
            "PutProvisionedConcurrencyConfig",
            requestParameters=request,
            responseElements=response,
            **overrides,
        )
    request = {"functionName": name, "reservedConcurrentExecutions": reserved}
    return api_call(
        "lambda.amazonaws.com",
        "PutFunctionConcurrency20171031",
        requestParameters=request,
        responseElements=dict(request),
        **overrides,
    )
