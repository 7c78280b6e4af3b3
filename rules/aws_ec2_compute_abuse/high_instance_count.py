from ec2_compute_windows import (
    DAY_SECONDS,
    Entry,
    KVStore,
    Window,
    WindowResult,
    crossing,
    entry_label,
    judge_windows,
    principals_label,
    shared_windows,
    utc_day,
    window_key,
    window_severity,
    windows_alert_context,
)
from panther_detection_helpers.caching import (
    add_to_string_set,
    get_string_set,
    remove_from_string_set,
)

from ec2_compute_config import (
    HIGH_INSTANCE_COUNT_ACCOUNT_THRESHOLD,
    HIGH_INSTANCE_COUNT_SOURCE_IP_THRESHOLD,
    HIGH_INSTANCE_COUNT_THRESHOLD,
    allowlisted_principal_arns,
    allowlisted_user_agents,
    as_int,
    capacity_controller_principal_arns,
    capacity_controller_user_agents,
    high_instance_count_account_threshold,
    high_instance_count_source_ip_threshold,
    high_instance_count_threshold,
)
from ec2_compute_helpers import (
    CHANGE_LAUNCH,
    INSTANCE_COUNT_EVENTS,
    OUTCOME_DRY_RUN,
    OUTCOME_SUCCESS,
    caller_ip_address,
    event_id,
    event_time_epoch,
    is_allowlisted,
    is_capacity_controller,
    is_launch_event,
    is_vcpus_only,
    launch_alert_context,
    launch_outcome,
    launched_on_behalf,
    principal,
    resource_account,
    summarize_launch,
)
from ec2_launch_templates import launch_with_template

# The only events rule() can match (eventSource -> eventNames); tooling skips the rest. Tasks,
# jobs, Studio apps and builds (is_vcpus_only) are counted by vCPUs (VCPUSurge), not number.
RULE_EVENTS = INSTANCE_COUNT_EVENTS


def rule(event):
    if (
        not is_launch_event(event)
        # tasks, jobs and builds: see RULE_EVENTS
        or is_vcpus_only(event)
        or launch_outcome(event).kind == OUTCOME_DRY_RUN
    ):
        return False
    if launched_on_behalf(event):  # counted at a person's request; Application Auto Scaling's:
        return False  # nowhere
    if summarize_launch(event).change != CHANGE_LAUNCH:  # a resize asks for no new instance
        return False
    controllers = capacity_controller_user_agents(), capacity_controller_principal_arns()
    if is_capacity_controller(event, *controllers):  # Karpenter launches small nodes all day
        return False
    if is_allowlisted(event, allowlisted_principal_arns(), allowlisted_user_agents()):
        return False
    return any(result.crossed for _, result in _count(event, record_it=True))


def _windows(event, day, bucket):
    """The UTC day of the event's principal, of its source IP (across principals and accounts)
    and of its account (across principals), each with its threshold from ec2_compute_config."""
    who = principal(event).key
    span = f"UTC day {day}"
    threshold = as_int(high_instance_count_threshold(), HIGH_INSTANCE_COUNT_THRESHOLD)
    windows = [
        Window(
            "principal",
            span,
            window_key("instance-count", who, day),
            DAY_SECONDS,
            threshold,
            f"{who}:{day}",
            bucket=bucket,
        )
    ]
    thresholds = (
        as_int(high_instance_count_source_ip_threshold(), HIGH_INSTANCE_COUNT_SOURCE_IP_THRESHOLD),
        as_int(high_instance_count_account_threshold(), HIGH_INSTANCE_COUNT_ACCOUNT_THRESHOLD),
    )
    windows += shared_windows(
        "instance-count",
        caller_ip_address(event),
        resource_account(event),
        span,
        DAY_SECONDS,
        thresholds,
        day=day,
        bucket=bucket,
    )
    return windows


def _count(event, record_it=False) -> list[tuple[Window, WindowResult]]:
    """(window, result) for each window of the event; rule() records, the alert functions read
    what it recorded. Instances requested, attempts included; the principal's entries carry
    Elastic's (outcome, type, subnet) bucket as their label, the other windows' the principal."""
    store = (
        KVStore(get_string_set, add_to_string_set, remove_from_string_set) if record_it else None
    )
    # Priced by the template it names, and a group's resize as its growth (ec2_launch_templates).
    summary, _ = launch_with_template(event, store)
    epoch = event_time_epoch(event)
    day, start, end = utc_day(int(epoch)) if epoch is not None else ("unknown-day", 0, DAY_SECONDS)
    instance_type = (summary.instance_types or ("unknown-type",))[0]
    elastic_bucket = f"{summary.outcome} {instance_type} {summary.subnet_id or 'no-subnet'}"
    entry = Entry(
        epoch=int(epoch or 0),
        event_id=event_id(event),
        amount=summary.requested_instance_count,
        accelerators=summary.requested_accelerators,
        label=entry_label(elastic_bucket),
    )
    return judge_windows(
        _windows(event, day, (start, end)),
        entry,
        principal(event).display,
        store,
        has_event_time=epoch is not None,
    )


def _refused(result: WindowResult) -> int:
    """Instances of the principal's day that were asked for and refused."""
    return sum(
        amount for label, amount in result.breakdown if not label.startswith(OUTCOME_SUCCESS)
    )


def _elastic_bucket(label, instances):
    outcome, instance_type, subnet_id = [*label.split(" ", 2), "", ""][:3]
    return {
        "outcome": outcome,
        "instance_type": instance_type,
        "subnet_id": subnet_id,
        "instances": instances,
    }


def title(event):
    results = _count(event)
    window, result = crossing(results)
    who = principals_label(window, result, principal(event).display)
    refused = _refused(results[0][1]) if window is results[0][0] else 0
    tried = f", {refused} refused" if refused else ""
    return (
        f"{who} requested {result.total} instances on {window.span.removeprefix('UTC day ')}"
        f" in account {resource_account(event) or '?'} ({result.event_count} launch call(s)"
        f"{tried}; window: {window.name})"
    )


def dedup(event):
    return crossing(_count(event)).window.dedup


def severity(event):
    results = _count(event)
    window, result = crossing(results)
    refused = _refused(result) if window is results[0][0] else 0
    base = "LOW" if refused == result.total else "MEDIUM"  # nothing launched
    return window_severity(base, result.total, window.threshold, result.accelerators)


def alert_context(event):
    results = _count(event)
    context = launch_alert_context(event)
    context.update(windows_alert_context(results, "instances"))
    context.update(
        {
            "bucket_day": results[0][0].span.removeprefix("UTC day "),
            # Elastic's buckets: the principal's instances per (outcome, type, subnet) in the day
            "elastic_buckets": [_elastic_bucket(*item) for item in results[0][1].breakdown],
        }
    )
    return context
