from ec2_compute_windows import (
    DAY_SECONDS,
    Entry,
    KVStore,
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
    high_instance_count_threshold,
)
from ec2_compute_helpers import (
    LAUNCH_EVENTS,
    OUTCOME_DRY_RUN,
    OUTCOME_SUCCESS,
    actor,
    event_id,
    event_time_epoch,
    is_allowlisted,
    is_launch_event,
    launch_alert_context,
    launch_outcome,
    launched_on_behalf,
    summarize_launch,
)

# The only events rule() can match (eventSource -> eventNames); tooling skips the rest.
RULE_EVENTS = LAUNCH_EVENTS

DEFAULT_THRESHOLD = 10


def _bucket(event):
    """Elastic's grouping: actor, UTC day of eventTime, subnet, instance type, outcome."""
    summary = summarize_launch(event)
    epoch = event_time_epoch(event)
    epoch = int(epoch) if epoch is not None else None
    day = utc_day(epoch) if epoch is not None else ("unknown-day", 0, DAY_SECONDS)
    instance_type = (summary.instance_types or ("unknown-type",))[0]
    key = window_key(
        "instance-count", actor(event).key, day[0], summary.subnet_id or "no-subnet",
        instance_type, summary.outcome,
    )  # fmt: skip
    entry = Entry(
        epoch=epoch or 0, event_id=event_id(event), amount=summary.requested_instance_count,
        accelerators=summary.requested_accelerators,
    )  # fmt: skip
    return summary, epoch, day, instance_type, key, entry


def _count(event, record_it=False):
    _, epoch, day, _, key, entry = _bucket(event)
    threshold = as_int(high_instance_count_threshold(), DEFAULT_THRESHOLD)
    store = (
        KVStore(get_string_set, add_to_string_set, remove_from_string_set) if record_it else None
    )
    return window_for(key, entry, threshold, DAY_SECONDS, store, has_event_time=epoch is not None,
                      bucket=day[1:])  # fmt: skip


def rule(event):
    if not is_launch_event(event) or launch_outcome(event)[0] == OUTCOME_DRY_RUN:
        return False
    if launched_on_behalf(event):  # counted at the user's CreateFleet / CreateAutoScalingGroup
        return False
    if is_allowlisted(event, allowlisted_principal_arns(), allowlisted_user_agents()):
        return False
    return _count(event, record_it=True).crossed


def title(event):
    summary, _, day, instance_type, _, _ = _bucket(event)
    result = _count(event)
    verb = "requested" if summary.outcome == OUTCOME_SUCCESS else "tried and failed to get"
    return (
        f"{actor(event).display} {verb} {result.total} EC2 instances of {instance_type} "
        f"on {day[0]} in account {actor(event).account_id or '?'} "
        f"({result.event_count} launch call(s))"
    )


def dedup(event):
    summary, _, day, instance_type, _, _ = _bucket(event)
    return ":".join((actor(event).key, day[0], summary.subnet_id, instance_type, summary.outcome))


def severity(event):
    summary = summarize_launch(event)
    result = _count(event)
    threshold = as_int(high_instance_count_threshold(), DEFAULT_THRESHOLD)
    base = "MEDIUM" if summary.outcome == OUTCOME_SUCCESS else "LOW"
    return window_severity(base, result.total, threshold, result.accelerators)


def alert_context(event):
    summary, _, day, instance_type, _, _ = _bucket(event)
    result = _count(event)
    context = launch_alert_context(event, summary)
    context.update(window_alert_context(result))
    context.update(
        {
            "threshold": as_int(high_instance_count_threshold(), DEFAULT_THRESHOLD),
            "bucket_day": day[0],
            "bucket_subnet_id": summary.subnet_id,
            "bucket_instance_type": instance_type,
            "bucket_outcome": summary.outcome,
        }
    )
    return context
