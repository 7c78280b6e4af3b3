"""The shared event-time window mechanism, on its own."""

import ec2_compute_windows as windows
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    assert windows.window_severity(base, total, 800 if base == "MEDIUM" else 10,
                                   accelerators) == expected  # fmt: skip


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
    result = windows.recall("never-recorded", windows.Entry(DAY0, "z", 900), 801)
    assert result.crossed and result.degraded.startswith("not recorded")
    assert memory.calls == 0


# One step of a key's life: an event (ID from a small pool, so duplicates happen; times out of
# order, so late events happen), or a member another writer (a concurrent Lambda) or junk adds.
steps = st.lists(
    st.one_of(
        st.tuples(st.just("event"), st.integers(0, 30), st.integers(0, 4 * 3600),
                  st.integers(0, 400), st.sampled_from(["us-east-1", "eu-west-1", "sa-east-1"])),
        st.tuples(st.just("foreign"), st.integers(100, 110), st.integers(0, 4 * 3600),
                  st.integers(0, 400), st.just("")),
        st.tuples(st.just("junk"), st.integers(0, 3), st.just(0), st.just(0), st.just("")),
    ),
    max_size=60,
)  # fmt: skip


def _replay_steps(steps, mode, forget):
    """Results and final set of a key after the steps; `forget` reads the set in full every time."""
    clock = [DAY0]
    memory = InMemoryKVStore(clock=lambda: clock[0])
    store = store_of(memory)
    windows._left.clear()
    results = []
    for kind, number, offset, amount, label in steps:
        epoch = DAY0 + offset
        clock[0] = max(clock[0], epoch)
        if kind == "foreign":
            memory.add_to_string_set("k", windows.Entry(epoch, f"x{number}", amount).encode())
            continue
        if kind == "junk":
            memory.add_to_string_set("k", ["junk", "a|x|2|0", f"dup{number}|5|1|0"][number % 3])
            continue
        if forget:
            windows._left.clear()
        if mode == "distinct":
            own = windows.distinct_entry(label, epoch, 3600)
            result = windows.record(store, "k", own, 2, 3600, distinct=True)
        elif mode == "bucket":
            own = windows.Entry(epoch, f"e{number}", amount)
            result = windows.record(store, "k", own, 300, 86400, bucket=(DAY0, DAY0 + 86400))
        else:
            own = windows.Entry(epoch, f"e{number}", amount)
            result = windows.record(store, "k", own, 300, 3600)
        results.append(result)
    return results, memory.get_string_set("k")


@settings(max_examples=150, deadline=None)
@given(steps, st.sampled_from(["sliding", "bucket", "distinct"]))
def test_what_a_key_left_gives_the_same_results_as_reading_it_in_full(steps, mode):
    """record() skips decoding and sorting when the set holds exactly what this process left
    there; other writers, junk, duplicates and late events must give what a full read gives."""
    assert _replay_steps(steps, mode, forget=False) == _replay_steps(steps, mode, forget=True)


def test_what_is_left_stays_within_its_bound():
    """The per-key memory of what this process left holds at most max_entries entries in all."""
    left = windows._Left(max_entries=5)

    def leave(key, count):
        ordered = [windows.Entry(DAY0 + i, f"{key}{i}", 1) for i in range(count)]
        members = frozenset(entry.encode() for entry in ordered)
        left.leave(key, members, ordered, {entry.event_id: entry for entry in ordered})
        return members

    a = leave("a", 3)
    leave("b", 2)
    assert left.size == 5 and set(left.by_key) == {"a", "b"}
    leave("c", 1)  # over the bound: everything before is forgotten
    assert left.size == 1 and set(left.by_key) == {"c"}
    leave("d", 6)  # larger than the bound by itself: not kept at all
    assert left.size == 0 and not left.by_key
    members = leave("a", 3)
    assert left.take("a", members | {"other"}) is None  # another writer: read in full
    assert left.take("a", members) is None and left.size == 0  # taken once, then gone
    leave("a", 3)
    ordered, entries = left.take("a", set(a))  # the store holds exactly what was left
    assert [entry.event_id for entry in ordered] == ["a0", "a1", "a2"] and len(entries) == 3
    assert left.size == 0
