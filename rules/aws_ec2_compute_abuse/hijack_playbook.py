from typing import NamedTuple

from ec2_compute_windows import (
    Entry,
    KVStore,
    WindowResult,
    bounded,
    distinct_entry,
    iso_time,
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
    DRY_RUN_VCPU_THRESHOLD,
    PLAYBOOK_LARGE_LAUNCH_VCPUS,
    PLAYBOOK_MIN_STAGES,
    PLAYBOOK_WINDOW_SECONDS,
    REGION_SPREAD_MIN_REGIONS,
    allowlisted_principal_arns,
    allowlisted_user_agents,
    as_int,
    capacity_controller_principal_arns,
    capacity_controller_user_agents,
    dry_run_vcpu_threshold,
    playbook_large_launch_vcpus,
    playbook_min_stages,
    playbook_window_seconds,
    region_spread_min_regions,
    unusual_instance_types,
    usual_instance_types,
)
from ec2_compute_helpers import (
    EC2_EVENT_SOURCE,
    LAUNCH_EVENT_NAMES,
    OUTCOME_DRY_RUN,
    QUOTA_EVENTS,
    as_text,
    event_id,
    event_name,
    event_time_epoch,
    identity_alert_context,
    is_allowlisted,
    is_controller_dry_run,
    is_launch_event,
    launch_outcome,
    launched_on_behalf,
    merged_events,
    principal,
    protection_turned_on,
    quota_call,
    region,
    resource_account,
)
from ec2_launch_templates import (
    LAUNCH_AND_TEMPLATE_EVENTS,
    TEMPLATE_EVENT_NAMES,
    is_template_event,
    judge_waiting_launches,
    launch_of,
    unusual_launch,
)

IAM_EVENT_SOURCE = "iam.amazonaws.com"
CREDENTIAL_EVENTS = frozenset({"CreateAccessKey", "CreateLoginProfile", "UpdateLoginProfile"})
RECON_EVENTS = frozenset({"DescribeInstanceTypeOfferings"})  # EC2's "which types are offered"

# The only events rule() can match (eventSource -> eventNames); tooling skips the rest.
RULE_EVENTS = merged_events(
    LAUNCH_AND_TEMPLATE_EVENTS,
    {EC2_EVENT_SOURCE: RECON_EVENTS},
    QUOTA_EVENTS,
    {IAM_EVENT_SOURCE: CREDENTIAL_EVENTS},
)

STAGE_EVENT_NAMES = frozenset().union(*RULE_EVENTS.values())

# The stages, in the order the playbook runs them, with what the alert calls each.
STAGES = {
    "credentials": "new access key or console password",
    "recon": "quota or instance-type look-ups",
    "quota-increase": "quota increase request",
    "dry-run": "dry run of unusual or large capacity",
    "launch": "unusual or large launch",
    "regions": "launches across regions",
    "protection": "termination or stop protection",
}


def rule(event):
    name = event_name(event)
    if name not in STAGE_EVENT_NAMES:  # one look-up rejects almost every event
        return False
    # remembered: dry runs and launches may name templates
    if name in TEMPLATE_EVENT_NAMES and is_template_event(event):
        return judge_waiting_launches(event, _store(), _stage_rule)
    return _stage_rule(event)


def _store():
    return KVStore(get_string_set, add_to_string_set, remove_from_string_set)


def _window():
    return as_int(playbook_window_seconds(), PLAYBOOK_WINDOW_SECONDS)


def _launch_stage(event, store):
    """ "dry-run" or "launch" when a launch call asks for unusual or large capacity (as DryRunProbe
    and UnusualInstanceType judge it, a template's type included), else ""."""
    summary, _, unusual = unusual_launch(
        event, store, unusual_instance_types(), usual_instance_types()
    )
    if launch_outcome(event).kind == OUTCOME_DRY_RUN:
        large = as_int(dry_run_vcpu_threshold(), DRY_RUN_VCPU_THRESHOLD)
        return "dry-run" if unusual or summary.requested_vcpus_max >= large else ""
    large = as_int(playbook_large_launch_vcpus(), PLAYBOOK_LARGE_LAUNCH_VCPUS)
    return "launch" if unusual or summary.requested_vcpus_max >= large else ""


def _spread_over_regions(event, store):
    """Whether the principal's launch calls (dry runs aside) reach the configured number of
    regions within the playbook window, with this one."""
    epoch = event_time_epoch(event)
    min_regions = as_int(region_spread_min_regions(), REGION_SPREAD_MIN_REGIONS)
    key = window_key("playbook-regions", principal(event).key)
    entry = distinct_entry(region(event) or "?", int(epoch or 0), _window())
    result = window_for(
        key, entry, min_regions, _window(), store, has_event_time=epoch is not None, distinct=True
    )
    return result.total >= min_regions


