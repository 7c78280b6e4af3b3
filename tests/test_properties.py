"""Property-based tests: no rule, helper or alert function ever raises, whatever the event.

Events start from real CloudTrail shapes (the factories) and are mutated with hypothesis: nulls,
wrong types (strings for numbers, lists for objects, objects for lists), missing sections,
unicode, huge and negative counts, `{"omitted": true}` request parameters, deeply nested junk.
"""

import calendar
import json
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from panther_core.enriched_event import PantherEvent

import ec2_compute_helpers as helpers
from compute_abuse.content import function_errors, load_rule, run_rule, specs_of_type
from compute_abuse.events import (
    assumed_role,
    autoscaling_identity,
    cpu,
    launched_item,
    run_instances,
)
from compute_abuse.kvstore import InMemoryKVStore

RULES = [load_rule(spec) for spec in specs_of_type("rule")]
MAX_TITLE = 1000  # Panther's limit on generated fields
MAX_ALERT_CONTEXT = 200 * 1024  # Panther's limit on alert context

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(
        [
            "p4d.24xlarge",
            "g5.8xlarge",
            "t3.micro",
            "10",
            "-1",
            "1e308",
            "NaN",
            "Client.DryRunOperation",
            "2024-08-01T11:30:23Z",
            "ec2.amazonaws.com",
            "RunInstances",
            "💥",
            "",
        ]
    ),
)
junk = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)

base_events = st.sampled_from(
    [
        run_instances(
            "p4d.24xlarge", 2, 2, launched=[launched_item("p4d.24xlarge", cpu(48, 2))] * 2
        ),
        run_instances({"value": "g5.8xlarge"}, "1", "3"),
        run_instances(
            None,
            launch_template={"launchTemplateId": "lt-1"},
            launched=[launched_item("inf2.xlarge")],
        ),
        run_instances("p2.xlarge", 1, 10, error_code="Client.UnauthorizedOperation"),
        run_instances("p3.2xlarge", error_code="Client.DryRunOperation"),
        run_instances(
            "g4dn.xlarge", identity=autoscaling_identity(), source_ip="autoscaling.amazonaws.com"
        ),
        run_instances("c5.24xlarge", 5, 5, identity=assumed_role("Admin", "alice@example.com")),
    ]
)

# Paths that rules read, to mutate; each is replaced by junk or removed.
PATHS = [
    ("requestParameters",),
    ("requestParameters", "instanceType"),
    ("requestParameters", "instancesSet"),
    ("requestParameters", "instancesSet", "items"),
    ("requestParameters", "launchTemplate"),
    ("requestParameters", "cpuOptions"),
    ("responseElements",),
    ("responseElements", "instancesSet"),
    ("responseElements", "instancesSet", "items"),
    ("userIdentity",),
    ("userIdentity", "arn"),
    ("userIdentity", "userName"),
    ("userIdentity", "invokedBy"),
    ("eventTime",),
    ("eventID",),
    ("errorCode",),
    ("sourceIPAddress",),
    ("userAgent",),
    ("awsRegion",),
    ("resources",),
    ("recipientAccountId",),
    ("eventName",),
    ("eventSource",),
]
REMOVE = object()
COUNTS = (
    "requested_instance_count",
    "launched_instance_count",
    "requested_vcpus",
    "launched_vcpus",
    "requested_accelerators",
    "launched_accelerators",
)


