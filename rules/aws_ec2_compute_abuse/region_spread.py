from typing import NamedTuple

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
    REGION_SPREAD_MIN_REGIONS,
    REGION_SPREAD_WINDOW_SECONDS,
    allowlisted_principal_arns,
    allowlisted_user_agents,
    as_int,
    capacity_controller_principal_arns,
    capacity_controller_user_agents,
    region_spread_min_regions,
    region_spread_window_seconds,
)
from ec2_compute_helpers import (
    CLUSTER_EVENTS,
    LAUNCH_EVENTS,
    event_name,
    event_time_epoch,
    is_allowlisted,
    is_cluster_event,
    is_controller_dry_run,
    is_launch_event,
    is_potential_only,
    launch_alert_context,
    launched_on_behalf,
    merged_events,
    principal,
    region,
    summarize_launch,
)

# The only events rule() can match (eventSource -> eventNames); tooling skips the rest. Empty ECS
# clusters count too: campaigns create one in every region before running tasks there.
RULE_EVENTS = merged_events(LAUNCH_EVENTS, CLUSTER_EVENTS)
_RULE_EVENT_NAMES = frozenset().union(*RULE_EVENTS.values())


def rule(event):
    if event_name(event) not in _RULE_EVENT_NAMES:  # one look-up rejects almost every event
        return False
    if not (is_launch_event(event) or is_cluster_event(event)) or launched_on_behalf(event):
        return False
    if is_potential_only(event):  # Lambda's reserved concurrency runs nothing
        return False
    # Karpenter-style validation dry runs are the controller's routine, not an actor's attempts.
    controllers = capacity_controller_user_agents(), capacity_controller_principal_arns()
    if is_controller_dry_run(event, *controllers):
        return False
    if is_allowlisted(event, allowlisted_principal_arns(), allowlisted_user_agents()):
        return False
    return _spread(event, record_it=True).crossed


class Settings(NamedTuple):
    min_regions: int
    window_seconds: int


def _settings():
    return Settings(
        as_int(region_spread_min_regions(), REGION_SPREAD_MIN_REGIONS),
        as_int(region_spread_window_seconds(), REGION_SPREAD_WINDOW_SECONDS),
    )


def _spread(event, record_it=False):
    """Distinct regions of the actor's launch calls (any outcome) within the window."""
    min_regions, window = _settings()
    epoch = event_time_epoch(event)
    summary = summarize_launch(event)
    entry = distinct_entry(region(event) or "?", int(epoch or 0), window, summary.accelerators)
    store = (
        KVStore(get_string_set, add_to_string_set, remove_from_string_set) if record_it else None
    )
    key = window_key("region-spread", principal(event).key)
    return window_for(
        key, entry, min_regions, window, store, has_event_time=epoch is not None, distinct=True
    )


def title(event):
    result = _spread(event)
    minutes = _settings().window_seconds // 60
    return (
        f"{principal(event).display} launched or tried to launch compute in {result.total} "
        f"regions within {minutes} minutes: {', '.join(result.labels) or region(event)}"
    )


def dedup(event):
    return principal(event).key


def severity(event):
    result = _spread(event)
    if result.accelerators or result.total >= 2 * _settings().min_regions:
        return "HIGH"
    return "MEDIUM"


def alert_context(event):
    context = launch_alert_context(event)
    context.update(window_alert_context(_spread(event)))
    return context
