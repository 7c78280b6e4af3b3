"""Run the pack's Snowflake queries locally: Panther's macros expanded, SQL transpiled with
sqlglot to DuckDB, over CloudTrail events loaded in the shape of Panther's aws_cloudtrail table.

Three sqlglot gaps are closed here, each a rewrite of one construct's meaning, not of the query:
- `LATERAL FLATTEN(input => <array>) alias` becomes `UNNEST(CAST(<array> AS JSON[])) alias(value)`
  (sqlglot emits an UNNEST with Snowflake's keyword argument and FLATTEN's six columns);
- `<variant path>::STRING` and a flattened item's `alias.value::STRING` become DuckDB's text
  extraction (`->>`): a JSON value cast to text in DuckDB keeps its quotes, Snowflake's does not;
- `TO_ARRAY(<variant>)` keeps an array as it is (sqlglot wraps it in a second array): CloudTrail
  writes some one-item lists as the bare item.
"""

import functools
import json
import re
import tempfile
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp

_MACRO = re.compile(r"p_occurs_since\(\s*'([^']+)'\s*(?:,\s*([A-Za-z_][A-Za-z0-9_]*))?\s*\)")
_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}
TABLE = "panther_logs.public.aws_cloudtrail"
_TEXT_TYPES = {exp.DataType.Type.TEXT, exp.DataType.Type.VARCHAR}


def offset_seconds(offset: str) -> int:
    """Seconds of a Panther time offset: "8 hours", "1 day", "30 minutes", or bare seconds."""
    text = offset.strip().lower()
    if text.isdigit():
        return int(text)
    match = re.fullmatch(r"(\d+)\s*([a-z]+?)s?", text)
    if not match or match.group(2) not in _UNITS:
        raise ValueError(f"unsupported time offset {offset!r}")
    return int(match.group(1)) * _UNITS[match.group(2)]


def expand_macros(sql: str) -> str:
    """Panther's p_occurs_since(offset[, table alias]): events at or after now - offset."""

    def expand(match: re.Match) -> str:
        column = f"{match.group(2)}.p_event_time" if match.group(2) else "p_event_time"
        seconds = offset_seconds(match.group(1))
        return f"{column} >= DATEADD(second, -{seconds}, CURRENT_TIMESTAMP())"

    return _MACRO.sub(expand, sql)


def _to_array(value: exp.Expression) -> exp.Expression:
    """Snowflake's TO_ARRAY in DuckDB: NULL stays NULL, an array stays itself, any other value
    becomes a one-item array."""
    json_type = exp.func("JSON_TYPE", value.copy())
    return exp.Case(
        ifs=[
            exp.If(
                this=exp.or_(
                    exp.Is(this=value.copy(), expression=exp.Null()), json_type.eq("NULL")
                ),
                true=exp.cast(exp.Null(), "JSON[]"),
            ),
            exp.If(this=json_type.copy().eq("ARRAY"), true=exp.cast(value.copy(), "JSON[]")),
        ],
        default=exp.Array(expressions=[value.copy()]),
    )


def to_duckdb(snowflake_sql: str, now: datetime) -> str:
    """The query as DuckDB SQL, with the current time fixed to `now` (UTC)."""
    moment = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    return _transpiled(snowflake_sql).replace(f"'{_NOW_MARK}'", f"'{moment}'")


# The current time in a transpiled query, until to_duckdb fixes it: each query is transpiled once
# (the replay runs every query hourly, and sqlglot takes longer than DuckDB over a day's calls).
_NOW_MARK = "2999-12-31 23:59:59"


@functools.lru_cache(maxsize=64)
def _transpiled(snowflake_sql: str) -> str:
    """The query as DuckDB SQL, the current time as _NOW_MARK."""
    if _NOW_MARK in snowflake_sql:
        raise ValueError(f"the query holds {_NOW_MARK!r}, the mark of the current time")
    tree = sqlglot.parse_one(expand_macros(snowflake_sql), read="snowflake")
    for to_array in list(tree.find_all(exp.ToArray)):
        to_array.replace(_to_array(to_array.this))
    for lateral in list(tree.find_all(exp.Lateral)):
        explode = lateral.this
        if isinstance(explode, exp.Explode):
            array = explode.this.expression if isinstance(explode.this, exp.Kwarg) else explode.this
            alias = lateral.args["alias"].this
            lateral.replace(
                exp.Unnest(
                    expressions=[exp.cast(array.copy(), "JSON[]")],
                    alias=exp.TableAlias(this=alias, columns=[exp.to_identifier("value")]),
                )
            )
    for cast in list(tree.find_all(exp.Cast)):
        if isinstance(cast.this, exp.JSONExtract) and cast.to.this in _TEXT_TYPES:
            extract = cast.this
            cast.replace(exp.JSONExtractScalar(this=extract.this, expression=extract.expression))
        elif _is_flattened_value(cast.this) and cast.to.this in _TEXT_TYPES:
            cast.replace(
                exp.JSONExtractScalar(
                    this=cast.this, expression=exp.JSONPath(expressions=[exp.JSONPathRoot()])
                )
            )
    for current in list(tree.find_all(exp.CurrentTimestamp)):
        current.replace(exp.cast(exp.Literal.string(_NOW_MARK), "TIMESTAMP"))
    return tree.sql(dialect="duckdb")


