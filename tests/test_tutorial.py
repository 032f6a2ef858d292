"""The tutorial's final app (docs/tutorial.md) runs under uvicorn and passes
its own tests. (tests/test_docs.py runs every step; this runs the end result
as a user deploys it.)"""

from __future__ import annotations

import os
import subprocess
import sys

import httpx

from tests.conftest import ROOT, free_port, serve_in_subprocess
from tests.test_docs import code_blocks


def final_files() -> dict[str, str]:
    files: dict[str, str] = {}
    for _language, options, source, *_ in code_blocks(ROOT / "docs" / "tutorial.md"):
        if "file" in options:
            files[options["file"]] = source  # later steps replace earlier ones
    return files


def test_final_app_serves_under_uvicorn_and_passes_its_tests(tmp_path):
    files = final_files()
    assert {"app.py", "test_app.py", ".env", "Dockerfile"} <= set(files)
    for name, source in files.items():
        (tmp_path / name).write_text(source)
    env = {key: value for key, value in os.environ.items()
           if key not in ("DYNE_APP", "PORT", "PYTHONPATH")}
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            "test_app.py"], cwd=tmp_path, capture_output=True, text=True,
                           timeout=300, env=env)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "4 passed" in tests.stdout

    token = dict(line.split("=", 1) for line in files[".env"].splitlines())["NOTES_TOKEN"]
    port = free_port()
    dyne_bin = os.path.join(os.path.dirname(sys.executable), "dyne")
    with serve_in_subprocess([dyne_bin, "run", "--app", "app:app", "--port", str(port)], port,
                             env={"DYNE_APP": "", "PORT": ""}, cwd=tmp_path):
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/health").json() == {"status": "healthy"}
        note = {"title": "Deployed", "body": "under uvicorn"}
        assert httpx.post(f"{base}/notes", json=note).status_code == 401
        created = httpx.post(f"{base}/notes", json=note,
                             headers={"Authorization": f"Bearer {token}"})
        assert created.status_code == 201, created.text
        assert httpx.get(f"{base}/notes/{created.json()['id']}").json() == created.json()
        assert httpx.get(f"{base}/docs").status_code == 200
    assert (tmp_path / "notes.db").is_file()
    assert str(ROOT) not in str(tmp_path)
