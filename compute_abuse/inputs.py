"""Read CloudTrail records from what users have, one record at a time.

Accepted, by file or by folder (recursively, e.g. the S3 layout
AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/), each optionally gzipped:
- CloudTrail S3 objects: {"Records": [...]};
- JSON lines: one record per line (a line may also hold a {"Records": [...]} object);
- `aws cloudtrail lookup-events` output: {"Events": [{"CloudTrailEvent": "<JSON string>"}]};
- a JSON array of records.
JSON lines are streamed; a whole-document file (an S3 object, lookup-events output) is read whole,
as those are small. Bad input never stops the run: each problem is recorded with the file and
line, and the rest of the input is still read.
"""

import gzip
import io
import re
import sys
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

_CLOUDTRAIL_OBJECT_TIME = re.compile(r"_CloudTrail_[a-z0-9-]+_(\d{8}T\d{4}Z)_")
SUFFIXES = (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz")
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class Problem:
    """A record or part of the input that could not be read, and where."""

    location: str  # "path" or "path:line"
    reason: str

    def __str__(self) -> str:
        return f"{self.location}: {self.reason}"


@dataclass
class RecordReader:
    """Iterates CloudTrail records (dicts) from paths; `problems` lists what was skipped."""

    paths: Iterable[str]
    problems: list[Problem] = field(default_factory=list)
    files_read: int = 0

    def __iter__(self) -> Iterator[dict]:
        for path in self._files():
            yield from self._read_file(path)

    def _files(self) -> Iterator[Path | None]:
        for name in self.paths:
            if name == "-":
                yield None  # standard input
                continue
            path = Path(name)
            if path.is_dir():
                found = sorted((p for p in path.rglob("*") if p.is_file() and _is_log(p)),
                               key=_delivery_order)  # fmt: skip
                if not found:
                    self.problems.append(Problem(name, "folder holds no .json/.jsonl(.gz) files"))
                yield from found
            elif path.is_file():
                yield path
            else:
                self.problems.append(Problem(name, "no such file or folder"))

    def _read_file(self, path: Path | None) -> Iterator[dict]:
        name = "<stdin>" if path is None else str(path)
        self.files_read += 1
        try:
            with _open(path) as stream:
                yield from self._read_stream(stream, name)
        except (EOFError, zlib.error, gzip.BadGzipFile) as error:
            self.problems.append(
                Problem(name, f"truncated or corrupt gzip ({error}); rest skipped")
            )
        except OSError as error:
            self.problems.append(Problem(name, f"cannot read: {error}"))

    def _read_stream(self, stream: IO[bytes], name: str) -> Iterator[dict]:
        first = stream.readline()
        while first and not first.strip():
            first = stream.readline()
        if not first:
            return
        try:
            head = orjson.loads(first)
        except orjson.JSONDecodeError:
            head = None
        if head is not None and not _is_document(head):
            yield from self._records_of(head, f"{name}:1")  # JSON lines
            yield from self._read_lines(stream, name)
            return
        # A document spread over several lines (pretty-printed), or one whole-document line.
        text = first + stream.read() if head is None else first
        try:
            document = orjson.loads(text)
        except orjson.JSONDecodeError as error:
            if head is None and b"\n" in text.strip():
                yield from self._read_lines(_Lines(text), name, number=0)  # JSON lines, bad line 1
                return
            self.problems.append(Problem(name, f"not JSON ({error})"))
            return
        yield from self._records_of(document, name)

    def _read_lines(self, lines: Iterable[bytes], name: str, number: int = 1) -> Iterator[dict]:
        for line_number, line in enumerate(lines, start=number + 1):
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError as error:
                if line.strip():
                    self.problems.append(Problem(f"{name}:{line_number}", f"not JSON ({error})"))
                continue
            if type(value) is dict and "eventName" in value:
                yield value  # the common case, without the format checks
            else:
                yield from self._records_of(value, f"{name}:{line_number}")

    def _records_of(self, value: Any, where: str) -> Iterator[dict]:
        """Records inside one parsed JSON value, whatever its format."""
        if isinstance(value, dict) and "Records" in value:
            items, label = value["Records"], "Records"
        elif isinstance(value, dict) and "Events" in value:
            items, label = value["Events"], "Events"
        elif isinstance(value, list):
            items, label = value, ""
        elif isinstance(value, dict) and "CloudTrailEvent" in value:
            items, label = [value], ""
        elif isinstance(value, dict) and ("eventName" in value or "eventSource" in value):
            yield value
            return
        else:
            kind = type(value).__name__ if not isinstance(value, dict) else "object"
            self.problems.append(
                Problem(
                    where,
                    f"unknown format: a JSON {kind} that is not a CloudTrail record, "
                    '{"Records": [...]} or lookup-events output',
                )
            )
            return
        if not isinstance(items, list):
            self.problems.append(Problem(where, f"{label or 'value'} is not a list"))
            return
        for index, item in enumerate(items):
            record = _unwrap_lookup_event(item)
            if isinstance(record, dict):
                yield record
            else:
                place = f"{label}[{index}]" if label else f"[{index}]"
                self.problems.append(Problem(where, f"{place} is not a CloudTrail record object"))


class _Lines:
    """The lines of an in-memory document, for re-reading it as JSON lines."""

    def __init__(self, text: bytes):
        self.text = text

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.text.splitlines())


def _unwrap_lookup_event(item: Any) -> Any:
    """lookup-events wraps each record as a JSON string in CloudTrailEvent."""
    if isinstance(item, dict) and isinstance(item.get("CloudTrailEvent"), str):
        try:
            return orjson.loads(item["CloudTrailEvent"])
        except orjson.JSONDecodeError:
            return None
    return item


def _is_document(value: Any) -> bool:
    return isinstance(value, list) or (
        isinstance(value, dict) and ("Records" in value or "Events" in value)
    )


def _delivery_order(path: Path) -> tuple[str, str]:
    """CloudTrail names S3 objects ..._CloudTrail_<region>_<YYYYMMDDTHHMMZ>_...: read them in
    that time order across regions, as Panther would receive them; other files by path."""
    match = _CLOUDTRAIL_OBJECT_TIME.search(path.name)
    return (match.group(1) if match else "", str(path))


def _is_log(path: Path) -> bool:
    return path.name.endswith(SUFFIXES) and not path.name.startswith(".")


@contextmanager
def _open(path: Path | None) -> Iterator[IO[bytes]]:
    """The file (or standard input) as bytes, gunzipped when it starts with gzip's magic."""
    raw = sys.stdin.buffer if path is None else path.open("rb")
    try:
        if raw.peek(2)[:2] == _GZIP_MAGIC:
            with gzip.GzipFile(fileobj=raw) as unzipped:
                yield io.BufferedReader(unzipped, buffer_size=1 << 20)
        else:
            yield raw
    finally:
        if path is not None:
            raw.close()
