"""Read CloudTrail EC2 launch events: instance types, counts, vCPUs, accelerators, actor, outcome.

Every rule of the pack reads launch events only through this module. It accepts the shapes
CloudTrail really produces (see CLOUDTRAIL-NOTES in the project's shared notes):
- `instanceType` as a string, as `{"value": "..."}`, or absent when a launch template is used;
- counts as numbers or strings; `responseElements: null` on failures; missing `cpuOptions`;
- Panther's immutable mappings at run time (never `dict`), so shapes are tested with the
  `collections.abc` interfaces.
Malformed or partial events never raise: every reader falls back to a safe value.
"""

import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any, NamedTuple

from ec2_compute_config import as_list
from ec2_instance_catalog import instance_family, instance_type_spec

EC2_EVENT_SOURCE = "ec2.amazonaws.com"
LAUNCH_EVENT_NAMES = frozenset({"RunInstances"})
# eventSource -> eventNames of the launch API calls. Rules declare what they can match with it
# (RULE_EVENTS), so tooling can skip every other event without evaluating a rule on it.
LAUNCH_EVENTS = {EC2_EVENT_SOURCE: LAUNCH_EVENT_NAMES}

OUTCOME_SUCCESS = "success"
OUTCOME_FAILURE = "failure"
OUTCOME_DRY_RUN = "dry_run"

# One RunInstances item cannot ask for more than an account's instance quota; a larger value is
# junk, and clamping it keeps totals, titles and alert context bounded.
MAX_COUNT = 1_000_000
# Longest instance type name kept (the longest real one is about 20 characters).
MAX_INSTANCE_TYPE_LENGTH = 64
# How many instance IDs the alert context lists.
MAX_LISTED_INSTANCE_IDS = 20
MAX_ERROR_MESSAGE_LENGTH = 500

# Source "addresses" and invokers that mean an AWS service made the call on someone's behalf.
_SERVICE_SOURCE = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com$|^AWS Internal$")
_EVENT_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?\s*(Z|[+-]\d{2}:?\d{2})?$"
)


# --- Safe readers ---------------------------------------------------------------------------------


def as_mapping(value: Any) -> Mapping:
    return value if isinstance(value, Mapping) else {}


def as_sequence(value: Any) -> Sequence:
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray)):
        return value
    return ()


def dig(value: Any, *path: str) -> Any:
    """The value at a path of mapping keys, or None where any step is missing or not a mapping."""
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def as_text(value: Any) -> str:
    """A scalar as text; "" for None, mappings, sequences and other structures."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return ""


def as_count(value: Any) -> int | None:
    """A non-negative count from an int, float or numeric string; None when there is none."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, (int, float)):
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return MAX_COUNT if value > 0 else 0
        value = int(value)
    return min(max(value, 0), MAX_COUNT)


def normalize_instance_type(value: Any) -> str:
    """ "g5.8xlarge" from "g5.8xlarge", " G5.8XLARGE ", or {"value": "g5.8xlarge"}; "" otherwise."""
    if isinstance(value, Mapping):
        value = value.get("value")
    if not isinstance(value, str):
        return ""
    name = value.strip().lower()
    return name if len(name) <= MAX_INSTANCE_TYPE_LENGTH else ""


def event_time_epoch(event: Mapping) -> float | None:
    """`eventTime` as UTC epoch seconds; accepts CloudTrail's "2024-08-01T11:30:23Z" and Panther's
    normalized "2024-12-16 18:41:07.000000000". None when absent or unparseable."""
    match = _EVENT_TIME.match(as_text(as_mapping(event).get("eventTime")).strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second),
            tzinfo=UTC,
        )  # fmt: skip
    except ValueError:
        return None
    epoch = moment.timestamp() + (float(f"0.{fraction}") if fraction else 0.0)
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        epoch -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return epoch


def event_id(event: Mapping) -> str:
    """`eventID`, else `requestID` with `eventTime`: what makes a delivery of a record unique."""
    event = as_mapping(event)
    return as_text(event.get("eventID")) or ":".join(
        (as_text(event.get("requestID")), as_text(event.get("eventTime")))
    )


# --- Launch events --------------------------------------------------------------------------------


