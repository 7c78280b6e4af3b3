"""Launch templates and launch configurations, remembered in Panther's KV store, so that a launch
naming a template without a type of its own is judged by the template's types: its refusals and
dry runs too, whose responses say nothing about what they would have launched.

What is kept, per account, region and template (by ID and by name, since a launch may name
either): one entry per version with its instance type, one per default-version change, and a mark
per deletion, each stamped with its event time. A launch's version (`$Default`, `$Latest` or a
number) is resolved from those entries on event time, so a template deleted and created again
under the same name is the new one. Launch configurations are kept by name.

A template the pack never saw defined (created before the pack, or its creation not delivered
yet) is "unknown": the alert says so and no type is guessed. A launch that finds its template
unknown waits for it: it is kept under the template's key, and the template event that defines
it judges the launch again (see `judge_waiting_launches`). Every write is idempotent (a string
set of entries keyed by version and event time), bounded (MAX_ENTRIES per key, oldest dropped) and
carries its TTL; when the store fails the launch is judged without the template.

Shapes: CreateLaunchTemplate is seen in public CloudTrail samples (PascalCase request wrapper,
camelCase response); CreateLaunchTemplateVersion, ModifyLaunchTemplate and
DeleteLaunchTemplate(Versions) follow the same wrappers as documented in the EC2 API reference
(inferred, not seen).
"""

import json
from collections.abc import Callable, Mapping
from typing import NamedTuple

from ec2_compute_windows import (
    TTL_MARGIN_SECONDS,
    Entry,
    KVStore,
    entry_id,
    entry_label,
    parse_entries,
    remember,
    remembered,
    store_error,
    window_key,
)

from ec2_compute_config import (
    INSTANCE_MEMORY_SECONDS,
    LAUNCH_TEMPLATE_MEMORY_SECONDS,
    VCPU_SURGE_WINDOW_SECONDS,
    as_int,
    instance_memory_seconds,
    launch_template_memory_seconds,
    vcpu_surge_window_seconds,
)
from ec2_compute_helpers import (
    AMPLIFY_APP,
    AMPLIFY_DEFAULT_COMPUTE_TYPE,
    AMPLIFY_EVENT_SOURCE,
    APPLICATION_AUTOSCALING_EVENT_SOURCE,
    AUTOSCALING_EVENT_SOURCE,
    BATCH_EVENT_SOURCE,
    BUILD_PROJECT,
    CODEBUILD_EVENT_SOURCE,
    EC2_EVENT_SOURCE,
    ECS_EVENT_SOURCE,
    ENDPOINT_CONFIG,
    FUNCTION,
    JOB_DEFINITION,
    LAMBDA_DEFAULT_MEMORY_MB,
    LAMBDA_EVENT_SOURCE,
    LAUNCH_CONFIGURATION,
    LAUNCH_EVENTS,
    LAUNCH_TEMPLATE,
    MAX_COUNT,
    MAX_TEMPLATE_REF_LENGTH,
    OUTCOME_SUCCESS,
    SAGEMAKER_EVENT_SOURCE,
    SCALING_POLICY,
    TASK_DEFINITION,
    TASK_SIZED,
    Floor,
    LaunchedInstance,
    LaunchSummary,
    Principal,
    TaskSize,
    TemplateRef,
    above_floor,
    adjusted_size,
    amplify_size,
    as_count,
    as_mapping,
    as_sequence,
    as_text,
    batch_job_definition_size,
    capacity_group_name,
    capacity_source,
    codebuild_project_size,
    dig,
    endpoint_variants,
    event_id,
    event_time_epoch,
    fleet_in_vcpus,
    function_ref,
    gives_minimum_only,
    group_size,
    instance_floor,
    job_definition_ref,
    lambda_size,
    launch_owner_refs,
    launched_instances,
    launched_on_behalf,
    listed,
    merged_events,
    normalize_instance_type,
    owned_capacity_refs,
    principal,
    read_view,
    region,
    requirement_types,
    runs_on_instances,
    scaling_policy_ref,
    started_instance_ids,
    summarize_launch,
    task_definition_ref,
    task_size,
    unusual_instance_types_in,
    with_group_growth,
    with_job_overrides,
    with_started_instances,
    with_task_size,
    with_template_groups,
    with_template_types,
)

TEMPLATE_EVENTS = {
    EC2_EVENT_SOURCE: frozenset(
        {
            "CreateLaunchTemplate",
            "CreateLaunchTemplateVersion",
            "ModifyLaunchTemplate",
            "DeleteLaunchTemplate",
            "DeleteLaunchTemplateVersions",
        }
    ),
    # Launch configurations; scaling policies (their adjustment, for ExecutePolicy).
    AUTOSCALING_EVENT_SOURCE: frozenset({"CreateLaunchConfiguration", "PutScalingPolicy"}),
    # ECS task definitions: each revision's task size, for RunTask and CreateService calls that
    # name a family (its latest revision) or a revision without a size of their own.
    ECS_EVENT_SOURCE: frozenset({"RegisterTaskDefinition"}),
    # SageMaker endpoint configs: their variants' types and counts, for the endpoints that name
    # them (CreateEndpoint, UpdateEndpoint).
    SAGEMAKER_EVENT_SOURCE: frozenset({"CreateEndpointConfig"}),
    # Lambda functions: memory (one environment's vCPU share), for their concurrency calls.
    LAMBDA_EVENT_SOURCE: frozenset(
        {
            "CreateFunction20150331",
            "CreateFunction",
            "UpdateFunctionConfiguration20150331v2",
            "UpdateFunctionConfiguration",
        }
    ),
    # Batch job definitions: one job's size per revision, for SubmitJob.
    BATCH_EVENT_SOURCE: frozenset({"RegisterJobDefinition"}),
    # Amplify apps and CodeBuild projects: their build compute type, for StartJob and for
    # StartBuild refusals (whose responses name none).
    AMPLIFY_EVENT_SOURCE: frozenset({"CreateApp", "UpdateApp"}),
    CODEBUILD_EVENT_SOURCE: frozenset({"CreateProject", "UpdateProject"}),
}
TEMPLATE_EVENT_NAMES = frozenset().union(*TEMPLATE_EVENTS.values())

# Entries kept per template key: versions, default changes and deletions. AWS allows 10,000
# versions per template; launches name recent ones, so the oldest entries go first.
MAX_ENTRIES = 200
# A version is kept by its number and its definition's event time and ID ("v3@<stamp>"): a template
# made again under a deleted one's name defines its version 1 again, and both definitions must
# stay for the later to be found (keyed by number alone, the store's set order chose one).
# Deletions by event time; what has no number (a default change, a definition without versions)
# by event time and event ID, so two in one second both stay.
_VERSION, _DEFAULT, _DELETED, _VERSION_DELETED = "v", "default", "deleted", "deleted-v"

STATUS_KNOWN = "known"
STATUS_NO_TYPE = "template sets no instance type (attribute-based or left to the launch)"
STATUS_UNKNOWN = "unknown template: the pack never saw it defined"
STATUS_UNREADABLE = "template memory unavailable"
STATUS_NO_SIZE = "definition sets no CPU or GPU (an ECS task left to its container instances)"


