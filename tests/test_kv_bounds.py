"""Every KV item stays far below DynamoDB's 400 KB item limit, whatever the traffic: entries per
key are capped and pruned by event time, IDs and labels are bounded (long ones hashed or cut)."""

import ec2_compute_windows as windows
import pytest

from compute_abuse.events import iam_user, launched_item, run_instances
from compute_abuse.kvstore import InMemoryKVStore
from tests.kv import Backend
from tests.test_ec2_compute_windows import store_of
from tests.test_probing_rules import at, protect, rule

DAY0 = 1722470400
DYNAMODB_ITEM_LIMIT = 400 * 1024
FAR_BELOW = DYNAMODB_ITEM_LIMIT // 2


def item_bytes(memory: InMemoryKVStore) -> dict[str, int]:
    return {
        key: len(key) + sum(len(m.encode()) for m in item.members)
        for key, item in memory.items.items()
    }


def test_the_bound_per_item_is_far_below_dynamodb_limit():
    assert windows.MAX_ENTRIES * windows.MAX_ENTRY_BYTES < FAR_BELOW


@pytest.mark.parametrize("mode", ["sliding", "bucket", "distinct", "remember"])
def test_hostile_ids_and_labels_and_heavy_traffic_keep_items_bounded(mode):
    clock = [DAY0]
    memory = InMemoryKVStore(clock=lambda: clock[0])
    store = store_of(memory)
    largest = 0
    for i in range(1500):  # more entries than any key keeps, inside one window
        epoch = DAY0 + i
        clock[0] = epoch
        huge = f"{i}-" + "x" * (450 * 1024 if i % 500 == 0 else 40)  # a 450 KB ID now and then
        label = "é" * 5000 if i % 3 == 0 else f"label-{i % 7}"
        own = windows.Entry(epoch, huge, 4, 1, label)
        if mode == "sliding":
            windows.record(store, "k", own, 10**9, 86400)
        elif mode == "bucket":
            windows.record(store, "k", own, 10**9, 86400, bucket=(DAY0, DAY0 + 86400))
        elif mode == "distinct":
            windows.record(
                store, "k", windows.distinct_entry(huge, epoch, 86400), 10**9, 86400, distinct=True
            )
        else:
            assert windows.remember(store, "k", [own], 7 * 86400) == ""
        largest = max(largest, *item_bytes(memory).values())
    assert largest < windows.MAX_ENTRIES * windows.MAX_ENTRY_BYTES + windows.MAX_ENTRY_BYTES
    assert len(memory.get_string_set("k")) <= windows.MAX_ENTRIES + 1


def test_long_ids_are_found_again_through_entry_id():
    long_id = "i-" + "f" * 5000
    memory = InMemoryKVStore(clock=lambda: DAY0)
    store = store_of(memory)
    windows.remember(store, "k", [windows.Entry(DAY0, long_id, 0, label="g5.xlarge")], 3600)
    entries, degraded = windows.remembered(store, "k")
    assert degraded == "" and windows.entry_id(long_id) in entries and long_id not in entries
    assert windows.entry_id("i-0123456789abcdef0") == "i-0123456789abcdef0"


def test_termination_protection_keys_stay_small_after_a_week_of_gpu_launches():
    """20 GPU instances every 10 minutes for a week, each protected: ~20,000 instances."""
    backend = Backend("memory")
    backend.memory = InMemoryKVStore(clock=lambda: backend.now[0])
    protection = rule("TerminationProtection")
    largest = 0
    for step in range(7 * 24 * 6):
        epoch = DAY0 + 600 * step
        items = [launched_item("g5.xlarge", instance_id=f"i-{step:08x}{n:04x}") for n in range(20)]
        launch = run_instances(
            "g5.xlarge", 20, 20, launched=items, identity=iam_user("miner"), event_time=at(epoch)
        )
        backend.run(protection, [launch, protect(items[0]["instanceId"], epoch + 30, "miner")])
        if step % 48 == 0:
            largest = max(largest, *item_bytes(backend.memory).values())
    sizes = item_bytes(backend.memory)
    assert max(largest, *sizes.values()) < FAR_BELOW
    assert max(len(item.members) for item in backend.memory.items.values()) <= windows.MAX_ENTRIES