class LaunchSummary(NamedTuple):
    event_name: str
    outcome: str  # OUTCOME_SUCCESS, OUTCOME_FAILURE or OUTCOME_DRY_RUN
    error_code: str
    requested_instance_types: tuple  # from the request; empty with a launch template
    launched_instance_types: tuple  # one per launched instance type, in response order
    uses_launch_template: bool
    requested_instance_count: int
    launched_instance_count: int
    requested_vcpus: int
    launched_vcpus: int
    requested_accelerators: int
    launched_accelerators: int
    unknown_instance_types: tuple  # types the catalog does not know (vCPUs counted as 0)
    instance_ids: tuple
    subnet_id: str  # from the request, its first network interface, or the first instance

    @property
    def instance_types(self) -> tuple:
        """Requested and launched types, requested first, each once."""
        return tuple(dict.fromkeys(self.requested_instance_types + self.launched_instance_types))

    @property
    def vcpus(self) -> int:
        """vCPUs launched; for a call that launched nothing (error, dry run), vCPUs requested."""
        return self.launched_vcpus if self.launched_instance_count else self.requested_vcpus

    @property
    def accelerators(self) -> int:
        """Accelerators launched; for a call that launched nothing, accelerators requested."""
        if self.launched_instance_count:
            return self.launched_accelerators
        return self.requested_accelerators

    @property
    def instance_count(self) -> int:
        """Instances launched; for a call that launched nothing, instances requested."""
        return self.launched_instance_count or self.requested_instance_count


def is_launch_event(event: Mapping) -> bool:
    """Whether the event is an EC2 launch API call this helper understands."""
    # eventName first: it rejects almost every event with one lookup. It may be any JSON value
    # in a malformed record, and only strings can be looked up in a set.
    name = event.get("eventName")
    return (
        isinstance(name, str)
        and name in LAUNCH_EVENT_NAMES
        and event.get("eventSource") == EC2_EVENT_SOURCE
    )


def launch_outcome(event: Mapping) -> tuple[str, str]:
    """(outcome, error code). A dry run is its own outcome: AWS answers a permitted dry run with
    the error `Client.DryRunOperation` (an unauthorized one gets `UnauthorizedOperation`)."""
    error_code = as_text(event.get("errorCode"))
    if not error_code:
        return OUTCOME_SUCCESS, ""
    if error_code.endswith("DryRunOperation"):
        return OUTCOME_DRY_RUN, error_code
    return OUTCOME_FAILURE, error_code


def requested_instance_count(request: Mapping) -> int:
    """Instances a RunInstances request asks for: the sum over `instancesSet.items` of `maxCount`
    (falling back to `minCount`, then 1). Elastic's `maxCount - minCount + 1` counts a request for
    exactly 5 instances (min 5, max 5) as 1; AWS launches up to `maxCount`, so we count 5."""
    items = as_sequence(dig(request, "instancesSet", "items"))
    total = 0
    for raw_item in items:
        item = as_mapping(raw_item)
        count = as_count(item.get("maxCount"))
        if count is None:
            count = as_count(item.get("minCount"))
        total += 1 if count is None else count
    return min(total, MAX_COUNT) if items else 1


def _first(value: Any) -> Any:
    items = as_sequence(value)
    return items[0] if items else None


def _vcpus_from_cpu_options(cpu_options: Any) -> int | None:
    cores = as_count(dig(cpu_options, "coreCount"))
    threads = as_count(dig(cpu_options, "threadsPerCore"))
    if not cores or not threads:
        return None
    return min(cores * threads, MAX_COUNT)


# The last summary and actor read, by event: Panther hands every rule (and each rule's alert
# functions) the same immutable event, so each is read once. Plain dicts can change between
# calls and are never remembered.
_last_read: dict = {}


def _remembered(kind: str, event: Any, read) -> Any:
    if isinstance(event, dict) or not isinstance(event, Mapping):
        return read(event)
    cached = _last_read.get(kind)
    if cached is not None and cached[0] is event:
        return cached[1]
    value = read(event)
    _last_read[kind] = (event, value)
    return value


def summarize_launch(event: Mapping) -> LaunchSummary:
    """Everything the rules need to know about one launch event, read once."""
    return _remembered("summary", event, _summarize_launch)


