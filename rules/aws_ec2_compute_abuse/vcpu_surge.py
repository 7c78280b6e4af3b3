from ec2_compute_windows import (
    Entry,
    KVStore,
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
    vcpu_surge_threshold,
    vcpu_surge_window_seconds,
)
from ec2_compute_helpers import (
    LAUNCH_EVENT_NAMES,
    OUTCOME_SUCCESS,
    actor,
    event_id,
    event_name,
    event_time_epoch,
    is_allowlisted,
    is_launch_event,
    launch_alert_context,
    launch_outcome,
    launched_on_behalf,
    principal,
    summarize_launch,
)
from ec2_launch_templates import (
    LAUNCH_AND_TEMPLATE_EVENTS,
    TEMPLATE_EVENT_NAMES,
    launch_with_template,
    remember_template,
    template_alert_context,
)

# The only events rule() can match (eventSource -> eventNames); tooling skips the rest.
RULE_EVENTS = LAUNCH_AND_TEMPLATE_EVENTS

DEFAULT_THRESHOLD = 800
DEFAULT_WINDOW_SECONDS = 8 * 3600


def _store():
    return KVStore(get_string_set, add_to_string_set, remove_from_string_set)


def _settings():
    threshold = as_int(vcpu_surge_threshold(), DEFAULT_THRESHOLD)
    return threshold, as_int(vcpu_surge_window_seconds(), DEFAULT_WINDOW_SECONDS)


def _surge(event, record_it=False):
    store = _store() if record_it else None
    # Launched vCPUs; for fleets, spot requests and auto scaling groups, whose instances AWS
    # launches after the call, the vCPUs requested (by the named template's type if need be).
    summary, _ = launch_with_template(event, store)
    threshold, window_seconds = _settings()
    epoch = event_time_epoch(event)
    entry = Entry(epoch=int(epoch or 0), event_id=event_id(event), amount=summary.vcpus,
                  accelerators=summary.accelerators)  # fmt: skip
    # vCPUs are whole numbers: "more than the threshold" is "at least threshold + 1".
    # Per principal, not Sentinel's (IP, account, name, UPN suffix, ARN, user agent) grouping:
    # rotating sessions, IPs or user agents split a burst into groups that each stay quiet.
    key = window_key("vcpu-surge", principal(event).key)
    return window_for(key, entry, threshold + 1, window_seconds, store,
                      has_event_time=epoch is not None)  # fmt: skip


def rule(event):
    name = event_name(event)  # one look-up rejects almost every event
    if name in TEMPLATE_EVENT_NAMES:  # remembered: groups and fleets name templates
        remember_template(event, _store())
        return False
    if (
        name not in LAUNCH_EVENT_NAMES
        or not is_launch_event(event)
        or launch_outcome(event)[0] != OUTCOME_SUCCESS
    ):
        return False  # dry runs and errors, read from one field
    if summarize_launch(event).outcome != OUTCOME_SUCCESS:
        return False  # an instant fleet that launched nothing
    if launched_on_behalf(event):  # counted at the user's CreateFleet / CreateAutoScalingGroup
        return False
    if is_allowlisted(event, allowlisted_principal_arns(), allowlisted_user_agents()):
        return False
    return _surge(event, record_it=True).crossed


def title(event):
    result = _surge(event)
    hours = _settings()[1] / 3600
    return (
        f"{principal(event).display} launched {result.total} vCPUs of EC2 within {hours:g} hours "
        f"in account {actor(event).account_id or '?'} ({result.event_count} launch(es), "
        f"{result.accelerators} accelerator(s))"
    )


def dedup(event):
    return principal(event).key


def severity(event):
    result = _surge(event)
    return window_severity("MEDIUM", result.total, _settings()[0], result.accelerators)


def alert_context(event):
    result = _surge(event)
    threshold, window_seconds = _settings()
    summary, lookup = launch_with_template(event, None)
    context = launch_alert_context(event, summary)
    context.update(template_alert_context(lookup))
    context.update(window_alert_context(result))
    context.update({"threshold": threshold, "window_seconds": window_seconds})
    return context
