from ec2_compute_config import (
    allowlisted_principal_arns,
    allowlisted_user_agents,
    unusual_instance_types,
    usual_instance_types,
)
from ec2_compute_helpers import (
    LAUNCH_EVENTS,
    OUTCOME_DRY_RUN,
    OUTCOME_SUCCESS,
    actor,
    as_text,
    is_allowlisted,
    is_launch_event,
    launch_alert_context,
    launch_outcome,
    principal,
    summarize_launch,
    unusual_instance_types_in,
)

# The only events rule() can match (eventSource -> eventNames); tooling skips the rest.
RULE_EVENTS = LAUNCH_EVENTS

# Longest list of types a title names before it says "and N more".
MAX_TITLE_TYPES = 3


def _unusual_types(event):
    summary = summarize_launch(event)
    return summary, unusual_instance_types_in(
        summary, unusual_instance_types(), usual_instance_types()
    )


def rule(event):
    # Dry runs are permission probes, not launches: AWS.EC2.ComputeAbuse.DryRunProbe's job.
    if not is_launch_event(event) or launch_outcome(event)[0] == OUTCOME_DRY_RUN:
        return False
    if not _unusual_types(event)[1]:
        return False
    return not is_allowlisted(event, allowlisted_principal_arns(), allowlisted_user_agents())


def title(event):
    summary, unusual = _unusual_types(event)
    types = ", ".join(unusual[:MAX_TITLE_TYPES])
    if len(unusual) > MAX_TITLE_TYPES:
        types += f" and {len(unusual) - MAX_TITLE_TYPES} more"
    who = principal(event).display
    where = f"account {actor(event).account_id or '?'} ({as_text(event.get('awsRegion')) or '?'})"
    via = "" if summary.event_name == "RunInstances" else f" via {summary.event_name}"
    if summary.outcome != OUTCOME_SUCCESS:
        return (
            f"{who} tried to launch {summary.requested_instance_count} unusual EC2 instance(s)"
            f" [{types}]{via} in {where}: {summary.error_code}"
        )
    verb = "requested" if summary.launches_later else "launched"
    return (
        f"{who} {verb} {summary.instance_count} unusual EC2 instance(s) [{types}]{via} in {where}"
    )


def dedup(event):
    _, unusual = _unusual_types(event)
    return f"{principal(event).key}:{','.join(unusual)}"


def severity(event):
    summary, _ = _unusual_types(event)
    if summary.outcome != OUTCOME_SUCCESS:
        return "LOW"  # refused by IAM or quota: nothing runs, but someone asked
    if actor(event).service_invoked:
        return "MEDIUM"  # an auto scaling group or fleet launched it: find who created that
    return "HIGH"


def alert_context(event):
    summary, unusual = _unusual_types(event)
    context = launch_alert_context(event, summary)
    context["unusual_instance_types"] = unusual
    return context