def _stages(event, store):
    """The playbook stages one event shows (usually none)."""
    name = event_name(event)
    if name in CREDENTIAL_EVENTS:
        return ["credentials"] if event.get("eventSource") == IAM_EVENT_SOURCE else []
    if name in RECON_EVENTS:
        return ["recon"] if event.get("eventSource") == EC2_EVENT_SOURCE else []
    call = quota_call(event)
    if call is not None:
        if call.event_name == "RequestServiceQuotaIncrease":
            return ["quota-increase"]
        return ["recon"] if call.service_code == "ec2" else []
    stages = []
    if name in LAUNCH_EVENT_NAMES and is_launch_event(event) and not launched_on_behalf(event):
        controllers = capacity_controller_user_agents(), capacity_controller_principal_arns()
        if not is_controller_dry_run(event, *controllers):
            stage = _launch_stage(event, store)
            stages.extend([stage] if stage else [])
            dry_run = launch_outcome(event).kind == OUTCOME_DRY_RUN
            if not dry_run and store is not None and _spread_over_regions(event, store):
                stages.append("regions")
    # Protection turned on afterwards, or at the launch of unusual or large capacity: Terraform
    # launches everyday instances with termination protection on.
    if protection_turned_on(event) and (name == "ModifyInstanceAttribute" or "launch" in stages):
        stages.append("protection")
    return stages


def _entry(event, stage):
    """A stage's entry: its label is the stage (what the window counts distinct), its ID the
    event's region, ID and stage ("us-east-1/<eventID>#launch"): one event may show two stages,
    and the alert says where each stage happened."""
    epoch = int(event_time_epoch(event) or 0)
    return Entry(epoch, f"{region(event) or '?'}/{event_id(event)}#{stage}", 1, 0, stage)


class Playbook(NamedTuple):
    result: WindowResult | None  # the principal's window of distinct stages as the event left it
    alerts: bool  # whether the event is the alert's


def _playbook(event, record_it=False):
    """The principal's window of distinct stages as this event left it, and whether the event
    is the alert's: the window crossed the minimum with it, or it shows a stage for the first time
    in a window past the minimum (its event joins the open alert, under the same dedup string).
    rule() records; the alert functions read what it recorded."""
    store = _store() if record_it else None
    stages = _stages(event, store) if record_it else _judged_stages.get(event_id(event), [])
    if record_it:
        if len(_judged_stages) >= 256:
            del _judged_stages[next(iter(_judged_stages))]
        _judged_stages[event_id(event)] = stages
    key = window_key("playbook", principal(event).key)
    has_time = event_time_epoch(event) is not None
    minimum = as_int(playbook_min_stages(), PLAYBOOK_MIN_STAGES)
    result = None
    for stage in stages:
        entry = bounded(_entry(event, stage))
        result = window_for(
            key, entry, minimum, _window(), store, has_event_time=has_time, distinct=True
        )
        first_of_its_stage = entry in result.firsts
        if result.crossed or (
            result.total >= minimum and first_of_its_stage and not result.duplicate
        ):
            return Playbook(result, alerts=True)
    return Playbook(result, alerts=False)


# What rule() found for an event, for its alert functions (Panther runs them right after).
_judged_stages: dict[str, list] = {}


def _stage_rule(event):
    if is_allowlisted(event, allowlisted_principal_arns(), allowlisted_user_agents()):
        return False
    return _playbook(event, record_it=True).alerts


def _story(result):
    """The stages in the order the principal first showed them."""
    return [entry.label for entry in result.firsts]


def title(event):
    event = launch_of(event)  # a template event alerts about the launch that waited for it
    result = _playbook(event).result
    steps = " → ".join(STAGES.get(stage, stage) for stage in _story(result)) if result else ""
    hours = _window() / 3600
    return (
        f"{principal(event).display} ran the compute-hijacking playbook in account "
        f"{resource_account(event) or '?'}: {steps} ({result.total if result else 0} stages "
        f"within {hours:g} hours)"
    )


def dedup(event):
    event = launch_of(event)  # a template event alerts about the launch that waited for it
    return f"playbook:{principal(event).key}"


def alert_context(event):
    event = launch_of(event)  # a template event alerts about the launch that waited for it
    result = _playbook(event).result
    context = identity_alert_context(event)
    if result is None:
        return context
    context.update(window_alert_context(result))
    context["stages"] = [
        {
            "stage": entry.label,
            "what": STAGES.get(entry.label, entry.label),
            "first_event_time": iso_time(entry.epoch),
            "first_event_region": entry.event_id.partition("/")[0],
            "first_event_id": entry.event_id.partition("/")[2].rpartition("#")[0],
        }
        for entry in result.firsts
    ]
    context["window_seconds"] = _window()
    context["event_region"] = as_text(event.get("awsRegion"))
    return context
