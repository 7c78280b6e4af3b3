"""The shared event-time window mechanism, on its own."""

import ec2_compute_windows as windows
import pytest

from compute_abuse.kvstore import InMemoryKVStore

DAY0 = 1722470400  # 2024-08-01T00:00:00Z


def store_of(memory):
    functions = memory.caching_functions()
    return windows.KVStore(
        functions["get_string_set"],
        functions["add_to_string_set"],
        functions["remove_from_string_set"],
    )


@pytest.mark.parametrize(
    "value, expected",
    [
        ({"a|1|2|0", "b|3|4|1"}, {"a": (1, 2, 0), "b": (3, 4, 1)}),
        ('["a|1|2|0", "b|3|4|1"]', {"a": (1, 2, 0), "b": (3, 4, 1)}),
        ("a|1|2|0,b|3|4|1", {"a": (1, 2, 0), "b": (3, 4, 1)}),
        ("", {}),
        (True, {}),
        (None, {}),
        ({"a": 1}, {}),
        (["junk", "a|x|2|0", "a|1|-2|0", "a|99999999999999|1|0", 5, None], {}),
        (["id|with|pipes|1|2|0"], {"id|with|pipes": (1, 2, 0)}),
        ("[broken json", {}),
        # the edges of what is kept: epoch 0 and the last second of year 9999, none, nothing
        (
            ["a|0|0|0", f"b|{windows.MAX_EPOCH}|1|0"],
            {"a": (0, 0, 0), "b": (windows.MAX_EPOCH, 1, 0)},
        ),
        ([f"c|{windows.MAX_EPOCH + 1}|1|0", "d|-1|1|0", "e|1|1|-1"], {}),
    ],
)
def test_parse_entries(value, expected):
    parsed = windows.parse_entries(value)
    assert {key: (e.epoch, e.amount, e.accelerators) for key, e in parsed.items()} == expected


def test_window_key_hashes_long_groups():
    short = windows.window_key("vcpu-surge", "1.2.3.4", "alice")
    long = windows.window_key("vcpu-surge", "x" * 5000)
    assert short == "ec2-compute-abuse:vcpu-surge:1.2.3.4:alice"
    assert len(long) < 120 and long != windows.window_key("vcpu-surge", "y" * 5000)


def test_utc_day():
    assert windows.utc_day(DAY0 + 86399) == ("2024-08-01", DAY0, DAY0 + 86400)
    assert windows.utc_day(DAY0 + 86400)[0] == "2024-08-02"


@pytest.mark.parametrize(
    "base, total, accelerators, expected",
    [
        ("MEDIUM", 801, 0, "MEDIUM"),
        ("MEDIUM", 1600, 0, "HIGH"),
        ("MEDIUM", 4000, 0, "CRITICAL"),
        ("MEDIUM", 801, 8, "HIGH"),
        ("MEDIUM", 4000, 8, "CRITICAL"),
        ("LOW", 10, 0, "LOW"),
        ("LOW", 10, 10, "MEDIUM"),
    ],
)
def test_window_severity(base, total, accelerators, expected):
    assert (
        windows.window_severity(base, total, 800 if base == "MEDIUM" else 10, accelerators)
        == expected
    )


def test_sliding_window_edges_are_half_open():
    store = store_of(InMemoryKVStore(clock=lambda: DAY0))
    hour = 3600
    first = windows.record(store, "k", windows.Entry(DAY0, "a", 5), 10, 8 * hour)
    assert not first.crossed and first.total == 5
    edge = windows.record(store, "k", windows.Entry(DAY0 + 8 * hour, "b", 5), 10, 8 * hour)
    assert not edge.crossed and edge.total == 5  # 8 h apart: not in one window
    # 1 s before the 8-hour mark: shares a window with a (and another with b), never both.
    inside = windows.record(store, "k", windows.Entry(DAY0 + 8 * hour - 1, "c", 5), 10, 8 * hour)
    assert inside.crossed and inside.total == 10 and inside.event_ids == ("a", "c")


