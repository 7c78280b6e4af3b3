"""Command line of the pack's tooling.

python -m compute_abuse replay [PATH ...] [--rules ID ...] [--config FILE] [--format table|jsonl]
                             [--jobs N]
python -m compute_abuse export DEST [--with-data-model]
python -m compute_abuse catalog
python -m compute_abuse new-rule NAME
python -m compute_abuse pack | docs | queries
python -m compute_abuse sample
"""

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import yaml

from compute_abuse import REPO_ROOT

SAMPLE_DIR = REPO_ROOT / "samples" / "cloudtrail"
EXIT_SKIPPED = 2  # the replay ran, but some input could not be read, or a rule raised
EXIT_USAGE = 2  # bad arguments or --config: nothing was replayed
MAX_PRINTED_PROBLEMS = 50
CONTEXT_KEYS = (
    "account_id",
    "region",
    "principal",
    "actor_arn",
    "source_ip",
    "user_agent",
    "instance_types",
    "outcome",
    "error_code",
    "window_total",
    "window_first_event_time",
    "window_last_event_time",
    "degraded",
    "stages",
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m compute_abuse",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    replay = commands.add_parser(
        "replay",
        help="run the pack's streaming rules over CloudTrail logs (a local backtest)",
        description="Replay CloudTrail logs through every streaming rule of the pack, as Panther "
        "would run them, and report the alerts.",
    )
    replay.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="CloudTrail files or folders (S3 objects, S3-layout folders, JSON lines, "
        "lookup-events output; .gz too); '-' reads standard input. Default: the bundled sample.",
    )
    replay.add_argument("--rules", nargs="+", metavar="ID", help="only these rule IDs")
    replay.add_argument(
        "--config",
        metavar="FILE",
        type=Path,
        help="YAML or JSON mapping of ec2_compute_config settings to try, "
        "e.g. {VCPU_SURGE_THRESHOLD: 400}",
    )
    replay.add_argument("--format", choices=("table", "jsonl"), default="table")
    replay.add_argument(
        "--jobs",
        type=_positive,
        default=os.cpu_count() or 1,
        metavar="N",
        help="worker processes that read and filter the files (default: all cores); "
        "the alerts are the same for any N",
    )
    export = commands.add_parser(
        "export",
        help="install the pack into a panther-analysis fork (or any Panther content repo)",
        description="Copy the pack's rules, helpers and queries into DEST's layout and write a "
        "pack manifest that pat check-packs accepts there; re-running updates in place.",
    )
    export.add_argument("dest", metavar="DEST", type=Path, help="the content repo's root")
    export.add_argument(
        "--with-data-model",
        action="store_true",
        help="also copy the pack's (disabled) CloudTrail data model",
    )
    sql_replay = commands.add_parser(
        "sql-replay",
        help="run the scheduled queries hourly over CloudTrail logs, beside the streaming rules",
        description="Run every scheduled query hourly in DuckDB over the logs (records arriving "
        "2 minutes after their event time), each row through its scheduled rule, and list each "
        "alert beside the streaming rule's of the same dedup string.",
    )
    sql_replay.add_argument(
        "paths", nargs="*", metavar="PATH", help="as for replay. Default: the bundled sample."
    )
    commands.add_parser("catalog", help="regenerate global_helpers/ec2_instance_catalog.py")
    commands.add_parser("sample", help="regenerate the bundled sample data in samples/")
    commands.add_parser("docs", help="regenerate docs/detections.md from the rules")
    commands.add_parser("queries", help="regenerate queries/*.yml from the SQL templates")
    commands.add_parser("pack", help="list every item of the repo in packs/ (new ones appended)")
    new_rule = commands.add_parser(
        "new-rule",
        help="scaffold a detection: its .py, its .yml (with tests) and one test module",
        description="Write rules/aws_ec2_compute_abuse/<name>.py and .yml and "
        "tests/test_<name>.py for ComputeAbuse.AWS.EC2.<Name>, then run `make generate`.",
    )
    new_rule.add_argument("name", metavar="NAME", help="CamelCase, e.g. SpotPriceProbe")
    args = parser.parse_args(argv)

    handlers = {
        "export": _export,
        "catalog": _catalog,
        "queries": _queries,
        "docs": _docs,
        "sample": _sample,
        "replay": run_replay,
        "sql-replay": _sql_replay,
        "pack": _pack,
        "new-rule": _new_rule,
    }
    return handlers[args.command](args)


