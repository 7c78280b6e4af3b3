"""Read CloudTrail EC2 launch events: instance types, counts, vCPUs, accelerators, actor, outcome.

Every rule of the pack reads launch events only through this module. It accepts the shapes
CloudTrail really produces (see CLOUDTRAIL-NOTES in the project's shared notes):
- `instanceType` as a string, as `{"value": "..."}`, or absent when a launch template is used;
- counts as numbers or strings; `responseElements: null` on failures; missing `cpuOptions`;
- Panther's immutable mappings at run time (never `dict`), so shapes are tested with the
  `collections.abc` interfaces.
Malformed or partial events never raise: every reader falls back to a safe value.
"""

import ipaddress
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import Any, NamedTuple

from ec2_compute_config import as_list
from ec2_instance_catalog import family_specs, instance_family, instance_type_spec, types_meeting

EC2_EVENT_SOURCE = "ec2.amazonaws.com"
AUTOSCALING_EVENT_SOURCE = "autoscaling.amazonaws.com"
SAGEMAKER_EVENT_SOURCE = "sagemaker.amazonaws.com"
ECS_EVENT_SOURCE = "ecs.amazonaws.com"
EKS_EVENT_SOURCE = "eks.amazonaws.com"
EMR_EVENT_SOURCE = "elasticmapreduce.amazonaws.com"
BATCH_EVENT_SOURCE = "batch.amazonaws.com"
LIGHTSAIL_EVENT_SOURCE = "lightsail.amazonaws.com"
CODEBUILD_EVENT_SOURCE = "codebuild.amazonaws.com"
AMPLIFY_EVENT_SOURCE = "amplify.amazonaws.com"
LAMBDA_EVENT_SOURCE = "lambda.amazonaws.com"
APPLICATION_AUTOSCALING_EVENT_SOURCE = "application-autoscaling.amazonaws.com"
# eventSource -> eventNames of every API that launches (or asks AWS to launch) instances. Rules
# declare what they can match with it (RULE_EVENTS), so tooling can skip every other event
# without evaluating a rule on it.
LAUNCH_EVENTS = {
    EC2_EVENT_SOURCE: frozenset(
        {
            "RunInstances",
            "CreateFleet",
            "RequestSpotInstances",
            "RequestSpotFleet",
            "RunScheduledInstances",
            "ModifyInstanceAttribute",
            "StartInstances",
            "ModifyFleet",
            "ModifySpotFleetRequest",
        }
    ),
    # Auto scaling groups: created, resized, resized at a scheduled time, or by running one of
    # their scaling policies (remembered from PutScalingPolicy, ec2_launch_templates); refreshed
    # to new types (a refresh that keeps the group's types counts nothing).
    AUTOSCALING_EVENT_SOURCE: frozenset(
        {
            "CreateAutoScalingGroup",
            "UpdateAutoScalingGroup",
            "SetDesiredCapacity",
            "PutScheduledUpdateGroupAction",
            "ExecutePolicy",
            "StartInstanceRefresh",
        }
    ),
    # SageMaker runs jobs, notebooks, Studio apps and HyperPod clusters on ml.* instances, each
    # the EC2 type of the same name: priced by the catalog like any launch.
    SAGEMAKER_EVENT_SOURCE: frozenset(
        {
            "CreateTrainingJob",
            "CreateProcessingJob",
            "CreateTransformJob",
            "CreateHyperParameterTuningJob",
            "CreateNotebookInstance",
            "CreateApp",
            "CreateCluster",
            "CreateEndpoint",
            "UpdateEndpoint",
        }
    ),
    # ECS runs tasks of a task definition's size (CPU units / 1024 vCPUs, GPUs): on Fargate they
    # are new capacity; on EC2 container instances, capacity counted when those launched.
    ECS_EVENT_SOURCE: frozenset({"RunTask", "StartTask", "CreateService", "UpdateService"}),
    # EKS managed node groups, EMR clusters and Batch compute environments: EC2 instances the
    # service launches for the caller (through auto scaling groups and fleets of its own), priced
    # at the caller's request and never again at the service's own calls (ON_BEHALF_SERVICES).
    EKS_EVENT_SOURCE: frozenset({"CreateNodegroup", "UpdateNodegroupConfig"}),
    EMR_EVENT_SOURCE: frozenset(
        {
            "RunJobFlow",
            "AddInstanceGroups",
            "AddInstanceFleet",
            "ModifyInstanceGroups",
            "ModifyInstanceFleet",
        }
    ),
    # Batch jobs (SubmitJob) are what makes a managed compute environment grow: counted as ECS
    # tasks are, jobs times one job's vCPUs and GPUs.
    BATCH_EVENT_SOURCE: frozenset(
        {"CreateComputeEnvironment", "UpdateComputeEnvironment", "SubmitJob"}
    ),
    # Lightsail instances, CodeBuild builds and Amplify build jobs, of sizes sold by names of
    # their own, priced by the catalog's "<service>.<size>" rows
    # (compute_abuse/data/service_sizes.json).
    LIGHTSAIL_EVENT_SOURCE: frozenset({"CreateInstances", "CreateInstancesFromSnapshot"}),
    CODEBUILD_EVENT_SOURCE: frozenset({"StartBuild", "StartBuildBatch"}),
    AMPLIFY_EVENT_SOURCE: frozenset({"StartJob"}),
    # Lambda: provisioned concurrency is capacity kept running (environments times the
    # function's vCPU share); reserved concurrency is potential capacity, reported as the
    # request's maximum and never summed. CloudTrail names Lambda's calls with their API version.
    LAMBDA_EVENT_SOURCE: frozenset(
        {
            "PutProvisionedConcurrencyConfig",
            "PutFunctionConcurrency20171031",
            "PutFunctionConcurrency",
        }
    ),
    # Application Auto Scaling: a scalable target's minimum (registered, or put in a scheduled
    # action), to which the service raises an ECS service or a Spot Fleet it names
    # (SCALABLE_RESOURCES; other namespaces are no compute the pack prices): sizing calls of that
    # group, charged to their caller. The scaler's own resizes that follow count for no one.
    APPLICATION_AUTOSCALING_EVENT_SOURCE: frozenset(
        {"RegisterScalableTarget", "PutScheduledAction"}
    ),
}
# The launch APIs counted by their vCPUs only, never by number (HighInstanceCount and its query):
# ECS tasks, Batch jobs, Lambda environments, CodeBuild and Amplify builds, SageMaker's jobs and
# Studio apps are small and many, and end on their own (a scheduled Fargate task runs all day, CI
# builds every commit, a job array is thousands of jobs, a tuning job runs ten trainings at once,
# a data scientist opens a kernel app per notebook). Machines kept until someone stops them stay
# counted: EC2, Lightsail, node groups, EMR and Batch environments, notebook instances, endpoints
# and HyperPod clusters. Application Auto Scaling's minimums count as their group's service's
# calls do (is_vcpus_only): an ECS service's by vCPUs, a Spot Fleet's by number too.
VCPUS_ONLY_EVENTS = {
    source: LAUNCH_EVENTS[source]
    for source in (
        ECS_EVENT_SOURCE,
        CODEBUILD_EVENT_SOURCE,
        AMPLIFY_EVENT_SOURCE,
        LAMBDA_EVENT_SOURCE,
    )
} | {
    BATCH_EVENT_SOURCE: frozenset({"SubmitJob"}),
    SAGEMAKER_EVENT_SOURCE: frozenset(
        {
            "CreateTrainingJob",
            "CreateProcessingJob",
            "CreateTransformJob",
            "CreateHyperParameterTuningJob",
            "CreateApp",
        }
    ),
}
# The launch APIs counted by number (HighInstanceCount's RULE_EVENTS, and what its query reads).
INSTANCE_COUNT_EVENTS = {
    source: names - VCPUS_ONLY_EVENTS.get(source, frozenset())
    for source, names in LAUNCH_EVENTS.items()
    if names - VCPUS_ONLY_EVENTS.get(source, frozenset())
}
# What the alert calls the service a launch API belongs to.
SERVICE_NAMES = {
    EC2_EVENT_SOURCE: "EC2",
    AUTOSCALING_EVENT_SOURCE: "EC2",
    SAGEMAKER_EVENT_SOURCE: "SageMaker",
    ECS_EVENT_SOURCE: "ECS",
    EKS_EVENT_SOURCE: "EKS",
    EMR_EVENT_SOURCE: "EMR",
    BATCH_EVENT_SOURCE: "Batch",
    LIGHTSAIL_EVENT_SOURCE: "Lightsail",
    CODEBUILD_EVENT_SOURCE: "CodeBuild",
    AMPLIFY_EVENT_SOURCE: "Amplify",
    LAMBDA_EVENT_SOURCE: "Lambda",
}
LAUNCH_EVENT_NAMES = frozenset().union(*LAUNCH_EVENTS.values())


def merged_events(*event_maps: dict) -> dict:
    """eventSource -> eventNames maps joined: what a rule matching several kinds of call reads."""
    return {
        source: frozenset().union(*(m.get(source, ()) for m in event_maps))
        for m in event_maps
        for source in m
    }


# Launch calls that only allow capacity, running none (Lambda's reserved concurrency): reported as
# potential, never summed, and not compute in a region for RegionSpread.
POTENTIAL_ONLY_EVENTS = {
    LAMBDA_EVENT_SOURCE: frozenset({"PutFunctionConcurrency20171031", "PutFunctionConcurrency"})
}


def is_potential_only(event: Mapping) -> bool:
    view = read_view(event)
    return event_name(view) in POTENTIAL_ONLY_EVENTS.get(as_text(view.get("eventSource")), ())


# Calls that make a place for compute in a region without adding capacity themselves (an empty
# ECS cluster): what RegionSpread counts besides launches, as campaigns create clusters in every
# region before they run tasks there.
CLUSTER_EVENTS = {ECS_EVENT_SOURCE: frozenset({"CreateCluster"})}
# What a ledger record's call does to capacity: new instances, or a new size for one that exists
# (ModifyInstanceAttribute of instanceType: its vCPUs and accelerators from its next start).
CHANGE_LAUNCH = "launch"
CHANGE_RESIZE = "resize"
# Services that launch instances for a request this pack already counted (an auto scaling group,
# an EC2 or Spot fleet, an EKS node group, an EMR cluster, a Batch compute environment): their
# own launch calls (RunInstances, and the groups and fleets EKS and Batch create) are the same
# capacity again. Application Auto Scaling's calls (an ECS service's UpdateService, a Spot Fleet's
# ModifySpotFleetRequest, EMR's groups, Lambda's provisioned concurrency) follow the scaling a
# person set up, as an auto scaling group's own launches do: not a person's request. The sizes its
# resizes give are kept (ec2_launch_templates.keep_group_size).
ON_BEHALF_SERVICES = frozenset(
    {
        "autoscaling.amazonaws.com",
        "ec2fleet.amazonaws.com",
        "spotfleet.amazonaws.com",
        "eks.amazonaws.com",
        "eks-nodegroup.amazonaws.com",
        "elasticmapreduce.amazonaws.com",
        "batch.amazonaws.com",
        "application-autoscaling.amazonaws.com",  # a role of its own (EMR's, older ECS setups)
        "ecs.application-autoscaling.amazonaws.com",  # its service-linked roles, per namespace
        "ec2.application-autoscaling.amazonaws.com",
        "lambda.application-autoscaling.amazonaws.com",
    }
)

OUTCOME_SUCCESS = "success"
OUTCOME_FAILURE = "failure"
OUTCOME_DRY_RUN = "dry_run"

# One RunInstances item cannot ask for more than an account's instance quota; a larger value is
# junk, and clamping it keeps totals, titles and alert context bounded.
MAX_COUNT = 1_000_000
# Longest instance type name kept (the longest real one is about 20 characters).
MAX_INSTANCE_TYPE_LENGTH = 64
# Longest launch template ID, name or version kept (AWS allows 128-character names).
MAX_TEMPLATE_REF_LENGTH = 128
# Instances one StartInstances call is read for (AWS accepts at most 1,000 IDs per call).
MAX_STARTED_INSTANCES = 1000
# How many instance IDs the alert context lists.
MAX_LISTED_INSTANCE_IDS = 20
MAX_ERROR_MESSAGE_LENGTH = 500

_EVENT_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?\s*(Z|[+-]\d{2}:?\d{2})?$"
)


# --- Safe readers ---------------------------------------------------------------------------------


# Parsed JSON is made of plain dicts and lists: the readers test for those first, since an
# isinstance check against the Mapping/Sequence ABCs costs several times more.


def as_mapping(value: Any) -> Mapping:
    return value if value.__class__ is dict or isinstance(value, Mapping) else {}


def read_view(event: Any) -> Mapping:
    """The event for reading only. A PantherEvent wraps every nested object it hands out in a new
    immutable, case-insensitive mapping; panther_core's `raw_view()` gives the wrapped data
    without copying, for code that never writes to it (every reader here). Events without it
    (plain dicts, older panther_core) are read as they are."""
    raw_view = getattr(event, "raw_view", None)
    if raw_view is not None:
        view = raw_view()
        if view.__class__ is dict or isinstance(view, Mapping):
            return view
    return as_mapping(event)


def as_sequence(value: Any) -> Sequence:
    if value.__class__ is list:
        return value
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray)):
        return value
    return ()


def dig(value: Any, *path: str) -> Any:
    """The value at a path of mapping keys, or None where any step is missing or not a mapping."""
    for key in path:
        if value.__class__ is not dict and not isinstance(value, Mapping):
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


MAX_EVENT_EPOCH = 253402214400  # 9999-12-31T00:00:00Z: its UTC day still ends in year 9999


def event_time_epoch(event: Mapping) -> float | None:
    """`eventTime` as UTC epoch seconds; accepts CloudTrail's "2024-08-01T11:30:23Z" and Panther's
    normalized "2024-12-16 18:41:07.000000000". None when absent, unparseable or outside
    1970-9999."""
    return _per_event("epoch", event, _event_time_epoch)


def _event_time_epoch(event: Mapping) -> float | None:
    epoch = _parse_event_time(as_text(read_view(event).get("eventTime")).strip())
    # An offset can move year 1 or 9999 out of what dates can hold: such a time is unusable.
    return epoch if epoch is not None and 0 <= epoch <= MAX_EVENT_EPOCH else None


