"""An in-memory stand-in for Panther's KV store (`panther_detection_helpers.caching`).

It behaves like the real one where the pack's rules could notice: string sets that ignore
duplicates and drop empty sets, TTLs given as relative seconds (below 1e9: "from now") or as
epoch seconds, and DynamoDB's lazy expiry: an expired item stays readable (and an add keeps its
old members) until it is deleted up to `deletion_lag_seconds` later, unless a read passes
`force_ttl_check=True`. The clock is injectable, so a replay can run on event time.

`moto_kv_table()` is the other backend: the real caching code on moto's DynamoDB, shared by the
tests and the parallel harness.
"""

import contextlib
import functools
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

# DynamoDB deletes expired items "typically within 48 hours".
DYNAMODB_DELETION_LAG_SECONDS = 48 * 3600
_RELATIVE_TTL_LIMIT = 1_000_000_000  # caching.py reads smaller values as "seconds from now"
_DEFAULT_TTL_SECONDS = 90 * 86400  # caching.py's default

KV_TABLE = "panther-kv-store"
# moto's documented dummy credentials: nothing leaves the process. AWS_PROFILE is unset (None).
_MOTO_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "KV_STORE_TABLE_NAME": KV_TABLE,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_PROFILE": None,
}  # nosec B105


@dataclass
class _Item:
    members: set = field(default_factory=set)
    expires_at: float = 0.0


@dataclass
class InMemoryKVStore:
    clock: Callable[[], float] = time.time
    deletion_lag_seconds: float = DYNAMODB_DELETION_LAG_SECONDS
    fail_with: BaseException | None = None  # raise this from every call, like an outage
    items: dict = field(default_factory=dict)
    calls: int = 0

    # The functions the rules import from panther_detection_helpers.caching, by name.
    def caching_functions(self) -> dict[str, Callable]:
        return {
            "get_string_set": self.get_string_set,
            "add_to_string_set": self.add_to_string_set,
            "remove_from_string_set": self.remove_from_string_set,
        }

    def get_string_set(self, key: str, force_ttl_check: bool = False) -> set:
        item = self._item(key)
        if item is None or (force_ttl_check and self._expired(item)):
            return set()
        return set(item.members)

    def add_to_string_set(
        self, key: str, val: str | Iterable[str], epoch_seconds: float | None = _DEFAULT_TTL_SECONDS
    ) -> set:
        members = {val} if isinstance(val, str) else set(val)
        item = self._item(key)
        if not members:
            return self.get_string_set(key, force_ttl_check=True)
        if item is None:
            item = self.items[key] = _Item()
        item.members |= members  # an expired, undeleted item keeps its old members, as in 1.0.2
        if epoch_seconds is not None:
            item.expires_at = self._expiry(epoch_seconds)
        return set(item.members)

    def remove_from_string_set(
        self, key: str, val: str | Iterable[str], epoch_seconds: float | None = _DEFAULT_TTL_SECONDS
    ) -> set:
        members = {val} if isinstance(val, str) else set(val)
        item = self._item(key)
        if item is None:
            return set()
        item.members -= members
        if epoch_seconds is not None:
            item.expires_at = self._expiry(epoch_seconds)
        if not item.members:  # DynamoDB has no empty sets: the attribute goes away
            del self.items[key]
            return set()
        return set(item.members)

    def ttl_remaining(self, key: str) -> float | None:
        item = self.items.get(key)
        return None if item is None else item.expires_at - self.clock()

    def _item(self, key: str) -> _Item | None:
        self.calls += 1
        if self.fail_with is not None:
            raise self.fail_with
        item = self.items.get(key)
        if item is not None and self.clock() > item.expires_at + self.deletion_lag_seconds:
            del self.items[key]  # DynamoDB's background deletion finally caught up
            return None
        return item

    def _expired(self, item: _Item) -> bool:
        return item.expires_at <= self.clock()

    def _expiry(self, epoch_seconds: float) -> float:
        seconds = float(epoch_seconds)
        return self.clock() + seconds if seconds < _RELATIVE_TTL_LIMIT else seconds


@contextlib.contextmanager
def moto_kv_table() -> Iterator[None]:
    """Panther's KV table on a fresh moto DynamoDB, for the real `panther_detection_helpers.
    caching` code: the environment it reads is set for the block and restored after."""
    import boto3
    from moto import mock_aws
    from panther_detection_helpers import caching

    saved = {name: os.environ.get(name) for name in _MOTO_ENVIRONMENT}
    _set_environment(_MOTO_ENVIRONMENT)
    try:
        with mock_aws():
            # moto empties boto3's default session on entry; one botocore session, made after
            # moto is imported (so its requests go to moto), keeps the service models it loaded
            # from one block to the next (loading them was most of a block's cost).
            boto3.setup_default_session(botocore_session=_botocore_session())
            caching._KV_TABLE = None  # the caching code's own table, made on this session
            caching.kv_table().meta.client.create_table(
                TableName=KV_TABLE,
                KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            yield
    finally:
        caching._KV_TABLE = None
        _set_environment(saved)


@functools.cache
def _botocore_session():
    import botocore.session

    return botocore.session.get_session()


def _set_environment(values: dict) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
