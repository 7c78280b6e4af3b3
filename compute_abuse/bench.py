"""Benchmarks of the replay: figures, not pass/fail. `make bench` prints a report.

- Throughput on a generated mixed stream (1% EC2 launch calls, JSON lines): events/s of the
  replay and of bare JSON parsing (orjson) of the same file, and their ratio (target >= 0.5).
  The two alternate for a few rounds and each reports its best round, as timeit does: on a
  shared machine a single run of either can be 20% slow. Every round's ratio is printed too.
- Memory: peak RSS of the replay on 100k and 1M events, each in a fresh process (target: flat,
  under 250 MB).
- Per-rule cost: mean time of each streaming rule's rule() on events it does not match, relative
  to a one-line eventName check measured in the same run (target <= 1.5x).
"""

import argparse
import resource

# Runs this same module in a fresh interpreter, with fixed arguments.
import subprocess  # nosec B404
import sys
import tempfile
import time
import timeit
from pathlib import Path

import orjson

from compute_abuse.cli import SAMPLE_DIR
from compute_abuse.inputs import RecordReader

LAUNCH_SHARE = 100  # one launch call in every 100 events


def generate_stream(path: Path, count: int) -> int:
    """Write `count` JSON lines: sample background records with a launch every 100th, each with
    its own eventID and a time that moves on, so windows and dedup see a real stream."""
    records = list(RecordReader([str(SAMPLE_DIR)]))
    launches = [r for r in records if r.get("eventName") == "RunInstances"]
    background = [r for r in records if r.get("eventName") != "RunInstances"]
    start = 1722816000  # 2024-08-05T00:00:00Z
    with path.open("wb") as out:
        for index in range(count):
            pool = launches if index % LAUNCH_SHARE == 0 else background
            record = dict(pool[index % len(pool)])
            record["eventID"] = f"bench-{index:012d}"
            moment = start + index // 4  # four events a second
            record["eventTime"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))
            out.write(orjson.dumps(record) + b"\n")
    return path.stat().st_size


def bare_parse(path: Path) -> tuple[int, float]:
    started = time.perf_counter()
    count = 0
    with path.open("rb") as lines:
        for line in lines:
            orjson.loads(line)
            count += 1
    return count, time.perf_counter() - started


def replay_file(path: Path) -> tuple[int, int, float]:
    from compute_abuse.replay import Replay

    engine = Replay()
    started = time.perf_counter()
    alerts = sum(1 for _ in engine.run(RecordReader([str(path)])))
    return engine.records_read, alerts, time.perf_counter() - started


def peak_rss_mb(path: Path) -> float:
    """Peak RSS of a fresh process replaying the file."""
    output = subprocess.run(  # nosec B603
        [sys.executable, "-m", "compute_abuse.bench", "--child-replay", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return float(output.strip().splitlines()[-1])


def rule_costs(repeat: int = 200_000) -> list[tuple[str, float, float]]:
    """(rule, ns per rule() call on non-matching events, ratio to a one-line eventName check)."""
    from panther_core.enriched_event import PantherEvent

    from compute_abuse.replay import Replay

    records = list(RecordReader([str(SAMPLE_DIR)]))

    def baseline(event):
        return event.get("eventName") == "RunInstances"

    def per_call(function, events) -> float:
        calls = repeat // len(events) * len(events)
        loop = lambda: [function(event) for event in events]  # noqa: E731
        best = min(timeit.repeat(loop, number=calls // len(events), repeat=5))
        return best / calls * 1e9

    rows = []
    for rule in Replay().rules:
        # Events this rule cannot match: no (eventSource, eventName) it declares (RULE_EVENTS).
        declared = rule.module.RULE_EVENTS
        unmatched = (
            r for r in records if r.get("eventName") not in declared.get(r.get("eventSource"), ())
        )
        events = [PantherEvent(r) for r in unmatched][:1000]  # fmt: skip
        base = per_call(baseline, events)
        cost = per_call(rule.module.rule, events)
        rows.append((rule.detection_id, cost, cost / base))
    rows.insert(0, ("baseline: event.get('eventName') == ...", base, 1.0))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5, help="alternating timing rounds")
    parser.add_argument("--child-replay", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_replay:
        replay_file(args.child_replay)
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # KiB on Linux
        return 0

    with tempfile.TemporaryDirectory() as folder:
        small, large = Path(folder, "100k.jsonl"), Path(folder, "stream.jsonl")
        size = generate_stream(large, args.events)
        generate_stream(small, min(100_000, args.events))
        print(f"Stream: {args.events:,} events, {size / 1e6:,.0f} MB of JSON lines, "
              f"1 in {LAUNCH_SHARE} an EC2 launch call")  # fmt: skip

        parse_seconds, replay_seconds = [], []
        for _ in range(max(args.rounds, 1)):
            parsed, seconds = bare_parse(large)
            parse_seconds.append(seconds)
            read, alerts, seconds = replay_file(large)
            replay_seconds.append(seconds)
        parse_rate, replay_rate = parsed / min(parse_seconds), read / min(replay_seconds)
        rounds = "  ".join(
            f"{p / r:.2f}" for p, r in zip(parse_seconds, replay_seconds, strict=True)
        )
        print(
            f"\nThroughput (same file, same run; best of {len(parse_seconds)} alternating rounds)"
        )
        print(f"  bare orjson parse   {parse_rate:>12,.0f} events/s")
        print(f"  replay              {replay_rate:>12,.0f} events/s   ({alerts:,} alerts)")
        print(f"  ratio replay/parse  {replay_rate / parse_rate:>12.2f}   (target >= 0.50)")
        print(f"  each round's ratio  {rounds:>12}")

        print("\nPeak RSS of the replay, fresh process each (target: flat, < 250 MB)")
        for label, path in (("100k events", small), (f"{args.events / 1e6:g}M events", large)):
            print(f"  {label:<12} {peak_rss_mb(path):>8.0f} MB")

    print("\nrule() on non-matching events (target <= 1.50x the baseline)")
    for name, nanoseconds, ratio in rule_costs():
        print(f"  {name:<42} {nanoseconds:>7.0f} ns   {ratio:>5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
