"""Read CloudTrail records from what users have, one record at a time, never losing one silently.

Accepted, by file or by folder (recursively, e.g. the S3 layout
AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/, symlinks followed), each optionally gzipped:
- CloudTrail S3 objects: {"Records": [...]};
- JSON lines: one record per line (a line may also hold a {"Records": [...]} object or an array);
- `aws cloudtrail lookup-events` output: {"Events": [{"CloudTrailEvent": "<JSON string>"}]};
- a JSON array of records;
- several such documents one after another, on separate lines or not, pretty-printed or not.

Memory stays bounded whatever the input: a file up to MAX_IN_MEMORY_BYTES (decompressed) is parsed
in memory; a larger one is read line by line, and a line (or a pretty-printed document) larger than
that is parsed as a stream (ijson), one record at a time. Bad input never stops the run: every
problem is recorded with where it is (file, line) and why, the first MAX_PROBLEMS kept and all
counted, and the rest of the input is still read. CloudTrail digest files (which hold no records)
are recognised by name and counted, not read.

`FilteredReader` reads the same inputs in worker processes (gunzip, parse, filter: the costly part
of a replay) and yields only the records a caller keeps, in the same delivery order, with the same
problems, for any number of workers.
"""

import io
import json
import os
import re
import stat
import sys
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, Any

import ijson
import orjson

