"""Clients generated from OpenAPI documents: they type-check strictly (mypy
--strict, tsc --strict), carry the document's types, and work against a real
dyne API under uvicorn (Python with httpx; TypeScript compiled and run under
Node with its global fetch)."""

from __future__ import annotations

import importlib.util
import inspect
import json
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from dyne.clientgen import generate, read_document
from tests.clientgen import pets
from tests.clientgen.documents import tricky
from tests.clientgen.tools import compile_typescript, mypy_strict, node, typecheck_typescript
from tests.conftest import serve_in_thread

VERSIONS = ["3.0.3", "3.1.0"]


def load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


@pytest.mark.parametrize("version", VERSIONS)
def test_the_python_client_of_a_tricky_document_passes_mypy_strict(version, tmp_path):
    path = tmp_path / "tricky_client.py"
    path.write_text(generate(tricky(version), "python"))
    mypy_strict(path)
    module = load_module(path, f"tricky_client_{version[2]}")
    try:
        # Names: a dashed operationId, a keyword ("class" -> class_), a dashed header.
        signature = inspect.signature(module.Client.get_pet)
        assert list(signature.parameters) == ["self", "pet_id", "x_trace_id", "class_", "session", "tags"]
        assert signature.parameters["class_"].kind is inspect.Parameter.KEYWORD_ONLY
        assert list(inspect.signature(module.Client.list_pets).parameters) == ["self", "limit"]
        # Enums are Literals; dashed and keyword property names stay as sent.
        assert typing.get_args(eval(module.Kind, vars(module))) == ("cat", "dog", "bird-of-prey")
        assert {"owner-email", "from", "name", "kind"} <= set(module.NewPet.__annotations__)
        assert module.NewPet.__required_keys__ == {"name", "kind"}
        # allOf: Pet has NewPet's fields and its own; the recursive friends list.
        assert {"name", "kind", "id", "friends"} <= set(module.Pet.__annotations__)
        assert module.Pet.__required_keys__ == {"name", "kind", "id"}
        # Nested inline objects became models of their own; "model.with-Dots" a valid name.
        assert set(module.NewPetAddress.__annotations__) == {"city", "geo"}
        assert module.ModelWithDots == "list[str]"
        assert "Deprecated." in module.Client.delete.__doc__
    finally:
        sys.modules.pop(f"tricky_client_{version[2]}", None)


@pytest.mark.parametrize("version", VERSIONS)
def test_the_typescript_client_of_a_tricky_document_passes_tsc_strict(version, tmp_path):
    source = generate(tricky(version), "typescript")
    path = tmp_path / "client.ts"
    path.write_text(source)
    typecheck_typescript(path)
    assert 'export type Kind = "cat" | "dog" | "bird-of-prey";' in source
    assert '  "owner-email"?: string | null;' in source
    assert "  toy?: Ball | Rope;" in source and "  weight?: number | string;" in source
    assert "  anything?: unknown;" in source  # "not": a loose type
    assert "  labels?: Record<string, string>;" in source
    assert ("  async getPet(petId: number, options: { class?: string; tags?: string[]; "
            '"X-Trace-Id": string; session?: string }): Promise<Pet> {') in source
    assert "One pet *\\/ with a comment end" in source  # a comment cannot be closed early


def test_generation_is_deterministic_and_names_never_collide():
    document = tricky()
    assert generate(document, "python") == generate(json.loads(json.dumps(document)), "python")
    assert generate(document, "typescript") == generate(tricky(), "typescript")
    document["components"]["schemas"]["Client"] = {"type": "object", "properties": {"a": {"type": "string"}}}
    document["components"]["schemas"]["client"] = {"type": "string"}
    model = read_document(document)
    names = [m.name for m in model.models]
    assert len(names) == len(set(names))
    python = generate(document, "python")
    assert "class ClientModel(TypedDict):" in python and "Client2: TypeAlias = 'str'" in python
    assert "export interface Client2 {" in generate(document, "typescript")


def test_a_deeply_nested_schema_is_cut_short_not_a_crash():
    schema: dict = {"type": "string"}
    for _ in range(5000):
        schema = {"type": "array", "items": schema}
    document = {"openapi": "3.0.3", "info": {"title": "Deep", "version": "1"}, "paths": {},
                "components": {"schemas": {"Deep": schema}}}
    python = generate(document, "python")
    alias = next(line for line in python.splitlines() if line.startswith("Deep: TypeAlias"))
    assert alias.count("list[") == 64 and "list[Any]" in alias
    assert "export type Deep = " in generate(document, "typescript")


def test_a_document_that_is_not_openapi_3_is_refused():
    with pytest.raises(ValueError, match="Not an OpenAPI 3 document"):
        generate({"swagger": "2.0"}, "python")
    with pytest.raises(ValueError, match="Unknown client language 'go'"):
        generate(tricky(), "go")


# -- against a real server -----------------------------------------------------------------

