import json
import os
from pathlib import Path

import pytest

from compute_abuse import REPO_ROOT
from compute_abuse.content import install_global_helpers

# Global helpers are imported by GlobalID, as in Panther.
install_global_helpers()

# The KV store backends (`kv`, `memory_kv`) every stateful-rule test uses.
pytest_plugins = ["tests.kv"]

# The shared corpus of real third-party CloudTrail records lies beside the clone; it is not part
# of the repo, so tests that read it skip where it is absent.
CORPUS_DIR = Path(os.environ.get("COMPUTE_ABUSE_CORPUS", REPO_ROOT.parent / "shared" / "corpus"))


def corpus_records() -> list[tuple[str, int, dict]]:
    """(file name, line number from 0, record) of every corpus record."""
    records = []
    for path in sorted(CORPUS_DIR.glob("*.jsonl")):
        if path.name.endswith(".provenance.jsonl"):
            continue
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines):
                records.append((path.name, number, json.loads(line)))
    return records


@pytest.fixture(scope="session")
def corpus() -> list[tuple[str, int, dict]]:
    records = corpus_records() if CORPUS_DIR.is_dir() else []
    if not records:
        pytest.skip(f"shared CloudTrail corpus not found at {CORPUS_DIR}")
    return records


@pytest.fixture
def config():
    """ec2_compute_config as the rules and the query generator import it (to monkeypatch)."""
    import ec2_compute_config

    return ec2_compute_config
