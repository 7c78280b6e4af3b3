from ec2_compute_windows import (
    DAY_SECONDS,
    Entry,
    KVStore,
    Window,
    crossing,
    judge_windows,
    principals_label,
    shared_windows,
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
    VCPU_SURGE_ACCOUNT_THRESHOLD,
    VCPU_SURGE_DAY_THRESHOLD,
    VCPU_SURGE_SOURCE_IP_THRESHOLD,
    VCPU_SURGE_THRESHOLD,
    VCPU_SURGE_WEEK_THRESHOLD,
    VCPU_SURGE_WINDOW_SECONDS,
    allowlisted_principal_arns,
    allowlisted_user_agents,
    as_int,
    capacity_controller_principal_arns,
    capacity_controller_user_agents,
    vcpu_surge_account_threshold,
    vcpu_surge_day_threshold,
    vcpu_surge_source_ip_threshold,
    vcpu_surge_threshold,
    vcpu_surge_week_threshold,
    vcpu_surge_window_seconds,
)
from ec2_compute_helpers import (
    AUTOSCALING_EVENT_SOURCE,
    EC2_EVENT_SOURCE,
    LAUNCH_EVENT_NAMES,
    OUTCOME_SUCCESS,
    caller_ip_address,
    event_id,
    event_name,
    event_time_epoch,
    is_allowlisted,
    is_capacity_controller,
    is_launch_event,
    launch_alert_context,
    launch_outcome,
    launch_owner_refs,
    launched_on_behalf,
    resource_account,
    summarize_launch,
)
from ec2_launch_templates import (
    GROUP_RESIZES,
    LAUNCH_AND_TEMPLATE_EVENTS,
    OWNER_EVENTS,
    STATUS_UNKNOWN,
    TEMPLATE_EVENT_NAMES,
    charged_capacity,
    charged_to,
    is_template_event,
    judge_owner_and_waiting_launches,
    judge_waiting_launches,
    keep_group_size,
    launch_of,
    launch_with_template,
    template_alert_context,
)

# The only events rule() can match (eventSource -> eventNames); tooling skips the rest.
RULE_EVENTS = LAUNCH_AND_TEMPLATE_EVENTS


def rule(event):
    name = event_name(event)  # one look-up rejects almost every event
    # a template judges the launches that waited for it (groups and fleets name templates too)
    if name in TEMPLATE_EVENT_NAMES and is_template_event(event):
        return judge_waiting_launches(event, _store(), _launch_rule)
    if name in OWNER_EVENTS:  # and the launches its group's service made before it was seen
        return judge_owner_and_waiting_launches(event, _store(), _launch_rule)
    return _launch_rule(event)


def _store():
    return KVStore(get_string_set, add_to_string_set, remove_from_string_set)


def _windows(event, who):
    """Every window an event counts in: the principal's (`who`) over 8 hours, 24 hours and 7
    days, its source IP's and its account's over 8 hours. Each threshold comes from
    ec2_compute_config."""
    seconds = as_int(vcpu_surge_window_seconds(), VCPU_SURGE_WINDOW_SECONDS)
    span = f"{seconds / 3600:g} hours"
    windows = [
        Window(
            "principal",
            span,
            window_key("vcpu-surge", who),
            seconds,
            as_int(vcpu_surge_threshold(), VCPU_SURGE_THRESHOLD),
            who,
            above=True,
        ),
        Window(
            "principal",
            "24 hours",
            window_key("vcpu-surge-24h", who),
            DAY_SECONDS,
            as_int(vcpu_surge_day_threshold(), VCPU_SURGE_DAY_THRESHOLD),
            f"{who}:24h",
            above=True,
        ),
        Window(
            "principal",
            "7 days",
            window_key("vcpu-surge-7d", who),
            7 * DAY_SECONDS,
            as_int(vcpu_surge_week_threshold(), VCPU_SURGE_WEEK_THRESHOLD),
            f"{who}:7d",
            above=True,
        ),
    ]
    thresholds = (
        as_int(vcpu_surge_source_ip_threshold(), VCPU_SURGE_SOURCE_IP_THRESHOLD),
        as_int(vcpu_surge_account_threshold(), VCPU_SURGE_ACCOUNT_THRESHOLD),
    )
    windows += shared_windows(
        "vcpu-surge",
        caller_ip_address(event),
        resource_account(event),
        span,
        seconds,
        thresholds,
        above=True,
    )
    return windows