def test_entries_are_capped_oldest_first(monkeypatch):
    monkeypatch.setattr(windows, "MAX_ENTRIES", 5)
    memory = InMemoryKVStore(clock=lambda: DAY0)
    store = store_of(memory)
    for i in range(12):
        windows.record(store, "k", windows.Entry(DAY0 + i, f"e{i:02}", 1), 100, 3600)
    (item,) = memory.items.values()
    # the newest entry is added before pruning, so the store holds at most MAX_ENTRIES + 1
    assert sorted(item.members)[0] >= "e06" and len(item.members) <= 6


def test_recall_without_record_judges_alone_and_never_touches_the_store():
    memory = InMemoryKVStore()
    result = windows.judged_result("never-recorded", windows.Entry(DAY0, "z", 900), 801)
    assert result.crossed and result.degraded.startswith("not recorded")
    assert memory.calls == 0


class _Interleaved:
    """A store where other invocations act between this event's read and its add: one adds
    entries, another prunes as many, so the set's size is what this event's read plus its own
    entry would give."""

    def __init__(self, memory, others, pruned):
        self.memory, self.others, self.pruned = memory, others, pruned

    def store(self):
        def get(key, force_ttl_check=False):
            members = self.memory.get_string_set(key, force_ttl_check)
            self.memory.add_to_string_set(key, [entry.encode() for entry in self.others])
            self.memory.remove_from_string_set(key, [entry.encode() for entry in self.pruned])
            return members

        functions = self.memory.caching_functions()
        return windows.KVStore(
            get, functions["add_to_string_set"], functions["remove_from_string_set"]
        )


@pytest.mark.parametrize("mode", ["sliding", "bucket", "distinct"])
def test_an_event_is_judged_on_what_its_add_returned_not_on_its_read(mode):
    """Judged on its read alone (or on "the set grew by one, so nobody else wrote"), the event
    would see its window below the threshold and the crossing would be lost."""
    memory = InMemoryKVStore(clock=lambda: DAY0 + 7200)
    if mode == "distinct":
        old = windows.distinct_entry("ap-south-1", DAY0 - 86400, 3600)
        first = windows.distinct_entry("sa-east-1", DAY0, 3600)
        others = [windows.distinct_entry("eu-west-1", DAY0 + 60, 3600)]
        own = windows.distinct_entry("us-east-1", DAY0 + 120, 3600)
        threshold, options = 3, {"distinct": True}
    else:
        old = windows.Entry(DAY0 - 86400, "old", 1)
        first = windows.Entry(DAY0, "first", 400)
        others = [windows.Entry(DAY0 + 60, "other", 400)]
        own = windows.Entry(DAY0 + 120, "own", 100)
        threshold = 801
        options = {"bucket": (DAY0, DAY0 + 86400)} if mode == "bucket" else {}
    memory.add_to_string_set("k", [old.encode(), first.encode()])
    store = _Interleaved(memory, others, [old]).store()
    result = windows.record(store, "k", own, threshold, 3600, **options)
    assert result.crossed and not result.duplicate
    assert result.total == (3 if mode == "distinct" else 900)


def test_a_group_key_stays_readable_up_to_its_limit_and_is_hashed_beyond():
    """Found by `make mutants` (line `len(readable) > MAX_READABLE_KEY_LENGTH`): the edge itself."""
    limit = windows.MAX_READABLE_KEY_LENGTH
    assert windows.window_key("p", "a" * limit) == "ec2-compute-abuse:p:" + "a" * limit
    hashed = windows.window_key("p", "a" * (limit + 1))
    assert hashed.startswith("ec2-compute-abuse:p:") and "a" * 8 not in hashed
    assert len(hashed) == len("ec2-compute-abuse:p:") + 64