PYTHON_SCRIPT = """
import json, sys
from pets_client import ApiError, Client

with Client(sys.argv[1], headers={"X-Client": "py"}) as client:
    rex = client.create_pet({"name": "Rex", "kind": "dog", "tags": ["big"],
                             "address": {"city": "Lyon"}})
    tom = client.create_pet({"name": "Tom", "kind": "cat", "owner_email": None})
    dogs = client.list_pets("trace-1", kind="dog", tag=["big"], lang="fr")
    everyone = client.list_pets("trace-2")
    one = client.get_pet(tom["id"])
    photo = client.put_photo(rex["id"], {"caption": "smile", "photo": ("rex.txt", b"woof", "text/plain")})
    client.delete_pet(tom["id"])
    try:
        client.get_pet(tom["id"])
    except ApiError as error:
        missing = {"status": error.status, "body": error.body}
    try:
        client.create_pet({"name": "", "kind": "dog"})
    except ApiError as error:
        invalid = {"status": error.status, "body": error.body}
print(json.dumps({"rex": rex, "dogs": dogs, "everyone": len(everyone), "one": one, "photo": photo,
                  "missing": missing, "invalid": invalid}))
"""

ASYNC_PYTHON_SCRIPT = """
import asyncio, json, sys
from pets_client import ApiError, AsyncClient

async def main():
    async with AsyncClient(sys.argv[1]) as client:
        bird = await client.create_pet({"name": "Kes", "kind": "bird-of-prey"})
        birds = await client.list_pets("trace-3", kind="bird-of-prey")
        await client.delete_pet(bird["id"])
        try:
            await client.get_pet(bird["id"])
        except ApiError as error:
            return {"bird": bird, "birds": birds, "status": error.status}

print(json.dumps(asyncio.run(main())))
"""

TYPESCRIPT_SCRIPT = """
import { ApiError, Client } from "./pets_client";

async function main(baseUrl: string): Promise<void> {
  const client = new Client({ baseUrl, headers: { "X-Client": "ts" } });
  const rex = await client.createPet({ name: "Rex", kind: "dog", tags: ["big"], address: { city: "Lyon" } });
  const tom = await client.createPet({ name: "Tom", kind: "cat", owner_email: null });
  const dogs = await client.listPets({ kind: "dog", tag: ["big"], "x-trace-id": "trace-1", lang: "fr" });
  const everyone = await client.listPets({ "x-trace-id": "trace-2" });
  const one = await client.getPet(tom.id);
  const photo = await client.putPhoto(rex.id, {
    caption: "smile",
    photo: new File([new TextEncoder().encode("woof")], "rex.txt", { type: "text/plain" }) });
  await client.deletePet(tom.id);
  let missing: unknown = null;
  try {
    await client.getPet(tom.id);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    missing = { status: error.status, body: error.body };
  }
  let invalid: unknown = null;
  try {
    await client.createPet({ name: "", kind: "dog" });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    invalid = { status: error.status, body: error.body };
  }
  console.log(JSON.stringify({ rex, dogs, everyone: everyone.length, one, photo, missing, invalid }));
}

declare const process: { argv: string[] };
main(process.argv[2]);
"""


def check_results(results: dict) -> None:
    rex = results["rex"]
    assert rex == {"name": "Rex", "kind": "dog", "owner_email": None,
                   "address": {"city": "Lyon", "zip": None},
                   "tags": ["big"], "id": rex["id"]}
    assert results["dogs"] == [rex]
    assert results["everyone"] == 2
    assert results["one"]["name"] == "Tom"
    assert results["photo"] == {"id": rex["id"], "caption": "smile", "filename": "rex.txt", "size": 4}
    assert results["missing"]["status"] == 404
    assert results["invalid"]["status"] == 400
    assert "name" in results["invalid"]["body"]["errors"]
    assert pets.SEEN[-2:] == [{"trace": "trace-1", "lang": "fr"}, {"trace": "trace-2", "lang": "en"}]


@pytest.fixture
def pets_server():
    pets.PETS.clear()
    pets.SEEN.clear()
    with serve_in_thread(pets.app) as url:
        yield url


def test_the_python_client_works_against_the_api(pets_server, tmp_path):
    (tmp_path / "pets_client.py").write_text(generate(pets.api.to_dict(), "python"))
    (tmp_path / "script.py").write_text(PYTHON_SCRIPT)
    mypy_strict(tmp_path / "pets_client.py")
    result = subprocess.run([sys.executable, "script.py", pets_server], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    check_results(json.loads(result.stdout))
    # AsyncClient: the same methods, as coroutines.
    (tmp_path / "async_script.py").write_text(ASYNC_PYTHON_SCRIPT)
    result = subprocess.run([sys.executable, "async_script.py", pets_server], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["birds"] == [outcome["bird"]] and outcome["bird"]["kind"] == "bird-of-prey"
    assert outcome["status"] == 404


def test_the_typescript_client_works_against_the_api_under_node(pets_server, tmp_path):
    (tmp_path / "pets_client.ts").write_text(generate(pets.api.to_dict(), "typescript"))
    (tmp_path / "script.ts").write_text(TYPESCRIPT_SCRIPT)
    typecheck_typescript(tmp_path / "pets_client.ts", tmp_path / "script.ts")
    compile_typescript(tmp_path / "js", tmp_path / "pets_client.ts", tmp_path / "script.ts")
    result = subprocess.run([node(), "script.js", pets_server], cwd=tmp_path / "js",
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    check_results(json.loads(result.stdout))
