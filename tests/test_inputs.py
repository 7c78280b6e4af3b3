"""The replay's reader never loses a record silently: every record is read, or counted as skipped
with where and why, and memory stays bounded whatever the input."""

import gzip
import json
import os
import tracemalloc

import pytest

from compute_abuse import inputs
from compute_abuse.inputs import RecordReader


def record(i):
    return {"eventName": "RunInstances", "eventSource": "ec2.amazonaws.com", "eventID": f"e{i}"}


def doc(*ids, **dumps):
    return json.dumps({"Records": [record(i) for i in ids]}, **dumps)


def read(*paths):
    reader = RecordReader([str(path) for path in paths])
    return [r["eventID"] for r in reader], [str(p) for p in reader.problems], reader


# Each layout of records a user may have, and the IDs it holds.
LAYOUTS = {
    "json lines of documents": ("\n".join([doc(0, 1), doc(2, 3), doc(4, 5)]), 6),
    "a document line, then record lines": (
        json.dumps([record(0)]) + "\n" + json.dumps(record(1)) + "\n",
        2,
    ),
    "documents on one line": (doc(0) + doc(1) + " " + doc(2), 3),
    "pretty-printed documents one after another": (
        doc(0, indent=2) + "\n" + doc(1, 2, indent=2),
        3,
    ),
    "a pretty-printed array": (json.dumps([record(0), record(1)], indent=1), 2),
    "lookup-events output": (
        json.dumps({"Events": [{"CloudTrailEvent": json.dumps(record(0))}]}, indent=2),
        1,
    ),
    "records then a document": (json.dumps(record(0)) + "\n" + doc(1, 2) + "\n", 3),
}


@pytest.mark.parametrize("in_memory", [True, False], ids=["in memory", "streamed"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_layout_is_read_whole_in_memory_and_streamed(
    tmp_path, monkeypatch, layout, in_memory
):
    text, count = LAYOUTS[layout]
    if not in_memory:  # every line and document is larger than what is parsed in memory
        monkeypatch.setattr(inputs, "MAX_IN_MEMORY_BYTES", 40)
    for name, data in (
        ("plain.json", text.encode()),
        ("zipped.json.gz", gzip.compress(text.encode())),
    ):
        (tmp_path / name).write_bytes(data)
        ids, problems, _ = read(tmp_path / name)
        assert (ids, problems) == ([f"e{i}" for i in range(count)], []), (layout, name)


@pytest.mark.parametrize("in_memory", [True, False], ids=["in memory", "streamed"])
def test_a_bad_line_is_named_and_the_lines_around_it_read(tmp_path, monkeypatch, in_memory):
    if not in_memory:
        monkeypatch.setattr(inputs, "MAX_IN_MEMORY_BYTES", 100)
    path = tmp_path / "lines.jsonl"
    path.write_text(
        "\n".join([json.dumps(record(0)), "garbage", doc(1, 2), '{"cut": ', json.dumps(record(3))])
        + "\n"
    )
    ids, problems, reader = read(path)
    assert ids == ["e0", "e1", "e2", "e3"]
    assert [p.split(": ")[0] for p in problems] == [f"{path}:2", f"{path}:4"]
    assert reader.problem_count == 2


def test_a_truncated_gzip_keeps_what_came_before_and_says_so(tmp_path):
    body = gzip.compress(("\n".join(json.dumps(record(i)) for i in range(400)) + "\n").encode())
    (tmp_path / "cut.jsonl.gz").write_bytes(body[: len(body) * 3 // 4])
    ids, problems, _ = read(tmp_path / "cut.jsonl.gz")
    assert 100 < len(ids) < 400 and ids == [f"e{i}" for i in range(len(ids))]
    assert any("truncated gzip" in p for p in problems)


def test_a_huge_one_line_document_is_streamed_in_bounded_memory(tmp_path, monkeypatch):
    """A 0.2 GB gzip of one document once took 2.3 GB of RAM: past the in-memory size, a
    document is parsed as a stream, one record in memory at a time."""
    monkeypatch.setattr(inputs, "MAX_IN_MEMORY_BYTES", 1 << 20)
    count = 300_000  # about 30 MB of JSON, 30 times the in-memory size
    with gzip.open(tmp_path / "big.json.gz", "wt", compresslevel=1) as out:
        out.write(doc(*range(count)) + "\n" + json.dumps(record(count)) + "\n")
    tracemalloc.start()
    try:
        seen = sum(1 for _ in RecordReader([str(tmp_path / "big.json.gz")]))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seen == count + 1
    assert peak < 10 << 20  # the in-memory head (1 MB) and buffers, not the 30 MB document


def test_folders_follow_symlinks_once_and_report_what_they_cannot_read(tmp_path):
    logs = tmp_path / "logs"
    (logs / "2024").mkdir(parents=True)
    (logs / "2024" / "a.json").write_text(doc(0))
    (logs / "loop").symlink_to(logs)  # a symlink loop
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "b.json").write_text(doc(1))
    (logs / "linked").symlink_to(elsewhere)  # a symlinked folder
    (logs / "c.json").symlink_to(elsewhere / "b.json")  # a symlinked file: read again, by name
    (logs / "broken.json").symlink_to(tmp_path / "nowhere.json")
    os.mkfifo(logs / "pipe.json")  # would block a naive reader forever
    digest = logs / "AWSLogs/1/CloudTrail-Digest/us-east-1/2024/08/01"
    digest.mkdir(parents=True)
    (digest / "1_CloudTrail-Digest_us-east-1_t_us-east-1_20240801T000000Z.json.gz").write_bytes(
        gzip.compress(b'{"digestStartTime": "x"}')
    )
    (logs / "notes.txt").write_text("not a log")
    ids, problems, reader = read(logs)
    assert sorted(ids) == ["e0", "e1", "e1"]
    assert any("symlink loop" in p and "loop" in p.split(":")[0] for p in problems), problems
    assert any(p.startswith(f"{logs / 'broken.json'}: broken symlink") for p in problems)
    assert any(p.startswith(f"{logs / 'pipe.json'}: not a regular file (FIFO)") for p in problems)
    assert (reader.digests_skipped, reader.other_files) == (1, 1)
    assert len(problems) == 3


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_file_is_reported(tmp_path):
    path = tmp_path / "secret.json"
    path.write_text(doc(0))
    path.chmod(0)
    ids, problems, _ = read(path)
    assert ids == [] and problems[0].startswith(f"{path}: cannot read")


def test_the_problem_list_is_capped_and_every_problem_counted(tmp_path, monkeypatch):
    monkeypatch.setattr(inputs, "MAX_PROBLEMS", 5)
    (tmp_path / "bad.jsonl").write_text("x\n" * 50 + json.dumps(record(0)) + "\n")
    ids, problems, reader = read(tmp_path / "bad.jsonl")
    assert ids == ["e0"] and len(problems) == 5 and reader.problem_count == 50