def test_an_id_is_kept_as_itself_up_to_its_byte_limit_and_hashed_beyond():
    """Found by `make mutants` (`len(text.encode()) <= MAX_ID_BYTES`): the byte edge itself, with
    two-byte characters so that the character count alone does not decide."""
    at_limit = "é" * (windows.MAX_ID_BYTES // 2)
    assert windows.entry_id(at_limit) == at_limit
    assert windows.entry_id(at_limit + "a").startswith("sha256:")


def record_distinct(labels_at, width=3600, min_total=3):
    """Each (label, epoch) recorded in turn in one distinct window of `width` seconds."""
    store = store_of(InMemoryKVStore(clock=lambda: DAY0))
    return [
        windows.record(
            store, "k", windows.distinct_entry(label, at, width), min_total, width, distinct=True
        )
        for label, at in labels_at
    ]


def test_a_region_that_left_a_distinct_window_is_not_counted_in_a_later_one():
    """Delivered late, us-east-1 falls between eu-west-1 and sa-east-1, an hour apart: each
    window holding it sees two regions, never three (a label whose last entry left the window
    must leave the count too)."""
    hour = 3600
    results = record_distinct(
        [("eu-west-1", DAY0), ("sa-east-1", DAY0 + hour), ("us-east-1", DAY0 + hour // 2)]
    )
    assert [result.total for result in results] == [1, 1, 2]
    assert not results[-1].crossed


def test_a_late_label_that_completes_a_window_starting_at_itself_crosses():
    """us-east-1, delivered last, is 50 minutes after eu-west-1 and just before sa-east-1 and
    ap-south-1: the window starting at eu-west-1 holds two regions, the one starting at
    us-east-1 itself holds three (every distinct start within reach is a candidate)."""
    results = record_distinct(
        [
            ("sa-east-1", DAY0 + 4000),
            ("ap-south-1", DAY0 + 4500),
            ("eu-west-1", DAY0),
            ("us-east-1", DAY0 + 3000),
        ]
    )
    assert [result.crossed for result in results] == [False, False, False, True]
    assert results[-1].total == 3


def test_a_title_lists_five_principals_without_an_ellipsis():
    names = ["ana", "ben", "cy", "dee", "eve", "fay"]
    assert windows.principals_named(names[:5]) == "5 principal(s) [ana, ben, cy, dee, eve]"
    assert windows.principals_named(names) == "6 principal(s) [ana, ben, cy, dee, eve, ...]"


def test_a_distinct_windows_firsts_are_each_labels_earliest_entry_inside_it():
    """The stages HijackPlaybook tells (firsts): a label seen exactly one window before the
    end and again later is told at its later entry, the one inside the half-open window."""
    hour = 3600
    results = record_distinct(
        [
            ("eu-west-1", DAY0),
            ("eu-west-1", DAY0 + 540),  # slot-aligned, as distinct entries are
            ("us-east-1", DAY0 + hour),
            ("sa-east-1", DAY0 + hour),
        ]
    )
    firsts = {entry.label: entry.epoch for entry in results[-1].firsts}
    assert firsts == {
        "eu-west-1": DAY0 + 540,
        "us-east-1": DAY0 + hour,
        "sa-east-1": DAY0 + hour,
    }


def test_a_distinct_window_is_half_open_too():
    """A region seen exactly one window before is not in the window of the third region; one
    slot later it is. (`make mutants` flips `epoch - width < entry.epoch` in _nearest_per_label:
    an equivalent mutant, the windows judged after it are half-open whatever it keeps.)"""
    hour = 3600
    for first_at, crossed in ((DAY0, False), (DAY0 + hour // 6, True)):
        results = record_distinct(
            [
                ("eu-west-1", first_at),
                ("us-east-1", DAY0 + hour),
                ("sa-east-1", DAY0 + hour),
            ]
        )
        assert results[-1].crossed is crossed and results[-1].total == (3 if crossed else 2)
