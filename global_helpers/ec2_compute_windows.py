"""Event-time windows over the Panther KV store: the one windowing mechanism of every stateful rule.

A window key holds a DynamoDB string set of entries "eventID|epoch|amount|accelerators", one per
event. Adding a member to a string set is atomic and idempotent, so CloudTrail's duplicate
deliveries add nothing. Windows are computed from the entries' event times (`eventTime`), never
from the wall clock or from TTL expiry: Panther's KV store (DynamoDB) deletes expired items
lazily, up to 48 hours late, and replayed or late logs must give the same alerts as live ones.
TTLs only collect garbage. The rule module passes in the caching functions it imported by name,
so `pat` mocks and tests can replace them; whatever they return (a set, a list, the JSON string a
mock returns, junk) is parsed, and when the store fails the event is judged alone.

Why this is right when Panther runs many invocations at once on one store. Each DynamoDB call is
atomic; nothing else is assumed. An event reads its key (only to tell a duplicate delivery), then
adds its entry, and is judged on the set that add returned together with what it read. The adds
of all events are atomic, so they happen in one order, and the set each add returns holds every
entry added before it (less what pruning removed, which is older than two windows before the
newest entry: no event delivered less than a window late can share a window with it). Take the
first add after which some window reaches the threshold: that window holds the added event (it
did not reach it before), so the event's own judgement sees the window at or past the threshold
and, without the event, below it: a crossing. So every crossing a one-at-a-time run alerts on
also alerts under any interleaving, duplicates and reordering included. What can differ is
repeats: two deliveries of one event both added before either read it, or two events of one
distinct-window slot, may both judge the same crossing; both alerts carry one dedup string, which
Panther merges. Nothing is inferred from set sizes, and no state is kept across events beyond
`_judged` (one event's result, for its own alert functions).
"""

import json
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from hashlib import sha256
from itertools import accumulate
from operator import itemgetter
from typing import Any, NamedTuple

from ec2_compute_config import SEVERITY_STEP_MULTIPLES

DAY_SECONDS = 86400
MAX_EPOCH = 253402300799  # 9999-12-31T23:59:59Z
SEVERITIES = ("INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL")

# Entries kept per key. An entry is at most MAX_ENTRY_BYTES (IDs and labels are bounded below),
# so an item stays below 160 KB whatever the traffic, far below DynamoDB's 400 KB item limit
# (typical entries are about 60 bytes: 60 KB). An actor with more launches than this inside one
# window is past every threshold already.
MAX_ENTRIES = 1000
# Bytes of an entry's event ID and of its label; longer IDs are hashed, longer labels cut.
MAX_ID_BYTES = 64
MAX_LABEL_BYTES = 64
MAX_ENTRY_BYTES = MAX_ID_BYTES + MAX_LABEL_BYTES + 32  # "|" x4, epoch, amount, accelerators
# How many event IDs an alert lists.
MAX_LISTED_EVENT_IDS = 20
# Keys longer than this (ARNs, user agents) are hashed; DynamoDB allows 2048 bytes.
MAX_READABLE_KEY_LENGTH = 256
# Extra TTL past a window's end, so that an entry outlives any event that may still pair with it.
TTL_MARGIN_SECONDS = 3600

# The latest results, so a rule's alert functions (title, alert_context, ...) that Panther
# calls right after rule() on the same event can read it without touching the store again.
# Keyed by (key, entry): whatever else runs in between (in the same process) cannot replace it.
_judged: dict[tuple[str, "Entry"], "WindowResult"] = {}
_MAX_JUDGED = 256


class KVStore(NamedTuple):
    """The Panther caching functions a rule imported by name (`from panther_detection_helpers.
    caching import ...`), looked up when the rule runs so that mocks take effect."""

    get_string_set: Callable
    add_to_string_set: Callable
    remove_from_string_set: Callable


class Entry(NamedTuple):
    """One event of a window. Event time comes first, so entries sort by (epoch, event_id) as
    plain tuples."""

    epoch: int
    event_id: str
    amount: int
    accelerators: int = 0
    label: str = ""  # what distinct windows count (a region); never all digits, no "|"

    def encode(self) -> str:
        text = f"{self.event_id}|{self.epoch}|{self.amount}|{self.accelerators}"
        return f"{text}|{self.label}" if self.label else text


