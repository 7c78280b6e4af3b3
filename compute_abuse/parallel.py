"""Run the stateful rules as Panther does: several invocations at once on one KV store.

    python -m compute_abuse.parallel [--seeds 20] [--workers 2 4 8]

Each worker is a thread that runs every stateful rule on its share of the events, with the real
`panther_detection_helpers.caching` code on moto's DynamoDB. A seeded scheduler lets exactly one
worker run at a time and switches workers at every KV call, chosen at random, sometimes keeping
one stalled for many calls (e.g. between its read and its write). Events are delivered with
duplicates and reordered a little, as CloudTrail delivers them, and dealt to workers at random.

The reference is one worker reading the events once, in event-time order, on the in-memory model
of the store (`kvstore.InMemoryKVStore`: about six times faster; any way it differs from moto where
a rule could notice shows here as a missed or extra crossing). A crossing that run
alerts on must alert in every parallel run: the report counts, per run, the (rule, dedup string)
pairs the reference raised and the parallel run did not ("missed"), the pairs only the parallel
run raised ("extra") and the errors of rules and alert functions. Repeats of one dedup string are
not counted: Panther merges them into one alert. Where one event crosses several windows at once
(VCPUSurge's principal, source IP and account windows), each window's dedup string counts.
"""

import argparse
import contextlib
import json
import random
import sys
import threading
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from compute_abuse import events as factories
from compute_abuse.content import function_errors, load_rule, specs_of_type
from compute_abuse.kvstore import InMemoryKVStore, moto_kv_table

KV_FUNCTIONS = ("get_string_set", "add_to_string_set", "remove_from_string_set")
T0 = int(datetime(2024, 8, 7, 14, 0, tzinfo=UTC).timestamp())


# --- Scheduling -------------------------------------------------------------------------------


class Scheduler:
    """Lets one worker run at a time; at each KV call the running worker parks and the scheduler
    picks who goes next. A stalled worker is not picked while others can run. Workers about to
    write (after their read) are stalled most often: that is where a read-then-write breaks."""

    def __init__(self, rng: random.Random, workers: int, stall_probability: float = 0.3):
        self.rng = rng
        self.workers = workers
        self.stall_probability = stall_probability
        self.condition = threading.Condition()
        self.turn: int | None = None
        self.parked: dict[int, str] = {}  # worker -> the KV call it waits to make
        self.done: set[int] = set()
        self.stalled: dict[int, int] = {}  # worker -> picks left before it may run again
        self.switches = 0

    def park(self, worker: int, call: str = "") -> None:
        """Called by a worker before each KV call (and once before its first event)."""
        with self.condition:
            self.parked[worker] = call
            self.turn = None
            self.condition.notify_all()
            while self.turn != worker:
                self.condition.wait()
            del self.parked[worker]

    def finish(self, worker: int) -> None:
        with self.condition:
            self.done.add(worker)
            self.turn = None
            self.condition.notify_all()

    def drive(self) -> None:
        """Run until every worker is done (on the calling thread)."""
        with self.condition:
            while len(self.done) < self.workers:
                while self.turn is not None or len(self.parked) + len(self.done) < self.workers:
                    self.condition.wait()
                if len(self.done) == self.workers:
                    return
                self.turn = self._pick()
                self.switches += 1
                self.condition.notify_all()

    def _pick(self) -> int:
        parked = sorted(self.parked)
        ready = [worker for worker in parked if self.stalled.get(worker, 0) == 0] or parked
        for worker in list(self.stalled):
            self.stalled[worker] = max(self.stalled[worker] - 1, 0)
        writers = [worker for worker in ready if self.parked[worker] != "get_string_set"]
        if len(ready) > 1 and writers and self.rng.random() < self.stall_probability:
            victim = self.rng.choice(writers)  # held between its read and its write
            self.stalled[victim] = self.rng.randint(3, 40)
            ready.remove(victim)
        return self.rng.choice(ready)


# --- Rules on a shared store ------------------------------------------------------------------


def stateful_rules() -> list:
    """Every streaming rule that imports the KV store's functions."""
    rules = [load_rule(spec) for spec in specs_of_type("rule")]
    return [rule for rule in rules if hasattr(rule.module, "add_to_string_set")]


