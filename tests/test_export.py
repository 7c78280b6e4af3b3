"""`make export DEST=...`: the pack installed into a stand-in panther-analysis fork passes
`pat check-packs` and `pat test` there, a second export changes nothing, and conflicts are refused
with a message naming them, nothing written."""

import re
import shutil
import subprocess  # nosec B404 - runs pat from this venv with fixed arguments
import sys
from pathlib import Path

import pytest
import yaml

from compute_abuse import REPO_ROOT
from compute_abuse.cli import main
from compute_abuse.export import MANIFEST, PACK_FILE, ExportRefused, export

PAT = [str(Path(sys.executable).parent / "pat"), "--skip-version-check"]

STANDARD_MODEL = """AnalysisType: datamodel
DataModelID: Standard.AWS.CloudTrail
DisplayName: AWS CloudTrail
Filename: aws_cloudtrail_data_model.py
Enabled: true
LogTypes:
  - AWS.CloudTrail
Mappings:
  - Name: source_ip
    Path: sourceIPAddress
  - Name: user_agent
    Path: userAgent
  - Name: actor_user
    Method: get_actor_user
"""
STANDARD_MODEL_PY = (
    "def get_actor_user(event):\n    return event.get('userIdentity', {}).get('arn')\n"
)
OTHER_RULE = """AnalysisType: rule
Filename: s3_public_read.py
RuleID: Fork.S3.PublicRead
DisplayName: S3 object read anonymously
Enabled: true
LogTypes:
  - AWS.S3ServerAccess
Severity: Low
Tests:
  - Name: Anonymous read
    ExpectedResult: true
    Log: { requester: "-", operation: REST.GET.OBJECT }
  - Name: Signed read
    ExpectedResult: false
    Log: { requester: "arn:aws:iam::111122223333:user/alice", operation: REST.GET.OBJECT }
"""
OTHER_RULE_PY = "def rule(event):\n    return event.get('requester') == '-'\n"
OTHER_PACK = """AnalysisType: pack
PackID: Fork.S3
DisplayName: The fork's S3 rules
PackDefinition:
  IDs:
    - Fork.S3.PublicRead
"""


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


@pytest.fixture
def fork(tmp_path):
    """A minimal content repo as a panther-analysis fork has it: Panther's enabled CloudTrail
    data model, another pack, an unrelated rule."""
    root = tmp_path / "panther-analysis"
    write(
        root,
        {
            "data_models/aws_cloudtrail_data_model.yml": STANDARD_MODEL,
            "data_models/aws_cloudtrail_data_model.py": STANDARD_MODEL_PY,
            "rules/aws_s3_rules/s3_public_read.yml": OTHER_RULE,
            "rules/aws_s3_rules/s3_public_read.py": OTHER_RULE_PY,
            "packs/s3.yml": OTHER_PACK,
            ".panther_settings.yml": "minimum_tests: 2\n",
        },
    )
    return root


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def pat(*args, cwd):
    return subprocess.run(
        [*PAT, *args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )  # nosec B603 - this venv's pat, fixed args


def test_the_export_passes_pat_check_packs_and_pat_test_in_the_fork(fork):
    before = tree(fork)
    assert main(["export", str(fork)]) == 0
    after = tree(fork)
    assert {name: after[name] for name in before} == before  # nothing of the fork touched
    pack = yaml.safe_load(after[PACK_FILE])
    assert pack["PackID"] == "ComputeAbuse.AWS.EC2"
    assert "Standard.AWS.CloudTrail" in pack["PackDefinition"]["IDs"]
    assert "ComputeAbuse.AWS.CloudTrail" not in pack["PackDefinition"]["IDs"]  # not exported
    checked = pat("check-packs", "--path", ".", cwd=fork)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = pat("test", "--path", ".", "--minimum-tests", "2", cwd=fork)
    assert tested.returncode == 0, tested.stdout[-3000:] + tested.stderr[-3000:]
    assert "Failed: 0" in tested.stdout and "ComputeAbuse.AWS.EC2.VCPUSurge" in tested.stdout


def test_a_second_export_changes_nothing_and_a_deleted_file_comes_back(fork):
    export(fork)
    first = tree(fork)
    assert export(fork) == [] and tree(fork) == first
    (fork / "rules/aws_ec2_compute_abuse/vcpu_surge.py").unlink()
    assert export(fork) == ["rules/aws_ec2_compute_abuse/vcpu_surge.py"]
    assert tree(fork) == first


def test_a_new_version_updates_in_place_and_drops_what_the_pack_no_longer_has(fork, tmp_path):
    source = tmp_path / "next-version"
    for folder in ("rules", "global_helpers", "queries", "data_models", "packs"):
        shutil.copytree(REPO_ROOT / folder, source / folder)
    export(fork, source=source)
    rule = source / "rules/aws_ec2_compute_abuse/vcpu_surge.py"
    rule.write_text(rule.read_text() + "\n# a fix\n")
    (source / "queries/daily_instance_counts_query.yml").unlink()
    written = export(fork, source=source)
    assert sorted(written) == [
        "queries/aws_ec2_compute_abuse/daily_instance_counts_query.yml",
        "rules/aws_ec2_compute_abuse/vcpu_surge.py",
    ]
    assert (fork / "rules/aws_ec2_compute_abuse/vcpu_surge.py").read_text().endswith("# a fix\n")
    assert not (fork / "queries/aws_ec2_compute_abuse/daily_instance_counts_query.yml").exists()


def test_an_id_the_fork_already_has_is_refused_and_nothing_written(fork, capsys):
    write(
        fork,
        {
            "rules/mine/surge.yml": OTHER_RULE.replace(
                "Fork.S3.PublicRead", "ComputeAbuse.AWS.EC2.VCPUSurge"
            )
        },
    )
    before = tree(fork)
    assert main(["export", str(fork)]) == 2
    err = capsys.readouterr().err
    assert "refused, nothing written" in err
    assert (
        "'ComputeAbuse.AWS.EC2.VCPUSurge' already exists in the fork at rules/mine/surge.yml" in err
    )
    assert tree(fork) == before


def test_a_global_helper_file_of_the_fork_is_never_overwritten(fork):
    write(fork, {"global_helpers/ec2_compute_config.py": "# the fork's own\n"})
    message = "global_helpers/ec2_compute_config.py exists in the fork with other content"
    with pytest.raises(ExportRefused, match=re.escape(message)):
        export(fork)


def test_an_exported_file_changed_in_the_fork_is_refused(fork):
    export(fork)
    edited = fork / "global_helpers/ec2_compute_config.py"
    edited.write_text(edited.read_text().replace("= 800", "= 400"))
    with pytest.raises(ExportRefused, match=re.escape("ec2_compute_config.py was changed since")):
        export(fork)
    assert "= 400" in edited.read_text()
    assert (fork / MANIFEST).is_file()


def test_the_data_model_on_request_is_in_the_pack_with_the_forks(fork):
    export(fork, with_data_model=True)
    ids = yaml.safe_load((fork / PACK_FILE).read_text())["PackDefinition"]["IDs"]
    assert {"ComputeAbuse.AWS.CloudTrail", "Standard.AWS.CloudTrail"} <= set(ids)
    checked = pat("check-packs", "--path", ".", cwd=fork)
    assert checked.returncode == 0, checked.stdout + checked.stderr
