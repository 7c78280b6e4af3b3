"""Every rule over the 155 real third-party CloudTrail records of the shared corpus.

The corpus is not part of the repo (see conftest.CORPUS_DIR); these tests skip where it is absent.
"""

import pytest

import ec2_compute_helpers as helpers
from compute_abuse.content import function_errors, load_rule, run_rule, specs_of_type

RULES = {spec.analysis_id: spec for spec in specs_of_type("rule")}

# Golden labels, read off the records by hand: the launches of accelerated types (p2.*) that are
# not dry runs. Stratus Red Team's refused attempts, Invictus' quota-refused attempts, Panther's
# autoscaling and console launches. (file, line from 0)
UNUSUAL_LAUNCHES = {
    ("invictus_aws_dataset.jsonl", 6),
    ("invictus_aws_dataset.jsonl", 11),
    ("panther_analysis_tests.jsonl", 0),
    ("panther_analysis_tests.jsonl", 1),
    ("panther_analysis_tests.jsonl", 2),
    ("panther_analysis_tests.jsonl", 16),
    ("stratus_red_team_detonations.jsonl", 0),
}


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_no_rule_raises_on_any_corpus_record(corpus, rule_id):
    rule = load_rule(RULES[rule_id])
    failures = []
    for name, line, record in corpus:
        errors = function_errors(run_rule(rule, record))
        if errors:
            failures.append((name, line, errors))
    assert failures == []


def test_unusual_instance_type_alerts_exactly_on_the_labelled_records(corpus):
    rule = load_rule(RULES["AWS.EC2.ComputeAbuse.UnusualInstanceType"])
    alerted = {
        (name, line) for name, line, record in corpus if run_rule(rule, record).trigger_alert
    }
    assert alerted == UNUSUAL_LAUNCHES


def test_helper_reads_every_corpus_launch(corpus):
    launches = [record for _, _, record in corpus if helpers.is_launch_event(record)]
    assert len(launches) == 30
    for record in launches:
        summary = helpers.summarize_launch(record)
        assert summary.instance_types, record.get("eventID")
        if summary.outcome == helpers.OUTCOME_SUCCESS:
            assert summary.launched_instance_count >= 1
            assert summary.launched_vcpus >= summary.launched_instance_count
            assert summary.unknown_instance_types == ()
        assert helpers.event_time_epoch(record) is not None
