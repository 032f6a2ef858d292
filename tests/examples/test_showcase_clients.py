"""The showcase's generated clients: made by `dyne client`, offered for
download by the app, type-checked (mypy --strict, tsc --strict) and run
against the showcase under uvicorn, from Python and from Node."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

from tests.clientgen.tools import compile_typescript, mypy_strict, node, typecheck_typescript
from tests.conftest import ROOT, free_port, serve_in_subprocess

pytestmark = pytest.mark.server

PYTHON_SCRIPT = """
import json, sys
from showcase_client import ApiError, Client

base = sys.argv[1]
with Client(base) as client:
    created = client.create_note({"title": "From Python", "body": "typed"})
    patched = client.note_patch(created["id"], {"published": True})
    fetched = client.note_get(created["id"])
    listed = [note["title"] for note in client.list_notes()]
    attached = client.attach(created["id"], {"file": ("hello.txt", b"hello", "text/plain")})
    client.note_delete(created["id"])
    errors = []
    for call in (lambda: client.note_get(created["id"]), lambda: client.create_note({"title": ""}),
                 lambda: client.admin()):
        try:
            call()
        except ApiError as error:
            errors.append([error.status, error.body])
with Client(base, auth=("admin", "admin-password")) as admin:
    figures = admin.admin()
print(json.dumps({"created": created, "patched": patched, "fetched": fetched, "listed": listed,
                  "attached": attached, "errors": errors, "figures": figures}))
"""

TYPESCRIPT_SCRIPT = """
import { ApiError, Client } from "./showcase_client";

async function failure(call: () => Promise<unknown>): Promise<unknown[]> {
  try {
    await call();
  } catch (error) {
    if (error instanceof ApiError) return [error.status, error.body];
    throw error;
  }
  throw new Error("no error");
}

async function main(base: string): Promise<void> {
  const client = new Client(base);
  const created = await client.createNote({ title: "From TypeScript", body: "typed" });
  const patched = await client.notePatch(created.id, { published: true });
  const fetched = await client.noteGet(created.id);
  const listed = ((await client.listNotes()) as { title: string }[]).map((note) => note.title);
  const attached = await client.attach(created.id, {
    file: new File([new TextEncoder().encode("hello")], "hello.txt", { type: "text/plain" }) });
  await client.noteDelete(created.id);
  const errors = [await failure(() => client.noteGet(created.id)),
                  await failure(() => client.createNote({ title: "" })),
                  await failure(() => client.admin())];
  const basic = "Basic " + btoa("admin:admin-password");
  const admin = new Client({ baseUrl: base, headers: { Authorization: basic } });
  const figures = await admin.admin();
  console.log(JSON.stringify({ created, patched, fetched, listed, attached, errors, figures }));
}

declare const process: { argv: string[] };
main(process.argv[2]);
"""


def generate_with_the_cli(lang: str, target, env: dict[str, str]) -> str:
    result = subprocess.run([sys.executable, "-m", "dyne", "--app", "examples/showcase/app.py", "client",
                             "--lang", lang, "-o", str(target)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return target.read_text()


def check(results: dict, title: str) -> None:
    created = results["created"]
    assert created == {"id": created["id"], "title": title, "body": "typed", "published": False}
    assert results["patched"] == {**created, "published": True}
    assert results["fetched"] == results["patched"]
    assert title in results["listed"]
    assert results["attached"]["filename"] == "hello.txt" and results["attached"]["size"] == 5
    missing, invalid, unauthorized = results["errors"]
    assert missing[0] == 404 and f"Note {created['id']} not found" in json.dumps(missing[1])
    assert invalid[0] == 400 and "title" in invalid[1]["errors"]
    assert unauthorized[0] == 401
    assert results["figures"]["admin"] == "admin"


@pytest.fixture
def showcase_server(tmp_path):
    port = free_port()
    env = {"PORT": str(port), "UPLOAD_DIR": str(tmp_path / "uploads"),
           "ALCHEMICAL_DATABASE_URL": f"sqlite:///{tmp_path / 'notes.db'}"}
    with serve_in_subprocess([sys.executable, "examples/showcase/app.py"], port, env=env):
        yield f"http://127.0.0.1:{port}", {**os.environ, **env}


def test_the_python_client_of_the_showcase(showcase_server, tmp_path):
    base, env = showcase_server
    source = generate_with_the_cli("python", tmp_path / "showcase_client.py", env)
    download = httpx.get(f"{base}/clients/python.py")
    assert download.status_code == 200
    assert download.headers["content-disposition"] == 'attachment; filename="showcase_client.py"'
    assert download.text == source  # the same document, the same client
    mypy_strict(tmp_path / "showcase_client.py")
    (tmp_path / "script.py").write_text(PYTHON_SCRIPT)
    result = subprocess.run([sys.executable, "script.py", base], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    check(json.loads(result.stdout), "From Python")


def test_the_typescript_client_of_the_showcase_under_node(showcase_server, tmp_path):
    base, env = showcase_server
    source = generate_with_the_cli("typescript", tmp_path / "showcase_client.ts", env)
    download = httpx.get(f"{base}/clients/typescript.ts")
    assert download.status_code == 200 and download.text == source
    assert httpx.get(f"{base}/clients/go.go").status_code == 404
    (tmp_path / "script.ts").write_text(TYPESCRIPT_SCRIPT)
    typecheck_typescript(tmp_path / "showcase_client.ts", tmp_path / "script.ts")
    compile_typescript(tmp_path / "js", tmp_path / "showcase_client.ts", tmp_path / "script.ts")
    result = subprocess.run([node(), "script.js", base], cwd=tmp_path / "js", capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    check(json.loads(result.stdout), "From TypeScript")
