"""One test module that walks every detection and enforces the pack's conventions."""

import ast
import re

import pytest

from compute_abuse import REPO_ROOT, docs, events
from compute_abuse.content import load_rule, load_specs, specs_of_type

DETECTIONS = docs.detection_specs()
ID_PREFIX = "ComputeAbuse.AWS.EC2."
SEVERITIES = {"Info", "Low", "Medium", "High", "Critical"}
MITRE_ENTRY = re.compile(r"^(TA\d{4}):(T\d{4}(?:\.\d{3})?)$")


def by_id():
    return [pytest.param(spec, id=spec.analysis_id) for spec in DETECTIONS]


def test_detection_ids_are_unique_and_namespaced():
    ids = [spec.analysis_id for spec in DETECTIONS]
    assert len(ids) == len(set(ids))
    assert all(i.startswith(ID_PREFIX) and i.count(".") == 3 for i in ids), ids


# Panther's own content uses these; a pack installed into a panther-analysis fork must never
# collide with an item an update of panther-analysis may add.
PANTHER_NAMESPACES = ("AWS.", "Standard.", "PantherManaged.", "panther_", "aws_", "global_filter_")


def test_no_item_is_in_panthers_own_namespaces():
    ids = [spec.analysis_id for spec in load_specs()]
    assert ids and not [i for i in ids if i.startswith(PANTHER_NAMESPACES)]


@pytest.mark.parametrize("spec", by_id())
def test_required_fields(spec):
    body = spec.body
    assert body["Severity"] in SEVERITIES
    assert body.get("DisplayName") and body.get("Description")
    assert body.get("Runbook", "").strip()
    assert re.match(r"^https://\S+$", body.get("Reference", "")), "Reference is a URL"
    assert "Compute Abuse" in body.get("Tags", [])
    assert body.get("Enabled") is True


@pytest.mark.parametrize("spec", by_id())
def test_mitre_mapping_is_valid_and_named(spec):
    entries = spec.body.get("Reports", {}).get("MITRE ATT&CK", [])
    assert entries, "every detection maps to MITRE ATT&CK"
    for entry in entries:
        match = MITRE_ENTRY.match(entry)
        assert match, f"{entry}: expected TA0000:T0000 or TA0000:T0000.000"
        tactic, technique = match.groups()
        assert tactic in docs.MITRE_NAMES and technique in docs.MITRE_NAMES, (
            f"{entry}: look it up and add its name to compute_abuse/docs.py MITRE_NAMES"
        )


@pytest.mark.parametrize("spec", by_id())
def test_tests_have_true_and_false_cases(spec):
    results = [test["ExpectedResult"] for test in spec.body.get("Tests", [])]
    assert True in results and False in results
    names = [test["Name"] for test in spec.body["Tests"]]
    assert len(names) == len(set(names)), "test names are unique"


@pytest.mark.parametrize("spec", by_id())
def test_alert_functions_are_defined(spec):
    module = load_rule(spec).module
    for function in ("rule", "title", "dedup", "alert_context"):
        assert callable(getattr(module, function, None)), function
    if spec.analysis_type == "rule":
        assert isinstance(getattr(module, "RULE_EVENTS", None), dict), "declare RULE_EVENTS"


def test_every_detection_is_in_the_pack_and_documented():
    (pack,) = specs_of_type("pack")
    listed = set(pack.body["PackDefinition"]["IDs"])
    catalog = docs.DOCS_PATH.read_text(encoding="utf-8")
    for spec in DETECTIONS:
        assert spec.analysis_id in listed
        assert f"## {spec.analysis_id}" in catalog


def test_detection_catalog_is_up_to_date():
    assert docs.DOCS_PATH.read_text(encoding="utf-8") == docs.render(), (
        "docs/detections.md is stale: run `make docs` and commit it"
    )


def test_specs_use_only_known_analysis_types():
    kinds = {spec.analysis_type for spec in load_specs()}
    assert kinds <= {
        "rule",
        "scheduled_rule",
        "global",
        "datamodel",
        "pack",
        "scheduled_query",
        "saved_query",
    }


def _pins(path):
    """name -> version of the pins in a requirements file and the files it includes (-r)."""
    pins = {}
    for text in path.read_text(encoding="utf-8").splitlines():
        line = text.split("#")[0].strip()
        if line.startswith("-r "):
            pins.update(_pins(path.parent / line[3:].strip()))
        elif "==" in line:
            name, version = line.split("==")
            pins[re.sub(r"[-_.]+", "-", name.strip().lower())] = version.strip()  # PEP 503
    return pins


def test_every_pin_by_role_is_in_the_lock_at_that_version():
    wanted = _pins(REPO_ROOT / "requirements.in")
    locked = _pins(REPO_ROOT / "requirements.txt")
    assert {"panther-detection-helpers", "panther-core", "pytest"} <= set(wanted)
    assert {name: version for name, version in wanted.items() if locked.get(name) != version} == {}
    # What Panther runs is pinned alone: the content needs nothing else there.
    assert set(_pins(REPO_ROOT / "requirements/panther.in")) == {"panther-detection-helpers"}


@pytest.mark.parametrize("spec", by_id())
def test_rule_is_the_first_function_of_its_module(spec):
    # Read a rule as panther-analysis reads: what it matches first, how it says so after.
    source = spec.python_path.read_text(encoding="utf-8")
    functions = [n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)]
    assert functions[0] == "rule", functions[:3]


def test_no_formatter_overrides():
    # One format for the whole repo: `ruff format` decides; no skip or off markers for it.
    marker = re.compile(r"#\s*fmt:\s*(skip|off)")
    overridden = [
        f"{path.relative_to(REPO_ROOT)}:{number}"
        for folder in ("rules", "global_helpers", "data_models", "compute_abuse", "tests")
        for path in sorted((REPO_ROOT / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if marker.search(line)
    ]
    assert overridden == []


def test_a_factory_refuses_a_keyword_that_is_no_record_field():
    """A misspelt keyword once left the default caller in place without a word: the factories
    set record fields only."""
    mallory = events.iam_user("mallory")
    with pytest.raises(TypeError, match="identity"):
        events.auto_scaling_group(identity=mallory)  # it takes userIdentity=
    with pytest.raises(TypeError, match="capacityProviderStrategy"):
        events.run_task("web", capacityProviderStrategy=None)  # a request parameter
    with pytest.raises(TypeError):
        events.service_launch("c5.large", 1, {}, "2024-08-01T12:00:00Z")  # service by keyword
    assert events.auto_scaling_group(userIdentity=mallory)["userIdentity"] == mallory
    assert events.run_instances(identity=mallory, p_source_label="x")["p_source_label"] == "x"