def _export(args: argparse.Namespace) -> int:
    from compute_abuse.export import ExportRefused, export

    try:
        written = export(args.dest, args.with_data_model)
    except ExportRefused as refusal:
        print(f"export: refused, nothing written: {_printable(str(refusal))}", file=sys.stderr)
        return EXIT_USAGE
    print(
        f"export: {len(written)} file(s) written or updated under {args.dest}"
        + "".join(f"\n  {name}" for name in written)
    )
    return 0


def _sql_replay(args: argparse.Namespace) -> int:
    from compute_abuse.inputs import RecordReader
    from compute_abuse.sql_replay import compare, report

    records = RecordReader([str(p) for p in args.paths] or [str(SAMPLE_DIR)])
    print(report(*compare(records)))
    return 0


def _catalog(_args: argparse.Namespace) -> int:
    from compute_abuse import catalog

    print(f"wrote {catalog.write()}")
    return 0


def _queries(_args: argparse.Namespace) -> int:
    from compute_abuse import queries

    for path in queries.write():
        print(f"wrote {path}")
    return 0


def _docs(_args: argparse.Namespace) -> int:
    from compute_abuse import docs

    print(f"wrote {docs.write()}")
    return 0


def _pack(_args: argparse.Namespace) -> int:
    from compute_abuse import scaffold

    print("updated the pack's IDs" if scaffold.sync_pack() else "the pack lists every item")
    return 0


def _new_rule(args: argparse.Namespace) -> int:
    from compute_abuse import scaffold

    try:
        paths = scaffold.new_rule(args.name)
    except ValueError as error:
        print(f"new-rule: {error}", file=sys.stderr)
        return EXIT_USAGE
    for path in paths:
        print(f"wrote {path}")
    print("next: edit them, then `make generate` (pack, docs, queries) and `make test`")
    return 0


def _sample(_args: argparse.Namespace) -> int:
    from compute_abuse import sample_data

    print(f"wrote {sample_data.write(SAMPLE_DIR)} records under {SAMPLE_DIR}")
    return 0


