"""Every rule over the 155 real third-party CloudTrail records of the shared corpus.

The corpus is not part of the repo (see conftest.CORPUS_DIR); these tests skip where it is absent.
"""

import pytest

import ec2_compute_helpers as helpers
from compute_abuse.content import function_errors, load_rule, run_rule, specs_of_type
from compute_abuse.kvstore import InMemoryKVStore

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


# Requests of 10 instances or more per actor and day: the three quota- or IAM-refused p2.xlarge
# requests for 10 (two Invictus sessions, one Stratus). Stratus' record also stands in Panther's
# tests under the same eventID: a duplicate delivery, counted once.
HIGH_INSTANCE_COUNTS = {
    ("invictus_aws_dataset.jsonl", 6),
    ("invictus_aws_dataset.jsonl", 11),
    ("panther_analysis_tests.jsonl", 1),
}

EXPECTED_ALERTS = {
    "ComputeAbuse.AWS.EC2.UnusualInstanceType": UNUSUAL_LAUNCHES,
    "ComputeAbuse.AWS.EC2.HighInstanceCount": HIGH_INSTANCE_COUNTS,
    "ComputeAbuse.AWS.EC2.VCPUSurge": set(),  # no corpus actor launches 800 vCPUs
    # The corpus' dry runs are EKS node groups validating one m5.xlarge (4 vCPUs).
    "ComputeAbuse.AWS.EC2.DryRunProbe": set(),
    # Its quota increase is for EC2-Classic Elastic IPs (L-CEED54BB), not a vCPU quota.
    "ComputeAbuse.AWS.EC2.QuotaProbe": set(),
    # Every corpus actor launches in one region.
    "ComputeAbuse.AWS.EC2.RegionSpread": set(),
    # Its disableApiTermination changes turn protection off (Terraform).
    "ComputeAbuse.AWS.EC2.TerminationProtection": set(),
    # No corpus principal shows three playbook stages within 6 hours.
    "ComputeAbuse.AWS.EC2.HijackPlaybook": set(),
}


def test_corpus_labels_name_only_rules_of_the_pack():
    # A rule without labels is expected to stay quiet on the corpus.
    assert set(EXPECTED_ALERTS) <= set(RULES)


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_rules_alert_exactly_on_the_labelled_records_and_never_raise(corpus, rule_id):
    rule = load_rule(RULES[rule_id])
    store = InMemoryKVStore()  # one store for the whole corpus, file after file
    failures, alerted = [], set()
    for name, line, record in corpus:
        result = run_rule(rule, record, patches=store.caching_functions())
        if function_errors(result):
            failures.append((name, line, function_errors(result)))
        if result.trigger_alert:
            alerted.add((name, line))
    assert failures == []
    assert alerted == EXPECTED_ALERTS.get(rule_id, set())


def test_helper_reads_every_corpus_launch(corpus):
    launches = [record for _, _, record in corpus if helpers.is_launch_event(record)]
    names = sorted(record["eventName"] for record in launches)
    assert names == (
        ["CreateAutoScalingGroup"]
        + ["RunInstances"] * 30
        + ["StartInstances"] * 9
        + ["UpdateAutoScalingGroup"]
    )
    for record in launches:
        summary = helpers.summarize_launch(record)
        if record["eventName"] == "RunInstances":  # the ASGs name only a launch template
            assert summary.instance_types, record.get("eventID")
        if record["eventName"] == "StartInstances":  # by number: their launch is not in sight
            assert summary.instance_count == len(helpers.started_instance_ids(record)) >= 1
            assert summary.instance_ids and summary.vcpus == 0
        elif summary.outcome == helpers.OUTCOME_SUCCESS and not summary.launches_later:
            assert summary.launched_instance_count >= 1
            assert summary.launched_vcpus >= summary.launched_instance_count
            assert summary.unknown_instance_types == ()
        assert helpers.event_time_epoch(record) is not None