# Distinct windows keep one entry per label per 1/20th of the window: a busy actor's set stays
# small (at most 40 entries per label over the two windows kept), and event times move by at
# most 5% of the window.
DISTINCT_RESOLUTION = 20


def distinct_entry(label: str, epoch: int, window_seconds: int, accelerators: int = 0) -> Entry:
    """The entry of an event for a distinct window: its label at the start of its time slot.
    Events of one label in one slot share the entry (and duplicate deliveries with it)."""
    slot = max(window_seconds // DISTINCT_RESOLUTION, 1)
    label = entry_label(label)
    start = epoch - epoch % slot
    return Entry(start, f"{label}@{start}", 1, accelerators, label)


def entry_label(text: str) -> str:
    """A label safe to encode: no "|", never all digits (it would read as a number), at most
    MAX_LABEL_BYTES of UTF-8."""
    label = _cut(text.replace("|", "/"), MAX_LABEL_BYTES - len("label:"))
    return f"label:{label}" if label.isdigit() else label


def bounded(entry: Entry) -> Entry:
    """The entry as the store keeps it: ID and label bounded (idempotent)."""
    event_id, label = entry_id(entry.event_id), entry_label(entry.label) if entry.label else ""
    if event_id == entry.event_id and label == entry.label:
        return entry
    return entry._replace(event_id=event_id, label=label)


def store_error(error: Exception) -> str:
    """Why the KV store could not be used, as alert contexts report it (`degraded`)."""
    return f"kv store error: {type(error).__name__}: {error}"[:300]


def entry_id(text: str) -> str:
    """An ID (event ID, instance ID) as entries keep it: itself when short, else a hash of it,
    so that one hostile ID cannot make an item too large. Look-ups by ID go through it too."""
    if len(text) <= MAX_ID_BYTES // 4 or len(text.encode("utf-8", "replace")) <= MAX_ID_BYTES:
        return text
    return "sha256:" + sha256(text.encode("utf-8", "replace")).hexdigest()[:40]


def _cut(text: str, limit: int) -> str:
    """`text` cut to at most `limit` bytes of UTF-8, on a character boundary."""
    if len(text) <= limit // 4:
        return text
    return text.encode("utf-8", "replace")[:limit].decode("utf-8", "ignore")


class WindowResult(NamedTuple):
    crossed: bool  # this event took a window to `min_total` or beyond
    total: int  # amount in the fullest window that holds this event
    accelerators: int  # accelerators in that window
    window_start: int  # epoch seconds of the window's first entry
    window_end: int  # epoch seconds of the window's last entry
    event_count: int  # entries in that window
    event_ids: tuple  # their event IDs, oldest first, capped
    duplicate: bool  # the event had been recorded already
    degraded: str  # why the window could not be used ("" when it could)
    labels: tuple = ()  # distinct windows: the labels in the window (e.g. regions)
    breakdown: tuple = ()  # summed windows of labelled entries: (label, amount), largest first
    firsts: tuple = ()  # distinct windows: each label's first entry in the window, oldest first


def window_key(prefix: str, *parts: Any) -> str:
    """A KV key for a group; long groups are hashed so the key stays short and valid."""
    readable = ":".join(str(part) for part in parts)
    if len(readable) > MAX_READABLE_KEY_LENGTH:
        readable = sha256(readable.encode("utf-8", "replace")).hexdigest()
    return f"ec2-compute-abuse:{prefix}:{readable}"


def decode_entry(text: Any) -> Entry | None:
    if not isinstance(text, str):
        return None
    return _decode(text)


@lru_cache(maxsize=1 << 16)  # a set is re-read on every event of its key: decode each member once
def _decode(text: Any) -> Entry | None:
    if not isinstance(text, str):
        return None
    parts, label = text.rsplit("|", 3), ""
    if len(parts) == 4 and not parts[3].isdigit():  # "id|epoch|amount|accelerators|label"
        parts = text.rsplit("|", 4)
        label = parts.pop() if len(parts) == 5 else ""
    if len(parts) != 4:
        return None
    try:
        epoch, amount, accelerators = (int(part) for part in parts[1:])
    except ValueError:
        return None
    if amount < 0 or accelerators < 0 or not 0 <= epoch <= MAX_EPOCH:
        return None
    return Entry(epoch, parts[0], amount, accelerators, label)


def parse_entries(value: Any) -> dict[str, Entry]:
    """Entries by event ID from what the store returned: a set or list of strings, or the string
    a mock returns (a JSON list, or entries separated by commas). Junk members are skipped."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = json.loads(text) if text.startswith("[") else text.split(",")
        except ValueError:
            value = text.strip("[]").split(",")
        value = [m.strip().strip('"') if isinstance(m, str) else m for m in value]
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        return {}
    # A set (what the store returns on every event of a key) holds only hashable members, so
    # each member's decoding comes from the cache; a list may hold anything.
    decode = _decode if isinstance(value, (set, frozenset)) else decode_entry
    entries = list(filter(None, map(decode, value)))
    return dict(zip(map(_EVENT_ID, entries), entries, strict=True))


# Field readers that run in C, for the loops over a window's entries.
_EPOCH, _EVENT_ID, _AMOUNT, _ACCELERATORS = (itemgetter(i) for i in range(4))


class Span(NamedTuple):
    first: int  # index of the window's first entry
    end: int  # index past its last
    distinct: int  # distinct labels in it


class _Timeline:
    """Entries in event-time order with running sums: a window's total is two bisections."""

    def __init__(self, entries: Iterable[Entry]):
        self.entries = sorted(entries)
        self.epochs = list(map(_EPOCH, self.entries))
        self.running = [0, *accumulate(map(_AMOUNT, self.entries))]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Indices of the entries in [start, end)."""
        return bisect_left(self.epochs, start), bisect_left(self.epochs, end)

    def fullest_sliding(self, epoch: int, width: int) -> tuple[int, int]:
        """Indices of the fullest window [start, start + width) that holds `epoch`. Only windows
        that start at `epoch - width + 1` or at an entry up to `epoch` can be fullest."""
        epochs, running = self.epochs, self.running
        first, last = self.span(epoch - width + 1, epoch + 1)
        if last == len(epochs) or epochs[last] >= epoch + width:
            return first, last  # nothing later shares a window with it: the earliest is fullest
        best_total, best = running[last] - running[first], (first, last)
        end = last
        for index in range(first, bisect_right(epochs, epoch)):
            end = bisect_left(epochs, epochs[index] + width, end)
            if running[end] - running[index] > best_total:
                best_total, best = running[end] - running[index], (index, end)
        return best

    def fullest_distinct(self, epoch: int, width: int) -> Span:
        """The window [start, start + width) holding `epoch` with the most distinct labels: its
        entries (first, end) and labels. Windows starting at an entry within reach dominate."""
        entries, epochs = self.entries, self.epochs
        first = bisect_left(epochs, epoch - width + 1)
        stop = bisect_right(epochs, epoch)
        best, end = Span(first, first, 0), first
        counts: dict[str, int] = {}  # entries per label in [entries[index], entries[end])
        for index in range(first, stop):
            while end < len(entries) and epochs[end] < epochs[index] + width:
                label = entries[end].label
                counts[label] = counts.get(label, 0) + 1
                end += 1
            if len(counts) > best.distinct and (
                index == first or epochs[index] != epochs[index - 1]
            ):
                best = Span(index, end, len(counts))
            label = entries[index].label
            if counts[label] == 1:
                del counts[label]
            else:
                counts[label] -= 1
        return best


def _evaluate(timeline, span, own, min_total, duplicate, degraded) -> WindowResult:
    """Crossed when the fullest window holding the event reaches `min_total` with it and did not
    without it: one alert when an actor starts surging, not one per window that slides past."""
    first, last = span
    inside = timeline.entries[first:last] or [own]
    total = timeline.running[last] - timeline.running[first] if last > first else own.amount
    # Every candidate window holds the event, so without it each is `own.amount` lighter.
    crossed = not duplicate and total >= min_total > total - own.amount
    return _result(inside, total, crossed, duplicate, degraded)


def _result(inside, total, crossed, duplicate, degraded, labels=()) -> WindowResult:
    """The result for the entries of the chosen window, in event-time order."""
    breakdown: dict[str, int] = {}
    if not labels:
        for entry in inside:
            if entry.label:
                breakdown[entry.label] = breakdown.get(entry.label, 0) + entry.amount
    return WindowResult(
        crossed=crossed,
        total=total,
        accelerators=sum(map(_ACCELERATORS, inside)),
        window_start=inside[0].epoch,
        window_end=inside[-1].epoch,
        event_count=len(inside),
        event_ids=tuple(map(_EVENT_ID, inside[:MAX_LISTED_EVENT_IDS])),
        duplicate=duplicate,
        degraded=degraded,
        labels=labels,
        breakdown=tuple(sorted(breakdown.items(), key=lambda item: (-item[1], item[0]))),
    )


def _nearest_per_label(entries: Iterable[Entry], epoch: int, width: int) -> list[Entry]:
    """Per label, its latest entry at or before `epoch` and its earliest after, within reach. A
    window holding `epoch` holds a label if and only if it holds one of these two, so distinct
    counts over such windows are unchanged, and a busy actor's window stays small."""
    before: dict[str, Entry] = {}
    after: dict[str, Entry] = {}
    for entry in entries:
        if epoch - width < entry.epoch <= epoch:
            kept = before.get(entry.label)
            if kept is None or entry > kept:
                before[entry.label] = entry
        elif epoch < entry.epoch < epoch + width:
            kept = after.get(entry.label)
            if kept is None or entry < kept:
                after[entry.label] = entry
    return [*before.values(), *after.values()]


def _evaluate_distinct(entries, own, min_total, width, duplicate) -> WindowResult:
    """Distinct labels: crossed when the event's label takes the fullest window to `min_total`."""
    timeline = _Timeline(_nearest_per_label(entries.values(), own.epoch, width))
    first, last, count = timeline.fullest_distinct(own.epoch, width)
    crossed = not duplicate and count >= min_total
    if crossed:  # and did the window reach it without this event?
        others = (entry for key, entry in entries.items() if key != own.event_id)
        nearest = _Timeline(_nearest_per_label(others, own.epoch, width))
        crossed = nearest.fullest_distinct(own.epoch, width).distinct < min_total
    inside = timeline.entries[first:last] or [own]
    labels = tuple(sorted({entry.label for entry in inside}))
    end = inside[-1].epoch
    firsts: dict[str, Entry] = {}
    for entry in entries.values():  # each label's earliest entry within a window of the end
        if entry.label in labels and end - width < entry.epoch <= end:
            kept = firsts.get(entry.label)
            if kept is None or entry < kept:
                firsts[entry.label] = entry
    result = _result(inside, count, crossed, duplicate, "", labels)
    return result._replace(firsts=tuple(sorted(firsts.values())))


def window_for(
    key: str,
    own: Entry,
    min_total: int,
    window_seconds: int,
    store: KVStore | None,
    *,
    has_event_time: bool = True,
    bucket: tuple[int, int] | None = None,
    distinct: bool = False,
) -> WindowResult:
    """A rule's one call into its window. rule() passes the `store` it built from the caching
    functions it imported (so mocks apply) and records the event; the alert functions pass None
    and read what rule() recorded. An event without a usable event time is judged alone."""
    if not has_event_time:
        return evaluate_alone(own, min_total, "no usable eventTime: judged alone")
    if store is None:
        return judged_result(key, own, min_total)
    return record(store, key, own, min_total, window_seconds, bucket, distinct)


class Window(NamedTuple):
    """One of the windows a rule counts an event in: the principal's, a source IP's, an
    account's, each over its own span and with its own threshold and dedup string."""

    group: str  # whose events it sums: "principal", "source IP 203.0.113.9", "account 1111..."
    span: str  # "8 hours", "UTC day 2024-08-01"
    key: str
    seconds: int
    threshold: int
    dedup: str
    above: bool = False  # alert above the threshold (vCPUs), not at it (instances)
    bucket: tuple[int, int] | None = None  # a fixed span (a UTC day) instead of a sliding one

    @property
    def name(self) -> str:
        """What the alert says crossed."""
        return f"{self.group}, {self.span}"

    @property
    def labelled(self) -> bool:
        """Windows of several principals label entries with the principal, so the alert lists
        the principals in the window."""
        return self.group != "principal"

    @property
    def min_total(self) -> int:
        return self.threshold + 1 if self.above else self.threshold


def shared_windows(
    prefix: str,
    address: str,
    account: str,
    span: str,
    seconds: int,
    thresholds: tuple[int, int],
    *,
    day: str = "",
    above: bool = False,
    bucket: tuple[int, int] | None = None,
) -> list[Window]:
    """The windows beside a principal's that several principals share: its source IP's (across
    principals and accounts; "" for AWS service addresses and the console: no window) and its
    account's, with `thresholds` (IP, account). Keys `<prefix>-ip` / `<prefix>-account`, dedup
    strings "source-ip:<ip>" / "account:<id>", each ending ":<day>" for day buckets."""
    suffix = (day,) if day else ()
    groups = (
        ("source IP", "ip", address, thresholds[0]),
        ("account", "account", account, thresholds[1]),
    )
    return [
        Window(
            f"{group} {value}",
            span,
            window_key(f"{prefix}-{kind}", value, *suffix),
            seconds,
            threshold,
            shared_dedup(group, value, *suffix),
            above=above,
            bucket=bucket,
        )
        for group, kind, value, threshold in groups
        if value
    ]


SHARED_DEDUP_PREFIXES = {"source IP": "source-ip", "account": "account"}


def shared_dedup(group: str, value: str, *suffix: str) -> str:
    """The dedup string of a shared window ("source IP" or "account" `group`), for the streaming
    rules and the data-lake rules that report the same windows."""
    return ":".join((SHARED_DEDUP_PREFIXES.get(group, group), value, *suffix))


def judge_windows(
    windows: Iterable[Window], own: Entry, who: str, store: KVStore | None, has_event_time: bool
) -> list[tuple[Window, WindowResult]]:
    """(window, result) for each window of an event: `window_for` on each, the entry labelled
    with `who` (the principal) in the labelled windows.

    A window of several principals (a source IP's, an account's) that crosses holding one
    principal only is not a crossing: that principal's own window, with its lower threshold and
    the same span, has alerted already, and one miner would otherwise raise three alerts. Likewise
    a principal's longer window (24 hours, 7 days) that crosses while one of its shorter ones
    (listed before it) is past its own threshold: the shorter window's alert tells that story."""
    labelled = own._replace(label=entry_label(who))
    results: list[tuple[Window, WindowResult]] = []
    for window in windows:
        result = window_for(
            window.key,
            labelled if window.labelled else own,
            window.min_total,
            window.seconds,
            store,
            has_event_time=has_event_time,
            bucket=window.bucket,
        )
        told = (
            len(result.breakdown) < 2
            if window.labelled
            else any(r.total >= w.min_total for w, r in results if not w.labelled)
        )
        if result.crossed and told:
            result = result._replace(crossed=False)
        results.append((window, result))
    return results


class Crossing(NamedTuple):
    window: Window
    result: WindowResult


def crossing(results: list[tuple[Window, WindowResult]]) -> Crossing:
    """The window an alert is about: the first that crossed, else the first (the principal's)."""
    return Crossing(*next(((w, r) for w, r in results if r.crossed), results[0]))


def windows_alert_context(results: list[tuple[Window, WindowResult]], amount: str) -> dict:
    """What an alert of several windows says: the crossing window's details, every window's
    total, every window the event took past its threshold (one event raises one alert, under the
    first one's dedup, so a window crossed together with another is listed here) and, for a
    window of several principals, the principals in it with their `amount` ("vcpus")."""
    window, result = crossing(results)
    return {
        **window_alert_context(result),
        "window": window.name,
        "threshold": window.threshold,
        "window_seconds": window.seconds,
        "window_totals": {w.name: r.total for w, r in results},
        "windows_crossed": [
            {"window": w.name, "dedup": w.dedup, "total": r.total, "threshold": w.threshold}
            for w, r in results
            if r.crossed
        ],
        **(
            {"window_principals": [{"principal": p, amount: n} for p, n in result.breakdown]}
            if window.labelled
            else {}
        ),
    }


def principals_label(window: Window, result: WindowResult, who: str) -> str:
    """Who an alert names: the principal, or for a window of several the principals in it."""
    if not window.labelled:
        return who
    return principals_named([label for label, _ in result.breakdown])


def principals_named(names: Sequence) -> str:
    """Several principals as an alert title names them: how many, and the first five."""
    shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
    return f"{len(names)} principal(s) [{shown}]"


def window_named(kind: str, group: str, principals: Sequence) -> str:
    """Who a data-lake row of a window names: the principal, or the address or account with the
    principals in its window."""
    if kind == "principal":
        return group
    return f"{kind} {group} ({principals_named(principals)})"


def evaluate_alone(own: Entry, min_total: int, degraded: str) -> WindowResult:
    """Judge an event by itself (no usable event time, or the store failed): one call over the
    threshold still alerts."""
    return _evaluate(_Timeline([own]), (0, 1), own, min_total, False, degraded)


def record(
    store: KVStore,
    key: str,
    own: Entry,
    min_total: int,
    window_seconds: int,
    bucket: tuple[int, int] | None = None,
    distinct: bool = False,
) -> WindowResult:
    """Record one event's entry under `key` and say whether it took a window's total to
    `min_total` or beyond (a crossing, so one alert per window, not one per later event).

    Without `bucket` the window slides: any `window_seconds` span of event time that holds the
    event. With `bucket` = (start, end) the window is that fixed span (e.g. a UTC day). With
    `distinct`, a window's total is the number of distinct entry labels in it (e.g. regions).
    Entries older than two windows before the newest are pruned, so state stays bounded.
    """
    own = bounded(own)
    ttl_seconds = (bucket[1] - bucket[0] if bucket else 2 * window_seconds) + TTL_MARGIN_SECONDS
    try:
        entries, timeline, duplicate = _store_entry(
            store, key, own, min_total, window_seconds, bucket, ttl_seconds
        )
    except Exception as error:  # any store failure degrades the rule; it must never raise
        result = evaluate_alone(own, min_total, store_error(error))
    else:
        stored = entries.get(own.event_id, own)
        if distinct:
            result = _evaluate_distinct(entries, stored, min_total, window_seconds, duplicate)
        else:
            span = (
                timeline.span(*bucket)
                if bucket
                else timeline.fullest_sliding(stored.epoch, window_seconds)
            )
            result = _evaluate(timeline, span, stored, min_total, duplicate, "")
    if len(_judged) >= _MAX_JUDGED:
        del _judged[next(iter(_judged))]  # the oldest
    _judged[(key, own)] = result
    return result


def _store_entry(
    store: KVStore,
    key: str,
    own: Entry,
    min_total: int,
    window_seconds: int,
    bucket: tuple[int, int] | None,
    ttl_seconds: int,
) -> tuple[dict[str, Entry], _Timeline, bool]:
    """Read the key, add the event's entry, prune: (entries by ID, their timeline, whether the
    event was there already). The event is judged on what the atomic add returned (with what
    was read before it), never on what the read alone showed: see the module docstring."""
    entries = parse_entries(store.get_string_set(key))
    duplicate = own.event_id in entries
    if not duplicate and not (bucket and _bucket_total(entries, bucket) >= min_total):
        # A fixed window that crossed already never alerts again: its later events need not be
        # stored (fewer writes, a set that stops growing), only counted.
        entries.update(parse_entries(store.add_to_string_set(key, own.encode(), ttl_seconds)))
    entries.setdefault(own.event_id, own)
    timeline = _Timeline(entries.values())
    _prune(store, key, timeline, 2 * window_seconds, ttl_seconds)
    return entries, timeline, duplicate


def _bucket_total(entries: dict, bucket: tuple[int, int]) -> int:
    return sum(entry.amount for entry in entries.values() if bucket[0] <= entry.epoch < bucket[1])


def judged_result(key: str, own: Entry, min_total: int) -> WindowResult:
    """The result `record` gave for this entry under this key, for the alert functions Panther
    calls after rule() (title, severity, alert_context, ...). They never write to the store: an
    event rule() did not record (it did not match) is judged alone."""
    result = _judged.get((key, bounded(own)))
    if result is not None:
        return result
    return evaluate_alone(own, min_total, "not recorded: rule() did not count this event")


def _prune(
    store: KVStore, key: str, timeline: _Timeline, keep_seconds: int, ttl_seconds: int
) -> None:
    """Drop entries older than `keep_seconds` before the newest (too old to share a window with
    any event still to come), and the oldest past MAX_ENTRIES. The TTL is passed again:
    caching's default would push expiry out to 90 days."""
    epochs = timeline.epochs
    if not epochs:
        return
    stale = bisect_left(epochs, epochs[-1] - keep_seconds)
    dropped = max(stale, len(epochs) - MAX_ENTRIES)  # the oldest go first
    removed = [entry.encode() for entry in timeline.entries[:dropped]]
    if removed:
        store.remove_from_string_set(key, removed, ttl_seconds)


def remember(store: KVStore, key: str, entries: Iterable[Entry], keep_seconds: int) -> str:
    """Add entries to a key's set for later look-ups (idempotent), and prune what the add
    returned to entries of the last `keep_seconds` before the newest, at most MAX_ENTRIES; "" or
    why it failed."""
    members = [bounded(entry).encode() for entry in entries]
    if not members:
        return ""
    ttl_seconds = keep_seconds + TTL_MARGIN_SECONDS
    try:
        stored = parse_entries(store.add_to_string_set(key, members, ttl_seconds))
        _prune(store, key, _Timeline(stored.values()), keep_seconds, ttl_seconds)
    except Exception as error:  # a failed write degrades the rule; it must never raise
        return store_error(error)
    return ""


def remembered(store: KVStore, key: str) -> tuple[dict[str, Entry], str]:
    """(entries by ID under a key, "" or why they could not be read). Look IDs up through
    `entry_id`: long ones are kept hashed."""
    try:
        return parse_entries(store.get_string_set(key)), ""
    except Exception as error:  # a failed read degrades the rule; it must never raise
        return {}, store_error(error)


def utc_day(epoch: int) -> tuple[str, int, int]:
    """("2024-08-01", start, end) of the UTC day holding an epoch second."""
    return _utc_day(epoch - epoch % DAY_SECONDS)


@lru_cache(maxsize=64)  # the days of a stream's events are few
def _utc_day(start: int) -> tuple[str, int, int]:
    return datetime.fromtimestamp(start, tz=UTC).strftime("%Y-%m-%d"), start, start + DAY_SECONDS


def iso_time(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def window_severity(base: str, total: int, threshold: int, accelerators: int) -> str:
    """`base`, one step up at each configured multiple of the threshold the total reaches, and
    one more when the window holds accelerators."""
    level = SEVERITIES.index(base)
    level += sum(1 for multiple in SEVERITY_STEP_MULTIPLES if total >= multiple * threshold)
    level += 1 if accelerators > 0 else 0
    return SEVERITIES[min(level, len(SEVERITIES) - 1)]


def window_alert_context(result: WindowResult) -> dict:
    """What a windowed alert says about its window."""
    return {
        "window_total": result.total,
        "window_accelerator_count": result.accelerators,
        "window_event_count": result.event_count,
        "window_first_event_time": iso_time(result.window_start),
        "window_last_event_time": iso_time(result.window_end),
        "window_event_ids": list(result.event_ids),
        "duplicate_delivery": result.duplicate,
        "degraded": result.degraded,
        **({"window_labels": list(result.labels)} if result.labels else {}),
    }