def run_replay(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from compute_abuse.inputs import FilteredReader
    from compute_abuse.replay import Replay, apply_config_overrides

    try:
        if args.config:
            apply_config_overrides(_load_mapping(args.config), str(args.config))
        replay = Replay(args.rules)
    except (ValueError, OSError) as error:
        print(f"replay: {_printable(str(error))[:500]}", file=sys.stderr)
        return EXIT_USAGE

    progress = tqdm(
        unit=" records", file=sys.stderr, disable=not sys.stderr.isatty(), mininterval=0.5
    )
    reader = FilteredReader(
        args.paths or [str(SAMPLE_DIR)],
        keep=replay.candidate_pairs(),
        jobs=args.jobs,
        on_file=progress.update,
    )
    started = time.perf_counter()
    # Alerts are printed at the end: later matches of the same dedup string fold into them.
    alerts = sorted(replay.run(reader), key=_event_time_order)
    elapsed = time.perf_counter() - started
    progress.close()

    summary = _summary(replay, reader, elapsed)
    if args.format == "jsonl":  # JSON escapes control characters itself
        for alert in alerts:
            sys.stdout.write(json.dumps(alert.as_dict(), sort_keys=True) + "\n")
        print(summary, file=sys.stderr)
    else:
        print(summary)
        print(_alerts_table(alerts))
    shown = reader.problems[:MAX_PRINTED_PROBLEMS]
    for problem in shown:
        print(f"replay: skipped {_printable(str(problem))}", file=sys.stderr)
    if reader.problem_count > len(shown):
        print(f"replay: ... and {reader.problem_count - len(shown):,} more", file=sys.stderr)
    for error in replay.rule_errors:
        print(f"replay: rule error: {_printable(error)}", file=sys.stderr)
    if replay.rule_error_count > len(replay.rule_errors):
        print(
            f"replay: ... and {replay.rule_error_count - len(replay.rule_errors):,} more "
            "rule errors",
            file=sys.stderr,
        )
    return EXIT_SKIPPED if reader.problem_count or replay.rule_error_count else 0


def _positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def _event_time_order(alert) -> tuple[float, float]:
    """Alerts by the time of the event that opened them (those without a readable time last),
    in the order they were raised when the times are equal (the sort is stable)."""
    return (0, alert.epoch) if alert.epoch is not None else (1, 0)


def _load_mapping(path: Path) -> dict:
    """The settings of a --config file; ValueError with one line (file, where, what) if not."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise ValueError(f"{path}: cannot read ({error.strerror or error})") from None
    try:
        value = yaml.load(text, Loader=_NoAliasLoader)  # nosec B506: a SafeLoader, without aliases
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ValueError(f"{path}: not valid YAML{where}: {reason}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{path}: expected a mapping of setting names to values")
    return value


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without anchors and aliases: a settings file needs none, and a "billion laughs" file
    (aliases of aliases) expands beyond any memory when printed."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in a settings file", event.start_mark
            )
        return super().compose_node(parent, index)


# Control characters (C0, DEL, C1) and bidirectional overrides in log fields would reach the
# terminal raw: a crafted user name could clear the screen, forge alert lines or hide them.
_UNPRINTABLE = {
    code: f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    for code in [*range(0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
}


def _printable(text: str) -> str:
    """`text` with control characters shown escaped (\\x1b), never sent to the terminal."""
    return text.translate(_UNPRINTABLE)


def _summary(replay, reader, elapsed: float) -> str:
    not_read = [
        f"{count:,} {what}"
        for count, what in (
            (reader.digests_skipped, "CloudTrail digest file(s)"),
            (reader.other_files, "file(s) without a .json/.jsonl(.gz) name"),
        )
        if count
    ]
    lines = [
        f"Replayed {reader.records_read:,} records from {reader.files_read:,} file(s) in "
        f"{elapsed:.1f} s: {replay.events_evaluated:,} evaluated by rules, "
        f"{reader.problem_count:,} skipped."
        + (f" Not read: {', '.join(not_read)}." if not_read else ""),
        "",
        f"{'Rule':<42} {'Alerts':>6}  {'Severities':<24} Top principals",
    ]
    by_severity = sorted(
        replay.tallies.items(),
        key=lambda item: (-max((_RANK.get(s, 0) for s in item[1].severities), default=0), item[0]),
    )
    for rule_id, tally in by_severity:
        severities = ", ".join(f"{s} {n}" for s, n in sorted(tally.severities.items()))
        actors = ", ".join(f"{a} ({n})" for a, n in tally.actors.most_common(3))
        row = f"{rule_id:<42} {tally.alerts:>6}  {severities or '-':<24} {actors or '-'}"
        lines.append(_printable(row))
    return "\n".join(lines)


_RANK = {"INFO": 1, "LOW": 2, "MEDIUM": 3, "HIGH": 4, "CRITICAL": 5}


def _alerts_table(alerts) -> str:
    if not alerts:
        return "\nNo alerts."
    lines = ["", "Alerts (most severe first, then by time):"]
    for alert in sorted(alerts, key=lambda a: (-_RANK.get(a.severity, 0), a.event_time)):
        folded = f" (+{alert.matches - 1} later match(es) folded in)" if alert.matches > 1 else ""
        lines.append(f"[{alert.severity}] {alert.rule_id} at {alert.event_time}{folded}")
        lines.append(f"    {alert.title}")
        lines.append(f"    dedup: {alert.dedup}")
        shown = {key: alert.context[key] for key in CONTEXT_KEYS if alert.context.get(key)}
        lines.append(f"    context: {json.dumps(shown, sort_keys=False)}")
    return "\n".join(map(_printable, lines))
