from typing import NamedTuple

from ec2_compute_windows import (
    TTL_MARGIN_SECONDS,
    Entry,
    KVStore,
    entry_label,
    remember,
    remembered,
    window_key,
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
    termination_protection_burst_instances,
    termination_protection_instance_memory_seconds,
    termination_protection_window_seconds,
    unusual_instance_types,
    usual_instance_types,
)
from ec2_compute_helpers import (
    EC2_EVENT_SOURCE,
    LAUNCH_EVENTS,
    OUTCOME_SUCCESS,
    actor,
    event_id,
    event_name,
    event_time_epoch,
    identity_alert_context,
    is_allowlisted,
    is_launch_event,
    launch_alert_context,
    launch_disables_termination,
    launch_outcome,
    launched_on_behalf,
    principal,
    region,
    summarize_launch,
    termination_protection_enabled,
    unusual_instance_types_in,
)

# The only events rule() can match (eventSource -> eventNames); tooling skips the rest. Launches
# are read to remember unusual instances and bursts; ModifyInstanceAttribute is judged.
RULE_EVENTS = {
    **LAUNCH_EVENTS,
    EC2_EVENT_SOURCE: LAUNCH_EVENTS[EC2_EVENT_SOURCE] | {"ModifyInstanceAttribute"},
}
RULE_EVENT_NAMES = frozenset().union(*RULE_EVENTS.values())

DEFAULT_WINDOW_SECONDS = 3600
DEFAULT_BURST_INSTANCES = 5
DEFAULT_MEMORY_SECONDS = 7 * 86400


class Verdict(NamedTuple):
    reason: str  # why protecting these instances is suspicious ("" when it is not)
    instance_ids: tuple
    instance_types: tuple  # of the protected instances, where the pack saw them launched
    burst_event_ids: tuple  # the actor's launch bursts within the window before
    degraded: str


_NOTHING = Verdict("", (), (), (), "")
_verdicts: dict = {}  # event ID -> Verdict, for the alert functions Panther calls after rule()


def _store():
    return KVStore(get_string_set, add_to_string_set, remove_from_string_set)


def _keys(event):
    return (
        window_key("protect-instances", actor(event).account_id),
        window_key("protect-bursts", principal(event).key),
    )


def _settings():
    return (
        as_int(termination_protection_window_seconds(), DEFAULT_WINDOW_SECONDS),
        as_int(termination_protection_burst_instances(), DEFAULT_BURST_INSTANCES),
        as_int(termination_protection_instance_memory_seconds(), DEFAULT_MEMORY_SECONDS),
    )


def _judge_launch(event, epoch):
    """Remember a launch's unusual instances and, for a burst, the launch itself; suspicious when
    the launch itself turns termination protection on."""
    summary = summarize_launch(event)
    window, burst_instances, memory = _settings()
    unusual = unusual_instance_types_in(summary, unusual_instance_types(), usual_instance_types())
    instances_key, bursts_key = _keys(event)
    remembered_instances = [
        Entry(epoch=epoch, event_id=instance_id, amount=0, label=entry_label(unusual[0]))
        for instance_id in summary.instance_ids
    ] if unusual else []  # fmt: skip
    degraded = remember(_store(), instances_key, remembered_instances, memory + TTL_MARGIN_SECONDS)
    burst = bool(unusual) or summary.instance_count >= burst_instances
    if burst:
        burst_entry = Entry(epoch=epoch, event_id=event_id(event), amount=summary.instance_count,
                            accelerators=summary.accelerators)  # fmt: skip
        degraded = (
            remember(_store(), bursts_key, [burst_entry], window + TTL_MARGIN_SECONDS) or degraded
        )
    if burst and launch_disables_termination(event):
        reason = "launched with termination protection on"
        return Verdict(reason, summary.instance_ids, tuple(unusual), (event_id(event),), degraded)
    return _NOTHING._replace(degraded=degraded)


def _judge_protection(event, epoch, instance_ids):
    window, _, _ = _settings()
    instances_key, bursts_key = _keys(event)
    known, degraded = remembered(_store(), instances_key)
    types = tuple(dict.fromkeys(known[i].label for i in instance_ids if i in known))
    bursts, burst_degraded = remembered(_store(), bursts_key)
    recent = tuple(
        entry.event_id for entry in sorted(bursts.values())
        if epoch - window <= entry.epoch <= epoch
    )  # fmt: skip
    if types:
        reason = f"protected unusual instance(s) [{', '.join(types)}]"
    elif recent:
        reason = f"protected instances within {window // 60} minutes of a launch burst"
    else:
        reason = ""
    return Verdict(reason, instance_ids, types, recent, degraded or burst_degraded)


def _judge(event):
    epoch = event_time_epoch(event)
    if epoch is None or is_allowlisted(
        event, allowlisted_principal_arns(), allowlisted_user_agents()
    ):
        return _NOTHING
    protected = termination_protection_enabled(event)
    if protected:
        return _judge_protection(event, int(epoch), protected)
    if not is_launch_event(event) or launch_outcome(event)[0] != OUTCOME_SUCCESS:
        return _NOTHING  # dry runs and errors, read from one field
    if launched_on_behalf(event) or summarize_launch(event).outcome != OUTCOME_SUCCESS:
        return _NOTHING
    return _judge_launch(event, int(epoch))


def _verdict(event):
    return _verdicts.get(event_id(event), _NOTHING)


def rule(event):
    name = event_name(event)  # one look-up rejects almost every event
    if name not in RULE_EVENT_NAMES:
        return False
    if name != "ModifyInstanceAttribute" and not is_launch_event(event):
        return False
    verdict = _judge(event)
    if len(_verdicts) > 256:
        _verdicts.clear()
    _verdicts[event_id(event)] = verdict
    return bool(verdict.reason)


def title(event):
    verdict = _verdict(event)
    return (
        f"{principal(event).display} turned on termination protection for "
        f"{', '.join(verdict.instance_ids) or 'instances'} in account "
        f"{actor(event).account_id or '?'} ({region(event) or '?'}): {verdict.reason or '-'}"
    )


def dedup(event):
    return f"{principal(event).key}:{','.join(_verdict(event).instance_ids)}"


def severity(event):
    return "HIGH" if _verdict(event).instance_types else "MEDIUM"


def alert_context(event):
    verdict = _verdict(event)
    context = (
        launch_alert_context(event) if is_launch_event(event) else identity_alert_context(event)
    )
    context.update(
        {
            "reason": verdict.reason,
            "protected_instance_ids": list(verdict.instance_ids),
            "protected_instance_types": list(verdict.instance_types),
            "burst_event_ids": list(verdict.burst_event_ids),
            "degraded": verdict.degraded,
        }
    )
    return context