def _summarize_launch(event: Mapping) -> LaunchSummary:
    event = as_mapping(event)
    outcome, error_code = launch_outcome(event)
    request = as_mapping(event.get("requestParameters"))
    response = as_mapping(event.get("responseElements"))

    requested_type = normalize_instance_type(request.get("instanceType"))
    requested_types = (requested_type,) if requested_type else ()
    requested_count = requested_instance_count(request)
    requested_spec = instance_type_spec(requested_type) if requested_type else None
    unknown = [] if requested_spec or not requested_type else [requested_type]

    launched_types: dict[str, None] = {}
    instance_ids = []
    launched_count = launched_vcpus = launched_accelerators = 0
    for raw_item in as_sequence(dig(response, "instancesSet", "items")):
        item = as_mapping(raw_item)
        launched_count += 1
        instance_type = normalize_instance_type(item.get("instanceType")) or requested_type
        spec = instance_type_spec(instance_type) if instance_type else None
        if instance_type:
            launched_types[instance_type] = None
            if spec is None and instance_type not in unknown:
                unknown.append(instance_type)
        vcpus = _vcpus_from_cpu_options(item.get("cpuOptions"))
        launched_vcpus += vcpus if vcpus is not None else (spec.vcpus if spec else 0)
        launched_accelerators += spec.accelerators if spec else 0
        instance_id = as_text(item.get("instanceId"))
        if instance_id and len(instance_ids) < MAX_LISTED_INSTANCE_IDS:
            instance_ids.append(instance_id)

    subnet_id = (
        as_text(request.get("subnetId"))
        or as_text(dig(_first(dig(request, "networkInterfaceSet", "items")), "subnetId"))
        or as_text(dig(_first(dig(response, "instancesSet", "items")), "subnetId"))
    )
    requested_cpu_vcpus = _vcpus_from_cpu_options(request.get("cpuOptions"))
    if requested_spec is not None:
        per_instance = requested_cpu_vcpus or requested_spec.vcpus
        requested_vcpus = requested_count * per_instance
        requested_accelerators = requested_count * requested_spec.accelerators
    else:  # launch template or unknown type: only the response tells
        requested_vcpus, requested_accelerators = launched_vcpus, launched_accelerators

    return LaunchSummary(
        event_name=as_text(event.get("eventName")),
        outcome=outcome,
        error_code=error_code,
        requested_instance_types=requested_types,
        launched_instance_types=tuple(launched_types),
        uses_launch_template=bool(as_mapping(request.get("launchTemplate"))),
        requested_instance_count=requested_count,
        launched_instance_count=launched_count,
        requested_vcpus=min(requested_vcpus, MAX_COUNT * 1000),
        launched_vcpus=min(launched_vcpus, MAX_COUNT * 1000),
        requested_accelerators=min(requested_accelerators, MAX_COUNT * 1000),
        launched_accelerators=min(launched_accelerators, MAX_COUNT * 1000),
        unknown_instance_types=tuple(unknown),
        instance_ids=tuple(instance_ids),
        subnet_id=subnet_id,
    )


def matches_instance_type(instance_type: str, configured: Any) -> bool:
    """Whether a type is listed, exactly ("p2.xlarge") or by family ("p2"), in a configured list.
    `configured` may be the string a test mock returns; it is parsed, never substring-matched."""
    return _matches(instance_type, _entries(configured))


def _entries(configured: Any) -> frozenset:
    return frozenset(entry.lower() for entry in as_list(configured))


def _matches(instance_type: str, entries: frozenset) -> bool:
    return instance_type in entries or instance_family(instance_type) in entries


def unusual_instance_types_in(summary: LaunchSummary, unusual: Any, usual: Any = ()) -> list[str]:
    """The launch's instance types that are unusual and not declared usual."""
    unusual_entries, usual_entries = _entries(unusual), _entries(usual)
    return [
        instance_type
        for instance_type in summary.instance_types
        if _matches(instance_type, unusual_entries) and not _matches(instance_type, usual_entries)
    ]


def accelerator_kinds(instance_types: Sequence) -> list[str]:
    """Accelerator descriptions of the given types, e.g. ["gpu: NVIDIA A100"]."""
    kinds = []
    for instance_type in instance_types:
        spec = instance_type_spec(instance_type)
        if spec and spec.accelerator_kind:
            kind = f"{spec.accelerator_kind}: {spec.accelerator_name}".rstrip(": ")
            if kind not in kinds:
                kinds.append(kind)
    return kinds


# --- Actor ----------------------------------------------------------------------------------------


class Actor(NamedTuple):
    arn: str
    account_id: str
    principal_id: str
    identity_type: str
    user_name: str  # Sentinel's AccountName: userName, else the last ARN segment
    name: str  # user_name before "@"
    upn_suffix: str  # user_name after "@" ("" without one), Sentinel's AccountUPNSuffix
    invoked_by: str
    service_invoked: bool  # an AWS service made the call on someone's behalf
    key: str  # stable identity for grouping and dedup

    @property
    def display(self) -> str:
        return self.user_name or self.arn or self.invoked_by or self.key


