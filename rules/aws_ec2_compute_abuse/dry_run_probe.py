from ec2_compute_windows import KVStore
from panther_detection_helpers.caching import (
    add_to_string_set,
    get_string_set,
    remove_from_string_set,
)

from ec2_compute_config import (
    DRY_RUN_VCPU_THRESHOLD,
    allowlisted_principal_arns,
    allowlisted_user_agents,
    as_int,
    capacity_controller_principal_arns,
    capacity_controller_user_agents,
    dry_run_vcpu_threshold,
    unusual_instance_types,
    usual_instance_types,
)
from ec2_compute_helpers import (
    LAUNCH_EVENT_NAMES,
    OUTCOME_DRY_RUN,
    actor,
    as_text,
    event_name,
    is_allowlisted,
    is_controller_dry_run,
    is_launch_event,
    launch_alert_context,
    launch_outcome,
    principal,
)
from ec2_launch_templates import (
    LAUNCH_AND_TEMPLATE_EVENTS,
    TEMPLATE_EVENT_NAMES,
    is_template_event,
    judge_waiting_launches,
    launch_of,
    template_alert_context,
    unusual_launch,
)

# The only events rule() can match (eventSource -> eventNames); tooling skips the rest.
RULE_EVENTS = LAUNCH_AND_TEMPLATE_EVENTS


def rule(event):
    name = event_name(event)  # one look-up rejects almost every event
    # remembered: dry runs may name templates
    if name in TEMPLATE_EVENT_NAMES and is_template_event(event):
        return judge_waiting_launches(event, _store(), _dry_run)
    return _dry_run(event)


def _store():
    return KVStore(get_string_set, add_to_string_set, remove_from_string_set)


def _probe(event, store=None):
    """(the dry run priced by its template where it names one, the look-up, the unusual types).
    rule() looks the template up in `store`; the alert functions read what it found."""
    return unusual_launch(event, store, unusual_instance_types(), usual_instance_types())


def _dry_run(event):
    name = event_name(event)
    if (
        name not in LAUNCH_EVENT_NAMES
        or not is_launch_event(event)
        or launch_outcome(event).kind != OUTCOME_DRY_RUN
    ):
        return False
    controllers = capacity_controller_user_agents(), capacity_controller_principal_arns()
    if is_controller_dry_run(event, *controllers):
        return False
    if is_allowlisted(event, allowlisted_principal_arns(), allowlisted_user_agents()):
        return False
    summary, _, unusual = _probe(event, _store())
    threshold = as_int(dry_run_vcpu_threshold(), DRY_RUN_VCPU_THRESHOLD)
    return bool(unusual) or summary.requested_vcpus_max >= threshold


def _vcpu_range(summary):
    low, high = summary.requested_vcpus, summary.requested_vcpus_max
    return f"{low}-{high}" if high > low else str(low)


def title(event):
    event = launch_of(event)  # a template event alerts about the launch that waited for it
    summary, _, unusual = _probe(event)
    types = ", ".join(unusual or summary.instance_types) or "a launch template"
    return (
        f"{principal(event).display} dry-ran {summary.event_name} of "
        f"{summary.requested_instance_count} instance(s) [{types}], "
        f"{_vcpu_range(summary)} vCPUs, in account {actor(event).account_id or '?'} "
        f"({as_text(event.get('awsRegion')) or '?'})"
    )


def dedup(event):
    event = launch_of(event)  # a template event alerts about the launch that waited for it
    summary, _, unusual = _probe(event)
    return f"{principal(event).key}:{','.join(unusual or summary.instance_types)}"


def severity(event):
    event = launch_of(event)  # a template event alerts about the launch that waited for it
    _, _, unusual = _probe(event)
    return "HIGH" if unusual else "MEDIUM"


def alert_context(event):
    event = launch_of(event)  # a template event alerts about the launch that waited for it
    summary, lookup, unusual = _probe(event)
    context = launch_alert_context(event, summary)
    context.update(template_alert_context(lookup))
    context["unusual_instance_types"] = unusual
    return context
