from typing import NamedTuple

from ec2_compute_windows import (
    Entry,
    KVStore,
    entry_id,
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
    TERMINATION_PROTECTION_BURST_INSTANCES,
    TERMINATION_PROTECTION_INSTANCE_MEMORY_SECONDS,
    TERMINATION_PROTECTION_WINDOW_SECONDS,
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
    launched_instances,
    launched_on_behalf,
    merged_events,
    principal,
    region,
    summarize_launch,
    termination_protection_enabled,
    unusual_instance_types_in,
)

# The only events rule() can match (eventSource -> eventNames); tooling skips the rest. Launches
# are read to remember unusual instances and bursts; ModifyInstanceAttribute is judged.
RULE_EVENTS = merged_events(LAUNCH_EVENTS, {EC2_EVENT_SOURCE: {"ModifyInstanceAttribute"}})
RULE_EVENT_NAMES = frozenset().union(*RULE_EVENTS.values())


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


class Verdict(NamedTuple):
    reason: str  # why protecting these instances is suspicious ("" when it is not)
    instance_ids: tuple  # the protected instances
    instance_types: tuple  # of the protected instances, where the pack saw them launched
    burst_event_ids: tuple  # the actor's launch bursts within the window before
    degraded: str
    on_launch: bool = False  # judged on the launch: its protection call was seen first


_NOTHING = Verdict("", (), (), (), "")
_verdicts: dict = {}  # event ID -> Verdict, for the alert functions Panther calls after rule()


def _store():
    return KVStore(get_string_set, add_to_string_set, remove_from_string_set)


class Keys(NamedTuple):
    # Unusual instances launched in the account (written by launches): only those, apart from the
    # ledger's memory of every launched instance, so that a busy account's everyday launches
    # (that memory keeps the latest MAX_ENTRIES) cannot push out a GPU instance protected later.
    instances: str
    bursts: str  # the principal's launch bursts (written by launches)
    protections: str  # protection calls in the account (written by protection calls)


def _keys(event):
    account = actor(event).account_id
    return Keys(
        window_key("protect-instances", account),
        window_key("protect-bursts", principal(event).key),
        window_key("protect-calls", account),
    )


class Settings(NamedTuple):
    window_seconds: int
    burst_instances: int
    memory_seconds: int


def _settings():
    return Settings(
        as_int(termination_protection_window_seconds(), TERMINATION_PROTECTION_WINDOW_SECONDS),
        as_int(termination_protection_burst_instances(), TERMINATION_PROTECTION_BURST_INSTANCES),
        as_int(
            termination_protection_instance_memory_seconds(),
            TERMINATION_PROTECTION_INSTANCE_MEMORY_SECONDS,
        ),
    )


# A launch and the protection call that pairs with it may be judged at the same time by two
# invocations, in either order. Each side writes what it is, then reads the other side: whichever
# reads last sees the other's write, so the pair alerts at least once (twice at most, one dedup).


def _judge_launch(event, epoch):
    """Remember a launch's unusual instances and, for a burst, the launch itself; then look for
    protection calls already seen for them. Suspicious when the launch itself turns termination
    protection on, or when its instances were (seen) protected already."""
    summary = summarize_launch(event)
    settings = _settings()
    unusual = unusual_instance_types_in(summary, unusual_instance_types(), usual_instance_types())
    burst = bool(unusual) or summary.instance_count >= settings.burst_instances
    if not burst:
        return _NOTHING
    keys = _keys(event)
    unusual_ids = _unusual_instances(event, summary, unusual)
    instances = [
        Entry(epoch, i, 0, label=instance_type) for i, instance_type in unusual_ids.items()
    ]
    burst_entry = Entry(epoch, event_id(event), summary.instance_count, summary.accelerators)
    degraded = remember(_store(), keys.instances, instances, settings.memory_seconds)
    degraded = remember(_store(), keys.bursts, [burst_entry], settings.window_seconds) or degraded
    if launch_disables_termination(event):
        reason = "launched with termination protection on"
        return Verdict(reason, summary.instance_ids, tuple(unusual), (event_id(event),), degraded)
    protections, read_degraded = remembered(_store(), keys.protections)
    found = Verdict("", (), (), (event_id(event),), degraded or read_degraded, on_launch=True)
    own = {entry_id(instance_id): instance_id for instance_id in unusual_ids}
    protected = tuple(own[key] for key in own if key in protections)
    if protected:
        types = tuple(dict.fromkeys(unusual_ids[i] for i in protected))
        return found._replace(
            reason=_unusual_reason(types), instance_ids=protected, instance_types=types
        )
    tag = _protector_tag(event)
    end = epoch + settings.window_seconds
    soon = sorted(
        entry
        for entry in protections.values()
        if entry.label == tag and epoch <= entry.epoch <= end
    )
    if soon:
        return found._replace(
            reason=_burst_reason(settings), instance_ids=tuple(entry.event_id for entry in soon)
        )
    return _NOTHING._replace(degraded=found.degraded)