def _parse_event_time(text: str) -> float | None:
    if len(text) == 20 and text[4] == text[7] == "-" and text[10] == "T" and text[19] == "Z":
        try:  # CloudTrail's own "2024-08-01T11:30:23Z", parsed in C
            return datetime.fromisoformat(text).timestamp()
        except ValueError:
            pass  # the pattern below says why not
    match = _EVENT_TIME.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=UTC,
        )
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
    template: "TemplateRef | None"  # the launch template or configuration the call names
    requested_instance_count: int
    launched_instance_count: int
    requested_vcpus: int  # the request's lower bound: where AWS may choose among several
    launched_vcpus: int  # types (fleets, mixed-instances groups), its smallest
    requested_accelerators: int
    launched_accelerators: int
    unknown_instance_types: tuple  # types the catalog does not know (vCPUs counted as 0)
    instance_ids: tuple
    subnet_id: str  # from the request, its first network interface, or the first instance
    max_capacity: int  # auto scaling groups: how far the group may grow (maxSize); else 0
    launches_later: bool  # AWS launches the requested capacity after the call (fleet, spot, ASG)
    requested_vcpus_max: int = 0  # the request's upper bound: all of it of its largest type
    requested_accelerators_max: int = 0
    template_types: tuple = ()  # the types of the named template, where the pack saw it defined
    change: str = CHANGE_LAUNCH  # CHANGE_LAUNCH or CHANGE_RESIZE
    task_size: "TaskSize | None" = None  # ECS: what one task asks for, where known

    @property
    def uses_launch_template(self) -> bool:
        return self.template is not None

    @property
    def needs_template(self) -> bool:
        """Priced only by what it names: a template without a type of its own, a task
        definition without a size of its own (refusals, services)."""
        if self.template is None:
            return False
        if self.template.kind in TASK_SIZED:
            return self.task_size is None and not self.launched_vcpus
        return not self.instance_types

    @property
    def instance_types(self) -> tuple:
        """Requested and launched types, requested first, each once."""
        return tuple(dict.fromkeys(self.requested_instance_types + self.launched_instance_types))

    @property
    def vcpus(self) -> int:
        """vCPUs launched; for a call that launched nothing (an error, a dry run, or capacity AWS
        launches later: fleets, spot requests, auto scaling groups), vCPUs requested."""
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


def event_name(event: Mapping) -> str:
    """`eventName`, or "" when it is not a string (any JSON value in a malformed record): what
    rules look up first, as it rejects almost every event."""
    name = read_view(event).get("eventName")
    return name if isinstance(name, str) else ""


def is_launch_event(event: Mapping) -> bool:
    """Whether the event is an API call this helper reads as a change of compute capacity: a
    launch (any launch API) or a resize (ModifyInstanceAttribute of instanceType; its other
    attributes, termination protection or user data, change no capacity)."""
    name = event_name(event)
    if name not in LAUNCH_EVENT_NAMES:
        return False
    view = read_view(event)
    source = view.get("eventSource")
    if not isinstance(source, str) or name not in LAUNCH_EVENTS.get(source, ()):
        return False
    if source == APPLICATION_AUTOSCALING_EVENT_SOURCE:
        return bool(scaled_group(view).name)  # a table's or a stream's scaling is no compute
    return name != "ModifyInstanceAttribute" or bool(_resized_to(view))


def is_vcpus_only(event: Mapping) -> bool:
    """Whether a launch call is counted by its vCPUs only, never by number (VCPUS_ONLY_EVENTS);
    an Application Auto Scaling call as its group's service's calls are (an ECS service's)."""
    view = read_view(event)
    scaled = scaled_group(view).source
    if scaled:  # a service counted by vCPUs only (ECS), or by number too (EC2)
        return LAUNCH_EVENTS[scaled] <= VCPUS_ONLY_EVENTS.get(scaled, frozenset())
    return event_name(view) in VCPUS_ONLY_EVENTS.get(as_text(view.get("eventSource")), ())


def is_cluster_event(event: Mapping) -> bool:
    """Whether the event creates a place for compute in a region (CLUSTER_EVENTS)."""
    view = read_view(event)
    source = view.get("eventSource")
    return isinstance(source, str) and event_name(view) in CLUSTER_EVENTS.get(source, ())


def _resized_to(event: Mapping) -> str:
    """The new type of a ModifyInstanceAttribute call that changes `instanceType` (written as
    `instanceType: {"value": ...}` or `attribute: instanceType, value: ...`), else ""."""
    request = as_mapping(event.get("requestParameters"))
    value = request.get("instanceType")
    if value is None and request.get("attribute") == "instanceType":
        value = request.get("value")
    return normalize_instance_type(value)


class Outcome(NamedTuple):
    kind: str  # OUTCOME_SUCCESS, OUTCOME_DRY_RUN or OUTCOME_FAILURE
    error_code: str


def launch_outcome(event: Mapping) -> Outcome:
    """The outcome and error code, from the call's error code alone: one field, so rules can reject
    dry runs and errors before they summarize the launch. A dry run is its own outcome: AWS
    answers a permitted dry run with the error `Client.DryRunOperation` (an unauthorized one
    gets `UnauthorizedOperation`). The summary's outcome differs in one case only: a success
    that launched nothing (an instant fleet refused it all) is a failure there."""
    error_code = as_text(read_view(event).get("errorCode"))
    if not error_code:
        return Outcome(OUTCOME_SUCCESS, "")
    if error_code.endswith("DryRunOperation"):
        return Outcome(OUTCOME_DRY_RUN, error_code)
    return Outcome(OUTCOME_FAILURE, error_code)


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


MAX_LIST_WRAPPERS = 4  # {"items": {"item": [...]}} is as deep as CloudTrail goes


def listed(value: Any) -> list[Mapping]:
    """The objects of a CloudTrail list, however it was serialised: a JSON array, one bare object
    (the query protocol writes a one-item list as the item itself, with a "tag" key), or either
    of those wrapped in "item" / "items"."""
    unwrapped = 0
    while value.__class__ is dict or isinstance(value, Mapping):
        # {"item": [...]}, {"items": ...}, or either with "tag"
        wrapper = next((w for w in ("item", "items") if w in value and len(value) <= 2), None)
        if wrapper is None:
            return [value]
        if unwrapped == MAX_LIST_WRAPPERS:
            return []  # wrapped deeper than any serialisation does: junk
        value, unwrapped = value[wrapper], unwrapped + 1
    return [
        item for item in as_sequence(value) if item.__class__ is dict or isinstance(item, Mapping)
    ]


class TemplateRef(NamedTuple):
    """A launch template (by ID or name, at a version) or launch configuration a call names."""

    kind: str  # LAUNCH_TEMPLATE, LAUNCH_CONFIGURATION, TASK_DEFINITION, FUNCTION, ...
    ref: str  # the template's ID or name; the configuration's name; the task family
    version: str  # "$Default", "$Latest" or a number; "" for launch configurations

    def __str__(self) -> str:
        return f"{self.ref}@{self.version}" if self.version else self.ref


LAUNCH_TEMPLATE = "launch-template"
LAUNCH_CONFIGURATION = "launch-configuration"
TASK_DEFINITION = "task-definition"
ENDPOINT_CONFIG = "endpoint-config"  # a SageMaker endpoint config: its variants' types and counts
FUNCTION = "function"  # a Lambda function: its memory, as one environment's vCPU share
JOB_DEFINITION = "job-definition"  # a Batch job definition's revisions: one job's size
AMPLIFY_APP = "amplify-app"  # an Amplify app: its build compute type
BUILD_PROJECT = "build-project"  # a CodeBuild project: its compute type
SCALING_POLICY = "scaling-policy"  # an auto scaling group's policy: its adjustment
# Kinds of definition that give one task's (job's, environment's) size rather than types.
TASK_SIZED = frozenset({TASK_DEFINITION, FUNCTION, JOB_DEFINITION})


def _named_ref(kind: str, name: str) -> TemplateRef | None:
    """A definition known by its name alone (no versions), or None without a name."""
    name = name.strip()[:MAX_TEMPLATE_REF_LENGTH]
    return TemplateRef(kind, name, "") if name else None


def template_ref(spec: Any, kind: str = LAUNCH_TEMPLATE) -> TemplateRef | None:
    """The template a launch names, from any casing of {LaunchTemplateId | LaunchTemplateName,
    Version} (RunInstances and auto scaling write camelCase, CreateFleet PascalCase; EKS's node
    groups write {id | name, version})."""
    spec = as_mapping(spec)
    ref = ""
    keys = ("launchTemplateId", "LaunchTemplateId", "launchTemplateName", "LaunchTemplateName")
    for key in (*keys, "id", "name"):
        ref = as_text(spec.get(key)).strip()
        if ref:
            break
    if not ref:
        return None
    version = as_text(spec.get("version", spec.get("Version"))).strip() or "$Default"
    return TemplateRef(kind, ref[:MAX_TEMPLATE_REF_LENGTH], version[:MAX_TEMPLATE_REF_LENGTH])


class _Request(NamedTuple):
    """What one launch API call asked for, whatever its shape."""

    instance_types: tuple
    instance_count: int
    launches_later: bool  # AWS launches the capacity after the call (fleets, spot, ASGs)
    subnet_id: str = ""
    template: TemplateRef | None = None
    vcpus_per_instance: int | None = None  # from cpuOptions in the request, if set
    vcpu_capacity: int | None = None  # capacity in vCPUs (fleets with TargetCapacityUnitType vcpu)
    max_capacity: int = 0  # auto scaling groups, EKS node groups: their maximum size
    groups: tuple = ()  # (type, count) of requests that name each group's size (SageMaker)
    task_size: "TaskSize | None" = None  # ECS: one task's size, where the request sets it


def _types(*values: Any) -> tuple:
    return tuple(dict.fromkeys(t for t in map(normalize_instance_type, values) if t))


def _override_types(overrides: Iterable[Mapping], type_key: str = "instanceType") -> list:
    """The types a fleet's or group's overrides name: each override's type (`type_key`), and the
    smallest and largest type its attribute-based requirements allow (see requirement_types)."""
    overrides = list(overrides)
    return [o.get(type_key) for o in overrides] + _requirements_types(overrides)


def _mixed_instances(config: Mapping) -> tuple[Any, list]:
    """(the launch template part of a mixed instances policy, the types its overrides name) of
    an auto scaling group's configuration (its request, or a refresh's desired configuration)."""
    policy_template = dig(config, "mixedInstancesPolicy", "launchTemplate")
    return policy_template, _override_types(listed(dig(policy_template, "overrides")))


# --- Attribute-based instance requirements -------------------------------------------------------
# Fleets and mixed-instances groups may name vCPU and accelerator counts instead of types
# (InstanceRequirements: PascalCase in CreateFleet, camelCase in auto scaling and Spot Fleet). AWS
# then picks among every type that meets them, cheapest first: priced here by the smallest and
# largest such type, so a request for 8 GPUs a node is 8 GPUs at least. Accelerated types count
# only when the requirements ask for accelerators (a count of at least 1, or their types, makers
# or names): without that, AWS's cheapest picks are not accelerated.
_ACCELERATOR_MAKERS = {
    "amazon-web-services": ("aws", "trainium", "trainium2"),
    "amd": ("amd",),
    "nvidia": ("nvidia",),
    "xilinx": ("xilinx",),
    "habana": ("habana",),
}
_NO_LIMIT = 1 << 30


def _key_any_case(mapping: Any, name: str) -> Any:
    mapping = as_mapping(mapping)
    value = mapping.get(name)
    return value if value is not None else mapping.get(name[0].upper() + name[1:])


def _range(value: Any) -> tuple[int | None, int | None]:
    return (as_count(_key_any_case(value, "min")), as_count(_key_any_case(value, "max")))


def requirement_types(requirements: Any) -> tuple:
    """The smallest and largest EC2 type that attribute-based instance requirements let AWS
    choose; () without requirements or when no catalog type meets them."""
    if not as_mapping(requirements):
        return ()
    low_vcpus, high_vcpus = _range(_key_any_case(requirements, "vCpuCount"))
    low_accel, high_accel = _range(_key_any_case(requirements, "acceleratorCount"))
    kinds = frozenset(
        as_text(k).lower() for k in _ids(_key_any_case(requirements, "acceleratorTypes"))
    )
    makers = frozenset(
        maker
        for m in _ids(_key_any_case(requirements, "acceleratorManufacturers"))
        for maker in _ACCELERATOR_MAKERS.get(as_text(m).lower(), (as_text(m),))
    )
    names = _ids(_key_any_case(requirements, "acceleratorNames"))
    asks_accelerators = bool((low_accel or 0) >= 1 or kinds or makers or names)
    if asks_accelerators:
        accelerators = (max(low_accel or 0, 1), high_accel if high_accel is not None else _NO_LIMIT)
    else:
        accelerators = (0, 0)
    vcpus = (low_vcpus or 0, high_vcpus if high_vcpus is not None else _NO_LIMIT)
    met = types_meeting(vcpus, accelerators, kinds, makers)
    if not met:
        return ()

    def size(name):
        spec = instance_type_spec(name)
        return spec.accelerators, spec.vcpus, name  # names are unique: no ties

    ranked = sorted(met, key=size)  # each type's spec read once
    return tuple(dict.fromkeys((ranked[0], ranked[-1])))


def _requirements_types(overrides: Iterable) -> list:
    return [
        t for o in overrides for t in requirement_types(_key_any_case(o, "instanceRequirements"))
    ]


def _count_or(value: Any, default: int) -> int:
    count = as_count(value)
    return default if count is None else count


def _run_instances_request(request: Mapping) -> _Request:
    return _Request(
        instance_types=_types(request.get("instanceType")),
        instance_count=requested_instance_count(request),
        subnet_id=as_text(request.get("subnetId"))
        or as_text(dig(_first(dig(request, "networkInterfaceSet", "items")), "subnetId")),
        template=template_ref(request.get("launchTemplate")),
        vcpus_per_instance=_vcpus_from_cpu_options(request.get("cpuOptions")),
        launches_later=False,
    )


def _create_fleet_request(request: Mapping) -> _Request:
    fleet = as_mapping(request.get("CreateFleetRequest"))
    capacity = as_mapping(fleet.get("TargetCapacitySpecification"))
    total = _count_or(capacity.get("TotalTargetCapacity"), 1)
    in_vcpus = as_text(capacity.get("TargetCapacityUnitType")).lower() == "vcpu"
    configs = fleet.get("LaunchTemplateConfigs")
    overrides = [o for c in listed(configs) for o in listed(c.get("Overrides"))]
    return _Request(
        instance_types=_types(*_override_types(overrides, "InstanceType")),
        instance_count=1 if in_vcpus else total,
        subnet_id=next((as_text(o.get("SubnetId")) for o in overrides if o.get("SubnetId")), ""),
        template=_first_template(configs, "LaunchTemplateSpecification"),
        vcpu_capacity=total if in_vcpus else None,
        launches_later=as_text(fleet.get("Type")).lower() != "instant",
    )


def _launch_specification_request(request: Mapping, launches_later: bool) -> _Request:
    """RequestSpotInstances and RunScheduledInstances: `instanceCount` instances of the
    `launchSpecification`'s type; spot requests are launched by AWS after the call."""
    spec = as_mapping(request.get("launchSpecification"))
    return _Request(
        instance_types=_types(spec.get("instanceType")),
        instance_count=_count_or(request.get("instanceCount"), 1),
        subnet_id=as_text(spec.get("subnetId")),
        launches_later=launches_later,
    )


def _request_spot_fleet_request(request: Mapping) -> _Request:
    config = as_mapping(request.get("spotFleetRequestConfig"))
    specs = listed(config.get("launchSpecifications"))
    template_types = _override_types(
        o for c in listed(config.get("launchTemplateConfigs")) for o in listed(c.get("overrides"))
    )
    total = _count_or(config.get("targetCapacity"), 1)
    in_vcpus = as_text(config.get("targetCapacityUnitType")).lower() == "vcpu"
    return _Request(
        instance_types=_types(*(spec.get("instanceType") for spec in specs), *template_types),
        instance_count=1 if in_vcpus else total,
        subnet_id=next((as_text(s.get("subnetId")) for s in specs if s.get("subnetId")), ""),
        template=_first_template(
            config.get("launchTemplateConfigs"), "launchTemplateSpecification"
        ),
        vcpu_capacity=total if in_vcpus else None,
        launches_later=True,
    )


