from ec2_compute_config import (
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
    LAUNCH_EVENTS,
    OUTCOME_DRY_RUN,
    actor,
    as_text,
    is_allowlisted,
    is_controller_dry_run,
    is_launch_event,
    launch_alert_context,
    launch_outcome,
    principal,
    summarize_launch,
    unusual_instance_types_in,
)

# The only events rule() can match (eventSource -> eventNames); tooling skips the rest.
RULE_EVENTS = LAUNCH_EVENTS

DEFAULT_VCPU_THRESHOLD = 64


def _probe(event):
    summary = summarize_launch(event)
    unusual = unusual_instance_types_in(summary, unusual_instance_types(), usual_instance_types())
    return summary, unusual


def rule(event):
    if not is_launch_event(event) or launch_outcome(event)[0] != OUTCOME_DRY_RUN:
        return False
    controllers = capacity_controller_user_agents(), capacity_controller_principal_arns()
    if is_controller_dry_run(event, *controllers):
        return False
    if is_allowlisted(event, allowlisted_principal_arns(), allowlisted_user_agents()):
        return False
    summary, unusual = _probe(event)
    threshold = as_int(dry_run_vcpu_threshold(), DEFAULT_VCPU_THRESHOLD)
    return bool(unusual) or summary.requested_vcpus >= threshold


def title(event):
    summary, unusual = _probe(event)
    types = ", ".join(unusual or summary.instance_types) or "a launch template"
    return (
        f"{principal(event).display} dry-ran {summary.event_name} of "
        f"{summary.requested_instance_count} instance(s) [{types}], "
        f"{summary.requested_vcpus} vCPUs, in account {actor(event).account_id or '?'} "
        f"({as_text(event.get('awsRegion')) or '?'})"
    )


def dedup(event):
    summary, unusual = _probe(event)
    return f"{principal(event).key}:{','.join(unusual or summary.instance_types)}"


def severity(event):
    _, unusual = _probe(event)
    return "HIGH" if unusual else "MEDIUM"


def alert_context(event):
    summary, unusual = _probe(event)
    context = launch_alert_context(event, summary)
    context["unusual_instance_types"] = unusual
    return context
