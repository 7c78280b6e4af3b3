"""`python -m compute_abuse new-rule NAME`: a new detection's three files, and the pack listing.

A new rule is its module, its YAML spec (with a true and a false test, so `pat test` passes at
once) and one test module; everything else that lists detections is generated from them by
`make generate` (the pack's IDs, docs/detections.md, the queries) and checked by tests. Corpus
labels default to "no alert" (tests/test_corpus.py).
"""

import re
from pathlib import Path

import yaml

from compute_abuse import REPO_ROOT
from compute_abuse.content import load_specs

RULES_FOLDER = Path("rules", "aws_ec2_compute_abuse")
RULE_ID_PREFIX = "ComputeAbuse.AWS.EC2."
_TEMPLATES = Path(__file__).parent / "templates"
_NAME = re.compile(r"[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)*")
_PACK_IDS = re.compile(r"(?m)^(  IDs:\n)((?:    - .*\n)*)")


def new_rule(name: str, root: Path = REPO_ROOT) -> list[Path]:
    """Write rules/.../<name>.py and .yml and tests/test_<name>.py for the rule
    ComputeAbuse.AWS.EC2.<Name>; ValueError (nothing written) for a bad or taken name."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"{name!r}: give the rule's name in CamelCase, e.g. SpotPriceProbe")
    module = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    rule_id = RULE_ID_PREFIX + name
    paths = [
        root / RULES_FOLDER / f"{module}.py",
        root / RULES_FOLDER / f"{module}.yml",
        root / "tests" / f"test_{module}.py",
    ]
    taken = [str(path.relative_to(root)) for path in paths if path.exists()]
    if rule_id in {spec.analysis_id for spec in load_specs(root)}:
        taken.append(f"RuleID {rule_id}")
    if taken:
        raise ValueError(f"{name}: already exists: {', '.join(taken)}")
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", name)
    fields = {"module": module, "rule_id": rule_id, "words": words}
    texts = [
        (_TEMPLATES / "rule.py.txt").read_text(encoding="utf-8"),
        (_TEMPLATES / "rule.yml.txt").read_text(encoding="utf-8").format(**fields)
        + _indented(yaml.safe_dump(_yaml_tests(), sort_keys=False, width=100)),
        (_TEMPLATES / "test_rule.py.txt").read_text(encoding="utf-8").replace("{rule_id}", rule_id),
    ]
    for path, text in zip(paths, texts, strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return paths


def _yaml_tests() -> list[dict]:
    from compute_abuse.events import iam_user, run_instances

    launch = run_instances("p4d.24xlarge", 1, 1, identity=iam_user("mallory"))
    refused = run_instances(
        "p4d.24xlarge",
        1,
        1,
        identity=iam_user("mallory"),
        error_code="Client.UnauthorizedOperation",
    )
    return [
        {"Name": "A successful launch alerts", "ExpectedResult": True, "Log": launch},
        {"Name": "A refused launch does not alert", "ExpectedResult": False, "Log": refused},
    ]


def _indented(text: str) -> str:
    return "".join(f"  {line}" if line.strip() else line for line in text.splitlines(True))


def sync_pack(root: Path = REPO_ROOT) -> bool:
    """List every item of the repo in the pack: listed items keep their place, new ones follow
    in ID order, removed ones go. Whether the pack file changed."""
    specs = load_specs(root)
    (pack,) = [spec for spec in specs if spec.analysis_type == "pack"]
    items = {spec.analysis_id for spec in specs if spec.analysis_type != "pack"}
    listed = [item for item in pack.body["PackDefinition"]["IDs"] if item in items]
    ids = listed + sorted(items - set(listed))
    text = pack.path.read_text(encoding="utf-8")
    block = "".join(f"    - {item}\n" for item in ids)
    updated, found = _PACK_IDS.subn(lambda match: match.group(1) + block, text, count=1)
    if not found:
        raise ValueError(f"{pack.path}: no 'PackDefinition: IDs:' list to update")
    if updated == text:
        return False
    pack.path.write_text(updated, encoding="utf-8")
    return True