def _auto_scaling_group_request(request: Mapping) -> _Request:
    """Create/UpdateAutoScalingGroup: the group launches `desiredCapacity` now (AWS sets it to
    `minSize` when absent) and may grow to `maxSize`, which is reported apart."""
    policy_template, override_types = _mixed_instances(request)
    return _Request(
        instance_types=_types(*override_types),
        instance_count=desired_or_minimum(request) or 0,
        subnet_id=as_text(request.get("vPCZoneIdentifier")).split(",")[0].strip(),
        template=_auto_scaling_template(request, policy_template),
        max_capacity=_count_or(request.get("maxSize"), 0),
        launches_later=True,
    )


def _instance_refresh_request(request: Mapping) -> _Request:
    """StartInstanceRefresh: the group's instances replaced by its `desiredConfiguration` (a
    launch template, or a mixed instances policy), or by its own configuration when it names
    none. How many: the group's remembered size (ec2_launch_templates), counted only when the
    types change."""
    desired = as_mapping(request.get("desiredConfiguration"))
    policy_template, override_types = _mixed_instances(desired)
    return _Request(
        instance_types=_types(*override_types),
        instance_count=0,
        template=_auto_scaling_template(desired, policy_template),
        launches_later=True,
    )


def _first_template(configs: Any, spec_key: str) -> TemplateRef | None:
    """The first template a fleet's launch template configs name (CreateFleet writes the spec's
    key in PascalCase, RequestSpotFleet in camelCase)."""
    return next(filter(None, (template_ref(c.get(spec_key)) for c in listed(configs))), None)


def _auto_scaling_template(request: Mapping, policy_template: Any) -> TemplateRef | None:
    configuration = _named_ref(
        LAUNCH_CONFIGURATION, as_text(request.get("launchConfigurationName"))
    )
    if configuration:
        return configuration
    return template_ref(request.get("launchTemplate")) or template_ref(
        dig(policy_template, "launchTemplateSpecification")
    )


def _resize_request(request: Mapping) -> _Request:
    """ModifyInstanceAttribute of instanceType: one instance, at its new size."""
    return _Request(
        instance_types=_types(_resized_to({"requestParameters": request})),
        instance_count=1,
        launches_later=True,  # the new size runs from the instance's next start
    )


# ModifyFleet and ModifySpotFleetRequest: shapes inferred from the API references, written the way
# CloudTrail writes CreateFleet (a PascalCase "ModifyFleetRequest" wrapper) and RequestSpotFleet
# (camelCase); the other casing is read too.
class FleetResize(NamedTuple):
    fleet: str  # the EC2 Fleet or Spot Fleet request ID, "" when the call names none
    target: int | None  # the target capacity it sets, None when unknown


def _fleet_resize(event: Mapping) -> FleetResize:
    """The EC2 Fleet or Spot Fleet request an EC2 fleet call names and the target capacity it
    sets: CreateFleet and RequestSpotFleet from their responses, ModifyFleet and
    ModifySpotFleetRequest from their requests."""
    view = read_view(event)
    name = as_text(view.get("eventName"))
    request = as_mapping(view.get("requestParameters"))
    response = as_mapping(view.get("responseElements"))
    if name == "CreateFleet":
        fleet = dig(response, "CreateFleetResponse", "fleetId")
        return FleetResize(
            as_text(fleet), as_count(_target_capacity(request.get("CreateFleetRequest")))
        )
    if name == "ModifyFleet":
        wrapper = as_mapping(request.get("ModifyFleetRequest") or request)
        fleet = wrapper.get("FleetId") or wrapper.get("fleetId")
        return FleetResize(as_text(fleet), as_count(_target_capacity(request)))
    if name == "RequestSpotFleet":
        config = as_mapping(request.get("spotFleetRequestConfig"))
        fleet = response.get("spotFleetRequestId") or dig(
            response, "RequestSpotFleetResponse", "spotFleetRequestId"
        )
        return FleetResize(as_text(fleet), as_count(config.get("targetCapacity")))
    if name == "ModifySpotFleetRequest":
        fleet = request.get("spotFleetRequestId") or request.get("SpotFleetRequestId")
        return FleetResize(as_text(fleet), as_count(_target_capacity(request)))
    return FleetResize("", None)


def _target_capacity(request: Any) -> Any:
    """The target capacity a fleet call sets, in either casing: an EC2 Fleet's
    TargetCapacitySpecification (under its "ModifyFleetRequest" wrapper or not), a Spot Fleet
    request's targetCapacity."""
    request = as_mapping(request)
    wrapper = as_mapping(request.get("ModifyFleetRequest") or request)
    capacity = as_mapping(
        wrapper.get("TargetCapacitySpecification") or wrapper.get("targetCapacitySpecification")
    )
    if capacity:
        return capacity.get("TotalTargetCapacity", capacity.get("totalTargetCapacity"))
    return wrapper.get("targetCapacity", wrapper.get("TargetCapacity"))


def fleet_in_vcpus(event: Mapping) -> bool:
    """Whether a CreateFleet or RequestSpotFleet sets its target capacity in vCPUs."""
    request = as_mapping(read_view(event).get("requestParameters"))
    unit = dig(
        request, "CreateFleetRequest", "TargetCapacitySpecification", "TargetCapacityUnitType"
    ) or dig(request, "spotFleetRequestConfig", "targetCapacityUnitType")
    return as_text(unit).lower() == "vcpu"


def _modify_fleet_request(request: Mapping) -> _Request:
    """ModifyFleet and ModifySpotFleetRequest: the fleet's new target capacity (units, read as
    instances); its types, and the size it grows from, are what the pack remembered of the
    fleet (ec2_launch_templates), else the size counts whole, by number."""
    return _Request(
        instance_types=(),
        instance_count=_count_or(_target_capacity(request), 0),
        launches_later=True,
    )


def _set_desired_capacity_request(request: Mapping) -> _Request:
    """SetDesiredCapacity: the group's new size; its types, and the size it grows from, are
    what the pack remembered of the group (ec2_launch_templates), else the size counts whole."""
    return _Request(
        instance_types=(),
        instance_count=_count_or(request.get("desiredCapacity"), 0),
        launches_later=True,
    )


def _scalable_target_request(request: Mapping) -> _Request:
    """RegisterScalableTarget and PutScheduledAction: the minimum they set, in the group's units
    (an ECS service's tasks, a Spot Fleet's target capacity); its price, and the size it grows
    from, are what the pack remembered of the group (ec2_launch_templates)."""
    return _Request(
        instance_types=(), instance_count=scalable_minimum(request) or 0, launches_later=True
    )


def _scheduled_action_request(request: Mapping) -> _Request:
    """PutScheduledUpdateGroupAction: the size the group is given at the action's time (its
    `desiredCapacity`, else its `minSize`: AWS raises the group to a new minimum), counted when
    the action is put, as growth over the group's last known size like SetDesiredCapacity."""
    return _Request(
        instance_types=(), instance_count=desired_or_minimum(request) or 0, launches_later=True
    )


def desired_or_minimum(request: Mapping) -> int | None:
    """The size an auto scaling call gives a group: `desiredCapacity`, else `minSize` (AWS sets
    a new group's desired capacity to its minimum, and raises a group to a new minimum)."""
    desired = as_count(request.get("desiredCapacity"))
    return desired if desired is not None else as_count(request.get("minSize"))


def gives_minimum_only(event: Mapping) -> bool:
    """Whether an auto scaling call gives its group a minimum and no desired size (Application
    Auto Scaling's always do): AWS raises the group to that minimum, and never lowers it (its
    size is the larger of the two)."""
    view = read_view(event)
    request = as_mapping(view.get("requestParameters"))
    source = as_text(view.get("eventSource"))
    if source == APPLICATION_AUTOSCALING_EVENT_SOURCE:
        return scalable_minimum(request) is not None
    return (
        source == AUTOSCALING_EVENT_SOURCE
        and as_count(request.get("desiredCapacity")) is None
        and as_count(request.get("minSize")) is not None
    )


def policy_arn_parts(policy: Any) -> tuple[str, str]:
    """(group, policy name) of a scaling policy's ARN ("arn:aws:autoscaling:...:scalingPolicy:
    <id>:autoScalingGroupName/<group>:policyName/<policy>"), each "" where it names none; split
    as the data-lake queries split it (launch_calls.sql)."""
    text = as_text(policy).strip()
    group = text.partition(":autoScalingGroupName/")[2].partition(":policyName/")[0]
    return group, text.partition(":policyName/")[2].partition(":policyName/")[0]


def scaling_policy_ref(group: Any, policy: Any) -> TemplateRef | None:
    """A group's scaling policy, by "group/policy". ExecutePolicy may name the policy by its
    ARN, and then need not name the group: the ARN does."""
    arn_group, arn_name = policy_arn_parts(policy)
    name = arn_name or as_text(policy).strip()
    group_name = as_text(group).strip() or arn_group
    if not name or not group_name:
        return None
    return _named_ref(SCALING_POLICY, f"{group_name}/{name}")


def _execute_policy_request(request: Mapping) -> _Request:
    """ExecutePolicy: the group's size after its policy's adjustment (remembered from
    PutScalingPolicy), worked out from the group's last known size in ec2_launch_templates."""
    policy = scaling_policy_ref(request.get("autoScalingGroupName"), request.get("policyName"))
    return _Request(instance_types=(), instance_count=0, launches_later=True, template=policy)


def adjusted_size(last: int, adjustment_type: str, adjustment: int) -> int:
    """A group's size after a scaling adjustment (ChangeInCapacity, ExactCapacity or
    PercentChangeInCapacity, AWS's adjustment types) from `last`."""
    if adjustment_type == "ExactCapacity":
        return max(adjustment, 0)
    if adjustment_type == "PercentChangeInCapacity":
        return max(last + math.ceil(last * adjustment / 100), 0)
    return max(last + adjustment, 0)


# Application Auto Scaling's namespaces whose resources are compute the pack sizes: the service
# whose group a `resourceId` names ("service/<cluster>/<service>", "spot-fleet-request/<id>"), and
# the group's name as that service's own calls name it (capacity_group_name). EMR's instance groups
# are left out: their resizes are counted by number only, and this call is counted by vCPUs only.
SCALABLE_RESOURCES = {
    "ecs": (ECS_EVENT_SOURCE, re.compile(r"^service/([^/]+/[^/]+)$")),
    "ec2": (EC2_EVENT_SOURCE, re.compile(r"^spot-fleet-request/([^/]+)$")),
}


class ScaledGroup(NamedTuple):
    source: str  # the eventSource of the service whose group it is, "" for none
    name: str  # the group's name, as capacity_group_name gives it for that service's calls


def scaled_group(event: Mapping) -> ScaledGroup:
    """The compute group an Application Auto Scaling call names (SCALABLE_RESOURCES), else
    ("", "") (another namespace, a malformed resource ID, or another service's call)."""
    view = read_view(event)
    request = as_mapping(view.get("requestParameters"))
    resource = SCALABLE_RESOURCES.get(as_text(request.get("serviceNamespace")))
    if as_text(view.get("eventSource")) != APPLICATION_AUTOSCALING_EVENT_SOURCE or not resource:
        return ScaledGroup("", "")
    match = resource[1].match(as_text(request.get("resourceId")))  # as AWS names it, as the SQL
    return ScaledGroup(resource[0], match.group(1)) if match else ScaledGroup("", "")


def capacity_source(event: Mapping) -> str:
    """The service whose capacity a call changes: its own (eventSource), or the one whose group
    an Application Auto Scaling call sizes."""
    return scaled_group(event).source or as_text(read_view(event).get("eventSource"))


def scalable_minimum(request: Mapping) -> int | None:
    """The minimum an Application Auto Scaling call sets: RegisterScalableTarget's, or the one a
    scheduled action sets at its time (counted when it is put, as PutScheduledUpdateGroupAction);
    AWS raises the group to it at once (at the action's time), and never lowers it for it."""
    return as_count(request.get("minCapacity", dig(request, "scalableTargetAction", "minCapacity")))


def capacity_group_name(event: Mapping) -> str:
    """The group a sizing call names: an auto scaling group; an ECS service ("cluster/service",
    by name or ARN); an EKS node group ("cluster/nodegroup"); a Batch compute environment; an EMR
    instance group or fleet (where the call resizes one). "" when it names none."""
    view = read_view(event)
    request = as_mapping(view.get("requestParameters"))
    source = as_text(view.get("eventSource"))
    if source == ECS_EVENT_SOURCE:
        service = as_text(request.get("serviceName") or request.get("service")).strip()
        cluster = as_text(request.get("cluster")).strip() or "default"
        name = f"{_last(cluster)}/{_last(service)}" if service else ""
    elif source == EKS_EVENT_SOURCE:
        cluster = as_text(request.get("clusterName") or request.get("name")).strip()
        nodegroup = as_text(request.get("nodegroupName")).strip()
        name = f"{cluster}/{nodegroup}" if nodegroup else ""
    elif source == BATCH_EVENT_SOURCE:
        name = _last(
            as_text(
                request.get("computeEnvironmentName") or request.get("computeEnvironment")
            ).strip()
        )
    elif source == EMR_EVENT_SOURCE:
        groups = listed(request.get("instanceGroups"))
        name = as_text(dig(request, "instanceFleet", "instanceFleetId")) or (
            as_text(groups[0].get("instanceGroupId")) if len(groups) == 1 else ""
        )
    elif source == EC2_EVENT_SOURCE:
        name = _fleet_resize(view).fleet.strip()
    elif source == APPLICATION_AUTOSCALING_EVENT_SOURCE:
        name = scaled_group(view).name
    else:  # ExecutePolicy may name its group only in its policy's ARN
        name = as_text(request.get("autoScalingGroupName")).strip()
        name = name or policy_arn_parts(request.get("policyName"))[0]
    return name[:MAX_TEMPLATE_REF_LENGTH]


def _last(name_or_arn: str) -> str:
    return name_or_arn.rsplit("/", 1)[-1]


def group_size(event: Mapping) -> int | None:
    """The size a sizing call gives its group, or None when it sets none (an update of other
    settings, or of the maximum alone): instances (auto scaling groups, EKS node groups, EMR
    groups and fleets), tasks (ECS services), or vCPUs (Batch compute environments)."""
    view = read_view(event)
    request = as_mapping(view.get("requestParameters"))
    source = as_text(view.get("eventSource"))
    if source in (ECS_EVENT_SOURCE, EKS_EVENT_SOURCE):  # a service's tasks, a node group's nodes
        return as_count(request.get("desiredCount", dig(request, "scalingConfig", "desiredSize")))
    if source == BATCH_EVENT_SOURCE:
        return batch_vcpus(request)
    if source == EMR_EVENT_SOURCE:
        return _emr_group_size(event, request)
    if source == EC2_EVENT_SOURCE:
        return _fleet_resize(view).target
    if source == APPLICATION_AUTOSCALING_EVENT_SOURCE:  # a new minimum (gives_minimum_only)
        return scalable_minimum(request)
    return desired_or_minimum(request)  # an auto scaling group: desired, else a new minimum


