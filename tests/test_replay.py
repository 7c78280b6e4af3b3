"""The replay (local backtest): input formats, bad input, the bundled sample's story, the CLI."""

import gzip
import json
from pathlib import Path

import pytest

from compute_abuse import sample_data
from compute_abuse.cli import SAMPLE_DIR, main
from compute_abuse.events import iam_user, run_instances
from compute_abuse.inputs import RecordReader
from compute_abuse.replay import Replay, apply_config_overrides
from tests.conftest import CORPUS_DIR, corpus_records


def gpu_launch(user="mallory", count=1, **fields):
    return run_instances("p4d.24xlarge", count, count, identity=iam_user(user), **fields)


def replay(paths, rule_ids=None):
    reader = RecordReader([str(p) for p in paths])
    engine = Replay(rule_ids)
    alerts = list(engine.run(reader))
    return alerts, reader, engine


# --- input formats --------------------------------------------------------------------------------


def write_formats(folder: Path, records: list[dict]) -> None:
    a, b, c, d, e = records
    (folder / "s3-object.json").write_text(json.dumps({"Records": [a]}))
    (folder / "s3-object.json.gz").write_bytes(gzip.compress(json.dumps({"Records": [b]}).encode()))
    (folder / "lines.jsonl").write_text(json.dumps(c) + "\n\n")
    lookup = {"Events": [{"EventId": "x", "CloudTrailEvent": json.dumps(d)}], "NextToken": "t"}
    (folder / "lookup-events.json").write_text(json.dumps(lookup, indent=2))
    (folder / "array.json").write_text(json.dumps([e], indent=2))


def test_every_input_format_is_read(tmp_path):
    records = [gpu_launch(user=f"u{i}") for i in range(5)]
    write_formats(tmp_path, records)
    reader = RecordReader([str(tmp_path)])
    read = list(reader)
    assert reader.problems == []
    assert sorted(r["eventID"] for r in read) == sorted(r["eventID"] for r in records)
    assert reader.files_read == 5


def s3_object(folder: Path, stamp: str, records: list, region: str = "us-east-1") -> None:
    """A CloudTrail S3 object of `records`, delivered at `stamp` (YYYYMMDDTHHMMZ)."""
    day = (
        folder
        / "AWSLogs/111122223333/CloudTrail"
        / region
        / f"{stamp[:4]}/{stamp[4:6]}/{stamp[6:8]}"
    )
    day.mkdir(parents=True, exist_ok=True)
    name = f"111122223333_CloudTrail_{region}_{stamp}_{len(list(day.iterdir())):04d}.json.gz"
    (day / name).write_bytes(gzip.compress(json.dumps({"Records": records}).encode()))


def test_s3_layout_is_read_in_delivery_time_order(tmp_path):
    early, late = gpu_launch(user="early"), gpu_launch(user="late")
    s3_object(tmp_path, "20240801T1000Z", [late], region="us-west-2")
    s3_object(tmp_path, "20240801T0900Z", [early], region="eu-west-1")
    assert [r["userIdentity"]["userName"] for r in RecordReader([str(tmp_path)])] == [
        "early",
        "late",
    ]


# --- worker processes -----------------------------------------------------------------------------