def _unusual_instances(event, summary, unusual) -> dict:
    """The launch's unusual instances (ID -> type), each judged by its own type where the
    response names it (a fleet may launch a GPU instance beside a t3.micro), else by the launch's
    types when all of them are unusual."""
    if not unusual:
        return {}
    own_types = {i.instance_id: i.instance_type for i in launched_instances(event)}
    unusual_types = set(unusual)
    all_unusual = unusual_types >= set(summary.instance_types)
    found = {}
    for instance_id in summary.instance_ids:
        instance_type = own_types.get(instance_id)
        if instance_type in unusual_types or (instance_type is None and all_unusual):
            found[instance_id] = instance_type or unusual[0]
    return found


def _unusual_reason(types):
    return f"protected unusual instance(s) [{', '.join(types)}]"


def _burst_reason(settings):
    return f"protected instances within {settings.window_seconds // 60} minutes of a launch burst"


def _protector_tag(event):
    """Who turned protection on, as a protection entry's label (bounded, compared as is)."""
    return entry_label(entry_id(principal(event).key))


def _judge_protection(event, epoch, instance_ids):
    """Remember the protection call, then look for the launches it pairs with."""
    settings = _settings()
    keys = _keys(event)
    tag = _protector_tag(event)
    calls = [Entry(epoch, instance_id, 0, label=tag) for instance_id in instance_ids]
    degraded = remember(_store(), keys.protections, calls, settings.memory_seconds)
    known, read_degraded = remembered(_store(), keys.instances)
    types = tuple(
        dict.fromkeys(known[entry_id(i)].label for i in instance_ids if entry_id(i) in known)
    )
    bursts, burst_degraded = remembered(_store(), keys.bursts)
    recent = tuple(
        entry.event_id
        for entry in sorted(bursts.values())
        if epoch - settings.window_seconds <= entry.epoch <= epoch
    )
    reason = _unusual_reason(types) if types else _burst_reason(settings) if recent else ""
    return Verdict(reason, instance_ids, types, recent, degraded or read_degraded or burst_degraded)


def _judge(event):
    epoch = event_time_epoch(event)
    if epoch is None or is_allowlisted(
        event, allowlisted_principal_arns(), allowlisted_user_agents()
    ):
        return _NOTHING
    protected = termination_protection_enabled(event)
    if protected:
        return _judge_protection(event, int(epoch), protected)
    if not is_launch_event(event) or launch_outcome(event).kind != OUTCOME_SUCCESS:
        return _NOTHING  # dry runs and errors, read from one field
    if launched_on_behalf(event) or summarize_launch(event).outcome != OUTCOME_SUCCESS:
        return _NOTHING
    return _judge_launch(event, int(epoch))


def _verdict(event):
    return _verdicts.get(event_id(event), _NOTHING)


def title(event):
    verdict = _verdict(event)
    ids = ", ".join(verdict.instance_ids) or "instances"
    where = f"in account {actor(event).account_id or '?'} ({region(event) or '?'})"
    if verdict.on_launch:  # the protection call was judged before this launch
        return (
            f"Termination protection turned on for {ids} that {principal(event).display} "
            f"launched {where}: {verdict.reason}"
        )
    return (
        f"{principal(event).display} turned on termination protection for {ids} {where}: "
        f"{verdict.reason or '-'}"
    )


def dedup(event):
    # Per account: the same whichever side of a launch/protection pair is judged second.
    return f"termination-protection:{actor(event).account_id}"


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
            "judged_on": "launch" if verdict.on_launch else "protection call",
            "degraded": verdict.degraded,
        }
    )
    return context