def _emr_group_size(event: Mapping, request: Mapping) -> int | None:
    """An EMR group's or fleet's new size; a reconfiguration alone gives no count: no size."""
    fleet = as_mapping(request.get("instanceFleet"))
    counts = [group.get("instanceCount") for group in listed(request.get("instanceGroups"))]
    counts += [fleet.get("targetOnDemandCapacity"), fleet.get("targetSpotCapacity")]
    if not capacity_group_name(event) or all(as_count(c) is None for c in counts):
        return None
    return summarize_launch(event).requested_instance_count


def with_group_growth(
    summary: LaunchSummary, grown_by: int, types: Sequence, in_vcpus: bool = False
) -> LaunchSummary:
    """A group's resize priced as its growth (`grown_by` instances, or vCPUs for a Batch compute
    environment) of its remembered `types` (kept when the call names types of its own)."""
    types = summary.requested_instance_types or tuple(t for t in types if t)
    if in_vcpus:
        requested = requested_capacity(types, 0, None, grown_by) or _Capacity(
            0, grown_by, 0, grown_by, 0
        )
        grown_by = requested.instances
    else:
        requested = requested_capacity(types, grown_by) or _Capacity(grown_by, 0, 0, 0, 0)
    return summary._replace(
        requested_instance_types=types,
        requested_instance_count=grown_by,
        requested_vcpus=requested.vcpus,
        requested_vcpus_max=requested.vcpus_max,
        requested_accelerators=requested.accelerators,
        requested_accelerators_max=requested.accelerators_max,
    )


def _start_instances_request(request: Mapping) -> _Request:
    """StartInstances: stopped instances coming back, by ID; their types are what the pack
    remembered of their launch (ec2_launch_templates), else unknown (counted by number)."""
    ids = _started_ids(request)
    return _Request(instance_types=(), instance_count=len(ids), launches_later=False)


def started_instance_ids(event: Mapping) -> tuple:
    """The instance IDs a StartInstances call names (at most MAX_STARTED_INSTANCES)."""
    return _started_ids(as_mapping(read_view(event).get("requestParameters")))


def _started_ids(request: Mapping) -> tuple:
    items = listed(dig(request, "instancesSet", "items"))
    ids = (as_text(item.get("instanceId")) for item in items)
    return tuple(dict.fromkeys(i for i in ids if i))[:MAX_STARTED_INSTANCES]


def _ml_type(value: Any) -> str:
    """The EC2 type a SageMaker ml.* type runs on ("ml.p4d.24xlarge" -> "p4d.24xlarge")."""
    return normalize_instance_type(value).removeprefix("ml.")


def _typed_groups(groups: Iterable[tuple[Any, Any]], parallel: int = 1) -> _Request:
    """A request for (type, count) groups of instances (SageMaker's ml.* types read as the EC2
    types they run on), `parallel` times over (tuning jobs run that many training jobs at once);
    AWS launches them after the call."""
    sized = tuple(
        (t, n * parallel) for t, n in ((_ml_type(t), _count_or(n, 1)) for t, n in groups) if t
    )
    return _Request(
        instance_types=tuple(dict.fromkeys(t for t, _ in sized)),
        instance_count=sum(n for _, n in sized) or parallel,
        launches_later=True,
        groups=sized,
    )


def _resource_config_groups(config: Any) -> list[tuple[Any, Any]]:
    """A training job's resourceConfig: one type and count, or heterogeneous instanceGroups."""
    config = as_mapping(config)
    groups = [
        (g.get("instanceType"), g.get("instanceCount"))
        for g in listed(config.get("instanceGroups"))
    ]
    return groups or [(config.get("instanceType"), config.get("instanceCount"))]


def endpoint_variants(request: Mapping) -> tuple:
    """(ml.* type read as its EC2 type, initial instances) of a CreateEndpointConfig's
    instance-backed production variants (serverless variants run on no instance of a type)."""
    variants = (
        (_ml_type(v.get("instanceType")), _count_or(v.get("initialInstanceCount"), 1))
        for v in listed(request.get("productionVariants"))
    )
    return tuple((instance_type, count) for instance_type, count in variants if instance_type)


def _endpoint_request(request: Mapping) -> _Request:
    """CreateEndpoint and UpdateEndpoint: the instances of the endpoint config they name,
    remembered from CreateEndpointConfig (ec2_launch_templates) as a launch template is; an
    update deploys the new config's instances beside the old ones (blue/green), so it counts
    them all."""
    return _Request(
        instance_types=(),
        instance_count=0,
        template=_named_ref(ENDPOINT_CONFIG, as_text(request.get("endpointConfigName"))),
        launches_later=True,
    )


def with_template_groups(summary: LaunchSummary, groups: Sequence) -> LaunchSummary:
    """A call priced exactly by the (type, count) groups of the config it names."""
    capacity = _grouped_capacity(groups)
    types = tuple(dict.fromkeys(instance_type for instance_type, _ in groups))
    if capacity is None:  # a type the catalog does not know: by number only
        count = sum(count for _, count in groups)
        capacity = _Capacity(count, 0, 0, 0, 0)
    return summary._replace(
        requested_instance_types=types,
        template_types=types,
        requested_instance_count=min(capacity.instances, MAX_COUNT),
        requested_vcpus=capacity.vcpus,
        requested_vcpus_max=capacity.vcpus_max,
        requested_accelerators=capacity.accelerators,
        requested_accelerators_max=capacity.accelerators_max,
        unknown_instance_types=tuple(t for t in types if not _specs(t)),
    )


def _sagemaker_tuning_request(request: Mapping) -> _Request:
    definitions = [
        request.get("trainingJobDefinition"),
        *listed(request.get("trainingJobDefinitions")),
    ]
    groups = [
        g
        for d in definitions
        if isinstance(d, Mapping)
        for g in _resource_config_groups(d.get("resourceConfig"))
    ]
    limits = dig(request, "hyperParameterTuningJobConfig", "resourceLimits")
    parallel = _count_or(dig(limits, "maxParallelTrainingJobs"), 1)
    return _typed_groups(groups, parallel)


# --- ECS tasks ------------------------------------------------------------------------------------

CPU_UNITS_PER_VCPU = 1024  # ECS: "1 vCPU" is 1,024 CPU units
# ECS launch types and capacity providers that run tasks on EC2 instances: their capacity is
# counted when those instances launched, so the tasks add no vCPUs (counted by number only).
ECS_ON_INSTANCES = frozenset({"EC2", "EXTERNAL"})
ECS_FARGATE_PROVIDERS = frozenset({"FARGATE", "FARGATE_SPOT"})
_TASK_DEFINITION_ARN = re.compile(r"^arn:[^:]*:ecs:[^:]*:[^:]*:task-definition/(.+)$")
_CPU_TEXT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(vcpu)?\s*$", re.IGNORECASE)


class TaskSize(NamedTuple):
    """What one ECS task asks for."""

    cpu_units: int
    gpus: int

    def vcpus(self, tasks: int) -> int:
        """vCPUs of `tasks` tasks, rounded up once (four 0.25 vCPU tasks are one vCPU)."""
        return -(-tasks * self.cpu_units // CPU_UNITS_PER_VCPU)

    def capacity(self, tasks: int) -> "_Capacity":
        """What `tasks` tasks of this size ask for."""
        vcpus, gpus = self.vcpus(tasks), tasks * self.gpus
        return _Capacity(tasks, vcpus, gpus, vcpus, gpus)


def task_definition_ref(value: Any) -> TemplateRef | None:
    """The task definition a call names: "family" (its latest revision), "family:3", or the
    task definition's ARN."""
    return _revision_ref(TASK_DEFINITION, _TASK_DEFINITION_ARN, value)


def _revision_ref(kind: str, arn: re.Pattern, value: Any) -> TemplateRef | None:
    """A definition kept by revision (an ECS task definition, a Batch job definition), named as
    "name" (its latest revision), "name:3", or by an ARN that `arn` reads "name:3" from."""
    text = as_text(value).strip()
    match = arn.match(text)
    name, _, revision = (match.group(1) if match else text).partition(":")
    if not name:
        return None
    version = revision if revision.isdigit() else "$Latest"
    return TemplateRef(kind, name[:MAX_TEMPLATE_REF_LENGTH], version)


def _cpu_units(value: Any) -> int | None:
    """CPU units from 1024, "1024" or "1 vCPU"; None when absent or unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= MAX_COUNT else None
    return _text_units(value, 1) if isinstance(value, str) else None


def _text_units(text: str, units_per_number: int) -> int | None:
    """CPU units from "N vCPU", or from a bare number of `units_per_number` units each (ECS
    writes CPU units, Batch vCPUs); None when unreadable or beyond MAX_COUNT."""
    match = _CPU_TEXT.match(text)
    if match is None:
        return None
    amount = float(match.group(1)) * (CPU_UNITS_PER_VCPU if match.group(2) else units_per_number)
    return int(amount) if amount <= MAX_COUNT else None


def task_size(definition: Mapping) -> TaskSize | None:
    """One task's size from a task definition (or a RunTask's overrides): its task-level `cpu`,
    else its containers' `cpu` summed; GPUs from the containers' resourceRequirements. None when
    nothing sets the CPU (EC2 launch type tasks may leave it to the instance)."""
    containers = listed(
        definition.get("containerDefinitions") or definition.get("containerOverrides")
    )
    gpus = sum(
        _count_or(requirement.get("value"), 0)
        for container in containers
        for requirement in listed(container.get("resourceRequirements"))
        if as_text(requirement.get("type")).upper() == "GPU"
    )
    units = _cpu_units(definition.get("cpu"))
    if units is None:
        parts = [_cpu_units(container.get("cpu")) for container in containers]
        units = sum(part for part in parts if part) if any(parts) else None
    if units is None and not gpus:
        return None
    return TaskSize(min(units or 0, MAX_COUNT), min(gpus, MAX_COUNT))


def runs_on_instances(request: Mapping) -> bool:
    """Whether an ECS call places its tasks on EC2 container instances (launch type EC2 or
    EXTERNAL, or a capacity provider strategy without Fargate) rather than on Fargate."""
    launch_type = as_text(request.get("launchType")).upper()
    if launch_type:
        return launch_type in ECS_ON_INSTANCES
    providers = [
        as_text(item.get("capacityProvider")).upper()
        for item in listed(request.get("capacityProviderStrategy"))
    ]
    return bool(providers) and not ECS_FARGATE_PROVIDERS.intersection(providers)


def _ecs_request(request: Mapping, event_name: str) -> _Request:
    """RunTask (`count` tasks), StartTask (one per container instance named) and Create/
    UpdateService (`desiredCount`; an update's growth over the service's last known size is
    worked out in ec2_launch_templates): each task of the size its overrides set, else its task
    definition's (remembered from RegisterTaskDefinition, ec2_launch_templates)."""
    if event_name == "StartTask":
        count = len(_ids(request.get("containerInstances"))) or 1
    elif event_name in ("CreateService", "UpdateService"):
        count = _count_or(request.get("desiredCount"), 0)
    else:
        count = _count_or(request.get("count"), 1)
    on_instances = runs_on_instances(request)
    return _Request(
        instance_types=(),
        instance_count=count,
        template=None if on_instances else task_definition_ref(request.get("taskDefinition")),
        launches_later=event_name not in ("RunTask", "StartTask"),
        task_size=None if on_instances else task_size(as_mapping(request.get("overrides"))),
    )


def _launched_tasks(response: Mapping) -> tuple[int, int, int]:
    """(tasks, vCPUs, GPUs) a RunTask or StartTask response lists: each task's `cpu`, and the
    GPUs assigned to its containers."""
    tasks = listed(response.get("tasks"))
    units = sum(_cpu_units(task.get("cpu")) or 0 for task in tasks)
    gpus = sum(
        len(_ids(container.get("gpuIds")))
        for task in tasks
        for container in listed(task.get("containers"))
    )
    return len(tasks), TaskSize(units, 0).vcpus(1), gpus


def with_task_size(summary: LaunchSummary, size: "TaskSize | None") -> LaunchSummary:
    """A call priced by one task's (Batch job's, Lambda environment's) size, from its
    definition, times its tasks; its maximum over `max_capacity` where that is larger (Lambda's
    reserved concurrency: potential capacity)."""
    if size is None:
        return summary
    requested = size.capacity(summary.requested_instance_count)
    most = size.capacity(max(summary.requested_instance_count, summary.max_capacity))
    return summary._replace(
        task_size=size,
        requested_vcpus=requested.vcpus,
        requested_vcpus_max=most.vcpus_max,
        requested_accelerators=requested.accelerators,
        requested_accelerators_max=most.accelerators_max,
    )


# --- EKS node groups, EMR clusters, Batch compute environments ------------------------------------
#
# EC2 instances these services launch for the caller, through auto scaling groups and fleets of
# their own (ON_BEHALF_SERVICES): priced here, at the caller's request. CloudTrail's
# requestParameters mirror each API's request in camelCase; where the pack has seen no public
# CloudTrail sample of a call, its reader follows the API reference (inferred, not seen).

# "If you don't specify an instance type in a launch template or for instanceTypes, then
# t3.medium is used, by default" (EKS CreateNodegroup API reference).
EKS_DEFAULT_INSTANCE_TYPE = "t3.medium"


def _eks_nodegroup_request(request: Mapping, creates: bool) -> _Request:
    """CreateNodegroup and UpdateNodegroupConfig: `scalingConfig.desiredSize` nodes (else its
    `minSize`) of `instanceTypes`, else of the launch template's types, else (a new node group
    naming neither) EKS's default type; `maxSize` is how far the group may grow. An update's
    growth over the node group's last known size is worked out in ec2_launch_templates."""
    scaling = as_mapping(request.get("scalingConfig"))
    template = template_ref(request.get("launchTemplate"))
    types = _types(*as_sequence(request.get("instanceTypes")))
    if creates and not types and template is None:
        types = (EKS_DEFAULT_INSTANCE_TYPE,)
    desired = as_count(scaling.get("desiredSize"))
    return _Request(
        instance_types=types,
        instance_count=desired if desired is not None else _count_or(scaling.get("minSize"), 0),
        subnet_id=next(iter(_ids(request.get("subnets"))), ""),
        template=template,
        max_capacity=_count_or(scaling.get("maxSize"), 0),
        launches_later=True,
    )


def _emr_request(request: Mapping) -> _Request:
    """RunJobFlow, AddInstanceGroups, AddInstanceFleet: instance groups, each exactly its type
    and count; instance fleets, their target capacity (on-demand plus spot units, read as
    instances) of any of their types (smallest to largest); or, in a RunJobFlow of the older
    shape, one master and `instanceCount - 1` core instances."""
    instances = as_mapping(request.get("instances"))
    groups = [
        (group.get("instanceType"), group.get("instanceCount"))
        for group in listed(instances.get("instanceGroups") or request.get("instanceGroups"))
    ]
    if not groups and instances.get("masterInstanceType"):
        count = _count_or(instances.get("instanceCount"), 1)
        groups = [(instances.get("masterInstanceType"), 1)]
        if count > 1:
            groups.append(
                (
                    instances.get("slaveInstanceType") or instances.get("masterInstanceType"),
                    count - 1,
                )
            )
    if groups:
        return _typed_groups(groups)
    fleets = listed(instances.get("instanceFleets")) or listed(request.get("instanceFleet"))
    types = _types(
        *(
            config.get("instanceType")
            for fleet in fleets
            for config in listed(fleet.get("instanceTypeConfigs"))
        )
    )
    units = sum(_emr_fleet_units(fleet) for fleet in fleets)
    return _Request(instance_types=types, instance_count=units, launches_later=True)


