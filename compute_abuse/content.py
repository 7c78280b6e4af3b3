"""Load the pack's content the way Panther does, for tests and local tooling.

Global helpers become importable by their GlobalID, rules become `panther_core` Rules (the engine
Panther runs), data models become `panther_core` DataModels, and events become PantherEvents
(immutable, case-insensitive mappings rather than dicts).
"""

import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock, patch

import yaml
from panther_core.data_model import DataModel
from panther_core.detection import DetectionResult
from panther_core.enriched_event import PantherEvent
from panther_core.rule import Rule

from compute_abuse import REPO_ROOT

CONTENT_FOLDERS = ("rules", "global_helpers", "data_models", "queries", "packs")
HELPERS_FOLDER = "global_helpers"


@dataclass(frozen=True)
class Spec:
    """One YAML analysis spec of the pack and the file it came from."""

    path: Path
    body: Mapping = field(hash=False)

    @property
    def analysis_type(self) -> str:
        return self.body.get("AnalysisType", "")

    @property
    def analysis_id(self) -> str:
        for key in ("RuleID", "GlobalID", "DataModelID", "PackID", "QueryName", "PolicyID"):
            if key in self.body:
                return self.body[key]
        return ""

    @property
    def python_path(self) -> Path | None:
        filename = self.body.get("Filename")
        return self.path.parent / filename if filename else None


def load_specs(root: Path = REPO_ROOT) -> list[Spec]:
    """Every YAML spec in the pack's content folders, sorted by path."""
    specs = []
    for folder in CONTENT_FOLDERS:
        for path in sorted((root / folder).rglob("*.y*ml")):
            body = yaml.safe_load(path.read_text(encoding="utf-8"))
            if isinstance(body, Mapping) and "AnalysisType" in body:
                specs.append(Spec(path=path, body=body))
    return specs


def specs_of_type(analysis_type: str, root: Path = REPO_ROOT) -> list[Spec]:
    return [spec for spec in load_specs(root) if spec.analysis_type == analysis_type]


def rule_spec(rule_id: str, root: Path = REPO_ROOT) -> Spec:
    """The spec of one rule or scheduled rule, by RuleID."""
    matches = [
        spec
        for spec in load_specs(root)
        if spec.analysis_type in ("rule", "scheduled_rule") and spec.analysis_id == rule_id
    ]
    if len(matches) != 1:
        raise LookupError(f"{len(matches)} rules with RuleID {rule_id!r}")
    return matches[0]


def install_global_helpers(root: Path = REPO_ROOT) -> None:
    """Make the global helpers importable by GlobalID, as Panther does (each helper's file is
    named after its GlobalID, which a test checks)."""
    helpers = str(root / HELPERS_FOLDER)
    if helpers not in sys.path:
        sys.path.insert(0, helpers)


def load_rule(spec: Spec) -> Rule:
    install_global_helpers()
    return Rule(
        {
            "id": spec.analysis_id,
            "analysisType": spec.analysis_type.upper(),
            "versionId": "local",
            "path": str(spec.python_path),
            "dedupPeriodMinutes": spec.body.get("DedupPeriodMinutes", 60),
            "severity": str(spec.body.get("Severity", "")).upper() or None,
        }
    )


def load_data_model(spec: Spec) -> DataModel:
    """A data model as Panther would run it when enabled (whatever its `Enabled` says)."""
    install_global_helpers()
    config: dict[str, Any] = {
        "id": spec.analysis_id,
        "versionId": "local",
        "mappings": [
            {key.lower(): value for key, value in m.items()} for m in spec.body["Mappings"]
        ],
    }
    if spec.python_path:
        config["body"] = spec.python_path.read_text(encoding="utf-8")
    return DataModel(config)


def run_rule(
    rule: Rule,
    log: Mapping,
    data_model: DataModel | None = None,
    mocks: Iterable[Mapping] = (),
    patches: Mapping[str, Callable] | None = None,
) -> DetectionResult:
    """Run one event through a rule with all its alert functions, as `pat test` does: mocks
    (`{"objectName": ..., "returnValue": ...}`) replace names in the rule's module, and so do
    `patches` (name -> callable, e.g. a KV store stand-in's caching functions)."""
    event = PantherEvent(log, data_model)
    replacements = {
        mock["objectName"]: MagicMock(return_value=mock["returnValue"]) for mock in mocks
    }
    replacements.update(patches_for(rule, patches or {}))
    if not replacements:
        return rule.run(event, {}, {}, batch_mode=False)
    with patch.multiple(rule.module, **replacements):
        return rule.run(event, {}, {}, batch_mode=False)


def patches_for(rule: Rule, functions: Mapping[str, Callable]) -> dict[str, Callable]:
    """The tooling replacements (e.g. a KV store stand-in's caching functions) for the names a
    rule's module has: a stateless rule imports no KV functions."""
    return {name: f for name, f in functions.items() if hasattr(rule.module, name)}


# The functions Panther calls after rule() returns True, in its order.
ALERT_FUNCTIONS = (
    "title",
    "description",
    "reference",
    "severity",
    "runbook",
    "destinations",
    "dedup",
    "alert_context",
)


def function_errors(result: DetectionResult) -> dict[str, BaseException]:
    """Every exception a rule or one of its alert functions raised, by function name."""
    names = ("setup", "input", "filter", "detection", *ALERT_FUNCTIONS, "unique")
    errors = {name: getattr(result, f"{name}_exception", None) for name in names}
    return {name: error for name, error in errors.items() if error is not None}