@st.composite
def mutated_events(draw):
    event = json.loads(json.dumps(draw(base_events)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        path = draw(st.sampled_from(PATHS))
        value = draw(
            st.one_of(
                junk,
                st.just(REMOVE),
                st.just({"omitted": True}),
                st.just([{"maxCount": 10**20, "minCount": -3}]),
            )
        )
        parent = event
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if isinstance(parent, dict):
            if value is REMOVE:
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = value
    return event


def kv_returning(value):
    def function(*_args, **_kwargs):
        return value

    return dict.fromkeys(
        ("get_string_set", "add_to_string_set", "remove_from_string_set"), function
    )


FAST = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(mutated_events())
def test_helpers_never_raise_and_stay_non_negative(event):
    for shape in (event, PantherEvent(event)):
        summary = helpers.summarize_launch(shape)
        for name in COUNTS:
            value = getattr(summary, name)
            assert type(value) is int and value >= 0, (name, value)
        helpers.actor(shape)
        helpers.event_time_epoch(shape)
        json.dumps(helpers.launch_alert_context(shape))


@FAST
@given(mutated_events(), st.one_of(st.just(None), junk))
def test_rules_never_raise_and_respect_panthers_limits(event, kv_junk):
    store = InMemoryKVStore()
    patches = store.caching_functions() if kv_junk is None else kv_returning(kv_junk)
    for rule in RULES:
        result = run_rule(rule, event, patches=patches)
        assert function_errors(result) == {}, rule.detection_id
        if result.trigger_alert:
            assert 0 < len(result.title_output) <= MAX_TITLE
            assert len(result.alert_context_output) <= MAX_ALERT_CONTEXT
            assert result.severity_output in {"INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"}


@FAST
@given(mutated_events())
def test_kv_store_outage_never_makes_a_rule_raise(event):
    store = InMemoryKVStore(fail_with=RuntimeError("DynamoDB is down"))
    for rule in RULES:
        assert function_errors(run_rule(rule, event, patches=store.caching_functions())) == {}


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 12, 30)))
def test_event_time_epoch_agrees_with_the_calendar(moment):
    """CloudTrail's "YYYY-MM-DDTHH:MM:SSZ" takes a fast path; it must give what the calendar
    gives, as must Panther's normalized form, which takes the general one."""
    expected = calendar.timegm(moment.timetuple())
    for text in (moment.strftime("%Y-%m-%dT%H:%M:%SZ"), moment.strftime("%Y-%m-%d %H:%M:%S.000")):
        assert helpers.event_time_epoch({"eventTime": text}) == expected


def _nested(depth, kind):
    value = "x"
    for _ in range(depth):
        value = {"item": value} if kind == "item" else [value] if kind == "list" else {"a": value}
    return value


HOSTILE = {
    **{
        f"{kind} nested {depth} deep": _nested(depth, kind)
        for kind in ("item", "list", "dict")
        for depth in (1000, 5000)
    },
    "integer of 400 digits": 10**400,
    "negative integer of 400 digits": -(10**400),
    "largest float": 1.7976931348623157e308,
    "NaN": float("nan"),
    "infinity": float("inf"),
    "a megabyte of text": "x" * 1_000_000,
    "escape sequences": "\x1b[2J\x1b[31m[CRITICAL] forged\x07\r\n",
    "year 1 east of UTC": "0001-01-01T00:00:00+05:00",
    "year 9999 west of UTC": "9999-12-31T23:59:59-05:00",
    "last second of 9999": "9999-12-31T23:59:59Z",
    "first second of year 1": "0001-01-01T00:00:00Z",
    "fraction of 18 digits": "2024-08-01T11:30:23.999999999999999999+23:59",
}


def test_rules_never_raise_on_hostile_values_in_any_field():
    """Every field rules read, set to values that broke rules before: recursion through
    {"item": ...} wrappers 1,000 deep, times an offset moves out of the calendar, and the rest."""
    base = run_instances("p4d.24xlarge", 2, 2, launched=[launched_item("p4d.24xlarge")] * 2)
    failures = []
    for path in PATHS:
        for name, value in HOSTILE.items():
            event = json.loads(json.dumps(base))
            parent = event
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = value
            for rule in RULES:
                result = run_rule(rule, event, patches=InMemoryKVStore().caching_functions())
                if function_errors(result):
                    failures.append((path, name, rule.detection_id, function_errors(result)))
                elif result.trigger_alert:
                    assert len(result.title_output) <= MAX_TITLE
    assert failures == []


def test_event_times_outside_the_calendar_are_unusable_not_fatal():
    for text in ("0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "1969-12-31T23:59:59Z"):
        assert helpers.event_time_epoch({"eventTime": text}) is None, text
    assert helpers.event_time_epoch({"eventTime": "9999-12-30T23:59:59Z"}) == 253402214399


def test_list_wrappers_are_unwrapped_to_a_bound():
    items = [{"instanceId": "i-1"}]
    assert helpers.listed({"items": {"item": items}}) == items
    assert helpers.listed({"item": items[0], "tag": "x"}) == items
    assert helpers.listed(_nested(4, "item")) == []  # "x" at the bottom is no object
    assert helpers.listed(_nested(1000, "item")) == []