def _emr_fleet_units(fleet: Mapping) -> int:
    """An EMR instance fleet's target capacity: on-demand plus spot units (read as instances)."""
    return _count_or(fleet.get("targetOnDemandCapacity"), 0) + _count_or(
        fleet.get("targetSpotCapacity"), 0
    )


def _emr_resize_request(request: Mapping) -> _Request:
    """ModifyInstanceGroups and ModifyInstanceFleet: an existing group's or fleet's new size,
    whose types the call does not name (counted by number; growth over the size last seen is
    worked out in ec2_launch_templates)."""
    groups = listed(request.get("instanceGroups"))
    count = sum(_count_or(group.get("instanceCount"), 0) for group in groups)
    count += _emr_fleet_units(as_mapping(request.get("instanceFleet")))
    return _Request(instance_types=(), instance_count=count, launches_later=True)


BATCH_FARGATE = frozenset({"FARGATE", "FARGATE_SPOT"})


def batch_vcpus(request: Mapping) -> int | None:
    """The vCPUs a Create/UpdateComputeEnvironment call makes the environment run now: its
    `desiredvCpus`, at least its `minvCpus` (Batch keeps that many running); None when it sets
    neither. `maxvCpus` is how far Batch may grow it for queued jobs."""
    resources = as_mapping(request.get("computeResources"))
    desired, least = as_count(resources.get("desiredvCpus")), as_count(resources.get("minvCpus"))
    if desired is None and least is None:
        return None
    return max(desired or 0, least or 0)


def _batch_request(request: Mapping) -> _Request:
    """Create/UpdateComputeEnvironment: `batch_vcpus` of the environment's `instanceTypes`
    (types, or families such as "p3", priced smallest to largest; "optimal" is Batch's choice
    and unknown); Fargate environments run no instances of the account's. An update's growth
    over the environment's last known vCPUs is worked out in ec2_launch_templates."""
    resources = as_mapping(request.get("computeResources"))
    fargate = as_text(resources.get("type")).upper() in BATCH_FARGATE
    vcpus = 0 if fargate else batch_vcpus(request) or 0
    return _Request(
        instance_types=() if fargate else _types(*as_sequence(resources.get("instanceTypes"))),
        instance_count=0,  # as many as the vCPUs take, of the types Batch picks
        subnet_id=next(iter(_ids(resources.get("subnets"))), ""),
        template=None if fargate else template_ref(resources.get("launchTemplate")),
        vcpu_capacity=vcpus,
        launches_later=True,
    )


# --- Lightsail instances, CodeBuild builds ---------------------------------------------
# Shapes inferred from the API references (camelCase, as CloudTrail writes these services' calls).

_LIGHTSAIL_VARIANTS = re.compile(r"_(win|ipv6)(?=_)")


def lightsail_size(bundle_id: Any) -> str:
    """The catalog row of a Lightsail bundle: "xlarge_win_3_0" -> "lightsail.xlarge_3_0" (Windows
    and IPv6-only bundles are the same sizes); "" without a bundle."""
    bundle = _LIGHTSAIL_VARIANTS.sub("", as_text(bundle_id).strip().lower())
    return normalize_instance_type(f"lightsail.{bundle}") if bundle else ""


def _lightsail_request(request: Mapping) -> _Request:
    """CreateInstances and CreateInstancesFromSnapshot: one instance per name, of the bundle."""
    return _Request(
        instance_types=_types(lightsail_size(request.get("bundleId"))),
        instance_count=len(_ids(request.get("instanceNames"))) or 1,
        launches_later=False,
    )


def codebuild_size(compute_type: Any, environment_type: Any) -> str:
    """The catalog row of a CodeBuild compute type in its environment: "codebuild.<type>", with
    ARM and GPU environments as "codebuild-arm" and "codebuild-gpu"; "" without a type."""
    compute = as_text(compute_type).strip().lower()
    environment = as_text(environment_type).upper()
    if not compute:
        return ""
    family = (
        "codebuild-gpu"
        if "GPU" in environment
        else "codebuild-arm"
        if "ARM" in environment
        else "codebuild"
    )
    return normalize_instance_type(f"{family}.{compute}")


def codebuild_project_size(project: Mapping) -> str:
    """The catalog row of a CodeBuild project's compute type (Create/UpdateProject)."""
    environment = as_mapping(project.get("environment"))
    return codebuild_size(environment.get("computeType"), environment.get("type"))


def _codebuild_request(request: Mapping) -> _Request:
    """StartBuild and StartBuildBatch: one build, of the compute type the call overrides, else
    the project's: which the response names (_launched_instances), or, for a refusal, the one
    remembered from Create/UpdateProject (ec2_launch_templates)."""
    size = codebuild_size(
        request.get("computeTypeOverride"), request.get("environmentTypeOverride")
    )
    return _Request(
        instance_types=_types(size),
        instance_count=1,
        launches_later=False,
        template=_named_ref(BUILD_PROJECT, _last(as_text(request.get("projectName")).strip())),
    )


# --- Amplify build jobs ---------------------------------------------------------------------------
# "STANDARD_8GB" when an app sets no build compute type (Amplify JobConfig API reference).
AMPLIFY_DEFAULT_COMPUTE_TYPE = "STANDARD_8GB"


def amplify_size(compute_type: Any) -> str:
    """The catalog row of an Amplify build compute type: "LARGE_16GB" -> "amplify.large_16gb"."""
    compute = as_text(compute_type).strip().lower()
    return normalize_instance_type(f"amplify.{compute}") if compute else ""


def _amplify_job_request(request: Mapping) -> _Request:
    """StartJob: one build, of the app's build compute type (remembered from Create/UpdateApp,
    ec2_launch_templates)."""
    return _Request(
        instance_types=(),
        instance_count=1,
        launches_later=True,
        template=_named_ref(AMPLIFY_APP, as_text(request.get("appId"))),
    )


# --- Batch jobs -----------------------------------------------------------------------------------
_JOB_DEFINITION_ARN = re.compile(r"^arn:[^:]*:batch:[^:]*:[^:]*:job-definition/(.+)$")


def job_definition_ref(value: Any) -> TemplateRef | None:
    """The job definition a SubmitJob names: "name" (its latest revision), "name:3" or its ARN."""
    return _revision_ref(JOB_DEFINITION, _JOB_DEFINITION_ARN, value)


def _vcpu_units(value: Any) -> int | None:
    """CPU units of a Batch vCPU count (4, "4", "0.25")."""
    if isinstance(value, bool) or value is None:
        return None
    return _text_units(value if isinstance(value, str) else str(value), CPU_UNITS_PER_VCPU)


def _job_resources(properties: Mapping) -> tuple[int | None, int | None]:
    """(CPU units, GPUs) a job definition's `containerProperties` or a SubmitJob's
    `containerOverrides` set: its VCPU and GPU resourceRequirements, else the older `vcpus`;
    None for what it leaves unset."""
    requirements = {
        as_text(r.get("type")).upper(): r.get("value")
        for r in listed(properties.get("resourceRequirements"))
    }
    units = _vcpu_units(requirements.get("VCPU", properties.get("vcpus")))
    gpus = as_count(requirements.get("GPU"))
    return (
        None if units is None else min(units, MAX_COUNT),
        None if gpus is None else min(gpus, MAX_COUNT),
    )


def batch_job_size(properties: Mapping) -> TaskSize | None:
    """One Batch job's (or node's) size from its `containerProperties` or `containerOverrides`;
    None when neither its vCPUs nor GPUs are set."""
    units, gpus = _job_resources(properties)
    if units is None and not gpus:
        return None
    return TaskSize(units or 0, gpus or 0)


def with_job_overrides(event: Mapping, size: TaskSize) -> TaskSize:
    """A SubmitJob's size from its definition's (`size`), with the GPUs its `containerOverrides`
    set: Batch overrides each resource an override names, so an override of GPUs alone keeps the
    definition's vCPUs (read as a job of 0 vCPUs, an array of them would hide its vCPUs)."""
    if event_name(event) != "SubmitJob":
        return size
    request = as_mapping(read_view(event).get("requestParameters"))
    _, gpus = _job_resources(as_mapping(request.get("containerOverrides")))
    return size if gpus is None else size._replace(gpus=gpus)


def batch_job_definition_size(request: Mapping) -> tuple[TaskSize | None, int]:
    """(one node's size, nodes per job) of a RegisterJobDefinition: a container job is one node;
    a multi-node job runs `numNodes` of its largest node range's container (the ranges' own
    sizes differ rarely: read as the largest, an upper bound)."""
    container = batch_job_size(as_mapping(request.get("containerProperties")))
    nodes = as_mapping(request.get("nodeProperties"))
    if container is not None or not nodes:
        return container, 1
    sizes = [
        batch_job_size(as_mapping(r.get("container")))
        for r in listed(nodes.get("nodeRangeProperties"))
    ]
    sizes = [size for size in sizes if size is not None]
    largest = max(sizes, key=lambda size: (size.gpus, size.cpu_units), default=None)
    return largest, max(_count_or(nodes.get("numNodes"), 1), 1)


def _batch_job_request(request: Mapping) -> _Request:
    """SubmitJob: `arrayProperties.size` jobs (one without an array), each of the size its
    `containerOverrides` set, else its job definition's (remembered from RegisterJobDefinition,
    ec2_launch_templates; a multi-node job at the definition's node count). Batch runs them on
    the queue's compute environments, growing them as the jobs need."""
    jobs = max(_count_or(dig(request, "arrayProperties", "size"), 1), 1)
    units, gpus = _job_resources(as_mapping(request.get("containerOverrides")))
    return _Request(
        instance_types=(),
        instance_count=min(jobs, MAX_COUNT),
        launches_later=True,
        template=job_definition_ref(request.get("jobDefinition")),
        # vCPUs overridden: that size; else the definition's, GPUs overridden (with_job_overrides)
        task_size=None if units is None else TaskSize(units, gpus or 0),
    )


# --- Lambda concurrency ---------------------------------------------------------------------------
# "At 1,769 MB, a function has the equivalent of one vCPU", up to 6 vCPUs at 10,240 MB (Lambda
# developer guide, "Configure Lambda function memory"): the share is linear in memory (10,240 MB
# is 5.79 vCPUs' worth), capped at 6.
LAMBDA_MB_PER_VCPU = 1769
LAMBDA_MAX_VCPUS = 6
LAMBDA_DEFAULT_MEMORY_MB = 128  # a function created without a memorySize
_LAMBDA_FUNCTION_ARN = re.compile(r"^(?:arn:[^:]*:lambda:[^:]*:)?(?:\d{12}:)?(?:function:)?([^:]+)")


