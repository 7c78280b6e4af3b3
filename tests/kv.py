"""The KV store backends stateful rules are tested against, in one shared fixture.

- "memory": compute_abuse.kvstore.InMemoryKVStore, patched into the rule module by name the way
  `pat` mocks are; its clock follows the events' time, as a replay would.
- "dynamodb": the real panther_detection_helpers.caching code on moto's DynamoDB (mock_aws).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

import pytest
from ec2_compute_windows import KVStore

from compute_abuse.content import function_errors, run_rule
from compute_abuse.kvstore import InMemoryKVStore, moto_kv_table
from ec2_compute_helpers import event_time_epoch


@dataclass
class Backend:
    name: str
    memory: InMemoryKVStore | None = None
    now: list = field(default_factory=lambda: [0.0])
    follow_event_time: bool = True  # the memory store's clock jumps to each event's time

    @property
    def patches(self):
        return self.memory.caching_functions() if self.memory else None

    def store(self) -> KVStore:
        """The store the rules ran on, for reading what they remembered."""
        if self.memory:
            return KVStore(**self.memory.caching_functions())
        from panther_detection_helpers import caching

        return KVStore(
            caching.get_string_set, caching.add_to_string_set, caching.remove_from_string_set
        )

    def run(self, rule, events: Iterable[dict]):
        """Run events in order through a rule; the alerting results, never an error."""
        alerts = []
        for event in events:
            epoch = event_time_epoch(event)
            if self.follow_event_time and epoch is not None:
                self.now[0] = epoch
            result = run_rule(rule, event, patches=self.patches)
            assert function_errors(result) == {}, event.get("eventID")
            if result.trigger_alert:
                alerts.append(result)
        return alerts


def _memory_backend():
    backend = Backend("memory")
    backend.memory = InMemoryKVStore(clock=lambda: backend.now[0])
    return backend


@pytest.fixture(params=["memory", "dynamodb"])
def kv(request):
    if request.param == "memory":
        yield _memory_backend()
        return
    with moto_kv_table():
        yield Backend("dynamodb")


@pytest.fixture
def memory_kv():
    return _memory_backend()


class StoreInOrder(InMemoryKVStore):
    """A store that hands set members back sorted, forward or reversed: a real store's order is
    its own, and no verdict may hang on it."""

    def __init__(self, reverse):
        super().__init__()
        self.reverse = reverse

    def get_string_set(self, key, force_ttl_check=False):
        return sorted(super().get_string_set(key, force_ttl_check), reverse=self.reverse)
