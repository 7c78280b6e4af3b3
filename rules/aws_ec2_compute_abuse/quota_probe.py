from ec2_compute_windows import (
    KVStore,
    distinct_entry,
    window_alert_context,
    window_for,
    window_key,
)
from panther_detection_helpers.caching import (
    add_to_string_set,
    get_string_set,
    remove_from_string_set,
)

from ec2_compute_config import (
    QUOTA_LOOKUP_MIN_REGIONS,
    QUOTA_LOOKUP_WINDOW_SECONDS,
    allowlisted_principal_arns,
    allowlisted_user_agents,
    as_int,
    quota_lookup_min_regions,
    quota_lookup_window_seconds,
)
from ec2_compute_helpers import (
    QUOTA_EVENTS,
    QuotaCall,
    actor,
    as_text,
    event_name,
    event_time_epoch,
    identity_alert_context,
    is_allowlisted,
    principal,
    quota_call,
    region,
)

# The only events rule() can match (eventSource -> eventNames); tooling skips the rest.
RULE_EVENTS = QUOTA_EVENTS

QUOTA_EVENT_NAMES = frozenset().union(*QUOTA_EVENTS.values())


def rule(event):
    if event_name(event) not in QUOTA_EVENT_NAMES:  # one look-up rejects almost every event
        return False
    call = _call(event)
    if call.service_code != "ec2":
        return False
    if is_allowlisted(event, allowlisted_principal_arns(), allowlisted_user_agents()):
        return False
    if call.event_name == "RequestServiceQuotaIncrease":
        return bool(call.quota_name)  # an EC2 vCPU quota
    return _sweep(event, record_it=True).crossed


def _call(event):
    """The quota call; an empty one for other events (alert functions run on any event)."""
    return quota_call(event) or QuotaCall("", "", "", "", False, None)


def _is_increase(call):
    return call.event_name == "RequestServiceQuotaIncrease" and bool(call.quota_name)


def _sweep(event, record_it=False):
    """Distinct regions of the actor's EC2 quota look-ups within the window."""
    min_regions = as_int(quota_lookup_min_regions(), QUOTA_LOOKUP_MIN_REGIONS)
    epoch = event_time_epoch(event)
    window = as_int(quota_lookup_window_seconds(), QUOTA_LOOKUP_WINDOW_SECONDS)
    entry = distinct_entry(region(event) or "?", int(epoch or 0), window)
    store = (
        KVStore(get_string_set, add_to_string_set, remove_from_string_set) if record_it else None
    )
    key = window_key("quota-lookups", principal(event).key)
    return window_for(
        key, entry, min_regions, window, store, has_event_time=epoch is not None, distinct=True
    )


def title(event):
    call = _call(event)
    who = actor(event)
    if _is_increase(call):
        outcome = f" ({as_text(event.get('errorCode'))})" if event.get("errorCode") else ""
        desired = f" to {call.desired_value:g}" if call.desired_value is not None else ""
        return (
            f"{principal(event).display} asked to raise the EC2 quota {call.quota_name}{desired} "
            f"in account {who.account_id or '?'} ({region(event) or '?'}){outcome}"
        )
    result = _sweep(event)
    return (
        f"{principal(event).display} looked up EC2 quotas in {result.total} regions within "
        f"{as_int(quota_lookup_window_seconds(), QUOTA_LOOKUP_WINDOW_SECONDS)} seconds "
        f"in account {who.account_id or '?'}"
    )


def dedup(event):
    call = _call(event)
    kind = call.quota_code if _is_increase(call) else "lookups"
    return f"{principal(event).key}:{kind}"


def severity(event):
    call = _call(event)
    if _is_increase(call):
        level = "HIGH" if call.accelerated else "MEDIUM"
        return "LOW" if event.get("errorCode") and not call.accelerated else level
    return "MEDIUM"


def alert_context(event):
    call = _call(event)
    context = identity_alert_context(event)
    context.update(
        {
            "error_code": as_text(event.get("errorCode")),
            "quota_code": call.quota_code,
            "quota_name": call.quota_name,
            "accelerated_quota": call.accelerated,
            "desired_value": call.desired_value,
        }
    )
    if not _is_increase(call):
        context.update(window_alert_context(_sweep(event)))
    return context
