"""The KV store backends stateful rules are tested against, in one shared fixture.

- "memory": compute_abuse.kvstore.InMemoryKVStore, patched into the rule module by name the way
  `pat` mocks are; its clock follows the events' time, as a replay would.
- "dynamodb": the real panther_detection_helpers.caching code on moto's DynamoDB (mock_aws).
"""

import os
from collections.abc import Iterable
from dataclasses import dataclass, field

import boto3
import pytest
from moto import mock_aws
from panther_detection_helpers import caching

from compute_abuse.content import function_errors, run_rule
from compute_abuse.kvstore import InMemoryKVStore
from ec2_compute_helpers import event_time_epoch

KV_TABLE = "panther-kv-store"


@dataclass
class Backend:
    name: str
    memory: InMemoryKVStore | None = None
    now: list = field(default_factory=lambda: [0.0])
    follow_event_time: bool = True  # the memory store's clock jumps to each event's time

    @property
    def patches(self):
        return self.memory.caching_functions() if self.memory else None

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
def kv(request, monkeypatch):
    if request.param == "memory":
        yield _memory_backend()
        return
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "KV_STORE_TABLE_NAME": KV_TABLE,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        boto3.resource("dynamodb", region_name=os.environ["AWS_DEFAULT_REGION"]).create_table(
            TableName=KV_TABLE,
            KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        monkeypatch.setattr(caching, "_KV_TABLE", None)
        yield Backend("dynamodb")
        monkeypatch.setattr(caching, "_KV_TABLE", None)


@pytest.fixture
def memory_kv():
    return _memory_backend()