class TemplateChange(NamedTuple):
    """What one template event says: the references it is known by and the entries to keep."""

    kind: str
    refs: tuple  # the template's ID and name (either may be missing)
    entries: tuple  # Entry per version, default change or deletion


class TemplateLookup(NamedTuple):
    template: TemplateRef | None
    instance_types: tuple
    status: str  # STATUS_*, or "" when the launch names no template
    degraded: str = ""
    task_size: TaskSize | None = None  # a task definition's, where known
    groups: tuple = ()  # an endpoint config's (type, count) variants, where known
    adjustment: tuple = ()  # a scaling policy's (adjustment type, adjustment), where known
    owner: "Owner | None" = None  # a service's launch: who it is charged to, where known


NO_TEMPLATE = TemplateLookup(None, (), "")


def is_template_event(event: Mapping) -> bool:
    view = read_view(event)
    name = view.get("eventName")
    if not isinstance(name, str) or name not in TEMPLATE_EVENT_NAMES:
        return False
    source = view.get("eventSource")
    return isinstance(source, str) and name in TEMPLATE_EVENTS.get(source, ())


def template_change(event: Mapping) -> TemplateChange | None:
    """The template change an event is, or None (another event, a failed call, no reference)."""
    view = read_view(event)
    if not is_template_event(view) or view.get("errorCode"):
        return None
    moment = event_time_epoch(event)
    name = as_text(view.get("eventName"))
    request = as_mapping(view.get("requestParameters"))
    response = as_mapping(view.get("responseElements"))
    epoch = int(moment or 0)  # without an event time, kept as the oldest of all
    stamp = f"{epoch}@{entry_id(event_id(event))}"
    if name == "CreateLaunchConfiguration":
        instance_type = normalize_instance_type(request.get("instanceType"))
        entries = (Entry(epoch, _latest(stamp), 0, 0, entry_label(instance_type)),)
        refs = _refs(as_text(request.get("launchConfigurationName")))
        return TemplateChange(LAUNCH_CONFIGURATION, refs, entries) if refs else None
    if name == "CreateEndpointConfig":
        refs = _refs(as_text(request.get("endpointConfigName")))
        variants = endpoint_variants(request)
        label = ",".join(f"{instance_type}*{count}" for instance_type, count in variants)
        entry = Entry(epoch, _latest(stamp), sum(n for _, n in variants), 0, entry_label(label))
        return TemplateChange(ENDPOINT_CONFIG, refs, (entry,)) if refs else None
    sized_change = _SIZED_CHANGES.get(as_text(view.get("eventSource")))
    if sized_change is not None:
        return sized_change(request, response, epoch, stamp)
    wrapper = as_mapping(request.get(f"{name}Request"))
    result = as_mapping(response.get(f"{name}Response"))
    template = as_mapping(result.get("launchTemplate") or result.get("launchTemplateVersion"))
    refs = _refs(
        as_text(template.get("launchTemplateId")) or as_text(wrapper.get("LaunchTemplateId")),
        as_text(template.get("launchTemplateName")) or as_text(wrapper.get("LaunchTemplateName")),
    )
    if not refs:
        return None
    entries = _launch_template_entries(name, wrapper, template, epoch, stamp)
    return TemplateChange(LAUNCH_TEMPLATE, refs, entries) if entries else None


def _task_definition_change(request: Mapping, registered: Mapping, epoch: int):
    """A task definition's new revision: its size as amount (CPU units) and accelerators (GPUs),
    labelled "task" ("task:none" when nothing sets its size)."""
    ref = task_definition_ref(registered.get("taskDefinitionArn")) or task_definition_ref(
        request.get("family")
    )
    if ref is None:
        return None
    revision = as_count(registered.get("revision"))
    if revision is None:
        revision = as_count(ref.version)  # "family:N" without a response
    if revision is None:
        return None
    size = task_size(request)
    entry = Entry(
        epoch,
        f"{_VERSION}{revision}",
        size.cpu_units if size else 0,
        size.gpus if size else 0,
        "task" if size else "task:none",
    )
    return TemplateChange(TASK_DEFINITION, (ref.ref,), (entry,))


# Lambda's shapes are seen (the response repeats the whole configuration); Batch's, Amplify's and
# CodeBuild's are inferred from their API references. A call that leaves the size as it was (an
# UpdateApp without jobConfig) changes nothing.


def _function_change(request: Mapping, response: Mapping, epoch: int, stamp: str):
    """A Lambda function's memory, as one environment's vCPU share."""
    ref = function_ref(response.get("functionName") or request.get("functionName"))
    memory = response.get("memorySize", request.get("memorySize"))
    if memory is None and "functionArn" in response:  # created with Lambda's default
        memory = LAMBDA_DEFAULT_MEMORY_MB
    size = lambda_size(memory)
    if ref is None or size is None:
        return None
    entry = Entry(epoch, _latest(stamp), size.cpu_units, 0, "task")
    return TemplateChange(FUNCTION, (ref.ref,), (entry,))


def _job_definition_change(request: Mapping, response: Mapping, epoch: int, _stamp: str):
    """A Batch job definition's revision: one job's size, "task:<nodes>" (all its nodes')."""
    ref = job_definition_ref(response.get("jobDefinitionArn")) or job_definition_ref(
        request.get("jobDefinitionName")
    )
    revision = as_count(response.get("revision"))
    if ref is None or revision is None:
        return None
    size, nodes = batch_job_definition_size(request)
    size = size or TaskSize(0, 0)
    label = f"task:{nodes}" if size != (0, 0) else "task:none"
    entry = Entry(epoch, f"{_VERSION}{revision}", size.cpu_units * nodes, size.gpus * nodes, label)
    return TemplateChange(JOB_DEFINITION, (ref.ref,), (entry,))


def _amplify_app_change(request: Mapping, response: Mapping, epoch: int, stamp: str):
    """An Amplify app's build compute type (CreateApp without one: Amplify's default)."""
    app = as_mapping(response.get("app"))
    refs = _refs(as_text(app.get("appId")) or as_text(request.get("appId")))
    compute = dig(request, "jobConfig", "buildComputeType") or dig(
        app, "jobConfig", "buildComputeType"
    )
    if compute is None and request.get("appId") is None:  # CreateApp
        compute = AMPLIFY_DEFAULT_COMPUTE_TYPE
    if not refs or compute is None:
        return None
    return TemplateChange(
        AMPLIFY_APP, refs, (Entry(epoch, _latest(stamp), 0, 0, amplify_size(compute)),)
    )


def _build_project_change(request: Mapping, response: Mapping, epoch: int, stamp: str):
    """A CodeBuild project's compute type."""
    project = as_mapping(response.get("project"))
    size = codebuild_project_size(project) or codebuild_project_size(request)
    refs = _refs(as_text(project.get("name")) or as_text(request.get("name")))
    if not refs or not size:
        return None
    return TemplateChange(BUILD_PROJECT, refs, (Entry(epoch, _latest(stamp), 0, 0, size),))


