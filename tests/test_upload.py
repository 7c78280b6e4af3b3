"""`make upload` (pat upload) end to end, against a fake Panther API on loopback."""

import io
import os
import secrets
import subprocess  # nosec B404 - runs make with fixed arguments
import zipfile

import pytest

from compute_abuse import REPO_ROOT
from tests.fake_panther import FakePanther, serve
from tests.test_upload_archive import expected_files


@pytest.fixture
def panther():
    fake = FakePanther()
    server, url = serve(fake)
    yield fake, url
    server.shutdown()
    server.server_close()


def make_upload(url: str, token: str, **extra: str) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        PANTHER_API_HOST=url,
        PANTHER_API_TOKEN=token,
        PANTHER_UPLOAD_RETRIES="0",
        **extra,
    )
    return subprocess.run(  # nosec B603 B607 - make from PATH, fixed target
        ["make", "--no-print-directory", "upload"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_upload_sends_the_whole_pack_with_the_token(panther):
    fake, url = panther
    token = f"test-{secrets.token_hex(8)}"
    done = make_upload(url, token)
    assert done.returncode == 0, done.stdout + done.stderr
    (archive,) = fake.uploads
    assert set(zipfile.ZipFile(io.BytesIO(archive)).namelist()) == expected_files()
    upload_requests = [r for r in fake.requests if "uploadDetectionEntities(" in r.query]
    assert upload_requests and all(r.headers.get("X-API-Key") == token for r in fake.requests)
    # The token never reaches the disk: not in the repo's files, not in the archive pat wrote.
    for path in REPO_ROOT.rglob("*"):
        if path.is_file() and ".venv" not in path.parts and ".git" not in path.parts:
            assert token.encode() not in path.read_bytes(), path


def test_a_rejected_upload_fails_loudly(panther):
    fake, url = panther
    fake.reject_upload = "detection ComputeAbuse.AWS.EC2.VCPUSurge: invalid spec"
    done = make_upload(url, "test-token", PANTHER_SKIP_TESTS="true")  # tested by the test above
    assert done.returncode != 0
    assert "invalid spec" in done.stdout + done.stderr
    assert fake.uploads == []


def test_upload_refuses_to_run_without_credentials():
    env = {k: v for k, v in os.environ.items() if not k.startswith("PANTHER_API")}
    done = subprocess.run(  # nosec B603 B607 - make from PATH, fixed target
        ["make", "--no-print-directory", "upload"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0 and "PANTHER_API_TOKEN" in done.stdout
