"""Adding a detection: `new-rule` writes three files that pass the pack's checks at once, and
`make generate` lists it everywhere else."""

import importlib.util
import shutil

import pytest

from compute_abuse import REPO_ROOT, docs, scaffold
from compute_abuse.cli import main
from compute_abuse.content import CONTENT_FOLDERS, load_rule, load_specs, run_rule


@pytest.fixture
def repo(tmp_path):
    """A copy of the repo's content, where a rule can be added."""
    for folder in CONTENT_FOLDERS:
        shutil.copytree(
            REPO_ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    (tmp_path / "tests").mkdir()
    return tmp_path


def test_a_new_rule_passes_its_own_tests_and_generate_lists_it(repo):
    paths = scaffold.new_rule("SpotPriceProbe", repo)
    names = [str(path.relative_to(repo)) for path in paths]
    assert names == [
        "rules/aws_ec2_compute_abuse/spot_price_probe.py",
        "rules/aws_ec2_compute_abuse/spot_price_probe.yml",
        "tests/test_spot_price_probe.py",
    ]
    (spec,) = [
        s for s in load_specs(repo) if s.analysis_id == "ComputeAbuse.AWS.EC2.SpotPriceProbe"
    ]
    assert spec.python_path == paths[0] and spec.body["DisplayName"] == "AWS EC2 Spot Price Probe"
    rule = load_rule(spec)
    tests = spec.body["Tests"]
    assert [t["ExpectedResult"] for t in tests] == [True, False]  # pat test --minimum-tests 2
    for test in tests:
        result = run_rule(rule, test["Log"])
        assert not result.errored and result.trigger_alert is test["ExpectedResult"], test["Name"]
    module_spec = importlib.util.spec_from_file_location("scaffolded", paths[2])
    generated = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(generated)
    generated.test_a_launch_alerts()
    generated.test_a_refused_launch_stays_quiet()

    assert scaffold.sync_pack(repo) is True
    (pack,) = [s for s in load_specs(repo) if s.analysis_type == "pack"]
    ids = pack.body["PackDefinition"]["IDs"]
    assert ids[-1] == "ComputeAbuse.AWS.EC2.SpotPriceProbe"
    (committed,) = [s for s in load_specs() if s.analysis_type == "pack"]
    assert ids[:-1] == committed.body["PackDefinition"]["IDs"]  # the others keep their place
    assert scaffold.sync_pack(repo) is False
    assert "## ComputeAbuse.AWS.EC2.SpotPriceProbe" in docs.render(repo)


def test_a_removed_rule_leaves_the_pack(repo):
    for path in (repo / "rules/aws_ec2_compute_abuse").glob("quota_probe.*"):
        path.unlink()
    assert scaffold.sync_pack(repo) is True
    (pack,) = [s for s in load_specs(repo) if s.analysis_type == "pack"]
    assert "ComputeAbuse.AWS.EC2.QuotaProbe" not in pack.body["PackDefinition"]["IDs"]


@pytest.mark.parametrize(
    "name, says",
    [
        ("spot_price_probe", "CamelCase"),
        ("Spot-Probe", "CamelCase"),
        ("", "CamelCase"),
        ("QuotaProbe", "already exists: rules/aws_ec2_compute_abuse/quota_probe.py"),
    ],
)
def test_a_bad_or_taken_name_writes_nothing(repo, name, says):
    before = sorted(path for path in repo.rglob("*"))
    with pytest.raises(ValueError, match=says):
        scaffold.new_rule(name, repo)
    assert sorted(path for path in repo.rglob("*")) == before


def test_cli_new_rule_refuses_a_bad_name(capsys):
    assert main(["new-rule", "bad name"]) == 2
    assert "CamelCase" in capsys.readouterr().err