# What one Panther invocation keeps in memory between rule() and the alert functions of the same
# event. Invocations do not share memory; the harness's workers are threads of one process, so
# each gets its own copy (else one worker's duplicate delivery would overwrite another's result).
PER_INVOCATION_STATE = {
    "ec2_compute_windows": ("_judged",),
    "ec2_compute_helpers": ("_last_read",),
    "ec2_launch_templates": ("_judged", "_completed"),
}
PER_INVOCATION_RULE_STATE = ("_verdicts", "_judged_stages")


class PerWorker(MutableMapping):
    """A module-level dict, one per worker thread."""

    def __init__(self):
        self._local = threading.local()

    @property
    def _data(self) -> dict:
        if not hasattr(self._local, "data"):
            self._local.data = {}
        return self._local.data

    def __getitem__(self, key):
        return self._data[key]

    def __setitem__(self, key, value):
        self._data[key] = value

    def __delitem__(self, key):
        del self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)


def _per_invocation_state(rules: list) -> list[tuple[object, str]]:
    places = [
        (sys.modules[name], attribute)
        for name, attributes in PER_INVOCATION_STATE.items()
        for attribute in attributes
        if name in sys.modules
    ]
    places += [
        (rule.module, attribute)
        for rule in rules
        for attribute in PER_INVOCATION_RULE_STATE
        if hasattr(rule.module, attribute)
    ]
    return places


@dataclass
class Outcome:
    alerts: set = field(default_factory=set)  # (rule ID, dedup string)
    errors: list = field(default_factory=list)  # (rule ID, event ID, function, error)
    switches: int = 0


def run(
    rules: list,
    deliveries: Sequence[Sequence[dict]],
    seed: int = 0,
    memory: InMemoryKVStore | None = None,
) -> Outcome:
    """Each worker runs every rule on its deliveries, in order, on one fresh store; KV calls
    interleave as the seeded scheduler decides. The store is the real caching code on moto's
    DynamoDB, or the in-memory model `memory`."""
    from panther_core.enriched_event import PantherEvent
    from panther_detection_helpers import caching

    outcome = Outcome()
    scheduler = Scheduler(random.Random(seed), len(deliveries))  # nosec B311: a test schedule
    local = threading.local()

    def gated(real: Callable) -> Callable:
        def call(*args, **kwargs):
            scheduler.park(local.worker, real.__name__)
            return real(*args, **kwargs)

        return call

    def work(worker: int, events: Sequence[dict]) -> None:
        local.worker = worker
        try:
            scheduler.park(worker)
            for event in events:
                for rule in rules:
                    result = rule.run(PantherEvent(event), {}, {}, batch_mode=False)
                    for name, error in function_errors(result).items():
                        outcome.errors.append(
                            (rule.detection_id, event.get("eventID"), name, repr(error))
                        )
                    if result.trigger_alert:
                        outcome.alerts.update(crossings(rule.detection_id, result))
        except Exception as error:  # the harness itself failed: a result, never a silent pass
            outcome.errors.append(("harness", None, "work", repr(error)))
        finally:
            scheduler.finish(worker)

    functions = memory.caching_functions() if memory else vars(caching)
    gates = {name: gated(functions[name]) for name in KV_FUNCTIONS}
    saved = [
        (rule.module, name, getattr(rule.module, name))
        for rule in rules
        for name in KV_FUNCTIONS
        if hasattr(rule.module, name)
    ]
    state = [(module, name, getattr(module, name)) for module, name in _per_invocation_state(rules)]
    with contextlib.nullcontext() if memory else moto_kv_table():
        for module, name, _ in saved:
            setattr(module, name, gates[name])
        for module, name, _ in state:
            setattr(module, name, PerWorker())
        saved += state
        try:
            threads = [
                threading.Thread(target=work, args=(worker, events), daemon=True)
                for worker, events in enumerate(deliveries)
            ]
            for thread in threads:
                thread.start()
            scheduler.drive()
            for thread in threads:
                thread.join()
        finally:
            for module, name, original in saved:
                setattr(module, name, original)
    outcome.switches = scheduler.switches
    return outcome