def actor(event: Mapping) -> Actor:
    """Who made the call, with Sentinel's fallbacks: the ARN from `userIdentity.arn`, else
    `resources[0].ARN`; the name from `userName`, else the ARN's last segment; "Anonymous" for
    anonymous principals; `name@suffix` split into name and UPN suffix."""
    return _remembered("actor", event, _actor)


def _actor(event: Mapping) -> Actor:
    event = as_mapping(event)
    identity = as_mapping(event.get("userIdentity"))
    resources = as_sequence(event.get("resources"))
    arn = as_text(identity.get("arn")) or as_text(dig(resources[0] if resources else None, "ARN"))
    account_id = as_text(identity.get("accountId")) or as_text(event.get("recipientAccountId"))
    principal_id = as_text(identity.get("principalId"))
    identity_type = as_text(identity.get("type"))
    invoked_by = as_text(identity.get("invokedBy"))

    if principal_id == "Anonymous" or identity_type == "AnonymousUser":
        user_name = "Anonymous"
    else:
        user_name = as_text(identity.get("userName")) or (arn.rsplit("/", 1)[-1] if arn else "")
    name, _, upn_suffix = user_name.partition("@")

    source = as_text(event.get("sourceIPAddress"))
    service_invoked = bool(
        invoked_by or identity_type == "AWSService" or _SERVICE_SOURCE.match(source)
    )
    key = arn or (f"{account_id}:{principal_id}" if principal_id else "") or invoked_by
    return Actor(
        arn=arn,
        account_id=account_id,
        principal_id=principal_id,
        identity_type=identity_type,
        user_name=user_name,
        name=name,
        upn_suffix=upn_suffix,
        invoked_by=invoked_by,
        service_invoked=service_invoked,
        key=key or "unknown",
    )


def is_allowlisted(event: Mapping, principal_arns: Any, user_agents: Any) -> bool:
    """Whether the caller matches an allowlisted principal ARN or user agent pattern.
    Both lists may be the strings a test mock returns."""
    arn = actor(event).arn
    if arn and any(fnmatchcase(arn, pattern) for pattern in as_list(principal_arns)):
        return True
    agent = as_text(as_mapping(event).get("userAgent")).lower()
    return bool(agent) and any(
        fnmatchcase(agent, pattern.lower()) for pattern in as_list(user_agents)
    )


# --- Alert context --------------------------------------------------------------------------------


def launch_alert_context(event: Mapping, summary: LaunchSummary | None = None) -> dict:
    """The alert context every detection of the pack shares for a launch event."""
    event = as_mapping(event)
    summary = summary or summarize_launch(event)
    who = actor(event)
    return {
        "account_id": as_text(event.get("recipientAccountId")) or who.account_id,
        "region": as_text(event.get("awsRegion")),
        "event_name": summary.event_name,
        "event_id": as_text(event.get("eventID")),
        "event_time": as_text(event.get("eventTime")),
        "actor_arn": who.arn,
        "actor_name": who.name,
        "actor_upn_suffix": who.upn_suffix,
        "actor_type": who.identity_type,
        "invoked_by": who.invoked_by,
        "service_invoked": who.service_invoked,
        "source_ip": as_text(event.get("sourceIPAddress")),
        "user_agent": as_text(event.get("userAgent")),
        "outcome": summary.outcome,
        "error_code": summary.error_code,
        "error_message": as_text(event.get("errorMessage"))[:MAX_ERROR_MESSAGE_LENGTH],
        "instance_types": list(summary.instance_types),
        "accelerators": accelerator_kinds(summary.instance_types),
        "uses_launch_template": summary.uses_launch_template,
        "requested_instance_count": summary.requested_instance_count,
        "launched_instance_count": summary.launched_instance_count,
        "requested_vcpus": summary.requested_vcpus,
        "launched_vcpus": summary.launched_vcpus,
        "requested_accelerator_count": summary.requested_accelerators,
        "launched_accelerator_count": summary.launched_accelerators,
        "unknown_instance_types": list(summary.unknown_instance_types),
        "instance_ids": list(summary.instance_ids),
        "subnet_id": summary.subnet_id,
    }