def lambda_size(memory_mb: Any) -> TaskSize | None:
    """One Lambda execution environment's vCPU share, in CPU units, from its memory."""
    memory = as_count(memory_mb)
    if not memory:
        return None
    units = -(-memory * CPU_UNITS_PER_VCPU // LAMBDA_MB_PER_VCPU)
    return TaskSize(min(units, LAMBDA_MAX_VCPUS * CPU_UNITS_PER_VCPU), 0)


def function_ref(value: Any) -> TemplateRef | None:
    """The function a call names: its name, ARN or partial ARN, less any version or alias."""
    match = _LAMBDA_FUNCTION_ARN.match(as_text(value).strip())
    return _named_ref(FUNCTION, match.group(1)) if match else None


def _lambda_concurrency_request(request: Mapping) -> _Request:
    """PutProvisionedConcurrencyConfig: that many environments kept running, counted.
    PutFunctionConcurrency: reserved concurrency, how many may run at once: potential capacity,
    the request's maximum (max_capacity), none counted. Each environment is the function's vCPU
    share, remembered from its CreateFunction or UpdateFunctionConfiguration."""
    provisioned = as_count(request.get("provisionedConcurrentExecutions"))
    reserved = as_count(request.get("reservedConcurrentExecutions"))
    return _Request(
        instance_types=(),
        instance_count=min(provisioned or 0, MAX_COUNT),
        launches_later=True,
        template=function_ref(request.get("functionName")),
        max_capacity=min(reserved or 0, MAX_COUNT),
    )


_NO_CAPACITY = _Request(instance_types=(), instance_count=0, launches_later=False)

# (eventSource, eventName) -> the reader of its request: one per API (SageMaker and ECS both have
# a CreateCluster).
_REQUEST_READERS = {
    (EC2_EVENT_SOURCE, "RunInstances"): _run_instances_request,
    (EC2_EVENT_SOURCE, "CreateFleet"): _create_fleet_request,
    (EC2_EVENT_SOURCE, "RequestSpotInstances"): lambda request: _launch_specification_request(
        request, True
    ),
    (EC2_EVENT_SOURCE, "RequestSpotFleet"): _request_spot_fleet_request,
    (EC2_EVENT_SOURCE, "RunScheduledInstances"): lambda request: _launch_specification_request(
        request, False
    ),
    (AUTOSCALING_EVENT_SOURCE, "CreateAutoScalingGroup"): _auto_scaling_group_request,
    (AUTOSCALING_EVENT_SOURCE, "UpdateAutoScalingGroup"): _auto_scaling_group_request,
    (EC2_EVENT_SOURCE, "ModifyInstanceAttribute"): _resize_request,
    (EC2_EVENT_SOURCE, "StartInstances"): _start_instances_request,
    (EC2_EVENT_SOURCE, "ModifyFleet"): _modify_fleet_request,
    (EC2_EVENT_SOURCE, "ModifySpotFleetRequest"): _modify_fleet_request,
    (AUTOSCALING_EVENT_SOURCE, "SetDesiredCapacity"): _set_desired_capacity_request,
    (AUTOSCALING_EVENT_SOURCE, "PutScheduledUpdateGroupAction"): _scheduled_action_request,
    (AUTOSCALING_EVENT_SOURCE, "ExecutePolicy"): _execute_policy_request,
    (AUTOSCALING_EVENT_SOURCE, "StartInstanceRefresh"): _instance_refresh_request,
    (SAGEMAKER_EVENT_SOURCE, "CreateTrainingJob"): lambda r: _typed_groups(
        _resource_config_groups(r.get("resourceConfig"))
    ),
    (SAGEMAKER_EVENT_SOURCE, "CreateProcessingJob"): lambda r: _typed_groups(
        [
            (
                dig(r, "processingResources", "clusterConfig", "instanceType"),
                dig(r, "processingResources", "clusterConfig", "instanceCount"),
            )
        ]
    ),
    (SAGEMAKER_EVENT_SOURCE, "CreateTransformJob"): lambda r: _typed_groups(
        [
            (
                dig(r, "transformResources", "instanceType"),
                dig(r, "transformResources", "instanceCount"),
            )
        ]
    ),
    (SAGEMAKER_EVENT_SOURCE, "CreateHyperParameterTuningJob"): _sagemaker_tuning_request,
    (SAGEMAKER_EVENT_SOURCE, "CreateEndpoint"): _endpoint_request,
    (SAGEMAKER_EVENT_SOURCE, "UpdateEndpoint"): _endpoint_request,
    (SAGEMAKER_EVENT_SOURCE, "CreateNotebookInstance"): lambda r: _typed_groups(
        [(r.get("instanceType"), 1)]
    ),
    (SAGEMAKER_EVENT_SOURCE, "CreateApp"): lambda r: _typed_groups(
        [(dig(r, "resourceSpec", "instanceType"), 1)]
    ),
    (ECS_EVENT_SOURCE, "RunTask"): lambda r: _ecs_request(r, "RunTask"),
    (ECS_EVENT_SOURCE, "StartTask"): lambda r: _ecs_request(r, "StartTask"),
    (ECS_EVENT_SOURCE, "CreateService"): lambda r: _ecs_request(r, "CreateService"),
    (ECS_EVENT_SOURCE, "UpdateService"): lambda r: _ecs_request(r, "UpdateService"),
    (SAGEMAKER_EVENT_SOURCE, "CreateCluster"): lambda r: _typed_groups(  # HyperPod
        [(g.get("instanceType"), g.get("instanceCount")) for g in listed(r.get("instanceGroups"))]
    ),
    (EKS_EVENT_SOURCE, "CreateNodegroup"): lambda r: _eks_nodegroup_request(r, creates=True),
    (EKS_EVENT_SOURCE, "UpdateNodegroupConfig"): lambda r: _eks_nodegroup_request(r, False),
    (EMR_EVENT_SOURCE, "RunJobFlow"): _emr_request,
    (EMR_EVENT_SOURCE, "AddInstanceGroups"): _emr_request,
    (EMR_EVENT_SOURCE, "AddInstanceFleet"): _emr_request,
    (EMR_EVENT_SOURCE, "ModifyInstanceGroups"): _emr_resize_request,
    (EMR_EVENT_SOURCE, "ModifyInstanceFleet"): _emr_resize_request,
    (BATCH_EVENT_SOURCE, "CreateComputeEnvironment"): _batch_request,
    (BATCH_EVENT_SOURCE, "UpdateComputeEnvironment"): _batch_request,
    (LIGHTSAIL_EVENT_SOURCE, "CreateInstances"): _lightsail_request,
    (LIGHTSAIL_EVENT_SOURCE, "CreateInstancesFromSnapshot"): _lightsail_request,
    (CODEBUILD_EVENT_SOURCE, "StartBuild"): _codebuild_request,
    (CODEBUILD_EVENT_SOURCE, "StartBuildBatch"): _codebuild_request,
    (AMPLIFY_EVENT_SOURCE, "StartJob"): _amplify_job_request,
    (BATCH_EVENT_SOURCE, "SubmitJob"): _batch_job_request,
    (LAMBDA_EVENT_SOURCE, "PutProvisionedConcurrencyConfig"): _lambda_concurrency_request,
    (LAMBDA_EVENT_SOURCE, "PutFunctionConcurrency20171031"): _lambda_concurrency_request,
    (LAMBDA_EVENT_SOURCE, "PutFunctionConcurrency"): _lambda_concurrency_request,
    (ECS_EVENT_SOURCE, "CreateCluster"): lambda r: _NO_CAPACITY,  # an empty cluster
    (APPLICATION_AUTOSCALING_EVENT_SOURCE, "RegisterScalableTarget"): _scalable_target_request,
    (APPLICATION_AUTOSCALING_EVENT_SOURCE, "PutScheduledAction"): _scalable_target_request,
}


class _Launched(NamedTuple):
    instance_type: str
    cpu_options: Any
    instance_id: str
    subnet_id: str


def _launched_instances(event_name: str, response: Mapping) -> tuple[list, str]:
    """(instances the response says were launched, the first per-instance error code).
    RunInstances lists instances; an instant CreateFleet lists them per type in fleetInstanceSet
    and reports refused capacity in errorSet instead of a top-level errorCode."""
    if event_name == "CreateFleet":
        fleet = as_mapping(response.get("CreateFleetResponse"))
        launched = [
            _Launched(set_.get("instanceType"), None, as_text(instance_id), "")
            for set_ in listed(fleet.get("fleetInstanceSet"))
            for instance_id in _ids(set_.get("instanceIds"))
        ]
        errors = [as_text(error.get("errorCode")) for error in listed(fleet.get("errorSet"))]
        return launched, next((code for code in errors if code), "")
    if event_name in ("StartBuild", "StartBuildBatch"):  # the build and its compute type
        build = as_mapping(response.get("build") or response.get("buildBatch"))
        environment = as_mapping(build.get("environment"))
        size = codebuild_size(environment.get("computeType"), environment.get("type"))
        return ([_Launched(size, None, as_text(build.get("id")), "")] if size else []), ""
    items = listed(dig(response, "instancesSet", "items")) if event_name == "RunInstances" else []
    return [
        _Launched(
            item.get("instanceType"),
            item.get("cpuOptions"),
            as_text(item.get("instanceId")),
            as_text(item.get("subnetId")),
        )
        for item in items
    ], ""


class LaunchedInstance(NamedTuple):
    instance_id: str
    instance_type: str
    vcpus: int
    accelerators: int


def launched_instances(event: Mapping) -> list[LaunchedInstance]:
    """Each instance a successful RunInstances or instant CreateFleet launched, priced as the
    ledger prices it (cpuOptions, else the catalog), for the memory of launched instances."""
    event = read_view(event)
    if (
        launch_outcome(event).kind != OUTCOME_SUCCESS
        or event.get("eventSource") != EC2_EVENT_SOURCE
    ):
        return []  # builds and tasks are not instances a StartInstances call could start
    launched, _ = _launched_instances(
        as_text(event.get("eventName")), as_mapping(event.get("responseElements"))
    )
    found = []
    for instance in launched:
        instance_type = normalize_instance_type(instance.instance_type)
        spec = instance_type_spec(instance_type) if instance_type else None
        vcpus = _vcpus_from_cpu_options(instance.cpu_options)
        vcpus = vcpus if vcpus is not None else (spec.vcpus if spec else 0)
        if instance.instance_id and instance_type:
            found.append(
                LaunchedInstance(
                    instance.instance_id, instance_type, vcpus, spec.accelerators if spec else 0
                )
            )
    return found


def with_started_instances(summary: LaunchSummary, known: Sequence) -> LaunchSummary:
    """A StartInstances call priced by the instances the pack remembered launching (`known`:
    LaunchedInstance); the others count by number only."""
    if not known:
        return summary
    types = tuple(dict.fromkeys(instance.instance_type for instance in known))
    vcpus = sum(instance.vcpus for instance in known)
    accelerators = sum(instance.accelerators for instance in known)
    return summary._replace(
        requested_instance_types=types,
        requested_vcpus=vcpus,
        requested_vcpus_max=vcpus,
        requested_accelerators=accelerators,
        requested_accelerators_max=accelerators,
    )


def _ids(value: Any) -> list:
    if isinstance(value, Mapping):
        value = value.get("item", value.get("items"))
    if isinstance(value, str):
        return [value]
    return [item for item in as_sequence(value) if isinstance(item, str)]


def _first(value: Any) -> Any:
    items = as_sequence(value)
    return items[0] if items else None


def _vcpus_from_cpu_options(cpu_options: Any) -> int | None:
    cores = as_count(dig(cpu_options, "coreCount"))
    threads = as_count(dig(cpu_options, "threadsPerCore"))
    if not cores or not threads:
        return None
    return min(cores * threads, MAX_COUNT)


# The last value of each kind read from an event (its time, launch summary, actor, quota call,
# ...): Panther hands every rule (and each rule's alert functions) the same immutable event, so
# each is read once. Plain dicts can change between calls and are never remembered.
_last_read: dict = {}


def _per_event(kind: str, event: Any, read) -> Any:
    cached = _last_read.get(kind)
    if cached is not None and cached[0] is event:
        return cached[1]  # only immutable events are ever stored
    value = read(event)
    if isinstance(event, dict) or not isinstance(event, Mapping):
        return value
    _last_read[kind] = (event, value)
    return value


def summarize_launch(event: Mapping) -> LaunchSummary:
    """Everything the rules need to know about one launch event, read once."""
    return _per_event("summary", event, _summarize_launch)


def _summarize_launch(event: Mapping) -> LaunchSummary:
    event = read_view(event)
    event_name = as_text(event.get("eventName"))
    outcome, error_code = launch_outcome(event)
    source = as_text(event.get("eventSource")) or EC2_EVENT_SOURCE
    read_request = _REQUEST_READERS.get((source, event_name), _run_instances_request)
    request = read_request(as_mapping(event.get("requestParameters")))
    launched, instance_error = _launched_instances(
        event_name, as_mapping(event.get("responseElements"))
    )
    if outcome == OUTCOME_SUCCESS and instance_error and not launched:
        outcome, error_code = OUTCOME_FAILURE, instance_error  # an instant fleet refused it all
    tasks = _task_outcome(event, event_name, request)
    if outcome == OUTCOME_SUCCESS and tasks.failure and not tasks.count:
        outcome, error_code = OUTCOME_FAILURE, tasks.failure  # ECS placed none of the tasks

    # A launch without a type of its own (a launch template) inherits the one requested.
    inherited = request.instance_types[0] if len(request.instance_types) == 1 else ""
    unknown = [t for t in request.instance_types if not _specs(t)]
    launched_types: dict[str, None] = {}
    launched_vcpus = launched_accelerators = 0
    for instance in launched:
        instance_type = normalize_instance_type(instance.instance_type) or inherited
        spec = instance_type_spec(instance_type) if instance_type else None
        if instance_type:
            launched_types[instance_type] = None
            if spec is None and instance_type not in unknown:
                unknown.append(instance_type)
        vcpus = _vcpus_from_cpu_options(instance.cpu_options)
        launched_vcpus += vcpus if vcpus is not None else (spec.vcpus if spec else 0)
        launched_accelerators += spec.accelerators if spec else 0

    if request.task_size is not None:
        requested = request.task_size.capacity(request.instance_count)
    else:
        requested = _grouped_capacity(request.groups) or requested_capacity(
            request.instance_types,
            request.instance_count,
            request.vcpus_per_instance,
            request.vcpu_capacity,
        )
    if requested is None and request.vcpu_capacity is not None:  # asked for in vCPUs
        requested = _Capacity(
            request.instance_count, request.vcpu_capacity, 0, request.vcpu_capacity, 0
        )
    elif requested is None:  # without a known type, only the response tells
        requested = _Capacity(
            request.instance_count,
            launched_vcpus + tasks.vcpus,
            launched_accelerators + tasks.gpus,
            launched_vcpus + tasks.vcpus,
            launched_accelerators + tasks.gpus,
        )
    resized = ()
    if event_name == "ModifyInstanceAttribute":
        instance_id = as_text(dig(event, "requestParameters", "instanceId"))
        resized = (instance_id,) if instance_id else ()
    elif event_name == "StartInstances":
        resized = started_instance_ids(event)[:MAX_LISTED_INSTANCE_IDS]
    first_launched_subnet = next((i.subnet_id for i in launched if i.subnet_id), "")
    return LaunchSummary(
        event_name=event_name,
        outcome=outcome,
        error_code=error_code,
        requested_instance_types=request.instance_types,
        launched_instance_types=tuple(launched_types),
        template=request.template,
        requested_instance_count=min(requested.instances, MAX_COUNT),
        launched_instance_count=len(launched) + tasks.count,
        requested_vcpus=min(requested.vcpus, MAX_COUNT * 1000),
        launched_vcpus=min(launched_vcpus + tasks.vcpus, MAX_COUNT * 1000),
        requested_accelerators=min(requested.accelerators, MAX_COUNT * 1000),
        launched_accelerators=min(launched_accelerators + tasks.gpus, MAX_COUNT * 1000),
        unknown_instance_types=tuple(unknown),
        instance_ids=tuple(i.instance_id for i in launched if i.instance_id)[
            :MAX_LISTED_INSTANCE_IDS
        ]
        or resized,
        subnet_id=request.subnet_id or first_launched_subnet,
        max_capacity=min(request.max_capacity, MAX_COUNT),
        launches_later=request.launches_later,
        requested_vcpus_max=min(requested.vcpus_max, MAX_COUNT * 1000),
        requested_accelerators_max=min(requested.accelerators_max, MAX_COUNT * 1000),
        change=CHANGE_RESIZE if event_name == "ModifyInstanceAttribute" else CHANGE_LAUNCH,
        task_size=request.task_size,
    )


class _Tasks(NamedTuple):
    count: int = 0
    vcpus: int = 0
    gpus: int = 0
    failure: str = ""  # the first reason ECS gave for a task it did not place


def _task_outcome(event: Mapping, event_name: str, request: _Request) -> _Tasks:
    """The tasks a RunTask or StartTask response lists (on EC2 container instances: by number
    only, their capacity counted at the instances' launch) and its first failure reason."""
    if event_name not in ("RunTask", "StartTask") or event.get("eventSource") != ECS_EVENT_SOURCE:
        return _Tasks()
    response = as_mapping(event.get("responseElements"))
    count, vcpus, gpus = _launched_tasks(response)
    failure = next((as_text(f.get("reason")) for f in listed(response.get("failures"))), "")
    if runs_on_instances(as_mapping(event.get("requestParameters"))):
        vcpus = gpus = 0
    return _Tasks(count, vcpus, gpus, failure[:MAX_ERROR_MESSAGE_LENGTH])


class _Capacity(NamedTuple):
    instances: int
    vcpus: int  # lower bound: every instance of the smallest type
    accelerators: int
    vcpus_max: int  # upper bound: every instance of the largest type
    accelerators_max: int


def _grouped_capacity(groups: Sequence) -> "_Capacity | None":
    """Exactly what (type, count) groups ask for; None when a type is unknown."""
    instances = vcpus = accelerators = 0
    for instance_type, count in groups:
        spec = instance_type_spec(instance_type)
        if spec is None:
            return None
        instances, vcpus = instances + count, vcpus + count * spec.vcpus
        accelerators += count * spec.accelerators
    return _Capacity(instances, vcpus, accelerators, vcpus, accelerators) if groups else None


def _specs(instance_type: str) -> list:
    """The catalog entry of a type, or every entry of a family a service names ("p3")."""
    spec = instance_type_spec(instance_type)
    return [spec] if spec is not None else family_specs(instance_type)


def requested_capacity(
    instance_types: Sequence,
    count: int,
    vcpus_per_instance: int | None = None,
    vcpu_capacity: int | None = None,
) -> _Capacity | None:
    """What a request asks for, given the types it may launch: per instance, the cpuOptions asked
    for, else the catalog's vCPUs. Where AWS may choose among several types (fleets, mixed
    instances groups), the smallest type gives the lower bound and the largest the upper, so a
    tiny decoy type listed beside a big one does not hide it. None without a known type."""
    specs = [spec for instance_type in instance_types for spec in _specs(instance_type)]
    if not specs:
        return None
    smallest = min(specs, key=lambda spec: (spec.vcpus, spec.accelerators))
    largest = max(specs, key=lambda spec: (spec.accelerators, spec.vcpus))
    if vcpu_capacity is not None:  # capacity in vCPUs: instances depend on the type chosen
        if vcpu_capacity <= 0:
            return _Capacity(0, 0, 0, 0, 0)
        most = max(1, -(-vcpu_capacity // smallest.vcpus)) if smallest.vcpus else count
        fewest = max(1, -(-vcpu_capacity // largest.vcpus)) if largest.vcpus else count
        return _Capacity(
            most,
            vcpu_capacity,
            most * smallest.accelerators,
            vcpu_capacity,
            fewest * largest.accelerators,
        )
    return _Capacity(
        count,
        count * (vcpus_per_instance or smallest.vcpus),
        count * smallest.accelerators,
        count * (vcpus_per_instance or largest.vcpus),
        count * largest.accelerators,
    )


def with_template_types(summary: LaunchSummary, template_types: Sequence) -> LaunchSummary:
    """A launch that names a template without a type of its own, priced by the template's types
    (refusals and dry runs too, whose responses say nothing)."""
    types = tuple(t for t in map(normalize_instance_type, template_types) if t)
    if not types or summary.requested_instance_types:
        return summary._replace(template_types=types)
    requested = requested_capacity(types, summary.requested_instance_count)
    if requested is None:
        return summary._replace(template_types=types)
    launched = summary.launched_instance_count
    return summary._replace(
        requested_instance_types=types,
        template_types=types,
        requested_vcpus=requested.vcpus if not launched else summary.requested_vcpus,
        requested_accelerators=requested.accelerators
        if not launched
        else summary.requested_accelerators,
        requested_vcpus_max=requested.vcpus_max,
        requested_accelerators_max=requested.accelerators_max,
    )


def launched_on_behalf(event: Mapping) -> bool:
    """Whether a service made this call (ON_BEHALF_SERVICES): an auto scaling group or an EC2/Spot
    fleet for a request the pack counted already (CreateAutoScalingGroup, CreateFleet, ...), whose
    counting again would count the same capacity twice; Application Auto Scaling, following the
    scaling a person set up."""
    return _per_event("on_behalf", event, _launched_on_behalf)


def _launched_on_behalf(event: Mapping) -> bool:
    event = read_view(event)
    invoked_by = as_text(dig(event, "userIdentity", "invokedBy"))
    return (
        invoked_by in ON_BEHALF_SERVICES
        or as_text(event.get("sourceIPAddress")) in ON_BEHALF_SERVICES
    )


# --- Charge-back: who a service's launch is charged to -------------------------------------------
#
# A group or fleet is "owned" by the person who created or last sized it; the launches a service
# then makes for it (ON_BEHALF_SERVICES) are found by the tags AWS puts on what it launches, and
# charged to that person (ec2_launch_templates remembers owners). References are "<kind>:<id>".
OWNED_BY_GROUP_NAME = {  # eventSource -> the reference kind its sizing calls name
    AUTOSCALING_EVENT_SOURCE: "asg",
    EKS_EVENT_SOURCE: "nodegroup",
}
# Tags AWS puts on the instances a service launches, most specific first: an EKS node group runs
# on an auto scaling group (named by EKS) that launches through an EC2 fleet of its own.
_OWNER_TAGS = (
    ("aws:autoscaling:groupName", "asg"),
    ("aws:ec2spot:fleet-request-id", "spot-fleet"),
    ("aws:elasticmapreduce:job-flow-id", "emr"),
    ("aws:ec2:fleet-id", "fleet"),
)
_EKS_CLUSTER_TAG, _EKS_NODEGROUP_TAG = "eks:cluster-name", "eks:nodegroup-name"
# A fleet's launches carry client tokens "fleet-<uuid>-<n>": the fleet's ID and an index.
_FLEET_CLIENT_TOKEN = re.compile(r"^(fleet-[0-9a-f-]{36})-\d+$")
_EMR_CLUSTER_CALLS = frozenset(
    {"AddInstanceGroups", "AddInstanceFleet", "ModifyInstanceGroups", "ModifyInstanceFleet"}
)
_FLEET_CALLS = frozenset(
    {"CreateFleet", "ModifyFleet", "RequestSpotFleet", "ModifySpotFleetRequest"}
)


def owned_capacity_refs(event: Mapping) -> tuple:
    """The groups and fleets a person's successful sizing call makes them the owner of, as
    references: "asg:<name>" (auto scaling), "nodegroup:<cluster>/<name>" (EKS), "fleet:<id>"
    (EC2 Fleet), "spot-fleet:<id>" (Spot Fleet), "emr:<cluster ID>" (EMR). () for other calls,
    refusals, dry runs, and the calls services make."""
    view = read_view(event)
    if (
        not is_launch_event(view)
        or launch_outcome(view).kind != OUTCOME_SUCCESS
        or is_service_launch(view)
    ):
        return ()
    name, source = event_name(view), as_text(view.get("eventSource"))
    kind = OWNED_BY_GROUP_NAME.get(source)
    if kind is not None:
        group = capacity_group_name(view)
        return (f"{kind}:{group}",) if group else ()
    if source == EC2_EVENT_SOURCE and name in _FLEET_CALLS:
        if name == "CreateFleet" and not summarize_launch(view).launches_later:
            return ()  # an instant fleet launched in the call itself: no service launches
        fleet = _fleet_resize(view).fleet.strip()[:MAX_TEMPLATE_REF_LENGTH]
        kind = "spot-fleet" if "Spot" in name else "fleet"
        return (f"{kind}:{fleet}",) if fleet else ()
    if source == EMR_EVENT_SOURCE:
        request = as_mapping(view.get("requestParameters"))
        cluster = (
            as_text(dig(view, "responseElements", "jobFlowId"))
            if name == "RunJobFlow"
            else as_text(request.get("clusterId") or request.get("jobFlowId"))
            if name in _EMR_CLUSTER_CALLS
            else ""
        )
        cluster = cluster.strip()[:MAX_TEMPLATE_REF_LENGTH]
        return (f"emr:{cluster}",) if cluster else ()
    return ()


def launch_owner_refs(event: Mapping) -> tuple:
    """The groups and fleets a service's launch is for (see owned_capacity_refs), most specific
    first, from the tags AWS puts on the instances (in the request's tag specifications and on
    the launched instances) and a fleet's client token. () for a call no service made."""
    view = read_view(event)
    if not launched_on_behalf(view):
        return ()
    tags: dict[str, str] = {}
    request = as_mapping(view.get("requestParameters"))
    for spec in listed(dig(request, "tagSpecificationSet", "items")):
        _read_tags(spec.get("tags"), tags)
    for item in listed(dig(view, "responseElements", "instancesSet", "items")):
        _read_tags(dig(item, "tagSet", "items"), tags)
    refs = [f"{kind}:{tags[tag]}" for tag, kind in _OWNER_TAGS if tags.get(tag)]
    if tags.get(_EKS_CLUSTER_TAG) and tags.get(_EKS_NODEGROUP_TAG):
        refs.insert(0, f"nodegroup:{tags[_EKS_CLUSTER_TAG]}/{tags[_EKS_NODEGROUP_TAG]}")
    token = _FLEET_CLIENT_TOKEN.match(as_text(request.get("clientToken")))
    if token:
        refs.append(f"fleet:{token.group(1)}")
    return tuple(dict.fromkeys(ref[: MAX_TEMPLATE_REF_LENGTH + 16] for ref in refs))


def _read_tags(tags: Any, into: dict) -> None:
    """Tags ({"key": ..., "value": ...} in either casing) into `into`, first value kept."""
    for tag in listed(tags):
        key = as_text(tag.get("key") or tag.get("Key"))
        value = as_text(tag.get("value") or tag.get("Value")).strip()
        if key and value:
            into.setdefault(key, value)


class Floor(NamedTuple):
    """What a request charged per instance: its smallest type's vCPUs and accelerators (0 when
    it named no type the catalog knows: nothing was charged per instance)."""

    vcpus: int
    accelerators: int


def instance_floor(summary: LaunchSummary) -> Floor:
    """The per-instance charge of a sizing request, priced as the ledger priced it: the smallest
    of its types (AWS may launch any of them)."""
    specs = [instance_type_spec(t) for t in summary.requested_instance_types]
    specs = [spec for spec in specs if spec is not None]
    if not specs:
        return Floor(0, 0)
    return Floor(min(spec.vcpus for spec in specs), min(spec.accelerators for spec in specs))


def above_floor(event: Mapping, floor: Floor) -> Floor:
    """What a service's launch adds over what its owner's request charged already: per launched
    instance, its vCPUs and accelerators above the request's floor. A decoy type named next to
    the real one cannot hide the real one: what launches is what is charged."""
    instances = launched_instances(event)
    return Floor(
        sum(max(instance.vcpus - floor.vcpus, 0) for instance in instances),
        sum(max(instance.accelerators - floor.accelerators, 0) for instance in instances),
    )


def matches_instance_type(instance_type: str, configured: Any) -> bool:
    """Whether a type is listed, exactly ("p2.xlarge") or by family ("p2"), in a configured list.
    `configured` may be the string a test mock returns; it is parsed, never substring-matched."""
    return _matches(instance_type, _entries(configured))


def _entries(configured: Any) -> frozenset:
    """The configured entries as a set; lists of strings and mocked strings are parsed once."""
    if not configured:
        return frozenset()  # the allowlists' default: nothing to parse
    if isinstance(configured, str):
        return _parsed_entries((configured,), True)
    if isinstance(configured, (list, tuple)):
        try:
            return _parsed_entries(tuple(configured), False)
        except TypeError:  # an unhashable member (a mapping, a list): parsed below, uncached
            pass
    return frozenset(entry.lower() for entry in as_list(configured))


@lru_cache(maxsize=256)
def _parsed_entries(configured: tuple, is_text: bool) -> frozenset:
    value = configured[0] if is_text else list(configured)
    return frozenset(entry.lower() for entry in as_list(value))


def _matches(instance_type: str, entries: frozenset) -> bool:
    return instance_type in entries or instance_family(instance_type) in entries


def unusual_instance_types_in(summary: LaunchSummary, unusual: Any, usual: Any = ()) -> list[str]:
    """The launch's instance types that are unusual and not declared usual."""
    return unusual_types(summary.instance_types, unusual, usual)


def unusual_types(instance_types: Iterable, unusual: Any, usual: Any = ()) -> list[str]:
    """The given instance types (lowercase text) that are unusual and not declared usual:
    an entry names a family ("p5") or an exact type ("p2.xlarge")."""
    unusual_entries, usual_entries = _entries(unusual), _entries(usual)
    return [
        instance_type
        for instance_type in instance_types
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


# --- Other calls around a launch ------------------------------------------------------------------

SERVICE_QUOTAS_EVENT_SOURCE = "servicequotas.amazonaws.com"
QUOTA_EVENTS = {
    SERVICE_QUOTAS_EVENT_SOURCE: frozenset(
        {"GetServiceQuota", "ListServiceQuotas", "RequestServiceQuotaIncrease"}
    )
}
# EC2 vCPU quotas by code: (name, whether it is for accelerated instances). Codes, not names, are
# stable (AWS has renamed quotas). Source: AWS "Amazon EC2 instance type quotas".
EC2_VCPU_QUOTAS = {
    "L-1216C47A": ("Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances", False),
    "L-417A185B": ("Running On-Demand P instances", True),
    "L-DB2E81BA": ("Running On-Demand G and VT instances", True),
    "L-1945791B": ("Running On-Demand Inf instances", True),
    "L-2C3B7624": ("Running On-Demand Trn instances", True),
    "L-6E869C2A": ("Running On-Demand DL instances", True),
    "L-74FC7D96": ("Running On-Demand F instances", True),
    "L-F7808C92": ("Running On-Demand HPC instances", False),
    "L-43DA4232": ("Running On-Demand High Memory instances", False),
    "L-7295265B": ("Running On-Demand X instances", False),
    "L-34B43A08": ("All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests", False),
    "L-7212CCBC": ("All P4, P3 and P2 Spot Instance Requests", True),
    "L-C4BD4855": ("All P5 Spot Instance Requests", True),
    "L-3819A6DF": ("All G and VT Spot Instance Requests", True),
    "L-B5D1601B": ("All Inf Spot Instance Requests", True),
    "L-6B0D517C": ("All Trn Spot Instance Requests", True),
    "L-85EED4F7": ("All DL Spot Instance Requests", True),
    "L-88CF9481": ("All F Spot Instance Requests", True),
    "L-E3A00192": ("All X Spot Instance Requests", False),
}


class QuotaCall(NamedTuple):
    event_name: str
    service_code: str
    quota_code: str
    quota_name: str  # of an EC2 vCPU quota; "" otherwise
    accelerated: bool
    desired_value: float | None


def quota_call(event: Mapping) -> QuotaCall | None:
    """The Service Quotas call an event is, or None for any other event."""
    return _per_event("quota", event, _quota_call)


def _quota_call(event: Mapping) -> QuotaCall | None:
    event = read_view(event)
    name = event.get("eventName")
    if not isinstance(name, str) or name not in QUOTA_EVENTS[SERVICE_QUOTAS_EVENT_SOURCE]:
        return None
    if event.get("eventSource") != SERVICE_QUOTAS_EVENT_SOURCE:
        return None
    request = as_mapping(event.get("requestParameters"))
    code = as_text(request.get("quotaCode"))
    quota_name, accelerated = EC2_VCPU_QUOTAS.get(code, ("", False))
    desired = request.get("desiredValue")
    desired_value = (
        float(desired)
        if isinstance(desired, (int, float))
        and not isinstance(desired, bool)
        and math.isfinite(desired)
        else None
    )
    return QuotaCall(
        name,
        as_text(request.get("serviceCode")).lower(),
        code,
        quota_name,
        accelerated,
        desired_value,
    )


def termination_protection_enabled(event: Mapping) -> tuple[str, ...] | None:
    """Instance IDs an event turns termination protection on for: ModifyInstanceAttribute with
    `disableApiTermination: {"value": true}` (or `attribute: disableApiTermination, value: true`);
    None when it does not."""
    event = as_mapping(event)
    if event.get("eventName") != "ModifyInstanceAttribute" or event.get("errorCode"):
        return None
    request = as_mapping(event.get("requestParameters"))
    if not _turned_on(request, "disableApiTermination"):
        return None
    return (as_text(request.get("instanceId")),)


def launch_disables_termination(event: Mapping) -> bool:
    """Whether a RunInstances call launched with termination protection on."""
    return _turned_on(
        as_mapping(as_mapping(event).get("requestParameters")), "disableApiTermination"
    )


def protection_turned_on(event: Mapping) -> str:
    """ "termination" or "stop" when a ModifyInstanceAttribute call turns that protection on
    (`disableApiTermination` / `disableApiStop`, in either request shape), or a RunInstances
    call launches with it on; "" otherwise."""
    event = as_mapping(event)
    name = event.get("eventName")
    if event.get("errorCode") or name not in ("ModifyInstanceAttribute", "RunInstances"):
        return ""
    request = as_mapping(event.get("requestParameters"))
    for attribute, kind in (("disableApiTermination", "termination"), ("disableApiStop", "stop")):
        if _turned_on(request, attribute):
            return kind
    return ""


def _turned_on(request: Mapping, attribute: str) -> bool:
    """Whether a request sets a boolean instance attribute true: `attribute: true` (a launch),
    `attribute: {"value": true}` or `attribute: <name>, value: true` (ModifyInstanceAttribute)."""
    value = request.get(attribute)
    if isinstance(value, Mapping):
        value = value.get("value")
    if value is None and request.get("attribute") == attribute:
        value = request.get("value")
    return value is True or as_text(value).lower() == "true"


def service_name(event: Mapping) -> str:
    """What the alert calls the service of a launch call: "EC2", "SageMaker"; of an Application
    Auto Scaling call, the service whose group it sizes (capacity_source)."""
    return SERVICE_NAMES.get(capacity_source(event), "EC2")


def region(event: Mapping) -> str:
    return as_text(as_mapping(event).get("awsRegion"))


def matches_any(text: str, patterns: Any) -> bool:
    """Whether text matches any case-insensitive shell pattern of a configured list (or the
    string a test mock returns)."""
    return bool(text) and _matches_any(text.lower(), _entries(patterns))


@lru_cache(maxsize=4096)  # user agents and ARNs repeat all day: match each once per pattern set
def _matches_any(text: str, patterns: frozenset) -> bool:
    return any(fnmatchcase(text, pattern) for pattern in patterns)


def is_capacity_controller(event: Mapping, user_agents: Any, principal_arns: Any) -> bool:
    """Whether a node controller (Karpenter, cluster autoscalers) made the call: both its user
    agent and its principal ARN (the session's or the role's) must match a configured pattern,
    since a user agent alone is whatever the caller says."""
    if not matches_any(as_text(read_view(event).get("userAgent")), user_agents):
        return False
    return matches_any(actor(event).arn, principal_arns) or matches_any(
        principal(event).arn, principal_arns
    )


def is_controller_dry_run(event: Mapping, user_agents: Any, principal_arns: Any) -> bool:
    """Whether a dry run comes from a node controller, which validates with dry runs all day."""
    if launch_outcome(event).kind != OUTCOME_DRY_RUN:
        return False
    return is_capacity_controller(event, user_agents, principal_arns)


# --- Who: the actor (Sentinel's fields) and the principal (what windows count per) -------------


class Actor(NamedTuple):
    arn: str
    account_id: str
    principal_id: str
    identity_type: str
    user_name: str  # Sentinel's AccountName: userName, else the last ARN segment
    name: str  # user_name before "@"
    upn_suffix: str  # user_name after "@" ("" without one), Sentinel's AccountUPNSuffix
    invoked_by: str
    service_invoked: bool  # an AWS service launched for a group or fleet it runs, not a person
    key: str  # the principal's key (see Principal): what windows and dedup group by

    @property
    def display(self) -> str:
        return self.user_name or self.arn or self.invoked_by or self.key


# Services that launch capacity for a group, fleet or cluster they run. A call they make is the
# service's, not the caller's: charged to whoever created or scaled what they run. Every other
# `invokedBy` (the console's "AWS Internal" and signin.amazonaws.com, CloudFormation acting with a
# user's own credentials) leaves the person as the actor.
LAUNCHING_SERVICES = ON_BEHALF_SERVICES | {"ecs.amazonaws.com", "sagemaker.amazonaws.com"}
# Where IAM keeps service-linked roles: only an AWS service can assume one.
_SERVICE_LINKED_ROLE_PATH = ":role/aws-service-role/"
# AWS IAM Identity Center's permission-set roles: the session name is the person's user name.
_IDENTITY_CENTER_ROLE_PREFIX = "AWSReservedSSO_"
_ASSUMED_ROLE_ARN = re.compile(r"^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role/([^/]+)/(.*)$")
_FEDERATED_USER_ARN = re.compile(r"^arn:(aws[a-z-]*):sts::(\d{12}):federated-user/(.*)$")


class Principal(NamedTuple):
    """Who is behind a call, stable across the sessions, IPs and user agents they rotate: what
    every window counts per.
    - an IAM user: the user's ARN; root: the account's root ARN;
    - an assumed role: the role's ARN (`sessionIssuer`); the session name is kept for the alert;
    - an IAM Identity Center session: the person (the session name Identity Center sets to the
      user's name, or `onBehalfOf.userId`), whatever account or permission set they use;
    - a federated user (GetFederationToken): the IAM user who minted the token, since the
      federated name is the caller's choice;
    - an AWS service with no identity of its own: the service."""

    key: str
    kind: str  # "user", "root", "role", "identity-center-user", "federated-user", "service", ""
    arn: str  # the IAM user's, role's or root's ARN ("" for services and unknowns)
    name: str  # short name for titles: user, role or person name
    session_name: str  # assumed-role or federated session ("" otherwise)
    access_key_id: str

    @property
    def display(self) -> str:
        if self.kind in ("role", "federated-user") and self.session_name:
            return f"{self.name}/{self.session_name}"
        return self.name or self.key


def principal(event: Mapping) -> Principal:
    """The principal behind the call (see Principal)."""
    return _per_event("principal", event, _principal)


def _caller(event: Mapping) -> tuple[Mapping, str, str]:
    """(userIdentity, the caller's ARN, its account): the ARN from `userIdentity.arn`, else
    Sentinel's fallback `resources[0].ARN`; the account from the identity, else the recipient."""
    identity = as_mapping(event.get("userIdentity"))
    arn = as_text(identity.get("arn"))
    if not arn:
        resources = as_sequence(event.get("resources"))
        arn = as_text(dig(resources[0] if resources else None, "ARN"))
    account_id = as_text(identity.get("accountId")) or as_text(event.get("recipientAccountId"))
    return identity, arn, account_id


def _principal(event: Mapping) -> Principal:
    identity, arn, account_id = _caller(read_view(event))
    identity_type = as_text(identity.get("type"))
    access_key_id = as_text(identity.get("accessKeyId"))
    session = _session_principal(identity, identity_type, arn, access_key_id)
    if session is not None:
        return session
    if identity_type == "Root" or arn.endswith(":root"):
        root_arn = arn or (f"arn:aws:iam::{account_id}:root" if account_id else "")
        return Principal(
            root_arn or "root", "root", root_arn, f"root ({account_id or '?'})", "", access_key_id
        )
    if arn:
        name = as_text(identity.get("userName")) or arn.rsplit("/", 1)[-1]
        kind = "user" if identity_type in ("IAMUser", "") else identity_type.lower()
        return Principal(arn, kind, arn, name, "", access_key_id)
    principal_id = as_text(identity.get("principalId"))
    if principal_id:
        return Principal(
            f"{account_id}:{principal_id}",
            identity_type.lower(),
            "",
            principal_id,
            "",
            access_key_id,
        )
    service = as_text(identity.get("invokedBy"))
    if service:
        return Principal(f"service:{service}", "service", "", service, "", access_key_id)
    return Principal("unknown", "", "", "", "", access_key_id)


def _session_principal(
    identity: Mapping, identity_type: str, arn: str, access_key_id: str
) -> Principal | None:
    """The principal behind temporary credentials (an assumed role, Identity Center, a federated
    user), or None for other identities."""
    issuer = as_mapping(dig(identity, "sessionContext", "sessionIssuer"))
    issuer_arn, issuer_name = as_text(issuer.get("arn")), as_text(issuer.get("userName"))
    assumed = _ASSUMED_ROLE_ARN.match(arn)
    if assumed or identity_type == "AssumedRole":
        role_name = issuer_name or (assumed.group(3) if assumed else "")
        session = assumed.group(4) if assumed else ""
        session = session or as_text(identity.get("principalId")).partition(":")[2]
        if role_name.startswith(_IDENTITY_CENTER_ROLE_PREFIX) and session:
            person = as_text(dig(identity, "onBehalfOf", "userId")) or session.lower()
            return Principal(
                f"identity-center-user:{person}",
                "identity-center-user",
                "",
                session,
                session,
                access_key_id,
            )
        if not issuer_arn and assumed:
            issuer_arn = f"arn:{assumed.group(1)}:iam::{assumed.group(2)}:role/{role_name}"
        if issuer_arn:
            return Principal(issuer_arn, "role", issuer_arn, role_name, session, access_key_id)
    federated = _FEDERATED_USER_ARN.match(arn)
    if (federated or identity_type == "FederatedUser") and issuer_arn:
        session = federated.group(3) if federated else ""
        return Principal(
            issuer_arn,
            "federated-user",
            issuer_arn,
            issuer_name or issuer_arn,
            session,
            access_key_id,
        )
    return None


def is_service_launch(event: Mapping) -> bool:
    """Whether an AWS service made the call for a group, fleet or cluster it runs (see
    LAUNCHING_SERVICES): an AWSService identity, a service-linked role, or a launching service
    as the invoker or source. The console ("AWS Internal") and CloudFormation are the person."""
    event = read_view(event)
    identity = as_mapping(event.get("userIdentity"))
    if as_text(identity.get("type")) == "AWSService":
        return True
    invoked_by = as_text(identity.get("invokedBy"))
    if invoked_by in LAUNCHING_SERVICES:
        return True
    if as_text(event.get("sourceIPAddress")) in LAUNCHING_SERVICES:
        return True
    issuer_arn = as_text(dig(identity, "sessionContext", "sessionIssuer", "arn"))
    return _SERVICE_LINKED_ROLE_PATH in issuer_arn


def actor(event: Mapping) -> Actor:
    """Who made the call, with Sentinel's fallbacks: the ARN from `userIdentity.arn`, else
    `resources[0].ARN`; the name from `userName`, else the ARN's last segment; "Anonymous" for
    anonymous principals; `name@suffix` split into name and UPN suffix. Its key is the
    principal's."""
    return _per_event("actor", event, _actor)


def _actor(original: Mapping) -> Actor:
    event = read_view(original)
    identity, arn, account_id = _caller(event)
    principal_id = as_text(identity.get("principalId"))
    identity_type = as_text(identity.get("type"))
    invoked_by = as_text(identity.get("invokedBy"))

    if principal_id == "Anonymous" or identity_type == "AnonymousUser":
        user_name = "Anonymous"
    else:
        user_name = as_text(identity.get("userName")) or (arn.rsplit("/", 1)[-1] if arn else "")
    name, _, upn_suffix = user_name.partition("@")
    return Actor(
        arn=arn,
        account_id=account_id,
        principal_id=principal_id,
        identity_type=identity_type,
        user_name=user_name,
        name=name,
        upn_suffix=upn_suffix,
        invoked_by=invoked_by,
        service_invoked=is_service_launch(event),
        key=principal(original).key,
    )


def is_allowlisted(
    event: Mapping, principal_arns: Any, user_agents: Any, also: Principal | None = None
) -> bool:
    """Whether the caller (or `also`: the owner a service's launch is charged to) matches an
    allowlisted principal ARN, or the call an allowlisted user agent pattern. Both lists may be
    the strings a test mock returns. Patterns match as the capacity controllers' do
    (`matches_any`: shell patterns, any case)."""
    if not _entries(principal_arns) and not _entries(user_agents):
        return False  # the default: nothing allowlisted, nothing to read
    owner_arn = also.arn if also is not None else ""
    arns = (actor(event).arn, principal(event).arn, owner_arn)  # session, role, owner
    if any(matches_any(arn, principal_arns) for arn in arns):
        return True
    return matches_any(as_text(as_mapping(event).get("userAgent")), user_agents)


# --- Alert context --------------------------------------------------------------------------------


def resource_account(event: Mapping) -> str:
    """The account the call acted in (whose capacity it used): `recipientAccountId`, else the
    caller's account."""
    return as_text(as_mapping(event).get("recipientAccountId")) or actor(event).account_id


def caller_ip_address(event: Mapping) -> str:
    """`sourceIPAddress` when it is an IP address: "" for AWS service names
    ("autoscaling.amazonaws.com"), the console's "AWS Internal" and anything else."""
    text = as_text(as_mapping(event).get("sourceIPAddress")).strip()
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return ""


def identity_alert_context(event: Mapping) -> dict:
    """Where and by whom: the principal every window counts per, with Sentinel's grouping fields
    (actor_*, source IP, user agent) and the session and access key as context."""
    event = as_mapping(event)
    who, person = actor(event), principal(event)
    return {
        "account_id": resource_account(event),
        "region": as_text(event.get("awsRegion")),
        "event_name": as_text(event.get("eventName")),
        "event_id": as_text(event.get("eventID")),
        "event_time": as_text(event.get("eventTime")),
        "principal": person.key,
        "principal_kind": person.kind,
        "principal_name": person.name,
        "session_name": person.session_name,
        "access_key_id": person.access_key_id,
        "actor_arn": who.arn,
        "actor_name": who.name,
        "actor_upn_suffix": who.upn_suffix,
        "actor_type": who.identity_type,
        "invoked_by": who.invoked_by,
        "service_invoked": who.service_invoked,
        "source_ip": as_text(event.get("sourceIPAddress")),
        "user_agent": as_text(event.get("userAgent")),
    }


def launch_alert_context(event: Mapping, summary: LaunchSummary | None = None) -> dict:
    """The alert context every detection of the pack shares for a launch event."""
    event = as_mapping(event)
    summary = summary or summarize_launch(event)
    context = identity_alert_context(event)
    context.update(
        {
            "service": service_name(event),
            "outcome": summary.outcome,
            "error_code": summary.error_code,
            "error_message": as_text(event.get("errorMessage"))[:MAX_ERROR_MESSAGE_LENGTH],
            "instance_types": list(summary.instance_types),
            "accelerators": accelerator_kinds(summary.instance_types),
            "uses_launch_template": summary.uses_launch_template,
            "launch_template": str(summary.template or ""),
            "template_instance_types": list(summary.template_types),
            "requested_vcpus_max": summary.requested_vcpus_max,
            "requested_accelerator_count_max": summary.requested_accelerators_max,
            "requested_instance_count": summary.requested_instance_count,
            "launched_instance_count": summary.launched_instance_count,
            "requested_vcpus": summary.requested_vcpus,
            "launched_vcpus": summary.launched_vcpus,
            "requested_accelerator_count": summary.requested_accelerators,
            "launched_accelerator_count": summary.launched_accelerators,
            "unknown_instance_types": list(summary.unknown_instance_types),
            "instance_ids": list(summary.instance_ids),
            "subnet_id": summary.subnet_id,
            "max_capacity": summary.max_capacity,
            "launches_later": summary.launches_later,
        }
    )
    if as_text(event.get("eventSource")) == CODEBUILD_EVENT_SOURCE:  # Docker in the build
        context["privileged_mode"] = any(
            flag is True
            for flag in (
                dig(event, "requestParameters", "privilegedModeOverride"),
                dig(event, "responseElements", "build", "environment", "privilegedMode"),
                dig(event, "responseElements", "buildBatch", "environment", "privilegedMode"),
            )
        )
    if summary.template is not None and summary.template.kind in TASK_SIZED:
        size = summary.task_size  # one task's (job's, environment's) size, where known
        context["task_definition"] = str(summary.template)
        context["task_cpu_units"] = size.cpu_units if size else None
        context["task_gpus"] = size.gpus if size else None
    return context