def crossings(rule_id: str, result) -> set:
    """(rule, dedup) of what an alert is about: its own dedup, or, where the rule lists several
    windows the event crossed together (one alert, one dedup), each window's dedup string."""
    try:
        crossed = json.loads(result.alert_context_output or "{}").get("windows_crossed")
        return {(rule_id, window["dedup"]) for window in crossed}
    except (TypeError, ValueError, AttributeError, KeyError):
        return {(rule_id, result.dedup_output)}


def deliver(events: Sequence[dict], workers: int, rng: random.Random) -> list[list[dict]]:
    """The events as CloudTrail and Panther deliver them: about one in ten twice, each moved up
    to a few places, dealt to workers mostly in turn (neighbouring events, often one principal's
    burst, are judged at the same time) and sometimes at random."""
    stream = [event for event in events for _ in range(2 if rng.random() < 0.1 else 1)]
    keyed = sorted(enumerate(stream), key=lambda item: item[0] + rng.uniform(-4, 4))
    shares: list[list[dict]] = [[] for _ in range(workers)]
    for position, (_, event) in enumerate(keyed):
        turn = position % workers if rng.random() < 0.8 else rng.randrange(workers)
        shares[turn].append(event)
    return shares


# --- Scenarios --------------------------------------------------------------------------------


