"""Factories for CloudTrail events in their real shapes (see the shared CLOUDTRAIL-NOTES).

Tests and the sample-data generator build events here instead of copying JSON blobs:
`run_instances(...)` gives a realistic RunInstances record and keyword arguments change the parts
that matter. IDs come from one counter; `seed_ids` restarts it for reproducible output.
"""

import itertools
from typing import Any

ACCOUNT_ID = "111122223333"
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
    event.update(overrides)
    return event
