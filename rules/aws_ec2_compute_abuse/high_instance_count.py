from typing import NamedTuple

from ec2_compute_windows import (
    DAY_SECONDS,
    Entry,
    KVStore,
    WindowResult,
    entry_label,
    utc_day,
    window_alert_context,
    window_for,
    window_key,
    window_severity,
)
from panther_detection_helpers.caching import (
    add_to_string_set,
    get_string_set,
    remove_from_string_set,
)

from ec2_compute_config import (
    allowlisted_principal_arns,
    allowlisted_user_agents,
    as_int,
    capacity_controller_principal_arns,
    capacity_controller_user_agents,
    high_instance_count_threshold,
)
from ec2_compute_helpers import (
    CHANGE_LAUNCH,
    LAUNCH_EVENTS,
    OUTCOME_DRY_RUN,
    OUTCOME_SUCCESS,
    actor,
    event_id,
    event_time_epoch,
    is_allowlisted,
    is_capacity_controller,
    is_launch_event,
    launch_alert_context,
    launch_outcome,
    launched_on_behalf,
    principal,
    summarize_launch,
)

# The only events rule() can match (eventSource -> eventNames); tooling skips the rest.
RULE_EVENTS = LAUNCH_EVENTS

DEFAULT_THRESHOLD = 10


class Bucket(NamedTuple):
    """One principal's UTC day; Elastic's (subnet, type, outcome) bucket is the entry's label."""

    day: str
    start: int
    end: int
    key: str
    entry: Entry
    has_event_time: bool


def _bucket(event):
    summary = summarize_launch(event)
    epoch = event_time_epoch(event)
    day, start, end = utc_day(int(epoch)) if epoch is not None else ("unknown-day", 0, DAY_SECONDS)
    instance_type = (summary.instance_types or ("unknown-type",))[0]
    elastic_bucket = f"{summary.outcome} {instance_type} {summary.subnet_id or 'no-subnet'}"
    entry = Entry(
        epoch=int(epoch or 0), event_id=event_id(event), amount=summary.requested_instance_count,
        accelerators=summary.requested_accelerators, label=entry_label(elastic_bucket),
    )  # fmt: skip
    key = window_key("instance-count", principal(event).key, day)
    return Bucket(day, start, end, key, entry, epoch is not None)


def _count(event, record_it=False) -> WindowResult:
    bucket = _bucket(event)
    store = (
        KVStore(get_string_set, add_to_string_set, remove_from_string_set) if record_it else None
    )
    return window_for(bucket.key, bucket.entry, _threshold(), DAY_SECONDS, store,
                      has_event_time=bucket.has_event_time,
                      bucket=(bucket.start, bucket.end))  # fmt: skip


def _threshold():
    return as_int(high_instance_count_threshold(), DEFAULT_THRESHOLD)


def _refused(result: WindowResult) -> int:
    """Instances of the window that were asked for and refused."""
    return sum(
        amount for label, amount in result.breakdown if not label.startswith(OUTCOME_SUCCESS)
    )


def _elastic_bucket(label, instances):
    outcome, instance_type, subnet_id = [*label.split(" ", 2), "", ""][:3]
    return {"outcome": outcome, "instance_type": instance_type, "subnet_id": subnet_id,
            "instances": instances}  # fmt: skip


def rule(event):
    if not is_launch_event(event) or launch_outcome(event)[0] == OUTCOME_DRY_RUN:
        return False
    if launched_on_behalf(event):  # counted at the user's CreateFleet / CreateAutoScalingGroup
        return False
    if summarize_launch(event).change != CHANGE_LAUNCH:  # a resize asks for no new instance
        return False
    controllers = capacity_controller_user_agents(), capacity_controller_principal_arns()
    if is_capacity_controller(event, *controllers):  # Karpenter launches small nodes all day
        return False
    if is_allowlisted(event, allowlisted_principal_arns(), allowlisted_user_agents()):
        return False
    return _count(event, record_it=True).crossed


def title(event):
    result = _count(event)
    refused = _refused(result)
    tried = f", {refused} refused" if refused else ""
    return (
        f"{principal(event).display} requested {result.total} EC2 instances on "
        f"{_bucket(event).day} in account {actor(event).account_id or '?'} "
        f"({result.event_count} launch call(s){tried})"
    )


def dedup(event):
    return f"{principal(event).key}:{_bucket(event).day}"


def severity(event):
    result = _count(event)
    base = "LOW" if _refused(result) == result.total else "MEDIUM"  # nothing launched
    return window_severity(base, result.total, _threshold(), result.accelerators)


def alert_context(event):
    result = _count(event)
    context = launch_alert_context(event)
    context.update(window_alert_context(result))
    context.update(
        {
            "threshold": _threshold(),
            "bucket_day": _bucket(event).day,
            # Elastic's buckets: instances per (outcome, instance type, subnet) in the day
            "elastic_buckets": [_elastic_bucket(*item) for item in result.breakdown],
        }
    )
    return context