def _at(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# Each principal's burst gets its own minute, so that neighbouring events share a principal and
# neighbouring workers judge them at once. Every other event of a windowed burst has a shadow: an
# older event of its principal just past the two windows kept, so that a worker pruning it while
# another adds often keeps the set's size unchanged (which must not hide either's entry). Shadows
# are small or in one region: they never cross by themselves.
@dataclass
class _Scenario:
    rng: random.Random
    start: int
    events: list = field(default_factory=list)
    starts: dict = field(default_factory=dict)

    def at(self, name: str) -> int:
        return self.starts.setdefault(name, self.start + 60 * len(self.starts))

    def launch(self, name, instance_type, count, epoch, account=factories.ACCOUNT_ID, **extra):
        self.events.append(
            factories.run_instances(
                instance_type,
                count,
                count,
                identity=factories.iam_user(name, account),
                event_time=_at(epoch),
                **extra,
            )
        )

    def quota_lookup(self, name: str, region: str, epoch: int) -> None:
        self.events.append(
            factories.api_call(
                "servicequotas.amazonaws.com",
                "GetServiceQuota",
                awsRegion=region,
                eventTime=_at(epoch),
                userIdentity=factories.iam_user(name),
                requestParameters={"serviceCode": "ec2", "quotaCode": "L-1216C47A"},
            )
        )

    def bursts(self, names_counts, window_seconds, make, shadow_make=None) -> None:
        """`make(name, i, epoch)` for each event of each burst; a shadow every other event."""
        for name, count in names_counts:
            for i in range(count):
                epoch = self.at(name) + 2 * i
                make(name, i, epoch)
                if i % 2 == 0:
                    (shadow_make or make)(name, 0, epoch - 2 * window_seconds - 5)


def scenario(rng: random.Random) -> list[dict]:
    """Events in which every stateful rule crosses its threshold by one or two events, beside
    counterparts that stay just below it, close together in time so that order matters."""
    factories.seed_ids(rng.randrange(1 << 20))
    s = _Scenario(rng, T0 + rng.randrange(0, 3600))
    # VCPUSurge: 9 x 96 vCPUs crosses 800; 8 x 96 does not.
    s.bursts(
        [("surge", 9), ("surge-2", 9), ("surge-3", 9), ("below-surge", 8)],
        8 * 3600,
        lambda name, i, t: s.launch(name, "c5.24xlarge", 1, t),
        lambda name, i, t: s.launch(name, "t3.micro", 1, t),
    )
    # Pairs that cross together (two launches of 5 x 96 vCPUs: VCPUSurge and HighInstanceCount).
    for pair in range(8):
        name = f"pair-{pair}"
        s.launch(name, "t3.micro", 1, s.at(name) - 16 * 3600 - 5)
        for i in range(2):
            s.launch(name, "c5.24xlarge", 5, s.at(name) + i)
    # HighInstanceCount: ten one-instance launches in ten subnets; nine.
    s.bursts(
        [("count", 10), ("count-2", 10), ("below-count", 9)],
        86400,
        lambda name, i, t: s.launch(name, "t3.micro", 1, t, subnet_id=f"subnet-{i:04x}"),
    )
    # RegionSpread: three regions within the hour; two.
    regions = ["us-east-1", "eu-west-1", "ap-south-1"]
    s.bursts(
        [("spread", 3), ("spread-2", 3), ("below-spread", 2)],
        3600,
        lambda name, i, t: s.launch(name, "t3.small", 1, t, region=regions[i]),
    )
    # QuotaProbe: ten regions in 30 seconds; nine.
    s.bursts(
        [("quota", 10), ("quota-2", 10), ("below-quota", 9)],
        30,
        lambda name, i, t: s.quota_lookup(name, factories.REGIONS[i], t),
    )
    _template_dry_run(s)
    _fresh_templates(s)
    _protections(s)
    _playbooks(s)
    _charge_back(s)
    return sorted(s.events, key=lambda event: event["eventTime"])


def _playbooks(s: _Scenario) -> None:
    """HijackPlaybook: a quota look-up, a quota increase request and a GPU dry run within
    seconds (three stages); a quota look-up and a quota increase (two)."""
    for name, stages in (("playbook", 3), ("playbook-2", 3), ("below-playbook", 2)):
        epoch = s.at(name)
        s.quota_lookup(name, "us-east-1", epoch)
        s.events.append(
            factories.api_call(
                "servicequotas.amazonaws.com",
                "RequestServiceQuotaIncrease",
                awsRegion="us-east-1",
                eventTime=_at(epoch + 1),
                userIdentity=factories.iam_user(name),
                requestParameters={
                    "serviceCode": "ec2",
                    "quotaCode": "L-417A185B",
                    "desiredValue": 384.0,
                },
            )
        )
        if stages == 3:
            s.launch(name, "p4d.24xlarge", 2, epoch + 2, error_code="Client.DryRunOperation")


def _template_dry_run(s: _Scenario) -> None:
    """DryRunProbe: a dry run naming a GPU launch template created days before."""
    template_id = f"lt-{s.rng.randrange(1 << 60):017x}"
    s.events.append(
        factories.create_launch_template(
            "p3.8xlarge",
            template_id,
            f"gpu-{template_id}",
            userIdentity=factories.iam_user("tpl"),
            eventTime=_at(s.start - 3 * 86400 - 60),
        )
    )
    s.launch(
        "dry-run",
        None,
        1,
        s.at("dry-run"),
        error_code="Client.DryRunOperation",
        launch_template={"launchTemplateId": template_id, "version": "$Default"},
    )


def _fresh_templates(s: _Scenario) -> None:
    """Templates created a second before their first use, so that the template's invocation and
    the launch's race (or arrive in the other order): an auto scaling group of 9 x 96 vCPUs
    (VCPUSurge), a GPU dry run (DryRunProbe) and a refused GPU launch (UnusualInstanceType),
    each naming the new template by ID, name or `$Latest`; beside a group of 8 (quiet)."""
    uses = (
        ("asg", "c5.24xlarge", 9),
        ("below-asg", "c5.24xlarge", 8),
        ("dry", "p3.8xlarge", 1),
        ("refused", "g5.12xlarge", 1),
    )
    for use, instance_type, count in uses:
        name = f"fresh-{use}"
        template_id = f"lt-{s.rng.randrange(1 << 60):017x}"
        epoch = s.at(name)
        who = factories.iam_user(name)
        s.events.append(
            factories.create_launch_template(
                instance_type, template_id, name, userIdentity=who, eventTime=_at(epoch)
            )
        )
        if use.endswith("asg"):
            group = factories.auto_scaling_group(
                desired=count,
                min_size=count,
                max_size=count,
                userIdentity=who,
                eventTime=_at(epoch + 1),
            )
            group["requestParameters"]["autoScalingGroupName"] = name
            group["requestParameters"]["launchTemplate"] = {
                "launchTemplateName": name,
                "version": "$Latest",
            }
            s.events.append(group)
            continue
        error = "Client.DryRunOperation" if use == "dry" else "Client.UnauthorizedOperation"
        template = {"launchTemplateId": template_id, "version": "$Default"}
        s.launch(name, None, count, epoch + 1, error_code=error, launch_template=template)


def _charge_back(s: _Scenario) -> None:
    """VCPUSurge by charge-back: a group listing a t3.micro decoy beside c5.24xlarge, whose
    auto scaling launches follow its creation by a second or two, so that the owner's call and
    the launches race: 9 launches (18 + 9 x 94 vCPUs) cross 800; 8 do not. (An accelerated
    type would also show UnusualInstanceType's known early alert: a launch judged before its
    owner's call names the service, at Medium, before the owner's alert.)"""
    for name, count in (("owner", 9), ("below-owner", 8)):
        epoch = s.at(name)
        group = factories.auto_scaling_group(
            desired=count,
            override_types=("t3.micro", "c5.24xlarge"),
            userIdentity=factories.iam_user(name),
            eventTime=_at(epoch),
        )
        group["requestParameters"]["autoScalingGroupName"] = name
        s.events.append(group)
        for i in range(count):
            s.events.append(
                factories.service_launch(
                    "c5.24xlarge",
                    1,
                    {"aws:autoscaling:groupName": name},
                    eventTime=_at(epoch + 1 + i // 4),
                )
            )


def _protections(s: _Scenario) -> None:
    """TerminationProtection: a GPU launch protected a second later by someone else; a burst
    protected by its launcher; a small launch protected (quiet)."""
    accounts = {"gpu": "210987654321", "burst": "310987654321", "quiet": "410987654321"}
    for name, instance_type, count in (
        ("gpu", "g5.12xlarge", 1),
        ("burst", "c5.large", 6),
        ("quiet", "t3.micro", 1),
    ):
        instance_id = f"i-{name}{s.rng.randrange(1 << 30):08x}"
        items = [factories.launched_item(instance_type, instance_id=instance_id)]
        items += [factories.launched_item(instance_type) for _ in range(count - 1)]
        epoch = s.at(name)
        s.launch(name, instance_type, count, epoch, accounts[name], launched=items)
        s.events.append(
            factories.api_call(
                "ec2.amazonaws.com",
                "ModifyInstanceAttribute",
                eventTime=_at(epoch + 1),
                userIdentity=factories.iam_user("ops" if name == "gpu" else name, accounts[name]),
                recipientAccountId=accounts[name],
                requestParameters={
                    "instanceId": instance_id,
                    "disableApiTermination": {"value": True},
                },
            )
        )


# --- Report -----------------------------------------------------------------------------------


@dataclass
class RunReport:
    seed: int
    workers: int
    reference: set  # what one worker raised, in event-time order
    missed: set
    extra: set
    errors: list
    switches: int


def check(seed: int, workers: int, rules: list | None = None) -> RunReport:
    rules = rules if rules is not None else stateful_rules()
    events = scenario(random.Random(seed))  # nosec B311: seeded test data, not secrets
    reference = run(rules, [events], seed, InMemoryKVStore())
    parallel = run(rules, deliver(events, workers, random.Random(seed)), seed)  # nosec B311
    return RunReport(
        seed,
        workers,
        reference.alerts,
        reference.alerts - parallel.alerts,
        parallel.alerts - reference.alerts,
        reference.errors + parallel.errors,
        parallel.switches,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m compute_abuse.parallel",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 4, 8])
    args = parser.parse_args(argv)
    rules = stateful_rules()
    totals = {"missed": 0, "extra": 0, "errors": 0}
    for workers in args.workers:
        for seed in range(args.seeds):
            report = check(seed, workers, rules)
            totals["missed"] += len(report.missed)
            totals["extra"] += len(report.extra)
            totals["errors"] += len(report.errors)
            if report.missed or report.extra or report.errors:
                print(
                    f"seed {seed} workers {workers}: missed {sorted(report.missed)} "
                    f"extra {sorted(report.extra)} errors {report.errors[:3]}"
                )
    print(
        f"{args.seeds} seeds x workers {args.workers}: missed crossings {totals['missed']}, "
        f"extra alerts {totals['extra']}, errors {totals['errors']}"
    )
    return 1 if any(totals.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
