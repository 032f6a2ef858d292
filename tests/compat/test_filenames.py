"""Filename rules aligned with the published Dyne 2.0.5 where they are safer
(tried against 2.0.5: only ASCII letters, digits, space, ".", "-", "_";
"." / ".." / empty refused even when sanitizing)."""

import pytest
from pydantic import BaseModel

import dyne
from dyne.ext.io.pydantic import FileField, input
from dyne.ext.io.utils.filename import INVALID_CHARS, secure_filename
from dyne.ext.io.validators.file import validate_filename


class Upload:
    def __init__(self, filename):
        self.filename = filename
        self.original_filename = filename


@pytest.mark.parametrize("name", ["a.txt", "a b.txt", "report-2024_v2.PDF", "-rf"])
def test_published_safe_names_pass(name):
    upload = Upload(name)
    assert validate_filename(upload) is None
    assert upload.filename == name


@pytest.mark.parametrize("name, message", [
    ("héllo.txt", "Filename contains unsafe characters."),
    ("日本.txt", "Filename contains unsafe characters."),
    ("my file(1).PNG", "Filename contains unsafe characters."),
    ("../../etc/passwd", "Filename must not contain path separators."),
    ("", "Filename is empty."),
    (".", "Filename must not start with a dot."),
    ("..", "Filename must not contain '..'."),
    ("a\x00b.txt", "Filename must not contain control characters."),
])
def test_unsafe_names_are_refused(name, message):
    with pytest.raises(ValueError, match=f"^{message.replace('(', '[(]').replace(')', '[)]')}$"):
        validate_filename(Upload(name))


@pytest.mark.parametrize("name", ["", ".", "..", " . "])
def test_names_with_nothing_to_keep_are_refused_even_when_sanitizing(name):
    upload = Upload(name)
    with pytest.raises(ValueError, match=r"^Filename "):
        validate_filename(upload, sanitize=True)
    assert upload.filename == name


def test_sanitizing_renames_other_unsafe_names():
    upload = Upload("résumé (final).pdf")
    validate_filename(upload, sanitize=True)
    assert upload.filename == "resume_final_.pdf"
    assert INVALID_CHARS.search(upload.filename) is None


def test_secure_filename():
    assert secure_filename("../../etc/passwd") == "etc_passwd"
    assert secure_filename("résumé.pdf") == "resume.pdf"
    for bad in ("", ".", ".."):
        with pytest.raises(ValueError, match=r"^(Filename cannot be empty|Invalid filename)"):
            secure_filename(bad)
    with pytest.raises(ValueError, match="control characters"):
        secure_filename("a\x00b.txt")


def test_file_field_refuses_a_non_ascii_upload():
    app = dyne.App()

    class Form(BaseModel):
        doc: FileField

    @app.route("/upload", methods=["POST"])
    @input(Form, location="form")
    async def upload(req, resp, *, data):
        resp.media = {"saved": data.doc.filename}

    ok = app.client.post("/upload", files={"doc": ("notes.txt", b"x")})
    assert ok.json() == {"saved": "notes.txt"}
    refused = app.client.post("/upload", files={"doc": ("naïve.txt", b"x")})
    assert refused.status_code == 400
    assert refused.json() == {"errors": {"doc": ["Filename contains unsafe characters."]}}
