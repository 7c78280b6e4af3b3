"""What the service scenario tests share: event times, events made by a named person, the rules
loaded once per module, and the assertions "alerts with this context" and "stays quiet"."""

import json
from datetime import UTC, datetime

from compute_abuse.content import load_rule, rule_spec
from compute_abuse.events import iam_user

T0 = int(datetime(2024, 8, 7, 14, 0, tzinfo=UTC).timestamp())
DAY = 86400
HOUR = 3600
RULES = (
    "UnusualInstanceType",
    "VCPUSurge",
    "HighInstanceCount",
    "HijackPlaybook",
    "DryRunProbe",
    "RegionSpread",
)


def at(epoch):
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def by(factory, *args, epoch=T0, user="mallory", **kwargs):
    """An event from `factory`, at `epoch`, made by the IAM user `user`."""
    return factory(*args, eventTime=at(epoch), userIdentity=iam_user(user), **kwargs)


def load_rules():
    """The rules the scenarios run, by short name (each module loads them once, in a fixture)."""
    return {name: load_rule(rule_spec(f"ComputeAbuse.AWS.EC2.{name}")) for name in RULES}


def context(result):
    return json.loads(result.alert_context_output)


def quiet(kv, rules, events):
    for name, rule in rules.items():
        assert kv.run(rule, events) == [], name