def test_workers_read_filter_and_report_exactly_what_one_process_does(tmp_path, monkeypatch):
    """Files read in worker processes give the same kept records in the same order, the same
    counts and the same problems (in order) as reading in one process, for any number of
    workers; stdin-like and large files are read in their turn."""
    from compute_abuse import inputs

    quiet = {"eventSource": "s3.amazonaws.com", "eventName": "GetObject"}
    for hour in range(6):
        records = [dict(quiet, eventID=f"q{hour}-{i}") for i in range(20)]
        records[7:7] = [gpu_launch(user=f"u{hour}-{i}") for i in range(3)]
        records.append({"eventName": ["RunInstances"], "eventSource": {"a": 1}})  # unhashable
        s3_object(tmp_path, f"2024080{1 + hour % 2}T{10 + hour:02d}00Z", records)
    body = gzip.compress(json.dumps({"Records": [gpu_launch(user="cut")] * 3}).encode())
    broken = tmp_path / "AWSLogs/111122223333/CloudTrail/us-east-1/2024/08/01"
    (broken / "111122223333_CloudTrail_us-east-1_20240801T1030Z_cut.json.gz").write_bytes(
        body[: len(body) // 2]
    )
    lines = [json.dumps(gpu_launch(user="line1")), "{not json", json.dumps(quiet)]
    (tmp_path / "big.jsonl").write_text("\n".join(lines * 40) + "\n")  # read here: "large"
    (tmp_path / "notes.txt").write_text("not a log")
    digest = tmp_path / "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/08/01"
    digest.mkdir(parents=True)
    (digest / "111122223333_CloudTrail-Digest_us-east-1_x.json.gz").write_bytes(b"")
    monkeypatch.setattr(inputs, "MAX_IN_MEMORY_BYTES", 4096)  # before the workers fork
    keep = frozenset({("ec2.amazonaws.com", "RunInstances")})

    def read(jobs):
        reader = inputs.FilteredReader(
            [str(tmp_path), str(tmp_path / "gone.json")], keep=keep, jobs=jobs
        )
        ids = [record["userIdentity"]["userName"] for record in reader]
        counts = (
            reader.records_read,
            reader.files_read,
            reader.problem_count,
            reader.digests_skipped,
            reader.other_files,
        )
        return ids, counts, [str(problem) for problem in reader.problems]

    alone = RecordReader([str(tmp_path), str(tmp_path / "gone.json")])
    expected = [
        r["userIdentity"]["userName"]
        for r in alone
        if r.get("eventName") == "RunInstances" and r.get("eventSource") == "ec2.amazonaws.com"
    ]
    one = read(1)
    assert one[0] == expected and len(expected) == 40 + 6 * 3  # the cut object: nothing kept
    assert one[2] == [str(problem) for problem in alone.problems]
    assert one[1] == (80 + 6 * 24, 8, 40 + 2 + 1, 1, 1)  # bad lines, cut object, gone.json
    for jobs in (2, 3):
        assert read(jobs) == one


def test_alerts_print_in_event_time_order_for_any_number_of_workers(tmp_path, capsys):
    """Delivery order is not event-time order (an object of 14:09 can arrive before one holding
    14:05): the rules see delivery order, the alert list is by event time, whatever --jobs."""
    late = gpu_launch(user="late", eventTime="2024-08-01T14:09:00Z")
    early = gpu_launch(user="early", eventTime="2024-08-01T14:05:00Z")
    s3_object(tmp_path, "20240801T1400Z", [late])
    s3_object(tmp_path, "20240801T1410Z", [early])
    outputs = []
    for jobs in ("1", "2"):
        rule = "ComputeAbuse.AWS.EC2.UnusualInstanceType"
        assert (
            main(["replay", str(tmp_path), "--rules", rule, "--format", "jsonl", "--jobs", jobs])
            == 0
        )
        out, err = capsys.readouterr()
        outputs.append(out)
        assert "Replayed 2 records from 2 file(s)" in err
    alerts = [json.loads(line) for line in outputs[0].splitlines()]
    assert [alert["event_time"] for alert in alerts] == [
        "2024-08-01T14:05:00Z",
        "2024-08-01T14:09:00Z",
    ]
    assert outputs[1] == outputs[0]


# --- bad input ------------------------------------------------------------------------------------


def test_bad_input_is_named_skipped_and_the_rest_still_read(tmp_path):
    good = [gpu_launch(user=f"ok{i}") for i in range(4)]
    body = gzip.compress(json.dumps({"Records": good[:2]}).encode())
    (tmp_path / "a-truncated.json.gz").write_bytes(body[: len(body) // 2])
    (tmp_path / "b-lines.jsonl").write_text(
        "\n".join([json.dumps(good[2]), "{not json", "[1, 2]", '"a string"', json.dumps(good[3])])
    )
    (tmp_path / "c-not-records.json").write_text(json.dumps({"Records": [good[0], 7, None]}))
    (tmp_path / "d-unknown.json").write_text(json.dumps({"hello": "world"}))
    (tmp_path / "e-garbage.json").write_text("this is not json at all")
    reader = RecordReader([str(tmp_path), str(tmp_path / "missing.json")])
    read = list(reader)
    names = [r["userIdentity"]["userName"] for r in read]
    assert {"ok0", "ok2", "ok3"} <= set(names)
    problems = [str(p) for p in reader.problems]
    assert any("a-truncated.json.gz: truncated gzip" in p for p in problems)
    assert any("b-lines.jsonl:2: not JSON" in p for p in problems)
    assert any("b-lines.jsonl:3: [0] is not a CloudTrail record object" in p for p in problems)
    assert any("b-lines.jsonl:4: unknown format" in p for p in problems)
    assert any(
        "c-not-records.json: Records[1] is not a CloudTrail record object" in p for p in problems
    )
    assert any("c-not-records.json: Records[2]" in p for p in problems)
    assert any("d-unknown.json: unknown format" in p for p in problems)
    assert any("e-garbage.json:1: not JSON" in p for p in problems)
    assert any("missing.json: no such file or folder" in p for p in problems)


def test_cli_reports_skipped_records_and_exits_non_zero(tmp_path, capsys):
    (tmp_path / "events.jsonl").write_text(json.dumps(gpu_launch()) + "\n{broken\n")
    assert main(["replay", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert "1 skipped" in out and "ComputeAbuse.AWS.EC2.UnusualInstanceType" in out
    assert "events.jsonl:2: not JSON" in err


def test_cli_jsonl_output_and_rule_filter(tmp_path, capsys):
    (tmp_path / "events.jsonl").write_text(json.dumps(gpu_launch(count=10)) + "\n")
    rule = "ComputeAbuse.AWS.EC2.VCPUSurge"
    assert main(["replay", str(tmp_path), "--rules", rule, "--format", "jsonl"]) == 0
    out, err = capsys.readouterr()
    (alert,) = [json.loads(line) for line in out.splitlines()]
    assert alert["rule_id"] == rule and alert["alert_context"]["window_total"] == 960
    assert "Replayed 1 records" in err


def test_cli_refuses_unknown_rules_and_settings(tmp_path, capsys):
    assert main(["replay", str(tmp_path), "--rules", "No.Such.Rule"]) == 2
    config = tmp_path / "config.yml"
    config.write_text("NO_SUCH_SETTING: 3\n")
    assert main(["replay", str(tmp_path), "--config", str(config)]) == 2
    config.write_text("VCPU_SURGE_THRESHOLD: lots\n")
    assert main(["replay", str(tmp_path), "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "unknown rule ID(s): No.Such.Rule" in err and "NO_SUCH_SETTING" in err
    assert "VCPU_SURGE_THRESHOLD must be a whole number from 1 to 1,000,000,000" in err


LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}{f', *{chr(97 + i)}' * 8}]\n" for i in range(8)
)


@pytest.mark.parametrize(
    "text, says",
    [
        ("VCPU_SURGE_THRESHOLD: [1, 2\n", "not valid YAML at line 2, column 1"),
        ("{1: 2}\n", "unknown setting 1"),
        ("[1, 2]\n", "expected a mapping of setting names to values"),
        ("VCPU_SURGE_THRESHOLD: 0\n", "VCPU_SURGE_THRESHOLD must be a whole number from 1"),
        ("VCPU_SURGE_THRESHOLD: -5\n", "VCPU_SURGE_THRESHOLD must be a whole number from 1"),
        ("VCPU_SURGE_THRESHOLD: 10000000000000000000000\n", "must be a whole number from 1"),
        ("VCPU_SURGE_THRESHOLD: true\n", "VCPU_SURGE_THRESHOLD must be a whole number"),
        ("VCPU_SURGE_WINDOW_SECONDS: 99999999\n", "must be a whole number from 1 to 31,622,400"),
        ("USUAL_INSTANCE_TYPES: g5\n", "USUAL_INSTANCE_TYPES must be a list"),
        ("USUAL_INSTANCE_TYPES: [g5, 3]\n", "must list text items of 1 to 256 characters"),
        ("SEVERITY_STEP_MULTIPLES: [5, 2]\n", "must list ascending numbers above 1"),
        ("SEVERITY_STEP_MULTIPLES: [0.5]\n", "must list ascending numbers above 1"),
        (LAUGHS + "USUAL_INSTANCE_TYPES: *i\n", "aliases (*name) are not allowed"),
        (b"\xff\xfeVCPU: 1", "not UTF-8 text (byte 0)"),
    ],
)
def test_a_bad_config_is_one_clear_line_and_exit_2(tmp_path, capsys, text, says):
    config = tmp_path / "config.yml"
    config.write_bytes(text if isinstance(text, bytes) else text.encode())
    assert main(["replay", str(tmp_path), "--config", str(config)]) == 2
    out, err = capsys.readouterr()
    (line,) = err.splitlines()
    assert line.startswith(f"replay: {config}: ") and says in line, line
    assert "Traceback" not in err and out == ""


def test_a_bad_config_changes_nothing(tmp_path):
    import ec2_compute_config as config

    before = config.VCPU_SURGE_THRESHOLD
    with pytest.raises(ValueError, match="USUAL_INSTANCE_TYPES"):
        apply_config_overrides({"VCPU_SURGE_THRESHOLD": 5, "USUAL_INSTANCE_TYPES": 7})
    assert before == config.VCPU_SURGE_THRESHOLD


def test_control_characters_in_logs_never_reach_the_terminal(tmp_path, capsys):
    forged = "mallory\x1b[2J\r\n[LOW] nothing to see\u202e"
    (tmp_path / "x\x1b[31m.jsonl").write_text(json.dumps(gpu_launch(user=forged)) + "\n{bad\n")
    assert main(["replay", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    for stream in (out, err):
        assert not any(
            (ord(c) < 32 and c != "\n") or 0x7F <= ord(c) < 0xA0 or c == "\u202e" for c in stream
        )
    assert "mallory\\x1b[2J\\x0d\\x0a[LOW] nothing to see\\u202e" in out
    assert "x\\x1b[31m.jsonl:2: not JSON" in err


def test_records_with_junk_event_names_or_sources_are_read_and_skipped():
    """An eventName or eventSource of any JSON type (lists and objects are unhashable) must not
    stop the replay; a launch after them still alerts."""
    names = (["RunInstances"], {"a": 1}, 5, None)
    sources = (["ec2.amazonaws.com"], {"x": 1}, None)
    junk = [{"eventName": name} for name in names]
    junk += [dict(gpu_launch(), eventSource=source) for source in sources]
    engine = Replay(["ComputeAbuse.AWS.EC2.UnusualInstanceType"])
    alerts = list(engine.run([*junk, gpu_launch()]))
    assert engine.records_read == len(junk) + 1 and engine.events_evaluated == 1
    assert len(alerts) == 1 and engine.rule_errors == []


def test_a_raising_rule_is_reported_and_a_raising_title_falls_back_as_in_panther(tmp_path):
    """rule() raising drops the detection in Panther: the replay must say so, not hide it. An
    alert function raising does not: Panther's log analysis (batch mode) alerts with the default
    (the rule ID as title), and so does the replay, which reports the error as well."""
    (tmp_path / "events.jsonl").write_text(json.dumps(gpu_launch()) + "\n")
    unusual, surge = "ComputeAbuse.AWS.EC2.UnusualInstanceType", "ComputeAbuse.AWS.EC2.VCPUSurge"
    engine = Replay([unusual, surge])
    by_id = {rule.detection_id: rule.module for rule in engine.rules}

    def broken(event):
        raise RuntimeError("broken on purpose")

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(by_id[unusual], "title", broken)  # the rule matches; its title raises
        patched.setattr(by_id[surge], "rule", broken)
        alerts = list(engine.run(RecordReader([str(tmp_path)])))
    assert [(alert.rule_id, alert.title) for alert in alerts] == [(unusual, unusual)]
    title_error, rule_error = sorted(engine.rule_errors, key=lambda e: e.startswith(surge))
    assert title_error.startswith(f"{unusual}.title() on ") and "broken on purpose" in title_error
    assert rule_error.startswith(f"{surge} on ") and "broken on purpose" in rule_error
    assert engine.rule_error_count == 2


@pytest.mark.parametrize("function", ["severity", "dedup", "alert_context"])
def test_a_raising_alert_function_makes_the_cli_exit_non_zero(tmp_path, capsys, function):
    (tmp_path / "events.jsonl").write_text(json.dumps(gpu_launch()) + "\n")
    rule_id = "ComputeAbuse.AWS.EC2.UnusualInstanceType"
    from compute_abuse import replay as replay_module

    def broken(event):
        raise RuntimeError("broken on purpose")

    def loading(spec, load=replay_module.load_rule):
        rule = load(spec)
        setattr(rule.module, function, broken)
        return rule

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(replay_module, "load_rule", loading)
        assert main(["replay", str(tmp_path), "--rules", rule_id]) == 2
    assert f"rule error: {rule_id}.{function}() on " in capsys.readouterr().err


# --- the bundled sample ---------------------------------------------------------------------------


def test_committed_sample_is_what_the_generator_produces(tmp_path):
    sample_data.write(tmp_path)

    def contents(root):
        return {
            p.relative_to(root): gzip.decompress(p.read_bytes())
            for p in sorted(root.rglob("*.json.gz"))
        }

    assert contents(tmp_path) == contents(SAMPLE_DIR), "stale sample: run `make sample`"


# The sample's story (see compute_abuse/sample_data.py): (rule, actor, what) of every alert.
SAMPLE_ALERTS = sorted(
    [
        ("ComputeAbuse.AWS.EC2.DryRunProbe", "backup-sync", "p3.16xlarge"),
        # the sample's delivery order: the ap-southeast-1 refusal (14:34) arrives before 14:06
        ("ComputeAbuse.AWS.EC2.HijackPlaybook", "backup-sync", "recon, quota-increase, launch"),
        (
            "ComputeAbuse.AWS.EC2.HighInstanceCount",
            "aws-go-sdk-1722946211294449000",
            "10 instances",
        ),
        # per principal and day, across types and regions: the burst's third call reaches 10
        ("ComputeAbuse.AWS.EC2.HighInstanceCount", "backup-sync", "12 instances"),
        ("ComputeAbuse.AWS.EC2.QuotaProbe", "backup-sync", "10 regions"),
        ("ComputeAbuse.AWS.EC2.QuotaProbe", "backup-sync", "L-417A185B"),
        ("ComputeAbuse.AWS.EC2.RegionSpread", "backup-sync", "3 regions"),
        ("ComputeAbuse.AWS.EC2.TerminationProtection", "backup-sync", "g5.12xlarge"),
        ("ComputeAbuse.AWS.EC2.UnusualInstanceType", "aws-go-sdk-1722946211294449000", "p2.xlarge"),
        ("ComputeAbuse.AWS.EC2.UnusualInstanceType", "backup-sync", "g4dn.12xlarge"),
        ("ComputeAbuse.AWS.EC2.UnusualInstanceType", "backup-sync", "g5.12xlarge"),
        ("ComputeAbuse.AWS.EC2.UnusualInstanceType", "backup-sync", "p3.16xlarge"),
        ("ComputeAbuse.AWS.EC2.UnusualInstanceType", "backup-sync", "p4d.24xlarge"),
        ("ComputeAbuse.AWS.EC2.UnusualInstanceType", "bob", "g5.xlarge"),
        ("ComputeAbuse.AWS.EC2.VCPUSurge", "backup-sync", "928 vCPUs"),
        # a Fargate service of 60 tasks of a 16-vCPU task definition registered 40 s before
        ("ComputeAbuse.AWS.EC2.VCPUSurge", "svc-reporting", "960 vCPUs"),
    ]
)


def describe(alert):
    context, rule = alert.context, alert.rule_id.rsplit(".", 1)[1]
    if rule == "HighInstanceCount":
        what = f"{context['window_total']} instances"
    elif rule == "VCPUSurge":
        what = f"{context['window_total']} vCPUs"
    elif rule == "RegionSpread" or (
        rule == "QuotaProbe" and context["event_name"] != "RequestServiceQuotaIncrease"
    ):
        what = f"{context['window_total']} regions"
    elif rule == "QuotaProbe":
        what = context["quota_code"]
    elif rule == "HijackPlaybook":
        what = ", ".join(stage["stage"] for stage in context["stages"])
    elif rule == "TerminationProtection":
        what = context["protected_instance_types"][0]
    else:
        what = context["instance_types"][0]
    return alert.rule_id, context["actor_name"], what


def test_sample_replay_tells_the_story():
    alerts, reader, engine = replay([SAMPLE_DIR])
    assert reader.problems == [] and engine.rule_errors == []
    assert sorted(describe(alert) for alert in alerts) == SAMPLE_ALERTS
    quiet = {"legacy-batch", "github-actions-ci", "AutoScaling", "EKS", "alice", "report-scheduler"}
    assert not quiet & {alert.context["actor_name"] for alert in alerts}  # the slow drip too
    (duplicated,) = [
        a
        for a in alerts
        if describe(a)[2] == "g5.12xlarge" and a.rule_id.endswith("UnusualInstanceType")
    ]
    assert duplicated.matches == 2  # CloudTrail delivered that record twice


@pytest.mark.parametrize("batch", [1, 3])
def test_evaluating_in_batches_changes_nothing(batch, monkeypatch):
    """The replay gathers the events rules can match and evaluates them in batches; whatever the
    batch size, the alerts (and what folded into them) are those of one-by-one evaluation."""
    import compute_abuse.replay as replay_module

    def story():
        engine = Replay()
        alerts = [alert.as_dict() for alert in engine.run(RecordReader([str(SAMPLE_DIR)]))]
        return alerts, engine.records_read, engine.events_evaluated

    default = story()
    monkeypatch.setattr(replay_module, "EVALUATION_BATCH", batch)
    assert story() == default and len(default[0]) == len(SAMPLE_ALERTS)


def test_a_config_override_changes_what_alerts(tmp_path, capsys, monkeypatch):
    import ec2_compute_config as config

    for name in ("USUAL_INSTANCE_TYPES", "VCPU_SURGE_THRESHOLD"):
        monkeypatch.setattr(config, name, getattr(config, name))  # restored after the test
    tuned = tmp_path / "tuned.yml"
    tuned.write_text("USUAL_INSTANCE_TYPES: [g5.xlarge]\nVCPU_SURGE_THRESHOLD: 2000\n")
    assert main(["replay", "--config", str(tuned)]) == 0
    out = capsys.readouterr().out
    assert "bob@example.com" not in out and "VCPUSurge at" not in out
    assert "backup-sync launched 4 unusual EC2 instance(s) [g5.12xlarge]" in out


# --- what rules declare ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def every_rule():
    return Replay().rules


def test_rule_events_are_sound(every_rule):
    """RULE_EVENTS is what lets the replay skip events unread: a rule must never match an event
    outside it. Checked on the corpus, the sample, and every YAML test log with its name changed."""
    from compute_abuse.content import run_rule, specs_of_type
    from compute_abuse.kvstore import InMemoryKVStore

    corpus = corpus_records() if CORPUS_DIR.is_dir() else []  # used where present
    logs = [record for _, _, record in corpus] + list(RecordReader([str(SAMPLE_DIR)]))
    for spec in specs_of_type("rule"):
        for test in spec.body["Tests"]:
            renamed = dict(test["Log"], eventName="DescribeInstances")
            logs += [test["Log"], renamed]
    for rule in every_rule:
        declared = {(s, n) for s, names in rule.module.RULE_EVENTS.items() for n in names}
        store = InMemoryKVStore()
        for log in logs:
            if (log.get("eventSource"), log.get("eventName")) not in declared:
                result = run_rule(rule, log, patches=store.caching_functions())
                assert not result.trigger_alert, (rule.detection_id, log.get("eventID"))
