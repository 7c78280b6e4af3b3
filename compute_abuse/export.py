"""Install the pack into an existing Panther content repo (a fork of panther-analysis):

    python -m compute_abuse export DEST [--with-data-model]      (make export DEST=...)

Copies the content into the fork's layout (rules, global helpers and queries each in their
folder, the data model only when asked: the fork has its own enabled CloudTrail model) and writes
a pack manifest that `pat check-packs` accepts there: the pack's items plus every data model of
the fork for the log types the pack's rules read (pat requires a pack to list them). Nothing else
of the fork is touched. What it wrote is recorded in DEST/.compute-abuse-export.json, so that a
second run updates its own files in place (and removes files the pack no longer has), while an
ID, GlobalID or file that exists in the fork and was not written by this tool, or was changed
since, is refused with a message naming it; nothing is written then.
"""

import json
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

import yaml
from panther_analysis_tool.util import get_spec_id

from compute_abuse import REPO_ROOT

MANIFEST = ".compute-abuse-export.json"
PACK_FILE = "packs/aws_ec2_compute_abuse.yml"
# Source folder (in this repo) -> folder in the fork.
LAYOUT = {
    "rules/aws_ec2_compute_abuse": "rules/aws_ec2_compute_abuse",
    "global_helpers": "global_helpers",
    "queries": "queries/aws_ec2_compute_abuse",
}
DATA_MODELS = ("data_models", "data_models/aws_ec2_compute_abuse")
SKIPPED_FOLDERS = {".git", ".venv", "node_modules", "__pycache__", ".mypy_cache"}


class ExportRefused(Exception):
    """The fork holds something the export would overwrite or duplicate."""


@dataclass(frozen=True)
class Planned:
    target: str  # path relative to the fork
    content: bytes


def _digest(content: bytes) -> str:
    return sha256(content).hexdigest()


def _load(path: Path) -> dict:
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return spec if isinstance(spec, dict) else {}


def _spec_id(spec: object) -> str:
    try:
        return get_spec_id(spec) if isinstance(spec, dict) and spec else ""
    except KeyError:
        return ""


def _specs(root: Path) -> dict[str, dict]:
    """Path (relative to root) -> spec of every YAML file under root, read once."""
    found = {}
    for path in sorted(root.rglob("*.y*ml")):
        relative = path.relative_to(root)
        if SKIPPED_FOLDERS & set(relative.parts) or path.suffix not in (".yml", ".yaml"):
            continue
        found[relative.as_posix()] = _load(path)
    return found


def plan(
    dest_specs: dict[str, dict], with_data_model: bool = False, source: Path = REPO_ROOT
) -> list[Planned]:
    """Every file the export writes into the fork whose specs are `dest_specs`, the pack
    manifest last."""
    layout = dict(LAYOUT)
    if with_data_model:
        layout[DATA_MODELS[0]] = DATA_MODELS[1]
    planned = []
    for origin, target in layout.items():
        for path in sorted((source / origin).iterdir()):
            if path.is_file() and path.suffix in (".py", ".yml") and not path.name.startswith("."):
                planned.append(Planned(f"{target}/{path.name}", path.read_bytes()))
    planned.append(Planned(PACK_FILE, _pack(dest_specs, with_data_model, source)))
    return planned


def _pack(dest_specs: dict[str, dict], with_data_model: bool, source: Path) -> bytes:
    """The pack manifest for the fork: this repo's items, the data models the fork (and the
    export) has for the pack's log types."""
    pack = _load(source / PACK_FILE)
    own_models = {_spec_id(_load(p)) for p in (source / DATA_MODELS[0]).glob("*.yml")}
    ids = [
        item for item in pack["PackDefinition"]["IDs"] if with_data_model or item not in own_models
    ]
    log_types = set()
    for path in (source / LAYOUT["rules/aws_ec2_compute_abuse"]).glob("*.yml"):
        log_types.update(_load(path).get("LogTypes") or [])
    for spec in dest_specs.values():
        if spec.get("AnalysisType") == "datamodel" and log_types & set(spec.get("LogTypes") or []):
            model = spec.get("DataModelID")
            if model and model not in ids:
                ids.append(model)
    pack["PackDefinition"]["IDs"] = ids
    header = (
        "# Written by `python -m compute_abuse export` from the AWS EC2 Compute Abuse pack; it\n"
        "# lists the fork's data models for the pack's log types, as pat check-packs requires.\n"
    )
    return (header + yaml.safe_dump(pack, sort_keys=False, width=100)).encode("utf-8")


def export(dest: Path, with_data_model: bool = False, source: Path = REPO_ROOT) -> list[str]:
    """Write the pack into `dest`; the files written or updated (relative paths). Raises
    ExportRefused, writing nothing, when the fork holds a conflicting item."""
    dest = dest.resolve()
    if not dest.is_dir():
        raise ExportRefused(f"{dest}: no such folder (the content repo to install into)")
    manifest_path = dest / MANIFEST
    previous = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    dest_specs = _specs(dest)
    planned = plan(dest_specs, with_data_model, source)
    ours = {
        target
        for target, digest in previous.items()
        if (dest / target).is_file() and _digest((dest / target).read_bytes()) == digest
    }
    problems = []
    for target in sorted(set(previous) - ours):
        if (dest / target).exists():
            problems.append(
                f"{target} was changed since the last export: keep your change "
                "elsewhere or delete the file, then export again"
            )
    fork_ids = {_spec_id(spec): path for path, spec in dest_specs.items() if _spec_id(spec)}
    for item in planned:
        path = dest / item.target
        foreign = item.target not in ours and item.target not in previous
        if foreign and path.exists() and path.read_bytes() != item.content:
            problems.append(f"{item.target} exists in the fork with other content")
        if item.target.endswith(".yml"):
            spec_id = _spec_id(yaml.safe_load(item.content))
            where = fork_ids.get(spec_id)
            if where and where != item.target and where not in ours:
                problems.append(f"{spec_id!r} already exists in the fork at {where}")
    if problems:
        raise ExportRefused("; ".join(problems))
    written = []
    for item in planned:
        path = dest / item.target
        if not path.is_file() or path.read_bytes() != item.content:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(item.content)
            written.append(item.target)
    for target in sorted(ours - {item.target for item in planned}):
        (dest / target).unlink()  # the pack no longer has it
        written.append(target)
    record = {item.target: _digest(item.content) for item in planned}
    manifest_path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    return written
