"""The stateful rules under parallel invocations: several workers on one moto DynamoDB, their KV
calls interleaved by a seeded adversarial scheduler (compute_abuse/parallel.py). A few seeds
here; `make parallel` runs 20 seeds x 2/4/8 workers."""

import itertools
import random
import threading

import ec2_compute_windows as windows
import pytest

import ec2_launch_templates as templates
from compute_abuse import parallel

RULES = parallel.stateful_rules()


@pytest.mark.parametrize("seed, workers", [(0, 4), (1, 8)])
def test_every_crossing_of_one_worker_also_alerts_in_parallel(seed, workers):
    report = parallel.check(seed, workers, RULES)
    # The scenario crosses every stateful rule's threshold (else this test would prove nothing).
    assert {rule for rule, _ in report.reference} == {rule.detection_id for rule in RULES}
    assert report.errors == []
    assert report.missed == set() and report.extra == set()


def _judged_on_its_read(store, key, own, min_total, window_seconds, bucket, ttl_seconds):
    """The mistake the harness must catch: judging an event on what its read showed."""
    entries = windows.parse_entries(store.get_string_set(key))
    duplicate = own.event_id in entries
    if not duplicate:
        store.add_to_string_set(key, own.encode(), ttl_seconds)
    entries.setdefault(own.event_id, own)
    timeline = windows._Timeline(entries.values())
    windows._prune(store, key, timeline, 2 * window_seconds, ttl_seconds)
    return entries, timeline, duplicate


def _missed_rules(seeds_workers, *names):
    """The crossings the harness finds missed, running only the rules `names` (a check of every
    rule takes ~18 s, of VCPUSurge alone ~10 s)."""
    rules = [rule for rule in RULES if rule.detection_id.rsplit(".", 1)[1] in names]
    assert len(rules) == len(names)
    return {
        rule
        for seed, workers in seeds_workers
        for rule, _ in parallel.check(seed, workers, rules).missed
    }


def test_the_harness_finds_a_window_judged_on_a_stale_read(monkeypatch):
    monkeypatch.setattr(windows, "_store_entry", _judged_on_its_read)
    # Which crossings a schedule breaks depends on the seed and on the rules run (one seed here).
    assert _missed_rules([(3, 4)], "HighInstanceCount", "VCPUSurge") == {
        "ComputeAbuse.AWS.EC2.HighInstanceCount",
        "ComputeAbuse.AWS.EC2.VCPUSurge",
    }


def test_the_harness_finds_a_launch_judged_before_its_template(monkeypatch):
    """The mistake: a launch that finds its template unknown does not wait for it, so a template
    created a second before its launch, remembered by another invocation, is missed."""
    monkeypatch.setattr(templates, "wait_for_template", lambda *args: "")
    missed = _missed_rules([(1, 2)], "VCPUSurge", "UnusualInstanceType")
    assert {
        "ComputeAbuse.AWS.EC2." + name for name in ("VCPUSurge", "UnusualInstanceType")
    } <= missed


def test_the_harness_finds_a_service_launch_judged_before_its_owner(monkeypatch):
    """The mistake: a sizing call does not judge the service launches that waited for their
    group's owner, so launches judged a moment before the call are never charged to anyone."""
    monkeypatch.setattr(templates, "owners_waiting_launches", lambda *args: [])
    assert "ComputeAbuse.AWS.EC2.VCPUSurge" in _missed_rules([(0, 4)], "VCPUSurge")


def _schedule(seed, workers=3, calls=20):
    """The order in which the scheduler lets dummy workers make their calls."""
    scheduler = parallel.Scheduler(random.Random(seed), workers)
    order = []

    def work(worker):
        scheduler.park(worker)
        for _ in range(calls):
            scheduler.park(worker, "add_to_string_set")
            order.append(worker)
        scheduler.finish(worker)

    threads = [threading.Thread(target=work, args=(w,), daemon=True) for w in range(workers)]
    for thread in threads:
        thread.start()
    scheduler.drive()
    for thread in threads:
        thread.join()
    return order


def test_the_schedule_depends_on_the_seed_only():
    first = _schedule(7)
    assert first == _schedule(7) and first != _schedule(8)
    assert sorted(first) == sorted(list(range(3)) * 20)  # every call ran, once
    assert any(a != b for a, b in itertools.pairwise(first))  # workers interleave
