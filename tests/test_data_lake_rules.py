"""The scheduled rules that read the data-lake queries' rows: severity and context at their edges
(found by `make mutants`: a flipped comparison or a moved cap passed every YAML test)."""

import json

import pytest

from compute_abuse.content import load_rule, rule_spec, run_rule


def row(requested, refused, event_ids=("e1",)):
    return {
        "window_kind": "principal",
        "grouped_value": "arn:aws:iam::111122223333:user/miner",
        "day": "2024-08-06",
        "requested_instances": requested,
        "refused_instances": refused,
        "launch_calls": 1,
        "event_ids": list(event_ids),
    }


@pytest.mark.parametrize("refused, severity", [(12, "LOW"), (11, "MEDIUM"), (0, "MEDIUM")])
def test_a_day_nothing_of_which_launched_is_low(refused, severity):
    rule = load_rule(rule_spec("ComputeAbuse.AWS.EC2.HighInstanceCountDataLake"))
    result = run_rule(rule, row(12, refused))
    assert result.trigger_alert and result.severity_output == severity


def test_the_alert_lists_at_most_twenty_event_ids():
    rule = load_rule(rule_spec("ComputeAbuse.AWS.EC2.HighInstanceCountDataLake"))
    ids = [f"e{n}" for n in range(30)]
    context = json.loads(run_rule(rule, row(30, 0, ids)).alert_context_output)
    assert context["event_ids"] == ids[:20]


@pytest.mark.parametrize(
    "rule_id, window, dedup",
    [
        ("VCPUSurgeDataLake", {"window_kind": "principal", "span": "8 hours"}, "p"),
        ("VCPUSurgeDataLake", {"window_kind": "principal", "span": "24 hours"}, "p:24h"),
        ("VCPUSurgeDataLake", {"window_kind": "principal", "span": "7 days"}, "p:7d"),
        ("VCPUSurgeDataLake", {"window_kind": "source IP", "span": "8 hours"}, "source-ip:p"),
        ("VCPUSurgeDataLake", {"window_kind": "account", "span": "8 hours"}, "account:p"),
        ("HighInstanceCountDataLake", {"window_kind": "principal"}, "p:2024-08-01"),
        ("HighInstanceCountDataLake", {"window_kind": "source IP"}, "source-ip:p:2024-08-01"),
        ("HighInstanceCountDataLake", {"window_kind": "account"}, "account:p:2024-08-01"),
    ],
)
def test_each_window_dedups_as_the_streaming_rule_does(rule_id, window, dedup):
    """The streaming rules' strings (tests/test_windowed_rules.py pins them the same way)."""
    rule = load_rule(rule_spec(f"ComputeAbuse.AWS.EC2.{rule_id}"))
    row = {**window, "grouped_value": "p", "day": "2024-08-01", "principals": ["a", "b"]}
    row.update(total_vcpus=100000, requested_instances=100000)
    result = run_rule(rule, row)
    assert result.trigger_alert and result.dedup_output == dedup
    if window["window_kind"] != "principal":
        assert f"{window['window_kind']} p (2 principal(s) [a, b])" in result.title_output
