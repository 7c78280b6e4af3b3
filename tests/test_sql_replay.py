"""The data lake's backtest: scheduled queries run hourly, their rows through the scheduled
rules, each alert beside the streaming rule's."""

from datetime import UTC, datetime

from compute_abuse import sql_replay
from compute_abuse.cli import main
from compute_abuse.events import iam_user, launched_item, run_instances


def burst(user, count, minute, instance_type="p4d.24xlarge"):
    """`count` instances of 96 vCPUs, launched at 14:`minute`."""
    launched = [launched_item(instance_type) for _ in range(count)]
    return run_instances(
        instance_type,
        count,
        count,
        launched,
        identity=iam_user(user),
        event_time=f"2024-08-01T14:{minute:02d}:00Z",
    )


def test_a_surge_is_raised_on_both_sides_by_the_run_after_it_arrived():
    """mallory's 9 p4d (864 vCPUs) cross VCPUSurge's 800 on both sides; the data lake reports
    it at 15:00, the first hourly run after the records arrived; bob's 2 stay quiet; a record
    with no time is left out and named."""
    events = [burst("mallory", 5, 10), burst("mallory", 4, 40), burst("bob", 2, 20)]
    events.append({**burst("eve", 9, 30), "eventTime": "yesterday"})
    verdicts, unpaired, skipped = sql_replay.compare(events)
    surge = [v for v in verdicts if v.rule_id == "ComputeAbuse.AWS.EC2.VCPUSurge"]
    assert [(v.dedup, v.data_lake, v.streaming) for v in surge] == [
        (
            "arn:aws:iam::111122223333:user/mallory",
            datetime(2024, 8, 1, 15, tzinfo=UTC),
            "2024-08-01T14:40:00Z",
        )
    ]
    assert not [v for v in verdicts if "bob" in v.dedup]
    assert [s.index for s in skipped] == [3] and "'yesterday'" in skipped[0].reason
    assert {a.rule_id for a in unpaired} == {
        "ComputeAbuse.AWS.EC2.AcceleratedFamilyFirstSeenDataLake"
    }


def test_a_run_reads_only_what_arrived_before_it():
    """A launch at 14:59 arrives at 15:01: the 15:00 run cannot see it, the 16:00 run can."""
    late = burst("mallory", 9, 59)
    (record,), _ = sql_replay.stamped([late])
    assert record["p_parse_time"] == "2024-08-01T15:01:00Z"
    assert sql_replay.hourly_runs([record]) == [datetime(2024, 8, 1, 16, tzinfo=UTC)]


def test_the_command_prints_both_sides(tmp_path, capsys):
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(__import__("json").dumps(burst("mallory", 9, 5)) for _ in [0]))
    assert main(["sql-replay", str(path)]) == 0
    out = capsys.readouterr().out
    assert "ComputeAbuse.AWS.EC2.VCPUSurge | arn:aws:iam::111122223333:user/mallory | " in out
    assert "both sides: 1;" in out
