"""``dyne.ext.io`` stays free of optional dependencies; each library's module
names the install that fixes a missing dependency."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

BLOCK = textwrap.dedent('''
    import sys

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {blocked!r}:
                raise ImportError(f"No module named {{name!r}}")
            return None

    sys.meta_path.insert(0, Block())
''')


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_the_io_package_imports_no_schema_library():
    result = run_python(textwrap.dedent('''
        import sys
        import dyne.ext.io
        from dyne.ext.io import File, ValidatedData
        from dyne.ext.io import core, files
        print(sorted({"pydantic", "marshmallow"} & {m.split(".")[0] for m in sys.modules}))
    '''))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("library, modules", [
    ("pydantic", ["dyne.ext.io.pydantic", "dyne.ext.io.pydantic.fields"]),
    ("marshmallow", ["dyne.ext.io.marshmallow", "dyne.ext.io.marshmallow.fields"]),
])
def test_a_missing_library_names_the_extra_to_install(library, modules):
    for module in modules:
        code = BLOCK.format(blocked={library}) + textwrap.dedent(f'''
            try:
                import {module}
            except ImportError as exc:
                print(exc)
            else:
                print("imported")
        ''')
        result = run_python(code)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == (
            f'dyne.ext.io.{library} needs {library}: pip install "dyne[{library}]"')


def test_each_library_works_without_the_other():
    code = BLOCK.format(blocked={"marshmallow"}) + textwrap.dedent('''
        import dyne
        from pydantic import BaseModel
        from dyne.ext.io.pydantic import input

        class Book(BaseModel):
            title: str

        app = dyne.App()

        @app.route("/", methods=["POST"])
        @input(Book)
        async def create(req, resp, *, data):
            resp.media = data

        print(app.client.post("/", json={"title": "ok"}).json())
    ''')
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "{'title': 'ok'}"


def test_an_attrs_class_without_msgspec_names_the_extra_to_install():
    code = BLOCK.format(blocked={"msgspec"}) + textwrap.dedent('''
        import attrs
        from dyne.ext.io.pydantic import input

        @attrs.define
        class Reader:
            name: str

        try:
            input(Reader)
        except ImportError as exc:
            print(exc)
        else:
            print("accepted")
    ''')
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ('dyne.ext.io.msgspec needs msgspec: pip install "dyne[msgspec]" '
                                     '(or "dyne[attrs]" for attrs classes)')