_CLOUDTRAIL_OBJECT_TIME = re.compile(r"_CloudTrail_[a-z0-9-]+_(\d{8}T\d{4}Z)_")
_DIGEST = re.compile(r"_CloudTrail-Digest_|(^|[/\\])CloudTrail-Digest([/\\]|$)")
SUFFIXES = (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz")
_GZIP_MAGIC = b"\x1f\x8b"
# Decompressed bytes of a file parsed in memory; of a line, above which it is parsed as a stream.
MAX_IN_MEMORY_BYTES = 32 << 20
MAX_PROBLEMS = 1000  # problems kept for the report; every one is counted
_READ_CHUNK = 1 << 20
_STREAM_ERRORS = (ijson.JSONError, ijson.IncompleteJSONError, UnicodeDecodeError, ValueError)


@dataclass(frozen=True)
class Problem:
    """A record or part of the input that could not be read, and where."""

    location: str  # "path" or "path:line"
    reason: str

    def __str__(self) -> str:
        return f"{self.location}: {self.reason}"


@dataclass
class RecordReader:
    """Iterates CloudTrail records (dicts) from paths; `problems` lists what was skipped (the
    first MAX_PROBLEMS of `problem_count`)."""

    paths: Iterable[str]
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    files_read: int = 0
    digests_skipped: int = 0  # CloudTrail digest files, which hold no records
    other_files: int = 0  # files in folders without a .json/.jsonl(.gz) name, not read

    def __iter__(self) -> Iterator[dict]:
        for path in self._files():
            yield from self._read_file(path)

    def problem(self, location: str, reason: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(location, reason))

    # --- files ------------------------------------------------------------------------------

    def _files(self) -> Iterator[Path | None]:
        for name in self.paths:
            if name == "-":
                yield None  # standard input
                continue
            path = Path(name)
            try:
                mode = path.stat().st_mode
            except OSError as error:
                reason = "broken symlink" if path.is_symlink() else "no such file or folder"
                self.problem(name, f"{reason} ({error.strerror or error})")
                continue
            if stat.S_ISDIR(mode):
                found = sorted(self._walk(path), key=_delivery_order)
                if not found:
                    self.problem(name, "folder holds no .json/.jsonl(.gz) files")
                yield from found
            else:
                yield path  # a file, or a pipe or device named on purpose (<(zcat ...))

    def _walk(self, folder: Path) -> Iterator[Path]:
        """Log files under a folder, symlinks followed, each real folder visited once (a symlink
        loop is reported, not followed); special and unreadable entries reported."""
        seen: set[tuple[int, int]] = set()

        def unreadable(error: OSError) -> None:
            self.problem(str(error.filename or folder), f"cannot read folder ({error.strerror})")

        for root, folders, files in os.walk(folder, onerror=unreadable, followlinks=True):
            info = os.stat(root)
            if (info.st_dev, info.st_ino) in seen:
                self.problem(
                    root, f"symlink loop: leads back to {os.path.realpath(root)}; not followed"
                )
                folders[:] = []
                continue
            seen.add((info.st_dev, info.st_ino))
            folders.sort()
            for file_name in sorted(files):
                path = Path(root, file_name)
                if file_name.startswith("."):
                    continue  # editor and OS droppings (.DS_Store, .swp)
                if _DIGEST.search(str(path)):
                    self.digests_skipped += 1
                    continue
                if not file_name.endswith(SUFFIXES):
                    self.other_files += 1
                    continue
                try:
                    mode = path.stat().st_mode
                except OSError as error:
                    reason = "broken symlink" if path.is_symlink() else "cannot read"
                    self.problem(str(path), f"{reason} ({error.strerror or error})")
                    continue
                if not stat.S_ISREG(mode):
                    self.problem(str(path), f"not a regular file ({_kind(mode)}): not read")
                    continue
                yield path

    def _read_file(self, path: Path | None) -> Iterator[dict]:
        name = "<stdin>" if path is None else str(path)
        self.files_read += 1
        try:
            with _open(path) as (stream, gunzip):
                yield from self._read_stream(stream, name)
                if gunzip is not None and gunzip.damage:  # what came before it was read
                    self.problem(name, f"{gunzip.damage}; rest of the file lost")
        except OSError as error:
            self.problem(name, f"cannot read: {error.strerror or error}")

    # --- contents ---------------------------------------------------------------------------

    def _read_stream(self, stream: IO[bytes], name: str) -> Iterator[dict]:
        head = stream.read(MAX_IN_MEMORY_BYTES + 1)
        if len(head) <= MAX_IN_MEMORY_BYTES:
            yield from self._read_text(head, name)
        else:
            yield from self._read_large(head, stream, name)

    def _read_text(self, text: bytes, name: str) -> Iterator[dict]:
        """A whole file in memory: one document, JSON lines, or documents one after another."""
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
        else:
            yield from self._records_of(value, name)
            return
        lines: list[tuple[int, Any]] = []
        bad: list[tuple[int, orjson.JSONDecodeError]] = []
        for number, line in enumerate(text.split(b"\n"), start=1):
            if line.strip():
                try:
                    lines.append((number, orjson.loads(line)))
                except orjson.JSONDecodeError as error:
                    bad.append((number, error))
        if bad:
            documents = _documents(text)  # concatenated or pretty-printed documents
            if documents is not None:
                for index, (number, value) in enumerate(documents, start=1):
                    yield from self._records_of(value, f"{name}:{number} (document {index})")
                return
        for number, error in bad:
            self.problem(f"{name}:{number}", f"not JSON ({error})")
        for number, value in lines:
            if value.__class__ is dict and "eventName" in value:
                yield value  # the common case, without the format checks
            else:
                yield from self._records_of(value, f"{name}:{number}")

    def _read_large(self, head: bytes, stream: IO[bytes], name: str) -> Iterator[dict]:
        """A file larger than MAX_IN_MEMORY_BYTES (`head`, then the rest in `stream`), line by
        line; a line larger than that, or a pretty-printed document, is parsed as a stream."""
        buffer = io.BytesIO(head)
        number, first = 0, True
        for line in _lines(buffer, stream):
            number += 1
            if not line.strip():
                continue
            was_first, first = first, False
            if len(line) > MAX_IN_MEMORY_BYTES and not line.endswith(b"\n"):
                yield from self._read_values(_UntilNewline(line, stream), f"{name}:{number}")
                continue
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError as error:
                if was_first and error.pos >= len(line.rstrip()):
                    # A pretty-printed document (and whatever follows it), not JSON lines.
                    rest = _Prefixed(line + buffer.read(), stream)
                    yield from self._read_values(rest, f"{name}:{number}")
                    return
                self.problem(f"{name}:{number}", f"not JSON ({error})")
                continue
            if value.__class__ is dict and "eventName" in value:
                yield value  # the common case, without the format checks
            else:
                yield from self._records_of(value, f"{name}:{number}")

    def _read_values(self, stream: IO[bytes], where: str) -> Iterator[dict]:
        """Records of the JSON values in a stream, one record in memory at a time."""
        values = _StreamedValues(stream)
        try:
            for value, is_record in values:
                if is_record:
                    record = _unwrap_lookup_event(value)
                    if isinstance(record, dict):
                        yield record
                    else:
                        self.problem(
                            where,
                            f"value {values.count} holds an item that is not "
                            "a CloudTrail record object",
                        )
                else:
                    yield from self._records_of(value, f"{where} (value {values.count})")
        except _STREAM_ERRORS as error:
            self.problem(
                where,
                f"not JSON after byte {stream.consumed:,} of this part ({error}); "
                "rest of the file skipped",
            )

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
            self.problem(
                where,
                f"unknown format: a JSON {kind} that is not a CloudTrail record, "
                '{"Records": [...]} or lookup-events output',
            )
            return
        if not isinstance(items, list):
            self.problem(where, f"{label or 'value'} is not a list")
            return
        for index, item in enumerate(items):
            record = _unwrap_lookup_event(item)
            if isinstance(record, dict):
                yield record
            else:
                place = f"{label}[{index}]" if label else f"[{index}]"
                self.problem(where, f"{place} is not a CloudTrail record object")


def _lines(head: IO[bytes], stream: IO[bytes]) -> Iterator[bytes]:
    """The lines of `head` then of `stream`, each at most MAX_IN_MEMORY_BYTES + 1 bytes (a longer
    line is cut there: its caller reads the rest from `stream`)."""
    limit = MAX_IN_MEMORY_BYTES + 1
    for line in head:
        if not line.endswith(b"\n") and len(line) < limit:  # the head ends inside this line
            yield line + stream.readline(limit - len(line))
        else:
            yield line
    yield from iter(partial(stream.readline, limit), b"")


def _documents(text: bytes) -> list[tuple[int, Any]] | None:
    """(line, value) of each JSON document in a text of documents one after another (`{...}{...}`
    or pretty-printed ones), or None when it is not that."""
    try:
        whole = text.decode("utf-8")
    except UnicodeDecodeError:
        return None
    decoder, position, documents = json.JSONDecoder(), 0, []
    while True:
        while position < len(whole) and whole[position].isspace():
            position += 1
        if position == len(whole):
            return documents
        try:
            value, end = decoder.raw_decode(whole, position)
        except ValueError:
            return None
        documents.append((whole.count("\n", 0, position) + 1, value))
        position = end


class _StreamedValues:
    """(value, is_record) for the JSON values of a stream: the records of a {"Records": [...]} or
    {"Events": [...]} object or of an array one at a time (is_record True), any other value
    whole. Values may follow one another, on one line or many."""

    def __init__(self, stream: IO[bytes]):
        self.stream = stream
        self.count = 0  # top-level values begun

    def __iter__(self) -> Iterator[tuple[Any, bool]]:
        events = ijson.parse(self.stream, multiple_values=True, use_float=True)
        for prefix, event, value in events:
            if prefix != "":
                continue  # never reached: each top-level value is consumed below
            self.count += 1
            if event == "start_array":
                yield from self._items(events, "item")
            elif event == "start_map":
                yield from self._object(events)
            else:
                yield value, False  # a scalar: reported as an unknown format

    def _object(self, events: Iterator) -> Iterator[tuple[Any, bool]]:
        builder = ijson.ObjectBuilder()
        builder.event("start_map", None)
        for prefix, event, value in events:
            if (
                prefix == ""
                and event == "map_key"
                and value in ("Records", "Events")
                and (len(builder.value) == 0)
            ):  # a document: its records one at a time, the rest of it ignored
                yield from self._document(events, value)
                return
            if prefix == "" and event == "end_map":
                yield builder.value, False
                return
            builder.event(event, value)
        raise ijson.IncompleteJSONError("the document ends inside an object")

    def _document(self, events: Iterator, key: str) -> Iterator[tuple[Any, bool]]:
        for prefix, event, value in events:
            if prefix == key and event == "start_array":
                yield from self._items(events, f"{key}.item")
            elif prefix == "" and event == "end_map":
                return
            elif prefix == key and event != "end_array":  # not a list: as _records_of says
                yield {key: value}, False
        raise ijson.IncompleteJSONError("the document ends inside an object")

    @staticmethod
    def _items(events: Iterator, item_prefix: str) -> Iterator[tuple[Any, bool]]:
        builder = None
        depth = 0
        array_prefix = item_prefix.rpartition(".")[0] if "." in item_prefix else ""
        for prefix, event, value in events:
            if builder is None:
                if prefix == array_prefix and event == "end_array":
                    return
                if event in ("start_map", "start_array"):
                    builder, depth = ijson.ObjectBuilder(), 0
                else:  # a scalar item: not a record
                    yield value, True
                    continue
            builder.event(event, value)
            if event in ("start_map", "start_array"):
                depth += 1
            elif event in ("end_map", "end_array"):
                depth -= 1
                if depth == 0:
                    yield builder.value, True
                    builder = None
        raise ijson.IncompleteJSONError("the document ends inside an array")


class _Prefixed:
    """A stream with bytes already read put back in front of it."""

    def __init__(self, head: bytes, stream: IO[bytes]):
        self.head, self.left, self.stream, self.consumed = io.BytesIO(head), len(head), stream, 0

    def read(self, size: int = -1) -> bytes:
        size = _READ_CHUNK if size is None or size < 0 else size
        data = self.head.read(size) if self.left else self.stream.read(size)
        self.left -= len(data) if self.left else 0
        self.consumed += len(data)
        return data


class _UntilNewline(_Prefixed):
    """The rest of one line of a stream (after the part already read), then the end."""

    def __init__(self, head: bytes, stream: IO[bytes]):
        super().__init__(head, stream)
        self.done = False

    def read(self, size: int = -1) -> bytes:
        if self.left:
            return super().read(size)
        if self.done:
            return b""
        data = self.stream.readline(_READ_CHUNK if size is None or size < 0 else size)
        self.done = not data or data.endswith(b"\n")
        self.consumed += len(data)
        return data


def _unwrap_lookup_event(item: Any) -> Any:
    """lookup-events wraps each record as a JSON string in CloudTrailEvent."""
    if isinstance(item, dict) and isinstance(item.get("CloudTrailEvent"), str):
        try:
            return orjson.loads(item["CloudTrailEvent"])
        except orjson.JSONDecodeError:
            return None
    return item


def _kind(mode: int) -> str:
    kinds = (
        (stat.S_ISFIFO, "FIFO"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
    )
    for test, name in kinds:
        if test(mode):
            return name
    return "special file"


def _delivery_order(path: Path) -> tuple[str, str]:
    """CloudTrail names S3 objects ..._CloudTrail_<region>_<YYYYMMDDTHHMMZ>_...: read them in
    that time order across regions, as Panther would receive them; other files by path."""
    match = _CLOUDTRAIL_OBJECT_TIME.search(path.name)
    return (match.group(1) if match else "", str(path))


class _Gunzip(io.RawIOBase):
    """A gzip stream (one or more members) decompressed. Unlike `gzip.GzipFile`, a truncated or
    corrupt stream yields every byte it holds, then ends, with `damage` saying what was wrong."""

    def __init__(self, raw: IO[bytes]):
        self.raw = raw
        self.inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        self.pending = b""
        self.damage = ""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self.pending:  # at most _READ_CHUNK decompressed at a time: a gzip bomb waits
            if self.damage:
                return 0
            if self.inflater.eof:  # a member ended: another may follow
                data = self.inflater.unused_data or self.raw.read(_READ_CHUNK)
                if not data:
                    return 0
                self.inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            else:
                data = self.inflater.unconsumed_tail or self.raw.read(_READ_CHUNK)
                if not data:
                    self.damage = "truncated gzip: the data ends before its end marker"
                    return 0
            try:
                self.pending = self.inflater.decompress(data, _READ_CHUNK)
            except zlib.error as error:
                self.damage = f"corrupt gzip data ({error})"
        size = min(len(buffer), len(self.pending))
        buffer[:size], self.pending = self.pending[:size], self.pending[size:]
        return size


@contextmanager
def _open(path: Path | None) -> Iterator[tuple[IO[bytes], _Gunzip | None]]:
    """(the file or standard input as bytes, gunzipped when it starts with gzip's magic; the
    gunzipping stream, which tells whether the data was damaged)."""
    raw = sys.stdin.buffer if path is None else path.open("rb")
    try:
        if raw.peek(2)[:2] == _GZIP_MAGIC:
            gunzip = _Gunzip(raw)
            yield io.BufferedReader(gunzip, buffer_size=_READ_CHUNK), gunzip
        else:
            yield raw, None
    finally:
        if path is not None:
            raw.close()


# Results of worker reads held at once, per worker: enough to keep every worker busy while the
# caller evaluates, few enough that memory stays flat.
IN_FLIGHT_PER_JOB = 4
Pairs = frozenset[tuple[str, str]]


@dataclass
class FilteredReader(RecordReader):
    """The records of `paths` whose (eventSource, eventName) is in `keep`, in delivery order.
    With `jobs` > 1, regular files up to MAX_IN_MEMORY_BYTES are gunzipped, parsed and filtered
    in that many worker processes; standard input, pipes and larger files are read here, in their
    turn. `records_read` counts every record read, kept or not; `on_file(records)` is called as
    each file is done (a progress bar)."""

    keep: Pairs = frozenset()
    jobs: int = 1
    records_read: int = 0
    on_file: Callable[[int], Any] | None = None
    # While files are in the workers' hands, the folder walk's problems wait here for their turn.
    _held: list[tuple[str, str]] | None = field(default=None, repr=False)

    def problem(self, location: str, reason: str) -> None:
        if self._held is None:
            super().problem(location, reason)
        else:
            self._held.append((location, reason))

    def __iter__(self) -> Iterator[dict]:
        if self.jobs <= 1:
            for path in self._files():
                yield from self._read_here(path)
            return
        # In order: a file in a worker's hands, or the problems the walk met before the next file.
        waiting: deque[Future | list[tuple[str, str]]] = deque()
        with ProcessPoolExecutor(self.jobs) as pool:
            self._held = []
            try:
                for path in self._files():
                    if self._held:
                        waiting.append(self._held)
                        self._held = []
                    if path is not None and _worker_sized(path):
                        waiting.append(pool.submit(read_kept, path, self.keep))
                        if len(waiting) >= IN_FLIGHT_PER_JOB * self.jobs:
                            yield from self._take(waiting.popleft())
                        continue
                    while waiting:  # what comes before it, first
                        yield from self._take(waiting.popleft())
                    self._held = None
                    yield from self._read_here(path)  # standard input, a pipe, a large file
                    self._held = []
                if self._held:
                    waiting.append(self._held)
            finally:
                self._held = None
            while waiting:
                yield from self._take(waiting.popleft())

    def _read_here(self, path: Path | None) -> Iterator[dict]:
        records = 0
        for record in self._read_file(path):
            records += 1
            if _pair(record) in self.keep:
                yield record
        self._count(records)

    def _take(self, waited: "Future | list[tuple[str, str]]") -> Iterator[dict]:
        if isinstance(waited, list):
            for location, reason in waited:
                RecordReader.problem(self, location, reason)
            return
        result: KeptRecords = waited.result()
        self.files_read += 1
        for location, reason in result.problems:
            RecordReader.problem(self, location, reason)
        self.problem_count += result.problem_count - len(result.problems)
        self._count(result.records_read)
        yield from result.kept

    def _count(self, records: int) -> None:
        self.records_read += records
        if self.on_file is not None:
            self.on_file(records)


@dataclass(frozen=True)
class KeptRecords:
    """What a worker sends back for one file: the kept records, how many records it read, and its
    problems."""

    kept: list[dict]
    records_read: int
    problems: list[tuple[str, str]]
    problem_count: int


def read_kept(path: Path, keep: Pairs) -> KeptRecords:
    """Read one file in a worker and keep the records whose (eventSource, eventName) is in
    `keep`."""
    reader = FilteredReader([], keep=keep)
    kept = list(reader._read_here(path))
    problems = [(problem.location, problem.reason) for problem in reader.problems]
    return KeptRecords(kept, reader.records_read, problems, reader.problem_count)


def _pair(record: dict) -> tuple[Any, Any]:
    pair = (record.get("eventSource"), record.get("eventName"))
    try:
        hash(pair)
    except TypeError:  # a list or an object where a name belongs: no rule declares it
        return (None, None)
    return pair


def _worker_sized(path: Path) -> bool:
    """A regular file small enough for a worker to hold its kept records (a larger one is
    streamed here, a record at a time)."""
    try:
        info = path.stat()
    except OSError:
        return False  # read here, where the problem is reported
    return stat.S_ISREG(info.st_mode) and info.st_size <= MAX_IN_MEMORY_BYTES
