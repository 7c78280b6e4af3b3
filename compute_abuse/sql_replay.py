"""The data-lake side of a backtest: the pack's scheduled queries run hourly over CloudTrail
records in DuckDB (compute_abuse/sql.py), as Panther runs them, and each row through the
scheduled rule that reads the query. What each scheduled rule alerts on, and at which run, is
comparable with `replay`'s streaming alerts: the data-lake rules use the streaming rules' dedup
strings.

Records arrive `arrival` after their event time (unless they carry a `p_parse_time`). A query runs
at the first whole hour after each arrival: between arrivals no window grows, so those runs are
the hourly runs that can report anything new.
"""

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from compute_abuse import queries, sql
from compute_abuse.content import (
    install_global_helpers,
    load_rule,
    rule_spec,
    run_rule,
    specs_of_type,
)
from compute_abuse.replay import Replay

ARRIVAL = timedelta(minutes=2)


@dataclass(frozen=True)
class DataLakeAlert:
    rule_id: str
    dedup: str
    run: datetime  # the first hourly run that reported it
    title: str


@dataclass(frozen=True)
class Skipped:
    index: int
    reason: str


def stamped(records: Iterable[Mapping], arrival: timedelta = ARRIVAL) -> tuple[list, list]:
    """The records with a `p_parse_time` (their own, else event time + `arrival`), and the ones
    left out (no readable event time), each named by its position."""
    kept, skipped = [], []
    for index, record in enumerate(records):
        try:
            event_time = sql.event_time(record)
        except (TypeError, ValueError) as error:
            skipped.append(Skipped(index, str(error)))
            continue
        arrived = record.get("p_parse_time") or (event_time + arrival).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        kept.append({**record, "p_parse_time": arrived})
    return kept, skipped


def hourly_runs(records: Iterable[Mapping]) -> list[datetime]:
    """The first whole hour after each record's arrival, in order."""
    hours = set()
    for record in records:
        arrived = sql.event_time({"eventTime": record["p_parse_time"]})
        hour = arrived.replace(minute=0, second=0, microsecond=0, tzinfo=UTC)
        hours.add(hour + timedelta(hours=1))
    return sorted(hours)


def scheduled_rules() -> list[tuple[str, str]]:
    """(scheduled rule ID, the query it reads) for every scheduled rule of the pack."""
    return sorted(
        (spec.analysis_id, query)
        for spec in specs_of_type("scheduled_rule")
        for query in spec.body.get("ScheduledQueries", [])
    )


def data_lake_alerts(records: Iterable[Mapping], arrival: timedelta = ARRIVAL) -> tuple[list, list]:
    """Every alert of the pack's scheduled rules over the records, once per rule and dedup
    string (its first run), in run order; and the records left out."""
    kept, skipped = stamped(records, arrival)
    return _alerts(kept), skipped


def _alerts(kept: list, rule_ids: Collection[str] | None = None) -> list[DataLakeAlert]:
    """data_lake_alerts over records already stamped: each run loads what has arrived by then
    once, and every scheduled query (of the scheduled rules `rule_ids`, where given) reads it."""
    install_global_helpers()
    by_name = {spec["QueryName"]: spec["SnowflakeQuery"] for spec in queries.specs().values()}
    rules = [
        (rule_id, load_rule(rule_spec(rule_id)), by_name[query_name])
        for rule_id, query_name in scheduled_rules()
        if rule_ids is None or rule_id in rule_ids
    ]
    first: dict[tuple[str, str], DataLakeAlert] = {}
    for run in hourly_runs(kept):
        connection = sql.load(kept, run)
        for rule_id, rule, query in rules:
            for row in sql.query(connection, query, run):
                result = _run_row(rule, row)
                if result.trigger_alert and (rule_id, result.dedup_output) not in first:
                    alert = DataLakeAlert(rule_id, result.dedup_output, run, result.title_output)
                    first[(rule_id, result.dedup_output)] = alert
    return sorted(first.values(), key=lambda a: (a.run, a.rule_id, a.dedup))


def _run_row(rule, row: Mapping):
    """A row as Panther hands it to a scheduled rule: JSON values (DuckDB's decimals and dates as
    numbers and ISO text)."""
    plain = json.loads(json.dumps(row, default=_json_value))
    return run_rule(rule, plain)


def _json_value(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return int(value) if value == int(value) else float(value)  # a Decimal


@dataclass(frozen=True)
class Verdict:
    """One alert of either side, for a scheduled rule with a streaming counterpart (its ID less
    "DataLake"): `data_lake` and `streaming` are when each raised it (None: never)."""

    rule_id: str
    dedup: str
    data_lake: datetime | None
    streaming: str | None


def compare(
    records: Iterable[Mapping],
    arrival: timedelta = ARRIVAL,
    rule_ids: Collection[str] | None = None,
) -> tuple[list, list, list]:
    """(verdicts of the scheduled rules that have a streaming counterpart, the data-lake alerts
    of those that have none, the records left out); of the scheduled rules `rule_ids` only, where
    given (the streaming side runs every rule: they share what the KV store remembers)."""
    kept, skipped = stamped(records, arrival)  # in delivery order, as `replay` and Panther read
    alerts = _alerts(kept, rule_ids)
    streaming_ids = {spec.analysis_id for spec in specs_of_type("rule")}
    twins = {  # scheduled rule -> its streaming twin
        rule_id: rule_id.removesuffix("DataLake")
        for rule_id, _ in scheduled_rules()
        if rule_id.removesuffix("DataLake") in streaming_ids
        and (rule_ids is None or rule_id in rule_ids)
    }
    streamed: dict[tuple[str, str], str] = {}  # the first alert of each dedup string
    for alert in Replay().run(kept):  # every rule: they share what the KV store remembers
        if alert.rule_id in twins.values():
            streamed.setdefault((alert.rule_id, alert.dedup), alert.event_time)
    verdicts, unpaired, lake = [], [], {}
    for alert in alerts:
        if alert.rule_id in twins:
            lake[(twins[alert.rule_id], alert.dedup)] = alert
        else:
            unpaired.append(alert)
    for key in sorted(set(lake) | set(streamed)):
        data_lake = lake[key].run if key in lake else None
        verdicts.append(Verdict(key[0], key[1], data_lake, streamed.get(key)))
    return verdicts, unpaired, skipped


def report(verdicts: list, unpaired: list, skipped: list) -> str:
    """The comparison as text: each alert, whether both sides raised it."""
    lines = ["rule | dedup | data lake (first run) | streaming (event time)"]
    for v in verdicts:
        lake = v.data_lake.strftime("%Y-%m-%dT%H:%M") if v.data_lake else "-"
        lines.append(f"{v.rule_id} | {v.dedup} | {lake} | {v.streaming or '-'}")
    agree = sum(1 for v in verdicts if v.data_lake and v.streaming)
    lines.append(
        f"both sides: {agree}; data lake only: {sum(1 for v in verdicts if not v.streaming)};"
        f" streaming only: {sum(1 for v in verdicts if not v.data_lake)}"
    )
    for alert in unpaired:
        lines.append(
            f"{alert.rule_id} (no streaming twin) | {alert.dedup} | "
            f"{alert.run.strftime('%Y-%m-%dT%H:%M')}"
        )
    lines += [f"left out: {s.reason}" for s in skipped[:20]]
    return "\n".join(lines)
