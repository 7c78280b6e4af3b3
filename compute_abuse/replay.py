"""Replay CloudTrail records through the pack's streaming rules, offline, with `panther_core`.

The rules run exactly as in Panther (PantherEvent, Rule.run in batch mode), stateful ones on an
in-memory KV store whose clock follows the events' time, so windows behave as they do live.
Each rule declares the only events it can match (`RULE_EVENTS`: eventSource -> eventNames); every
other record is skipped with one dictionary lookup, never wrapped or evaluated.
"""

import json
import reprlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any
from unittest.mock import patch

from panther_core.enriched_event import PantherEvent
from panther_core.rule import Rule

from compute_abuse.content import (
    ALERT_FUNCTIONS,
    function_errors,
    install_global_helpers,
    load_rule,
    patches_for,
    specs_of_type,
)
from compute_abuse.kvstore import InMemoryKVStore

MAX_REPORTED_RULE_ERRORS = 20
EVALUATION_BATCH = 1024  # events the rules can match, gathered before they are evaluated


@dataclass
class Alert:
    """One alert as Panther would raise it: the first match of a dedup string, and the count of
    later matches that Panther would fold into it within the rule's dedup period."""

    rule_id: str
    severity: str
    title: str
    dedup: str
    event_id: str
    event_time: str
    context: Mapping[str, Any]
    matches: int = 1
    epoch: float | None = None  # the event time, read as the rules read it (None: unreadable)

    def as_dict(self) -> dict:
        return {
            "rule_id": self.rule_id,
            "severity": self.severity,
            "title": self.title,
            "dedup": self.dedup,
            "event_id": self.event_id,
            "event_time": self.event_time,
            "matches": self.matches,
            "alert_context": dict(self.context),
        }


@dataclass
class RuleTally:
    alerts: int = 0
    severities: Counter = field(default_factory=Counter)
    actors: Counter = field(default_factory=Counter)


def rule_events(rule: Rule) -> Mapping[str, Iterable[str]]:
    """What a rule declares it can match: eventSource -> eventNames (RULE_EVENTS)."""
    declared = getattr(rule.module, "RULE_EVENTS", None)
    if not isinstance(declared, Mapping):
        raise ValueError(f"{rule.detection_id} declares no RULE_EVENTS mapping")
    return declared


MAX_SETTING_SECONDS = 366 * 86400  # a window or memory longer than a year is a typo
MAX_SETTING_NUMBER = 10**9
MAX_LIST_ITEMS = 10_000
MAX_PATTERN_LENGTH = 256


def apply_config_overrides(overrides: Mapping[Any, Any], source: str = "config") -> None:
    """Replace tunables of ec2_compute_config for this run, e.g. {"VCPU_SURGE_THRESHOLD": 400}.
    Unknown names, values of another type than the default and values out of range are refused
    with one line naming the source, the setting and what is wrong; nothing is applied then."""
    install_global_helpers()
    import ec2_compute_config as config

    checked = {}
    for name, given in overrides.items():
        if not isinstance(name, str) or not name.isupper() or not hasattr(config, name):
            raise ValueError(
                f"{source}: unknown setting {_short(name)}: see "
                "global_helpers/ec2_compute_config.py"
            )
        problem = _setting_problem(name, getattr(config, name), given)
        if problem:
            raise ValueError(f"{source}: {name} {problem}, got {_short(given)}")
        default = getattr(config, name)
        checked[name] = type(default)(given) if isinstance(default, (list, tuple)) else given
    for name, value in checked.items():
        setattr(config, name, value)


def _setting_problem(name: str, default: Any, given: Any) -> str:
    """What is wrong with a value for a setting ("" when nothing)."""
    if isinstance(default, bool) or not isinstance(default, (int, list, tuple)):
        return "cannot be set from a config file"
    if isinstance(default, int):
        limit = MAX_SETTING_SECONDS if name.endswith("_SECONDS") else MAX_SETTING_NUMBER
        fits = type(given) is int and 1 <= given <= limit
        return "" if fits else f"must be a whole number from 1 to {limit:,}"
    if not isinstance(given, (list, tuple)) or len(given) > MAX_LIST_ITEMS:
        return f"must be a list (at most {MAX_LIST_ITEMS:,} items)"
    if isinstance(default, tuple):  # SEVERITY_STEP_MULTIPLES: ascending multiples above 1
        fits = all(type(item) in (int, float) and 1 < item <= 1000 for item in given)
        fits = fits and list(given) == sorted(set(given))
        return "" if fits else "must list ascending numbers above 1 (and at most 1,000)"
    fits = all(isinstance(item, str) and 0 < len(item) <= MAX_PATTERN_LENGTH for item in given)
    return "" if fits else f"must list text items of 1 to {MAX_PATTERN_LENGTH} characters"


def _short(value: Any) -> str:
    """A value as an error shows it: never long, whatever it is."""
    return _SHORT.repr(value)


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother, _SHORT.maxlist, _SHORT.maxdict = 2, 60, 60, 4, 4