def _surge(event, record_it=False):
    """(window, result) for every window of the event; rule() records, the alert functions
    read what it recorded."""
    store = _store() if record_it else None
    # Launched vCPUs; for fleets, spot requests and auto scaling groups, whose instances AWS
    # launches after the call, the vCPUs requested (by the named template's type if need be).
    summary, lookup = launch_with_template(event, store, remember_launched=True)
    if lookup.status == STATUS_UNKNOWN and record_it:
        return []  # counted when its template is seen (judge_waiting_launches), not as 0 now
    # A service's launch for a group or fleet counts toward the group's owner, for what it adds
    # over what the owner's request counted; with no owner known it was counted at the request.
    charged, who = charged_capacity(event, summary, lookup), charged_to(event, lookup)
    if (
        record_it
        and lookup.owner is not None
        and (
            not any(charged)
            or is_allowlisted(
                event, allowlisted_principal_arns(), allowlisted_user_agents(), also=who
            )
        )
    ):
        return []  # adds nothing over its owner's request, or its owner is allowlisted
    if record_it and launched_on_behalf(event) and lookup.owner is None:
        return []  # counted at the request of an owner the pack never saw
    epoch = event_time_epoch(event)
    entry = Entry(
        epoch=int(epoch or 0),
        event_id=event_id(event),
        amount=charged.vcpus,
        accelerators=charged.accelerators,
    )
    # vCPUs are whole numbers: "more than the threshold" is "at least threshold + 1".
    # Per principal, not Sentinel's (IP, account, name, UPN suffix, ARN, user agent) grouping:
    # rotating sessions, IPs or user agents split a burst into groups that each stay quiet.
    return judge_windows(
        _windows(event, who.key), entry, who.display, store, has_event_time=epoch is not None
    )


def _launch_rule(event):
    name = event_name(event)
    if (
        name not in LAUNCH_EVENT_NAMES
        or not is_launch_event(event)
        or launch_outcome(event).kind != OUTCOME_SUCCESS
    ):
        return False  # dry runs and errors, read from one field
    if summarize_launch(event).outcome != OUTCOME_SUCCESS:
        return False  # an instant fleet that launched nothing
    # A service's launch, counted at a person's CreateFleet / CreateAutoScalingGroup; Application
    # Auto Scaling's or a node controller's resize (the cluster autoscaler's, within the maximum
    # a person set), counted nowhere: a resize's size is kept for the next person's resize.
    if (launched_on_behalf(event) and not launch_owner_refs(event)) or _controller_resize(event):
        keep_group_size(event, _store())
        return False
    if is_allowlisted(event, allowlisted_principal_arns(), allowlisted_user_agents()):
        return False
    return any(result.crossed for _, result in _surge(event, record_it=True))


def _controller_resize(event) -> bool:
    """A node controller's resize of an auto scaling group or a fleet, not its creation (the
    cluster autoscaler's SetDesiredCapacity): counts for no one, as Application Auto Scaling's."""
    return (
        event.get("eventSource") in (AUTOSCALING_EVENT_SOURCE, EC2_EVENT_SOURCE)
        and event_name(event) in GROUP_RESIZES
        and is_capacity_controller(
            event, capacity_controller_user_agents(), capacity_controller_principal_arns()
        )
    )


def _lookup(event):
    return launch_with_template(event, None).lookup


def title(event):
    event = launch_of(event)  # a template event alerts about the launch that waited for it
    window, result = crossing(_surge(event))
    who = principals_label(window, result, charged_to(event, _lookup(event)).display)
    return (
        f"{who} launched {result.total} vCPUs within {window.span} "
        f"in account {resource_account(event) or '?'} ({result.event_count} launch(es), "
        f"{result.accelerators} accelerator(s); window: {window.name})"
    )


def dedup(event):
    event = launch_of(event)  # a template event alerts about the launch that waited for it
    return crossing(_surge(event)).window.dedup


def severity(event):
    event = launch_of(event)  # a template event alerts about the launch that waited for it
    window, result = crossing(_surge(event))
    return window_severity("MEDIUM", result.total, window.threshold, result.accelerators)


def alert_context(event):
    event = launch_of(event)  # a template event alerts about the launch that waited for it
    results = _surge(event)
    summary, lookup = launch_with_template(event, None)
    context = launch_alert_context(event, summary)
    context.update(template_alert_context(lookup))
    context.update(windows_alert_context(results, "vcpus"))
    return context
