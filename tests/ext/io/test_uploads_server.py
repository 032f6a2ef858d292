"""Uploads through a real uvicorn server, with httpx multipart: the size limit
is enforced, and the server does not hold the file in memory."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, serve_in_subprocess, service_unavailable

pytestmark = pytest.mark.server

MB = 1024 * 1024

APP = textwrap.dedent('''
    import dyne
    from marshmallow import Schema
    from pydantic import BaseModel
    from dyne.ext.io.marshmallow import input as marshmallow_input
    from dyne.ext.io.marshmallow.fields import FileField as MarshmallowFileField
    from dyne.ext.io.pydantic import input as pydantic_input
    from dyne.ext.io.pydantic.fields import FileField

    app = dyne.App(max_body_size=8 * 1024 * 1024)

    class UploadSchema(Schema):
        image = MarshmallowFileField(max_size=5 * 1024 * 1024, required=True)

    class Image(FileField):
        max_size = 5 * 1024 * 1024

    class UploadModel(BaseModel):
        image: Image

    @app.route("/marshmallow", methods=["POST"])
    @marshmallow_input(UploadSchema, location="form")
    async def marshmallow_upload(req, resp, *, data):
        image = data["image"]
        await image.asave("saved.bin")
        resp.media = {"size": image.size, "name": image.filename}

    @app.route("/pydantic", methods=["POST"])
    @pydantic_input(UploadModel, location="form")
    async def pydantic_upload(req, resp, *, data):
        resp.media = {"size": data.image.size}
''')


def memory_kib(pid: int, field: str) -> int:
    """``VmRSS`` (resident now) or ``VmHWM`` (peak resident) of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} line")


@pytest.fixture(scope="module")
def upload_server(tmp_path_factory):
    if not Path("/proc/self/status").exists():
        service_unavailable("/proc", "needed to read the server's memory")
    workdir = tmp_path_factory.mktemp("upload-server")
    (workdir / "upload_app.py").write_text(APP)
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "upload_app:app", "--port", str(port),
               "--log-level", "warning"]
    with serve_in_subprocess(command, port, cwd=workdir) as process:
        yield f"http://127.0.0.1:{port}", process, workdir


def big_file(directory: Path, name: str, size: int) -> Path:
    path = directory / name
    with path.open("wb") as handle:
        chunk = bytes(range(256)) * 4096  # 1 MiB
        for _ in range(size // len(chunk)):
            handle.write(chunk)
        handle.write(chunk[: size % len(chunk)])
    return path


@pytest.mark.parametrize("endpoint", ["marshmallow", "pydantic"])
def test_a_6_mb_file_is_refused_by_a_5_mb_limit_without_growing_server_memory(
        upload_server, tmp_path, endpoint):
    url, process, _ = upload_server
    two_mb = big_file(tmp_path, "warm.png", 2 * MB)
    six_mb = big_file(tmp_path, "big.png", 6 * MB)
    with httpx.Client(base_url=url, timeout=30) as client:
        # Warm up with an accepted upload that is also spooled to disk: imports,
        # the parser and the temporary file machinery are then in place.
        for _ in range(2):
            with two_mb.open("rb") as handle:
                assert client.post(f"/{endpoint}", files={"image": ("warm.png", handle)}).status_code == 200
        peak_before = memory_kib(process.pid, "VmHWM")
        for _ in range(3):
            with six_mb.open("rb") as handle:
                response = client.post(f"/{endpoint}", files={"image": ("big.png", handle, "image/png")})
            assert response.status_code == 400
            assert response.json() == {
                "errors": {"image": ["File is too large (6.0 MB); the limit is 5.0 MB."]}}
        peak_after = memory_kib(process.pid, "VmHWM")
    # Reading the file into memory would raise the server's peak by 6 MiB
    # (6144 KiB) at least; spooled to disk, the peak barely moves.
    assert peak_after - peak_before < 4096, f"server peak RSS grew by {peak_after - peak_before} KiB"


def test_a_file_under_the_limit_is_saved_in_full(upload_server, tmp_path):
    url, _, workdir = upload_server
    four_mb = big_file(tmp_path, "ok.png", 4 * MB)
    with httpx.Client(base_url=url, timeout=30) as client, four_mb.open("rb") as handle:
        response = client.post("/marshmallow", files={"image": ("ok.png", handle, "image/png")})
    assert response.json() == {"size": 4 * MB, "name": "ok.png"}
    assert (workdir / "saved.bin").read_bytes() == four_mb.read_bytes()


def test_a_body_over_max_body_size_is_413(upload_server, tmp_path):
    url, _, _ = upload_server
    nine_mb = big_file(tmp_path, "huge.png", 9 * MB)
    with httpx.Client(base_url=url, timeout=30) as client, nine_mb.open("rb") as handle:
        try:
            response = client.post("/pydantic", files={"image": ("huge.png", handle)})
        except httpx.TransportError:  # the server may answer and close before the upload ends
            pytest.fail("the server closed the connection without a response")
    assert response.status_code == 413