class Replay:
    """Runs records through the streaming rules of the pack and yields their alerts."""

    def __init__(self, rule_ids: Sequence[str] | None = None):
        install_global_helpers()
        specs = {spec.analysis_id: spec for spec in specs_of_type("rule")}
        unknown = sorted(set(rule_ids or ()) - set(specs))
        if unknown:
            raise ValueError(f"unknown rule ID(s): {', '.join(unknown)}; known: {sorted(specs)}")
        chosen = [specs[rule_id] for rule_id in (rule_ids or sorted(specs))]
        self.rules = [load_rule(spec) for spec in chosen]
        self.now = 0.0
        self.store = InMemoryKVStore(clock=lambda: self.now)
        from ec2_compute_helpers import event_time_epoch, principal  # importable once installed

        self._principal, self._event_time_epoch = principal, event_time_epoch
        # eventName -> eventSource -> rules: the first lookup is all a non-matching record costs
        self._dispatch: dict[str, dict[str, list[Rule]]] = {}
        for rule in self.rules:
            for source, names in rule_events(rule).items():
                for name in names:
                    self._dispatch.setdefault(name, {}).setdefault(source, []).append(rule)
        self.records_read = 0
        self.events_evaluated = 0
        self.tallies = {rule.detection_id: RuleTally() for rule in self.rules}
        self.rule_errors: list[str] = []  # the first MAX_REPORTED_RULE_ERRORS
        self.rule_error_count = 0
        # (rule, dedup) -> (event time the alert opened, the alert): Panther's dedup, on event time
        self._open_alerts: dict[tuple[str, str], tuple[float, Alert]] = {}

    def candidate_pairs(self) -> frozenset[tuple[str, str]]:
        """(eventSource, eventName) of every record some rule can match: all others are skipped
        unread, so a reader may drop them before they reach `run`."""
        return frozenset(
            (source, name) for name, by_source in self._dispatch.items() for source in by_source
        )

    def run(self, records: Iterable[dict]) -> Iterator[Alert]:
        """Alerts of the records, in order (later matches of an open alert fold into them)."""
        with ExitStack() as patches:
            kv_functions = self.store.caching_functions()
            for rule in self.rules:
                names = {**patches_for(rule, kv_functions), **self._reporting(rule)}
                if names:
                    patches.enter_context(patch.multiple(rule.module, **names))
            dispatch, read, pending = self._dispatch, 0, []
            try:
                for record in records:  # the hot loop: most records stop at the dispatch lookup
                    read += 1
                    try:
                        by_source = dispatch.get(record.get("eventName"))
                        if by_source is None:
                            continue
                        rules = by_source.get(record.get("eventSource"))
                    except TypeError:  # an unhashable eventName or eventSource (a list, ...)
                        continue
                    if rules:
                        pending.append((record, rules))
                        if len(pending) >= EVALUATION_BATCH:
                            yield from self._evaluate_all(pending)
                yield from self._evaluate_all(pending)
            finally:
                self.records_read += read

    def _evaluate_all(self, pending: list[tuple[dict, list[Rule]]]) -> Iterator[Alert]:
        """Evaluate the events gathered so far, in their order, and forget them. The rules see
        exactly the sequence they would one by one; in a batch their code and state stay in the
        CPU's caches instead of being evicted by the parsing of the records between them."""
        for record, rules in pending:
            yield from self._evaluate(record, rules)
        pending.clear()

    def _evaluate(self, record: dict, rules: list[Rule]) -> Iterator[Alert]:
        self.events_evaluated += 1
        event = PantherEvent(record)
        epoch = self._event_time_epoch(event)  # read once: the rules get the same event
        if epoch is not None and epoch > self.now:
            self.now = epoch  # the store's clock never runs backwards
        for rule in rules:
            result = rule.run(event, {}, {}, batch_mode=True)
            # Without an alert, only rule() (or its setup) ran and could have failed.
            failed = result.errored if result.trigger_alert else result.detection_evaluation_failed
            if failed:
                errors = function_errors(result)
                self._report(f"{rule.detection_id} on {record.get('eventID')}: {errors}")
            if not result.trigger_alert:
                continue
            opened = self._open_alerts.get((rule.detection_id, result.dedup_output))
            period = 60 * rule.detection_dedup_period_mins
            moment = epoch if epoch is not None else self.now
            if opened and 0 <= moment - opened[0] < period:
                opened[1].matches += 1  # Panther folds it into the open alert
                continue
            alert = self._alert(rule, result, record)
            alert.epoch = epoch
            self._open_alerts[(rule.detection_id, result.dedup_output)] = (moment, alert)
            tally = self.tallies[rule.detection_id]
            tally.alerts += 1
            tally.severities[alert.severity] += 1
            tally.actors[self._principal(record).display] += 1
            yield alert

    def _report(self, error: str) -> None:
        self.rule_error_count += 1
        if len(self.rule_errors) < MAX_REPORTED_RULE_ERRORS:
            self.rule_errors.append(error[:1000])

    def _reporting(self, rule: Rule) -> dict[str, Any]:
        """The rule's alert functions, wrapped to report what they raise. Panther's log
        analysis (batch mode) swallows it and alerts with a default (the rule ID as title,
        the YAML's severity); the replay does the same, and says so."""
        wrapped = {}
        for name in ALERT_FUNCTIONS:
            function = getattr(rule.module, name, None)
            if callable(function):
                wrapped[name] = self._reporting_function(rule.detection_id, name, function)
        return wrapped

    def _reporting_function(self, rule_id: str, name: str, function):
        def reporting(event):
            try:
                return function(event)
            except Exception as error:
                self._report(
                    f"{rule_id}.{name}() on {event.get('eventID')}: {type(error).__name__}: {error}"
                )
                raise

        return reporting

    @staticmethod
    def _alert(rule: Rule, result, record: dict) -> Alert:
        try:
            context = json.loads(result.alert_context_output or "{}")
        except ValueError:
            context = {"_unparsed": result.alert_context_output}
        return Alert(
            rule_id=rule.detection_id,
            # Without a severity() the YAML's Severity is the alert's, as in Panther.
            severity=(result.severity_output or rule.detection_severity or "DEFAULT").upper(),
            title=result.title_output or rule.detection_id,
            dedup=result.dedup_output or "",
            event_id=str(record.get("eventID", "")),
            event_time=str(record.get("eventTime", "")),
            context=context,
        )