def _signed(value) -> int | None:
    """A whole number, negative ones too (scale-in steps), from a number or its text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = as_text(value).strip()
    return int(text) if text.lstrip("-").isdigit() else None


def _scaling_policy_change(request: Mapping, response: Mapping, epoch: int, stamp: str):
    """A simple or step scaling policy's adjustment (its largest step's): what ExecutePolicy
    does to the group. Target tracking and predictive policies have none to run."""
    ref = scaling_policy_ref(request.get("autoScalingGroupName"), request.get("policyName"))
    steps = [step.get("scalingAdjustment") for step in listed(request.get("stepAdjustments"))]
    adjustments = [_signed(a) for a in (request.get("scalingAdjustment"), *steps)]
    adjustments = [a for a in adjustments if a is not None]
    if ref is None or not adjustments:
        return None
    kind = as_text(request.get("adjustmentType")) or "ChangeInCapacity"
    entry = Entry(epoch, _latest(stamp), max(*adjustments, 0), 0, entry_label(kind))
    return TemplateChange(SCALING_POLICY, (ref.ref,), (entry,))


# eventSource -> the reader of its definitions, each remembered by name with one size.
_SIZED_CHANGES = {
    ECS_EVENT_SOURCE: lambda request, response, epoch, _stamp: _task_definition_change(
        request, as_mapping(response.get("taskDefinition")), epoch
    ),
    LAMBDA_EVENT_SOURCE: _function_change,
    BATCH_EVENT_SOURCE: _job_definition_change,
    AMPLIFY_EVENT_SOURCE: _amplify_app_change,
    CODEBUILD_EVENT_SOURCE: _build_project_change,
    AUTOSCALING_EVENT_SOURCE: _scaling_policy_change,  # CreateLaunchConfiguration: read above
}


def _launch_template_entries(
    name: str, wrapper: Mapping, template: Mapping, epoch: int, stamp: str
) -> tuple:
    """The entries an EC2 launch template call adds to what is kept of the template: per
    version its type, or for attribute-based instance requirements the smallest and largest
    catalog type that meets them ("c5.large,p5.48xlarge"). A default-version change is stamped
    with its event time and ID, as a definition without versions is (`_latest`)."""
    data = as_mapping(wrapper.get("LaunchTemplateData"))
    instance_type = normalize_instance_type(data.get("InstanceType")) or ",".join(
        requirement_types(data.get("InstanceRequirements"))
    )
    if name == "CreateLaunchTemplate":
        return (
            Entry(epoch, f"{_VERSION}1@{stamp}", 0, 0, entry_label(instance_type)),
            Entry(epoch, f"{_DEFAULT}@{stamp}", 1, 0, _DEFAULT),
        )
    if name == "CreateLaunchTemplateVersion":
        number = as_count(template.get("versionNumber"))
        # A version without a type of its own keeps its source version's ("=N" resolves later).
        source = as_count(wrapper.get("SourceVersion"))
        label = instance_type or (f"={source}" if source is not None else "")
        if number is None:
            return ()
        return (Entry(epoch, f"{_VERSION}{number}@{stamp}", 0, 0, label),)
    if name == "ModifyLaunchTemplate":
        number = as_count(template.get("defaultVersionNumber"))
        if number is None:
            number = as_count(wrapper.get("SetDefaultVersion", wrapper.get("DefaultVersion")))
        return () if number is None else (Entry(epoch, f"{_DEFAULT}@{stamp}", number, 0, _DEFAULT),)
    if name == "DeleteLaunchTemplate":
        return (Entry(epoch, f"{_DELETED}@{epoch}", 0, 0, _DELETED),)
    listed_versions = wrapper.get("LaunchTemplateVersion")  # DeleteLaunchTemplateVersions
    if isinstance(listed_versions, (str, Mapping)):  # one version, written as itself
        listed_versions = [listed_versions]
    versions = [
        as_count(item.get("content")) if isinstance(item, Mapping) else as_count(item)
        for item in as_sequence(listed_versions)
    ]
    return tuple(
        Entry(epoch, f"{_VERSION_DELETED}{n}@{epoch}", n, 0, _DELETED)
        for n in dict.fromkeys(v for v in versions if v is not None)
    )


def _latest(stamp: str) -> str:
    """The entry ID of a definition without versions (a launch configuration, an endpoint
    config, a function, an app, a project, a policy): version 0 as of its stamp ("<event
    time>@<event ID>"), so each change is kept beside the earlier ones and the latest before a
    launch is found. Of two changes in one second the larger event ID is taken as the later, as
    the data-lake queries order them; the store's set order must not choose."""
    return f"{_VERSION}0@{stamp}"


def _refs(*refs: str) -> tuple:
    return tuple(dict.fromkeys(r.strip()[:MAX_TEMPLATE_REF_LENGTH] for r in refs if r.strip()))


def _account_id(event: Mapping) -> str:
    """The account a template lives in: where the call landed (`recipientAccountId`), else the
    caller's. Writes and reads derive it the same way, or they would miss each other's keys."""
    view = read_view(event)
    return as_text(view.get("recipientAccountId")) or as_text(
        dig(view, "userIdentity", "accountId")
    )


def _key(kind: str, account_id: str, where: str, *rest: str) -> str:
    """The key of what is kept per account and region: templates, waiting launches, groups,
    instances."""
    return window_key(kind, account_id or "?", where or "?", *rest)


def remember_template(event: Mapping, store: KVStore) -> str:
    """Keep what a template event says under each of the template's references, for
    LAUNCH_TEMPLATE_MEMORY_SECONDS; "" or why the store could not be written. Idempotent: the
    same event adds the same entries."""
    change = template_change(event)
    if change is None:
        return ""
    ttl_seconds = as_int(launch_template_memory_seconds(), LAUNCH_TEMPLATE_MEMORY_SECONDS)
    account_id = _account_id(event)
    members = [entry.encode() for entry in change.entries]
    try:
        for ref in change.refs:
            key = _key(change.kind, account_id, region(event), ref)
            stored = parse_entries(store.add_to_string_set(key, members, ttl_seconds))
            if len(stored) > MAX_ENTRIES:  # judged on what the atomic write returned
                oldest = sorted(stored.values())[: len(stored) - MAX_ENTRIES]
                store.remove_from_string_set(key, [e.encode() for e in oldest], ttl_seconds)
    except Exception as error:  # a failed write degrades the pack; it must never raise
        return store_error(error)
    return ""


def template_types(
    event: Mapping, summary: LaunchSummary, store: KVStore, epoch: float | None = None
) -> TemplateLookup:
    """The instance types of the template a launch names, at the version it names, as the pack
    last saw it defined before the launch's event time."""
    template = summary.template
    if template is None:
        return NO_TEMPLATE
    account_id = _account_id(event)
    key = _key(template.kind, account_id, region(event), template.ref)
    try:
        entries = parse_entries(store.get_string_set(key))
    except Exception as error:  # a failed read degrades the pack; it must never raise
        reason = store_error(error)
        return TemplateLookup(template, (), STATUS_UNREADABLE, reason)
    moment = event_time_epoch(event) if epoch is None else epoch
    if template.kind in TASK_SIZED:
        return _task_definition_lookup(template, _resolve_entry(entries.values(), template, moment))
    if template.kind == ENDPOINT_CONFIG:
        return _endpoint_config_lookup(template, _resolve_entry(entries.values(), template, moment))
    if template.kind == SCALING_POLICY:
        return _policy_lookup(template, _resolve_entry(entries.values(), template, moment))
    return _launch_template_lookup(template, _resolve(entries.values(), template, moment))


def _policy_lookup(template: TemplateRef, entry: Entry | None) -> TemplateLookup:
    if entry is None:
        return TemplateLookup(template, (), STATUS_UNKNOWN)
    return TemplateLookup(template, (), STATUS_KNOWN, adjustment=(entry.label, entry.amount))


def _launch_template_lookup(template: TemplateRef, instance_type: str | None) -> TemplateLookup:
    if instance_type is None:
        return TemplateLookup(template, (), STATUS_UNKNOWN)
    if not instance_type:
        return TemplateLookup(template, (), STATUS_NO_TYPE)
    return TemplateLookup(template, tuple(instance_type.split(",")), STATUS_KNOWN)


def _task_definition_lookup(template: TemplateRef, entry: Entry | None) -> TemplateLookup:
    """One task's size ("task"), or a Batch job's: "task:<nodes>", its amount and accelerators
    those nodes' together."""
    if entry is None:
        return TemplateLookup(template, (), STATUS_UNKNOWN)
    if entry.label != "task" and not entry.label.removeprefix("task:").isdigit():
        return TemplateLookup(template, (), STATUS_NO_SIZE)
    size = TaskSize(entry.amount, entry.accelerators)
    return TemplateLookup(template, (), STATUS_KNOWN, task_size=size)


def _endpoint_config_lookup(template: TemplateRef, entry: Entry | None) -> TemplateLookup:
    if entry is None:
        return TemplateLookup(template, (), STATUS_UNKNOWN)
    groups = []
    for variant in entry.label.split(","):
        instance_type, _, count = variant.rpartition("*")
        if instance_type and count.isdigit():
            groups.append((instance_type, int(count)))
    if not groups:
        return TemplateLookup(template, (), STATUS_NO_TYPE)
    types = tuple(dict.fromkeys(t for t, _ in groups))
    return TemplateLookup(template, types, STATUS_KNOWN, groups=tuple(groups))


def _resolve(entries, template: TemplateRef, moment: float | None) -> str | None:
    """The type at the named version ("" when it sets none), or None when no such version was
    seen. Only entries up to the launch's event time count, after the template's last deletion."""
    versions, default = _versions(entries, moment)
    entry = _named_version(versions, default, template)
    label = entry.label if entry is not None else None
    for _ in range(len(versions)):  # a version that kept its source version's type
        if label is None or not label.startswith("="):
            break
        source = versions.get(as_count(label[1:]))
        label = source.label if source is not None else None
    if label is None:
        return None
    return "" if label.startswith("=") else label


def _resolve_entry(entries, template: TemplateRef, moment: float | None) -> Entry | None:
    """The entry of the version a launch names, or None when no such version was seen."""
    return _named_version(*_versions(entries, moment), template)


# Definitions without versions: the latest before the launch is the one.
_ONE_DEFINITION = frozenset(
    {LAUNCH_CONFIGURATION, ENDPOINT_CONFIG, FUNCTION, AMPLIFY_APP, BUILD_PROJECT, SCALING_POLICY}
)


def _named_version(versions: dict, default: int | None, template: TemplateRef) -> Entry | None:
    if template.kind in _ONE_DEFINITION:
        number = 0  # one definition per name, the latest before the launch
    elif template.version == "$Latest":
        number = max(versions, default=None)
    elif template.version in ("$Default", ""):
        number = default if default is not None else min(versions, default=None)
    else:
        number = as_count(template.version)
    return versions.get(number) if number is not None else None


def _versions(entries, moment: float | None) -> tuple[dict[int, Entry], int | None]:
    """(each version's entry, the default version) up to `moment`, after the template's last
    deletion, less deleted versions."""
    seen = sorted(e for e in entries if moment is None or e.epoch <= moment)
    deleted_at = max((e.epoch for e in seen if e.event_id.startswith(f"{_DELETED}@")), default=-1)
    versions: dict[int, Entry] = {}
    default = None
    for entry in seen:
        if entry.epoch < deleted_at:
            continue
        if entry.event_id.startswith(_VERSION_DELETED):
            versions.pop(entry.amount, None)
        elif entry.event_id.startswith(f"{_DEFAULT}@"):
            default = entry.amount
        elif entry.event_id.startswith(_VERSION):
            number = entry.event_id[1:].partition("@")[0]  # "v3@<stamp>" (or "v3", kept before)
            if number.isdigit():
                versions[int(number)] = entry
    return versions, default


# --- Launches judged with their template ----------------------------------------------------------

LAUNCH_AND_TEMPLATE_EVENTS = merged_events(LAUNCH_EVENTS, TEMPLATE_EVENTS)


class PricedLaunch(NamedTuple):
    summary: LaunchSummary  # priced by its template, group or remembered instances
    lookup: TemplateLookup  # what the memory found


# The last launches judged, by event ID, for the alert functions Panther calls after rule().
_judged: dict[str, PricedLaunch] = {}
_MAX_JUDGED = 256


def launch_with_template(
    event: Mapping, store: KVStore | None, remember_launched: bool = False
) -> PricedLaunch:
    """The launch's summary, priced by its template's types where it names a template and no
    type of its own, by the remembered types of the instances a StartInstances call starts, and
    as the growth of a remembered auto scaling group; with what the look-up found. rule() passes
    its store; the alert functions pass None and get what rule() found for the same event. With
    `remember_launched` (VCPUSurge, which records every launch anyway: the one writer), what the
    call launched or sized is remembered for later calls. A sizing call's caller is kept as its
    group's owner, and a service's launch for a group finds its owner (`lookup.owner`)."""
    summary = summarize_launch(event)
    grows_a_group = summary.event_name in GROUP_EVENTS
    charged_back = launched_on_behalf(event)
    if store is None:
        if (
            summary.event_name == "StartInstances"
            or grows_a_group
            or summary.needs_template
            or charged_back
        ):
            return _judged.get(
                event_id(event), PricedLaunch(summary, TemplateLookup(summary.template, (), ""))
            )
        return PricedLaunch(summary, TemplateLookup(summary.template, (), ""))
    if remember_launched and summary.launched_instance_count:
        remember_launched_instances(event, store)
    if summary.event_name == "StartInstances":
        known, degraded = started_instances(event, store)
        return _judge(
            event, with_started_instances(summary, known), TemplateLookup(None, (), "", degraded)
        )
    lookup = TemplateLookup(summary.template, (), "")
    if summary.needs_template:
        lookup = template_types(event, summary, store)
        if lookup.status == STATUS_UNKNOWN:  # wait for it, then look again (write, then read)
            waiting = wait_for_template(event, summary.template, store)
            lookup = template_types(event, summary, store)._replace(degraded=waiting)
        if lookup.task_size:
            summary = with_task_size(summary, with_job_overrides(event, lookup.task_size))
        elif lookup.groups:
            summary = with_template_groups(summary, lookup.groups)
        else:
            summary = with_template_types(summary, lookup.instance_types)
    if grows_a_group:
        summary = _group_growth(event, summary, store, remember_launched, lookup)
    lookup = _owners(event, summary, lookup, store, charged_back)
    if lookup.status or grows_a_group or charged_back:
        return _judge(event, summary, lookup)
    return PricedLaunch(summary, lookup)


def _owners(event, summary, lookup, store, charged_back) -> TemplateLookup:
    """Keep the caller of a sizing call as its group's owner; find a service launch's owner."""
    if summary.event_name in OWNER_EVENTS:
        remember_owner(event, summary, store, counted=lookup.status != STATUS_UNKNOWN)
    if not charged_back:
        return lookup
    owner, degraded = find_owner(event, store)
    refs = launch_owner_refs(event)
    if owner is None and refs and not degraded:  # wait for the owner, then look again
        degraded = _wait(event, OWNER, refs, store, "its group's owner")
        owner, error = find_owner(event, store)
        degraded = degraded or error
    return lookup._replace(owner=owner, degraded=lookup.degraded or degraded)


def _judge(event, summary, lookup):
    """Keep what rule() found for the event's alert functions."""
    if len(_judged) >= _MAX_JUDGED:
        _judged.clear()
    priced = _judged[event_id(event)] = PricedLaunch(summary, lookup)
    return priced


# --- Auto scaling groups and ECS services remembered, for their growth ----------------------------

SERVICE_EVENTS = frozenset({"CreateService", "UpdateService"})
# EC2 fleets are remembered (types, target capacity) for their later ModifyFleet or
# ModifySpotFleetRequest; their own pricing stays the request's (capacity in units or vCPUs).
_FLEET_CREATES = frozenset({"CreateFleet", "RequestSpotFleet"})
_IN_VCPUS_LABEL = "vcpu:"
# Calls that size a group the pack remembers: auto scaling groups, ECS services, EKS node groups,
# Batch compute environments (in vCPUs), EMR instance groups and fleets; Application Auto Scaling's
# minimums of ECS services and Spot Fleets.
GROUP_EVENTS = frozenset(
    {
        *LAUNCH_EVENTS[AUTOSCALING_EVENT_SOURCE],  # every one sizes an auto scaling group
        *LAUNCH_EVENTS[APPLICATION_AUTOSCALING_EVENT_SOURCE],
        *SERVICE_EVENTS,
        "CreateNodegroup",
        "UpdateNodegroupConfig",
        "CreateComputeEnvironment",
        "UpdateComputeEnvironment",
        "ModifyInstanceGroups",
        "ModifyInstanceFleet",
        *_FLEET_CREATES,
        "ModifyFleet",
        "ModifySpotFleetRequest",
    }
)
_CREATES = frozenset(
    {"CreateAutoScalingGroup", "CreateService", "CreateNodegroup", "CreateComputeEnvironment"}
)
# The group calls that resize a group or fleet that exists (not its creation).
GROUP_RESIZES = GROUP_EVENTS - _CREATES - _FLEET_CREATES
_IN_VCPUS = frozenset({"CreateComputeEnvironment", "UpdateComputeEnvironment"})
# Calls that make their caller the owner of a group or fleet (owned_capacity_refs).
OWNER_EVENTS = GROUP_EVENTS | {"RunJobFlow", "AddInstanceGroups", "AddInstanceFleet"}
# What a service's entry keeps of one task's size: "task:<CPU units>:<GPUs>", or that its tasks
# run on EC2 container instances (their capacity counted at the instances' launch).
_ON_INSTANCES = "task:instances"


def _group_growth(
    event: Mapping, summary: LaunchSummary, store: KVStore, write: bool, lookup: TemplateLookup
):
    """A group's (or service's) new size as growth over the size the pack last saw it given
    (before this event's time), priced by the types (one task's size) last seen for it; one the
    pack never saw counts its whole new size. Creating is all growth. ExecutePolicy's new size is
    its policy's adjustment (`lookup`'s) applied to the last size. A call naming a template the
    pack never saw (`lookup`'s status) is counted by number: its group now runs that template's
    types, and its launches count in full. With `write`, the new size and types (task size) are
    kept."""
    adjustment = lookup.adjustment
    if summary.event_name in _FLEET_CREATES and not write:
        return summary  # priced by its request; only remembered (by VCPUSurge, the one writer)
    name = capacity_group_name(event)
    size = group_size(event)
    refresh = summary.event_name == "StartInstanceRefresh"
    if not name or (
        summary.event_name not in _CREATES and size is None and not adjustment and not refresh
    ):
        return summary
    request = as_mapping(read_view(event).get("requestParameters"))
    key, earlier = _kept_before(event, name, store)
    epoch = int(event_time_epoch(event) or 0)
    last_label = _last_label(earlier)
    if adjustment:
        size = adjusted_size(earlier[-1].amount if earlier else 0, *adjustment)
    if refresh:  # the same instances, replaced: of new types, or of the same (nothing new)
        size = earlier[-1].amount if earlier else 0
    label = _group_label(event, summary, request, last_label)
    if summary.event_name in _FLEET_CREATES and fleet_in_vcpus(event):
        label = f"{_IN_VCPUS_LABEL}{label}"  # its later target capacities are vCPUs too
    in_vcpus = summary.event_name in _IN_VCPUS or label.startswith(_IN_VCPUS_LABEL)
    label_types = label.removeprefix(_IN_VCPUS_LABEL)
    sized_directly = in_vcpus or summary.event_name in _FLEET_CREATES or bool(adjustment) or refresh
    amount = (size or 0) if sized_directly else summary.requested_instance_count
    if earlier and summary.event_name not in _CREATES and gives_minimum_only(event):
        amount = max(amount, _grown_from(earlier, epoch))  # a new minimum never lowers the group
    if write:
        keep = as_int(launch_template_memory_seconds(), LAUNCH_TEMPLATE_MEMORY_SECONDS)
        flag = _BY_SERVICE if launched_on_behalf(event) else 0
        entry = Entry(epoch, event_id(event), amount, flag, entry_label(label))
        remember(store, key, [entry], keep)
    if summary.event_name in _FLEET_CREATES:
        return summary
    grown_by = amount
    if refresh:
        same_types = set(label.split(",")) == set(last_label.split(","))
        grown_by = 0 if same_types else amount
    elif summary.event_name not in _CREATES and earlier:
        grown_by = max(grown_by - _grown_from(earlier, epoch), 0)
    if capacity_source(event) != ECS_EVENT_SOURCE:
        known = label_types and lookup.status != STATUS_UNKNOWN
        types = label_types.split(",") if known else []
        return with_group_growth(summary, grown_by, types, in_vcpus)
    grown = summary._replace(
        requested_instance_count=grown_by,
        requested_vcpus=0,
        requested_vcpus_max=0,
        requested_accelerators=0,
        requested_accelerators_max=0,
    )
    units, _, gpus = label.removeprefix("task:").partition(":")
    if units.isdigit() and gpus.isdigit():
        return with_task_size(grown, TaskSize(int(units), int(gpus)))
    return grown  # on container instances, or a size never seen: by number only


# A group's entries keep no accelerators (their label keeps its types): that field marks a size a
# service's resize kept (Application Auto Scaling's, a node group's service's), as 1.
_BY_SERVICE = 1


def _call_order(entry: Entry) -> tuple:
    """A group's sizing calls in order, as the data-lake queries order them: by event time; in
    one second, a person's before a service's (the scaler's resize follows the minimum it reacts
    to, and must not make that minimum free), then by event ID. A call reads as earlier every
    entry of its second and kind delivered before it (by event ID too, it would count again what
    it was already counted over)."""
    return (entry.epoch, entry.accelerators == _BY_SERVICE, entry.event_id)


def _kept_before(event: Mapping, name: str, store: KVStore) -> tuple[str, list[Entry]]:
    """The key of the group a sizing call names, and the sizes kept for it before the call, in
    order (_call_order)."""
    key = _key(_group_kind(event), _account_id(event), region(event), name)
    entries, _ = remembered(store, key)
    epoch, by_service = int(event_time_epoch(event) or 0), launched_on_behalf(event)
    own = entry_id(event_id(event))
    return key, sorted(
        (
            e
            for e in entries.values()
            if e.event_id != own and _call_order(e)[:2] <= (epoch, by_service)
        ),
        key=_call_order,
    )


def _last_label(earlier: list[Entry]) -> str:
    """What the last of a group's kept sizes that says so keeps of it: types, one task's size."""
    return next((e.label for e in reversed(earlier) if e.label), "")


def _grown_from(earlier: list[Entry], epoch: int) -> int:
    """The size a call grows its group from: the last kept before its second, or the largest kept
    in its second (delivered before it, whatever their event IDs), so a second's calls count the
    group's growth to its largest size once, in any delivery order, as the SQL does."""
    before = [e.amount for e in earlier if e.epoch < epoch][-1:]
    return max(before + [e.amount for e in earlier if e.epoch == epoch])


def runs_new_types(event: Mapping, summary: LaunchSummary, types, store: KVStore) -> bool:
    """Whether a sizing call (`summary`: priced as the rules price it) gives its group any of
    `types` it did not run before: not kept among its types before the call (a list kept cut to
    the label's size is compared whole). True for a group never seen."""
    name = capacity_group_name(event)
    if not name or summary.event_name not in GROUP_EVENTS:
        return True
    _, earlier = _kept_before(event, name, store)
    kept = _last_label(earlier).removeprefix(_IN_VCPUS_LABEL)
    if not kept:
        return True  # a group never seen, or of no known type
    if entry_label(",".join(summary.requested_instance_types)) == kept:
        return False  # its own types named again (a pipeline re-applying it)
    return not set(types) <= set(kept.split(","))


def _group_kind(event: Mapping) -> str:
    """The kind of key a group's sizes are kept under: one per service, as its names are its own
    (an ECS service and an EKS node group may both be "cluster/name", an auto scaling group and a
    Batch environment both "workers"). Auto scaling groups and EC2 fleets: "group"."""
    source = capacity_source(event)
    if source in (AUTOSCALING_EVENT_SOURCE, EC2_EVENT_SOURCE):
        return "group"
    return f"group-{source.split('.', 1)[0]}"


def keep_group_size(event: Mapping, store: KVStore) -> None:
    """Keep the size a service's resize gives its group (Application Auto Scaling's, a service's
    for a group it runs), its types unread: it counts for no one, and a person's next resize
    grows over it."""
    summary = summarize_launch(event)
    if summary.event_name in GROUP_EVENTS and summary.outcome == OUTCOME_SUCCESS:
        _group_growth(event, summary, store, True, TemplateLookup(None, (), ""))


def _group_label(event: Mapping, summary: LaunchSummary, request: Mapping, last_label: str) -> str:
    """What a group's entry keeps: its types; for a service, one task's size (Application Auto
    Scaling's calls name neither: the last kept)."""
    if capacity_source(event) != ECS_EVENT_SOURCE:
        return ",".join(summary.requested_instance_types) or last_label
    if runs_on_instances(request):
        return _ON_INSTANCES
    size = summary.task_size
    return f"task:{size.cpu_units}:{size.gpus}" if size is not None else last_label


# --- Owners of groups and fleets, for charge-back ------------------------------------------------
#
# The person who created or last sized a group or fleet (owned_capacity_refs) is kept under the
# group's key with what their call charged per instance (its floor). A service's launch for that
# group (launch_owner_refs) is charged to the owner at the owner's severity, for what it adds over
# the floor (above_floor): the request counted the floor already, so nothing is counted twice, and
# what actually launches is what is charged. No owner (the group predates the pack, or its owner
# is not remembered any more): the service stays the actor and the launch is not counted again.

OWNER = "owner"  # the kind of what service launches wait for (and of the owners' keys)
# Owner entries kept per group: the latest by event time is the owner.
MAX_OWNERS = 8
# Longest principal field kept (keys, ARNs, names); a longer one is not remembered as an owner.
MAX_OWNER_FIELD = 512
# A service's launch may carry an event time a little before its owner's call (clock skew).
OWNER_SKEW_SECONDS = 300
# A request whose capacity was counted in vCPUs (a fleet's target in vCPUs, a Batch compute
# environment) paid for whatever launches: its launches add nothing.
_PREPAID = Floor(MAX_COUNT, MAX_COUNT)


class Owner(NamedTuple):
    principal: Principal
    ref: str  # the group or fleet ("asg:workers")
    event_id: str  # the owner's call
    epoch: int
    floor: Floor  # what that call charged per instance

    def encode(self) -> str:
        person = json.dumps(list(self.principal), separators=(",", ":"))
        return f"{self.epoch}|{self.event_id}|{self.floor.vcpus}|{self.floor.accelerators}|{person}"


def _decode_owner(member: object, ref: str) -> Owner | None:
    """An owner entry as remember_owner wrote it, or None for junk."""
    parts = member.split("|", 4) if isinstance(member, str) else []
    if len(parts) != 5 or not all(part.isdigit() for part in (parts[0], parts[2], parts[3])):
        return None
    try:
        person = json.loads(parts[4])
    except ValueError:
        return None
    fields = len(Principal._fields)
    if (
        not isinstance(person, list)
        or len(person) != fields
        or not all(isinstance(field, str) for field in person)
    ):
        return None
    floor = Floor(int(parts[2]), int(parts[3]))
    return Owner(Principal(*person), ref, parts[1], int(parts[0]), floor)


def _owner_key(event: Mapping, ref: str) -> str:
    return _key(OWNER, _account_id(event), region(event), ref)


def remember_owner(
    event: Mapping, summary: LaunchSummary, store: KVStore, counted: bool = True
) -> str:
    """Keep the caller as the owner of the groups and fleets its sizing call names, with what
    the call charged per instance; "" or why not. Idempotent, bounded (MAX_OWNERS per group).
    A call not `counted` yet (it waits for its template) charged nothing per instance, whatever
    types the group named before: its launches count whole until the template is seen."""
    refs = owned_capacity_refs(event)
    person = principal(event)
    if not refs or person.kind in ("service", "") or max(map(len, person)) > MAX_OWNER_FIELD:
        return ""
    in_vcpus = summary.event_name in _IN_VCPUS or fleet_in_vcpus(event)
    floor = _PREPAID if in_vcpus else instance_floor(summary) if counted else Floor(0, 0)
    epoch = int(event_time_epoch(event) or 0)
    member = Owner(person, "", entry_id(event_id(event)), epoch, floor).encode()
    keep = as_int(launch_template_memory_seconds(), LAUNCH_TEMPLATE_MEMORY_SECONDS)
    ttl = keep + TTL_MARGIN_SECONDS
    try:
        for ref in refs:
            key = _owner_key(event, ref)
            stored = {
                m: _decode_owner(m, ref)
                for m in _members(store.add_to_string_set(key, [member], ttl))
            }
            kept = sorted((o.epoch, o.event_id, m) for m, o in stored.items() if o is not None)
            if len(kept) > MAX_OWNERS:  # judged on what the atomic write returned
                oldest = [m for _, _, m in kept[: len(kept) - MAX_OWNERS]]
                store.remove_from_string_set(key, oldest, ttl)
    except Exception as error:  # a failed write degrades the pack; it must never raise
        return store_error(error)
    return ""


def _members(value) -> list:
    """The members of what the store returned: a set, a list, or a mock's JSON list."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return list(value) if isinstance(value, (set, frozenset)) else list(as_sequence(value))


class FoundOwner(NamedTuple):
    owner: Owner | None  # who a service's launch is charged to
    degraded: str  # "" or why the store could not be read


def find_owner(event: Mapping, store: KVStore) -> FoundOwner:
    """The owner a service's launch is charged to, and whether the store failed: for
    the first group or fleet the launch names that has one, the latest owner at the launch's
    event time."""
    refs = launch_owner_refs(event)
    epoch = int(event_time_epoch(event) or 0)
    for ref in refs:
        try:
            members = _members(store.get_string_set(_owner_key(event, ref)))
        except Exception as error:  # a failed read degrades the pack; it must never raise
            return FoundOwner(None, store_error(error))
        owners = [
            owner
            for owner in (_decode_owner(m, ref) for m in members)
            if owner is not None and owner.epoch <= epoch + OWNER_SKEW_SECONDS
        ]
        if owners:  # the latest; one call written twice keeps its larger floor
            return FoundOwner(max(owners, key=lambda o: (o.epoch, o.event_id, o.floor)), "")
    return FoundOwner(None, "")


def charged_to(event: Mapping, lookup: TemplateLookup) -> Principal:
    """Who a launch is charged to: the owner of the group or fleet a service launched it for,
    else the caller's principal."""
    return lookup.owner.principal if lookup.owner is not None else principal(event)


def charged_capacity(event: Mapping, summary: LaunchSummary, lookup: TemplateLookup) -> Floor:
    """(vCPUs, accelerators) a launch adds to its principal's windows: all of it, or for a
    service's launch charged back, what it adds over its owner's floor.

    An owner's call that priced nothing per instance (its types unknown: a template the pack
    never saw) is charged in full for the launches within VCPUSurge's window of it, where what
    it asked for launches; not for the group's own scaling after that, as for an owner the pack
    never saw. Otherwise a pipeline sizing a group on a template older than the pack would own
    every later scale-out of that group in full, for as long as owners are remembered."""
    owner = lookup.owner
    if owner is None:
        return Floor(summary.vcpus, summary.accelerators)
    if owner.floor == Floor(0, 0) and _long_after(event, owner):
        return Floor(0, 0)
    return above_floor(event, owner.floor)


def _long_after(event: Mapping, owner: Owner) -> bool:
    """Whether a launch comes later than VCPUSurge's window after its owner's call."""
    window = as_int(vcpu_surge_window_seconds(), VCPU_SURGE_WINDOW_SECONDS)
    return int(event_time_epoch(event) or 0) > owner.epoch + window


# --- Instances remembered, for StartInstances ---------------------------------------------------


def _instances_key(event: Mapping) -> str:
    return _key("instances", _account_id(event), region(event))


def remember_launched_instances(event: Mapping, store: KVStore) -> str:
    """Keep each launched instance's type, vCPUs and accelerators under its account and region
    (idempotent, bounded: remember() keeps the latest MAX_ENTRIES); "" or why it failed."""
    epoch = int(event_time_epoch(event) or 0)
    entries = [
        Entry(epoch, i.instance_id, i.vcpus, i.accelerators, entry_label(i.instance_type))
        for i in launched_instances(event)
    ]
    keep = as_int(instance_memory_seconds(), INSTANCE_MEMORY_SECONDS)
    return remember(store, _instances_key(event), entries, keep)


def started_instances(event: Mapping, store: KVStore) -> tuple[list[LaunchedInstance], str]:
    """(the remembered instances a StartInstances call starts, "" or why they could not be
    read)."""
    entries, degraded = remembered(store, _instances_key(event))
    known = []
    for instance_id in started_instance_ids(event):
        entry = entries.get(entry_id(instance_id))
        if entry is not None:
            known.append(
                LaunchedInstance(instance_id, entry.label, entry.amount, entry.accelerators)
            )
    return known, degraded


# --- Launches that named a template before the pack saw it ---------------------------------------
#
# A template created seconds before its first launch is remembered by one invocation and read by
# another; its creation may also be delivered after the launch. Both sides write, then read: the
# launch that finds its template unknown adds itself to the template's waiting launches and looks
# the template up again; the template event remembers the template, then reads the waiting
# launches. Each call is atomic, so whichever comes second sees the other: the launch is judged
# with its template by one side or both (both give one dedup string, and the windows keep one
# entry per event ID, so the launch is counted once).

# How long a launch waits for its template (event time): templates are delivered minutes late,
# not days.
WAIT_SECONDS = 86400
# Launches kept waiting per template key, and the bytes of each (the event less Panther's p_
# fields, as JSON); a larger launch is judged without its template and says so. Items stay below
# 16 x 8 KB (about 130 KB), a third of DynamoDB's 400 KB limit.
MAX_WAITING = 16
MAX_WAITING_BYTES = 8192

# A template's or an owner's event ID -> the waiting launch it completed that alerted, for the
# alert functions.
_completed: dict[str, Mapping] = {}


def _waiting_key(kind: str, account_id: str, where: str, ref: str) -> str:
    return _key(f"waiting-{kind}", account_id, where, ref)


def wait_for_template(event: Mapping, template: TemplateRef, store: KVStore) -> str:
    """Keep a launch under its template's key until the template is seen; "" or why not."""
    return _wait(event, template.kind, (template.ref,), store, "its template")


def _wait(event: Mapping, kind: str, refs: tuple, store: KVStore, what: str) -> str:
    """Keep a launch (less Panther's p_ fields, as JSON) under the waiting key of each of `refs`
    until `what` is seen; "" or why not."""
    view = read_view(event)
    launch = {key: value for key, value in view.items() if not str(key).startswith("p_")}
    if kind == OWNER:
        launch = _slim_launch(launch)
    try:
        text = json.dumps(launch, sort_keys=True, separators=(",", ":"), default=str)
    except (ValueError, RecursionError) as error:  # nested past what JSON can write back
        return f"launch cannot wait for {what}: {type(error).__name__}"
    if len(text) > MAX_WAITING_BYTES:
        return f"launch too large to wait for {what} ({len(text)} bytes)"
    epoch = int(event_time_epoch(event) or 0)
    try:
        for ref in refs:
            key = _waiting_key(kind, _account_id(event), region(event), ref)
            stored = _waiting(store.add_to_string_set(key, [f"{epoch}|{text}"], WAIT_SECONDS))
            if len(stored) > MAX_WAITING:  # judged on what the atomic write returned
                oldest = sorted(stored)[: len(stored) - MAX_WAITING]
                store.remove_from_string_set(key, [member for _, member in oldest], WAIT_SECONDS)
    except Exception as error:  # a failed write degrades the pack; it must never raise
        return store_error(error)
    return ""


# What a waiting service launch keeps of each launched instance: enough to price and name it
# (a service's RunInstances response runs to kilobytes per instance). The first instance keeps
# its tags too, which name the group (the same on every instance a call launches).
_SLIM_INSTANCE_FIELDS = ("instanceId", "instanceType", "cpuOptions", "subnetId")


def _slim_launch(launch: dict) -> dict:
    """A service's launch with each launched instance cut to _SLIM_INSTANCE_FIELDS."""
    response = as_mapping(launch.get("responseElements"))
    items = listed(dig(response, "instancesSet", "items"))
    if not items:
        return launch
    slim = [
        {field: item[field] for field in _SLIM_INSTANCE_FIELDS if field in item} for item in items
    ]
    if "tagSet" in items[0]:
        slim[0]["tagSet"] = items[0]["tagSet"]
    return {**launch, "responseElements": {**response, "instancesSet": {"items": slim}}}


def _waiting(value) -> list[tuple[int, str]]:
    """(event time, member) of each waiting launch in what the store returned; junk skipped."""
    members = []
    for member in _members(value):
        epoch, _, text = member.partition("|") if isinstance(member, str) else ("", "", "")
        if epoch.isdigit() and text.startswith("{"):
            members.append((int(epoch), member))
    return sorted(members)  # judged in event-time order, whatever order the set came in


def waiting_launches(event: Mapping, store: KVStore) -> list[dict]:
    """The launches waiting for the template an event defines (read after remember_template
    wrote it), that now resolve to its types: event time from the change to WAIT_SECONDS after."""
    change = template_change(event)
    if change is None:
        return []
    first = min(entry.epoch for entry in change.entries)
    waiting = _waiting_launches(event, change.kind, change.refs, first, first + WAIT_SECONDS, store)
    return [
        launch
        for launch in waiting
        if template_types(launch, summarize_launch(launch), store).status
        not in (STATUS_UNKNOWN, STATUS_UNREADABLE)
    ]


def _waiting_launches(event, kind: str, refs, start: int, end: int, store: KVStore) -> list[dict]:
    """The launches kept (by `_wait`) under the waiting keys of `refs` of `kind`, with event
    times from `start` to `end`, each once; [] when the store or a member cannot be read (the
    launches stay as judged)."""
    launches: dict[str, dict] = {}
    try:
        for ref in refs:
            key = _waiting_key(kind, _account_id(event), region(event), ref)
            for epoch, member in _waiting(store.get_string_set(key)):
                if start <= epoch <= end:
                    launch = json.loads(member.partition("|")[2])
                    if isinstance(launch, dict):
                        launches.setdefault(event_id(launch), launch)
    except Exception:  # a failed read or a damaged member
        return []
    return list(launches.values())


def _complete(event: Mapping, alerting: list[dict]) -> None:
    """Keep the first alerting launch a definition or owner completed, for `launch_of`."""
    if len(_completed) >= _MAX_JUDGED:
        _completed.clear()
    if alerting:
        _completed[event_id(event)] = alerting[0]
    else:
        _completed.pop(event_id(event), None)


def judge_waiting_launches(event: Mapping, store: KVStore, judge: Callable) -> bool:
    """rule() of a template event: remember the template, then judge again, with `judge` (the
    rule's own launch judgement), each launch that named it before the pack knew it. Every one is
    judged (windows record them all); the first that alerts is what the alert functions describe
    (`launch_of`)."""
    remember_template(event, store)
    alerting = [launch for launch in waiting_launches(event, store) if judge(launch)]
    _complete(event, alerting)
    return bool(alerting)


def owners_waiting_launches(event: Mapping, store: KVStore) -> list[dict]:
    """The service launches waiting for the owner a sizing call is (read after the call's own
    judgement wrote it), that now find an owner: event time from the call (less clock skew) to
    WAIT_SECONDS after."""
    epoch = int(event_time_epoch(event) or 0)
    start, end = epoch - OWNER_SKEW_SECONDS, epoch + WAIT_SECONDS
    waiting = _waiting_launches(event, OWNER, owned_capacity_refs(event), start, end, store)
    return [launch for launch in waiting if find_owner(launch, store).owner]


def judge_owner_and_waiting_launches(event: Mapping, store: KVStore, judge: Callable) -> bool:
    """rule() of a sizing call: judge it with `judge` (the rule's launch judgement, which keeps
    its caller as the group's owner), then each service launch for the group that arrived before
    the pack knew its owner. The call's own alert comes first; else the first launch that alerts
    is what the alert functions describe (`launch_of`)."""
    alerts = judge(event)
    waiting = [launch for launch in owners_waiting_launches(event, store) if judge(launch)]
    _complete(event, [] if alerts else waiting)
    return alerts or bool(waiting)


def launch_of(event: Mapping) -> Mapping:
    """The launch an alert is about: the waiting launch a template event completed, or the event
    itself."""
    return _completed.get(event_id(event), event)


class UnusualLaunch(NamedTuple):
    summary: LaunchSummary
    lookup: TemplateLookup
    unusual_types: list[str]


def unusual_launch(
    event: Mapping, store: KVStore | None, unusual: object, usual: object
) -> UnusualLaunch:
    """The launch priced by its template where it names one, the look-up, and its unusual
    types: what UnusualInstanceType and DryRunProbe judge. `unusual` and `usual` are the configured
    lists the rule read (mockable in the rule module)."""
    summary, lookup = launch_with_template(event, store)
    return UnusualLaunch(summary, lookup, unusual_instance_types_in(summary, unusual, usual))


def template_alert_context(lookup: TemplateLookup) -> dict:
    """What the memory found: the named template, and who a service's launch is charged to."""
    owner = lookup.owner
    return {
        "launch_template": str(lookup.template or ""),
        "launch_template_status": lookup.status,
        "launch_template_degraded": lookup.degraded,
        "charged_to": owner.principal.key if owner else "",
        "charged_to_name": owner.principal.display if owner else "",
        "charged_via": owner.ref if owner else "",
        "charged_since_event_id": owner.event_id if owner else "",
        "charged_floor_vcpus": owner.floor.vcpus if owner else 0,
    }
