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
