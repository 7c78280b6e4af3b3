"""The archive `make zip` builds with `pat zip`: every content item of the repo, nothing else."""

import subprocess  # nosec B404 - runs pat from this venv with fixed arguments
import sys
import zipfile
from pathlib import Path

from compute_abuse import REPO_ROOT
from compute_abuse.content import load_specs


def expected_files() -> set[str]:
    files = set()
    for spec in load_specs():
        files.add(str(spec.path.relative_to(REPO_ROOT)))
        if spec.python_path:
            files.add(str(spec.python_path.relative_to(REPO_ROOT)))
    return files


def test_pat_zip_holds_every_item_and_nothing_else(tmp_path):
    pat = Path(sys.executable).with_name("pat")
    subprocess.run(  # nosec B603 - our venv's pat, no shell
        [
            str(pat),
            "--skip-version-check",
            "zip",
            "--path",
            ".",
            "--out",
            str(tmp_path),
            "--skip-tests",
        ],  # what goes into the archive does not depend on them (pat-test runs them)
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    (archive,) = tmp_path.glob("*.zip")
    names = set(zipfile.ZipFile(archive).namelist())
    assert names == expected_files()
    assert not any(n.startswith(("tests/", "compute_abuse/", "samples/")) for n in names)
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