def _is_flattened_value(node: exp.Expression) -> bool:
    """Whether `node` is a flattened item itself (`alias.value`), which Snowflake casts to its text
    (a string item: without its quotes) where DuckDB would cast its JSON."""
    return isinstance(node, exp.Column) and node.name.lower() == "value" and bool(node.table)


def event_time(record: Mapping) -> datetime:
    """A record's eventTime as the naive UTC time Panther's p_event_time holds."""
    text = str(record.get("eventTime", "")).replace(" ", "T").rstrip("Z")[:19]
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"record {record.get('eventID', '?')}: eventTime {record.get('eventTime')!r} is not "
            "a time (Panther would not load it into aws_cloudtrail either)"
        ) from None


# Keys of resources[] as Panther stores them (compute_abuse/data/panther_cloudtrail_schema.json):
# CloudTrail writes "ARN", Panther's table "arn".
_RESOURCE_KEYS = {"arn": "arn", "accountid": "accountId", "type": "type"}


def _panther_resources(resources: object) -> object:
    if not isinstance(resources, list):
        return resources
    return [
        {_RESOURCE_KEYS.get(str(k).lower(), k): v for k, v in item.items()}
        if isinstance(item, Mapping)
        else item
        for item in resources
    ]


_TEXT_COLUMNS = (
    "eventID",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "recipientAccountId",
    "errorCode",
    "errorMessage",
)
_JSON_COLUMNS = ("userIdentity", "requestParameters", "responseElements", "resources")
_TIME_COLUMNS = ("p_event_time", "p_parse_time")
# The rows are read back from JSON lines (one bulk read; inserting row by row takes seconds):
# the JSON columns as their JSON text, cast to JSON in the table, as a VARIANT holds them.
_READ_COLUMNS = ", ".join(
    [f"{name}: 'VARCHAR'" for name in (*_TEXT_COLUMNS, *_JSON_COLUMNS)]
    + [f"{name}: 'TIMESTAMP'" for name in _TIME_COLUMNS]
)


def load(events: Iterable[Mapping], now: datetime | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with panther_logs.public.aws_cloudtrail holding the events, the JSON
    fields as JSON columns as in Panther's table (Snowflake VARIANT), resources[] keys as Panther
    spells them. `p_parse_time` is the record's own if it has one, else a minute before `now`
    (every event arrived since the last hourly run), else its event time; a record arriving
    after `now` is not in the table yet."""
    connection = duckdb.connect(":memory:")
    connection.execute("ATTACH ':memory:' AS panther_logs")
    connection.execute("CREATE SCHEMA panther_logs.public")
    columns = [f"{name} VARCHAR" for name in _TEXT_COLUMNS]
    columns += [f"{name} JSON" for name in _JSON_COLUMNS]
    columns += [f"{name} TIMESTAMP" for name in _TIME_COLUMNS]
    connection.execute(f"CREATE TABLE {TABLE} ({', '.join(columns)})")
    arrived = (now.astimezone(UTC).replace(tzinfo=None) - timedelta(minutes=1)) if now else None
    lines = []
    for record in events:
        occurred = event_time(record)
        parse_time = record.get("p_parse_time")
        parse_time = event_time({"eventTime": parse_time}) if parse_time else arrived or occurred
        if now is not None and parse_time > now.astimezone(UTC).replace(tzinfo=None):
            continue  # not in the data lake yet
        row = {name: _text(record.get(name)) for name in _TEXT_COLUMNS}
        values = {name: record.get(name) for name in _JSON_COLUMNS}
        values["resources"] = _panther_resources(values["resources"])
        row.update({name: None if v is None else json.dumps(v) for name, v in values.items()})
        row.update(p_event_time=occurred.isoformat(), p_parse_time=parse_time.isoformat())
        lines.append(json.dumps(row))
    if lines:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder, "rows.jsonl")
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            # TABLE and the column list are this module's constants; the path is a parameter.
            connection.execute(
                f"INSERT INTO {TABLE} SELECT * FROM read_json(?, format = 'newline_delimited', "
                f"columns = {{{_READ_COLUMNS}}})",  # nosec B608
                [str(path)],
            )
    return connection


def _text(value: object) -> str | None:
    """A field as a VARCHAR column holds it (what the row-by-row insert cast it to)."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


def run(snowflake_sql: str, events: Iterable[Mapping], now: datetime) -> list[dict]:
    """The query's result rows over the events, as dicts keyed by lower-case column name."""
    return query(load(events, now), snowflake_sql, now)


def query(connection: duckdb.DuckDBPyConnection, snowflake_sql: str, now: datetime) -> list[dict]:
    """The query's result rows over a table `load` filled for the same `now` (several queries
    over one load)."""
    cursor = connection.execute(to_duckdb(snowflake_sql, now))
    names = [column[0].lower() for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
