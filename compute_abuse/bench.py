"""Benchmarks of the replay: figures, not pass/fail. `make bench` prints a report.

- Throughput on JSON lines (one record in 100 one the rules can match, mostly launch calls): the
  replay's events/s in process against a bare orjson parse of the same file, and their ratio.
- Throughput on CloudTrail's own delivery format (S3 layout: gzipped {"Records": [...]} objects
  of 500 records), whole processes with their start-up: `python -m compute_abuse replay DIR` with
  all cores and with --jobs 1, against one process that gunzips and parses every object (orjson).
  Target: replay/parse >= 1.5 with the workers.
- Each pair alternates for a few rounds and reports its best round, as timeit does: on a shared
  machine a single run of either can be 20% slow. Every round's ratio is printed too.
- Memory: peak RSS of the replay on 100k and 1M events, each in a fresh process, the largest of
  the main process and its workers (target: flat, under 250 MB).
- Per-rule cost: mean time of each streaming rule's rule() on events it does not match, relative
  to a one-line eventName check measured in the same run (target <= 1.5x).
"""

import argparse
import gzip
import os
import resource

# Runs this same module in a fresh interpreter, with fixed arguments.
import subprocess  # nosec B404
import sys
import tempfile
import time
import timeit
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import orjson

from compute_abuse.cli import SAMPLE_DIR
from compute_abuse.inputs import RecordReader

LAUNCH_SHARE = 100  # one event the rules can match (mostly launch calls) in every 100
RECORDS_PER_OBJECT = 500  # records per S3 object (CloudTrail writes a few hundred to thousands)
START = 1722816000  # 2024-08-05T00:00:00Z
ACCOUNT = "111122223333"


def _stream_records(count: int) -> Iterator[dict]:
    """`count` records: sample records no rule can match, with one the rules can match (a
    launch, a quota call, ...) every LAUNCH_SHARE-th, each with its own eventID and a time that
    moves on (four events a second), so windows and dedup see a real stream."""
    from compute_abuse.replay import Replay

    declared = Replay().candidate_pairs()
    records = list(RecordReader([str(SAMPLE_DIR)]))
    matched = [r for r in records if (r.get("eventSource"), r.get("eventName")) in declared]
    background = [r for r in records if (r.get("eventSource"), r.get("eventName")) not in declared]
    for index in range(count):
        pool = matched if index % LAUNCH_SHARE == 0 else background
        record = dict(
            pool[index // LAUNCH_SHARE % len(pool)] if pool is matched else pool[index % len(pool)]
        )
        record["eventID"] = f"bench-{index:012d}"
        moment = START + index // 4
        record["eventTime"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))
        yield record


def generate_stream(path: Path, count: int) -> int:
    """Write `count` records as JSON lines; the file's size."""
    with path.open("wb") as out:
        for record in _stream_records(count):
            out.write(orjson.dumps(record) + b"\n")
    return path.stat().st_size


def generate_s3_layout(folder: Path, count: int, per_object: int = RECORDS_PER_OBJECT) -> int:
    """Write `count` records as CloudTrail delivers them: gzipped {"Records": [...]} objects of
    `per_object` records under AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/, named with the
    time of their first record. The total size of the objects."""
    records, size, index = _stream_records(count), 0, 0
    while batch := list(islice(records, per_object)):
        moment = time.strptime(batch[0]["eventTime"], "%Y-%m-%dT%H:%M:%SZ")
        day = time.strftime("%Y/%m/%d", moment)
        stamp = time.strftime("%Y%m%dT%H%MZ", moment)
        path = folder / f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/{day}"
        path.mkdir(parents=True, exist_ok=True)
        path /= f"{ACCOUNT}_CloudTrail_us-east-1_{stamp}_{index:016X}.json.gz"
        path.write_bytes(gzip.compress(orjson.dumps({"Records": batch}), compresslevel=6))
        size, index = size + path.stat().st_size, index + 1
    return size


