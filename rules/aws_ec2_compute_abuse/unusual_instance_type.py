from ec2_compute_windows import KVStore
from panther_detection_helpers.caching import (
    add_to_string_set,
    get_string_set,
    remove_from_string_set,
)

from ec2_compute_config import (
    allowlisted_principal_arns,
    allowlisted_user_agents,
    unusual_instance_types,
    usual_instance_types,
)
from ec2_compute_helpers import (
    CHANGE_RESIZE,
    LAUNCH_EVENT_NAMES,
    OUTCOME_DRY_RUN,
    OUTCOME_SUCCESS,
    actor,
    as_text,
    capacity_group_name,
    event_name,
    is_allowlisted,
    is_launch_event,
    launch_alert_context,
    launch_outcome,
    service_name,
)
from ec2_launch_templates import (
    GROUP_RESIZES,
    LAUNCH_AND_TEMPLATE_EVENTS,
    OWNER_EVENTS,
    TEMPLATE_EVENT_NAMES,
    charged_to,
    is_template_event,
    judge_owner_and_waiting_launches,
    judge_waiting_launches,
    launch_of,
    runs_new_types,
    template_alert_context,
    unusual_launch,
)

# The only events rule() can match (eventSource -> eventNames); tooling skips the rest. Launch
# template calls are remembered, so launches that name a template are judged by its types.
RULE_EVENTS = LAUNCH_AND_TEMPLATE_EVENTS

# Longest list of types a title names before it says "and N more".
MAX_TITLE_TYPES = 3


def rule(event):
    name = event_name(event)  # one look-up rejects almost every event
    if name in TEMPLATE_EVENT_NAMES and is_template_event(event):
        return judge_waiting_launches(event, _store(), _unusual_launch)
    if name in OWNER_EVENTS:  # and the launches its group's service made before it was seen
        return judge_owner_and_waiting_launches(event, _store(), _unusual_launch)
    return _unusual_launch(event)


def _store():
    return KVStore(get_string_set, add_to_string_set, remove_from_string_set)


def _unusual_types(event, store=None):
    """(the launch priced by its template where it names one, the look-up, the unusual types).
    rule() looks the template up in `store`; the alert functions read what it found."""
    return unusual_launch(event, store, unusual_instance_types(), usual_instance_types())


def _unusual_launch(event):
    name = event_name(event)
    # Dry runs are permission probes, not launches: ComputeAbuse.AWS.EC2.DryRunProbe's job.
    if (
        name not in LAUNCH_EVENT_NAMES
        or not is_launch_event(event)
        or launch_outcome(event).kind == OUTCOME_DRY_RUN
    ):
        return False
    summary, lookup, unusual = _unusual_types(event, _store())
    if not unusual or _adds_nothing(event, summary, unusual):
        return False
    return not is_allowlisted(
        event,
        allowlisted_principal_arns(),
        allowlisted_user_agents(),
        also=charged_to(event, lookup),
    )


def _adds_nothing(event, summary, unusual) -> bool:
    """A resize of a group or fleet to no more than it had (lowered, kept, a minimum below its
    size) running no unusual type it did not run before (its types named again, or none, as a
    pipeline re-applying the group's template does): they were judged when it grew, and nothing
    launches. A switch to new unusual types at the same size is judged."""
    return (
        summary.event_name in GROUP_RESIZES
        and not summary.requested_instance_count
        and not summary.launched_instance_count
        and not runs_new_types(event, summary, unusual, _store())
    )


def title(event):
    event = launch_of(event)  # a template event alerts about the launch that waited for it
    summary, lookup, unusual = _unusual_types(event)
    types = ", ".join(unusual[:MAX_TITLE_TYPES])
    if len(unusual) > MAX_TITLE_TYPES:
        types += f" and {len(unusual) - MAX_TITLE_TYPES} more"
    who = charged_to(event, lookup).display
    if lookup.owner is not None:  # a service launched it for a group or fleet of theirs
        who += f" (through {lookup.owner.ref})"
    where = f"account {actor(event).account_id or '?'} ({as_text(event.get('awsRegion')) or '?'})"
    service = service_name(event)
    via = "" if summary.event_name == "RunInstances" else f" via {summary.event_name}"
    if summary.outcome != OUTCOME_SUCCESS:
        return (
            f"{who} tried to launch {summary.requested_instance_count} unusual {service} "
            f"instance(s) [{types}]{via} in {where}: {summary.error_code}"
        )
    if summary.change == CHANGE_RESIZE:
        resized = ", ".join(summary.instance_ids) or "an instance"
        return f"{who} resized {resized} to unusual {service} instance type [{types}] in {where}"
    if summary.event_name in GROUP_RESIZES and not summary.instance_count:  # types, not size
        group = capacity_group_name(event) or "a group"
        return (
            f"{who} switched {group} to unusual {service} instance type(s) [{types}]{via} in "
            f"{where}"
        )
    verb = "requested" if summary.launches_later else "launched"
    return (
        f"{who} {verb} {summary.instance_count} unusual {service} instance(s) [{types}]{via} in "
        f"{where}"
    )


def dedup(event):
    event = launch_of(event)  # a template event alerts about the launch that waited for it
    _, lookup, unusual = _unusual_types(event)
    return f"{charged_to(event, lookup).key}:{','.join(unusual)}"


def severity(event):
    event = launch_of(event)  # a template event alerts about the launch that waited for it
    summary, lookup, _ = _unusual_types(event)
    if summary.outcome != OUTCOME_SUCCESS:
        return "LOW"  # refused by IAM or quota: nothing runs, but someone asked
    if actor(event).service_invoked and lookup.owner is None:
        return "MEDIUM"  # a group or fleet the pack never saw sized launched it: find its owner
    return "HIGH"


def alert_context(event):
    event = launch_of(event)  # a template event alerts about the launch that waited for it
    summary, lookup, unusual = _unusual_types(event)
    context = launch_alert_context(event, summary)
    context.update(template_alert_context(lookup))
    context["unusual_instance_types"] = unusual
    return context