def bare_parse(path: Path) -> tuple[int, float]:
    started = time.perf_counter()
    count = 0
    with path.open("rb") as lines:
        for line in lines:
            orjson.loads(line)
            count += 1
    return count, time.perf_counter() - started


def replay_file(path: Path, jobs: int = 1) -> tuple[int, int, float]:
    from compute_abuse.inputs import FilteredReader
    from compute_abuse.replay import Replay

    engine = Replay()
    reader = FilteredReader([str(path)], keep=engine.candidate_pairs(), jobs=jobs)
    started = time.perf_counter()
    alerts = sum(1 for _ in engine.run(reader))
    return reader.records_read, alerts, time.perf_counter() - started


def peak_rss_mb(path: Path, jobs: int = 1) -> float:
    """Peak RSS of a fresh process replaying `path` with `jobs` workers: the largest of the
    process and its workers."""
    output = subprocess.run(  # nosec B603
        [
            sys.executable,
            "-m",
            "compute_abuse.bench",
            "--child-replay",
            str(path),
            "--jobs",
            str(jobs),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(output.strip().splitlines()[-1])


def bare_parse_objects(folder: Path) -> int:
    """Records in the S3 objects under `folder`, each gunzipped and parsed whole (orjson)."""
    count = 0
    for path in sorted(folder.rglob("*.json.gz")):
        count += len(orjson.loads(gzip.decompress(path.read_bytes()))["Records"])
    return count


def whole_process_seconds(arguments: list[str]) -> float:
    """Wall time of `python <arguments>`, start-up included."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, *arguments],
        check=True,  # nosec B603
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def s3_layout_rounds(folder: Path, rounds: int) -> dict[str, list[float]]:
    """Seconds of each whole process, alternating, per round."""
    commands = {
        "bare gunzip + orjson parse": ["-m", "compute_abuse.bench", "--child-parse", str(folder)],
        "replay, all cores": ["-m", "compute_abuse", "replay", str(folder), "--format", "jsonl"],
        "replay, --jobs 1": [
            "-m",
            "compute_abuse",
            "replay",
            str(folder),
            "--format",
            "jsonl",
            "--jobs",
            "1",
        ],
    }
    seconds: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(max(rounds, 1)):
        for name, arguments in commands.items():
            seconds[name].append(whole_process_seconds(arguments))
    return seconds


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
        events = [PantherEvent(r) for r in unmatched][:1000]
        base = per_call(baseline, events)
        cost = per_call(rule.module.rule, events)
        rows.append((rule.detection_id, cost, cost / base))
    rows.insert(0, ("baseline: event.get('eventName') == ...", base, 1.0))
    return rows


def cache_savings(folder: Path) -> list[tuple[str, str, float]]:
    """(cache, why it is kept, replay time without it / with it) for each cache in the content,
    over the events the rules can match in the S3 layout, through panther_core as in Panther.
    Each cache is turned off by putting the function it wraps in its place."""
    from compute_abuse.inputs import FilteredReader
    from compute_abuse.replay import Replay

    records = list(FilteredReader([str(folder)], keep=Replay().candidate_pairs()))
    import ec2_compute_windows as windows

    import ec2_compute_helpers as helpers  # importable once Replay() installed the helpers

    def seconds() -> float:
        engine = Replay()
        started = time.perf_counter()
        sum(1 for _ in engine.run(records))
        return time.perf_counter() - started

    caches = (
        (
            helpers,
            "_per_event",
            lambda kind, event, read: read(event),
            "ec2_compute_helpers._per_event: one read of an event's time, summary, actor... for "
            "every rule and alert function Panther runs on it",
        ),
        (
            windows,
            "_decode",
            windows._decode.__wrapped__,
            "ec2_compute_windows._decode (lru_cache): a window's members decoded once per process, "
            "not on every event of the key",
        ),
        (
            helpers,
            "_matches_any",
            helpers._matches_any.__wrapped__,
            "ec2_compute_helpers._matches_any (lru_cache): a user agent or ARN matched once per "
            "pattern list",
        ),
        (
            helpers,
            "_parsed_entries",
            helpers._parsed_entries.__wrapped__,
            "ec2_compute_helpers._parsed_entries (lru_cache): a configured list parsed once",
        ),
    )
    rows = []
    for module, name, plain, why in caches:
        cached = getattr(module, name)
        with_cache = min(seconds() for _ in range(2))
        setattr(module, name, plain)
        try:
            without = min(seconds() for _ in range(2))
        finally:
            setattr(module, name, cached)
        rows.append((name, why, without / with_cache))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--s3-events", type=int, default=300_000, help="records in the S3 layout")
    parser.add_argument("--rounds", type=int, default=5, help="alternating timing rounds")
    parser.add_argument("--child-replay", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--jobs", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--child-parse", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_parse:
        print(bare_parse_objects(args.child_parse))
        return 0
    if args.child_replay:
        replay_file(args.child_replay, args.jobs)
        largest = max(
            resource.getrusage(who).ru_maxrss
            for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
        )
        print(largest / 1024)  # KiB on Linux
        return 0

    with tempfile.TemporaryDirectory() as folder:
        small, large = Path(folder, "100k.jsonl"), Path(folder, "stream.jsonl")
        size = generate_stream(large, args.events)
        generate_stream(small, min(100_000, args.events))
        print(
            f"JSON lines: {args.events:,} events, {size / 1e6:,.0f} MB, 1 in {LAUNCH_SHARE} "
            "an event the rules can match (mostly launch calls)"
        )

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
        print(f"\nThroughput in process (best of {len(parse_seconds)} alternating rounds)")
        print(f"  bare orjson parse   {parse_rate:>12,.0f} events/s")
        print(f"  replay, one process {replay_rate:>12,.0f} events/s   ({alerts:,} alerts)")
        print(f"  ratio replay/parse  {replay_rate / parse_rate:>12.2f}")
        print(f"  each round's ratio  {rounds:>12}")

        objects = Path(folder, "s3")
        size = generate_s3_layout(objects, args.s3_events)
        count = args.s3_events
        print(
            f"\nS3 layout: {count:,} records in {-(-count // RECORDS_PER_OBJECT):,} .json.gz "
            f"objects, {size / 1e6:,.1f} MB; whole processes, {os.cpu_count()} cores "
            f"(best of {max(args.rounds, 1)} alternating rounds)"
        )
        seconds = s3_layout_rounds(objects, args.rounds)
        base = seconds["bare gunzip + orjson parse"]
        for name, times in seconds.items():
            ratios = "  ".join(f"{b / t:.2f}" for b, t in zip(base, times, strict=True))
            print(
                f"  {name:<28} {count / min(times):>10,.0f} records/s   "
                f"ratio {min(base) / min(times):>5.2f}   rounds {ratios}"
            )
        print("  (target: replay with all cores >= 1.50x the bare parse)")

        print("\nPeak RSS of the replay, fresh process each (target: flat, < 250 MB)")
        jobs = os.cpu_count() or 1
        for label, path, workers in (
            ("100k events", small, 1),
            (f"{args.events / 1e6:g}M events", large, 1),
            (f"S3 layout, {jobs} workers", objects, jobs),
        ):
            print(f"  {label:<24} {peak_rss_mb(path, workers):>8.0f} MB")

        print(
            "\nContent caches: the S3 layout's rule evaluation without each / with it, through "
            "panther_core (Panther's engine)"
        )
        for _name, why, ratio in cache_savings(objects):
            print(f"  {ratio:>5.2f}x  {why}")

    print("\nrule() on non-matching events (target <= 1.50x the baseline)")
    for name, nanoseconds, ratio in rule_costs():
        print(f"  {name:<42} {nanoseconds:>7.0f} ns   {ratio:>5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
