"""``dyne.ext.io.marshmallow.fields.FileField``: constructor options, the
per-instance validator registry, load and dump."""

from __future__ import annotations

import tempfile

import pytest
from marshmallow import Schema, ValidationError

from dyne.ext.io import File
from dyne.ext.io.marshmallow.fields import FileField


def upload(content: bytes = b"data", filename: str = "a.png", content_type: str = "image/png") -> File:
    spooled = tempfile.SpooledTemporaryFile()  # noqa: SIM115 - the File owns it
    spooled.write(content)
    spooled.seek(0)
    return File(spooled, filename, content_type)


def load(field: FileField, value):
    return Schema.from_dict({"file": field})().load({"file": value})["file"]


def test_constructor_options():
    field = FileField(allowed_extensions=["PNG", ".jpg"], max_size=10, required=True)
    assert (field.allowed_extensions, field.max_size, field.sanitize_filename, field.required) == (
        frozenset({"png", "jpg"}), 10, False, True)
    assert isinstance(load(field, upload()), File)


@pytest.mark.parametrize("value, message", [
    (upload(b"x" * 11), "File is too large (11 bytes); the limit is 10 bytes."),
    (upload(filename="a.gif"), "File extension '.gif' is not allowed; allowed: jpg, png."),
    (upload(filename="nul.png"), "Filename is a reserved device name."),
    ("a string", "Expected a file upload."),
    (42, "Expected a file upload."),
])
def test_failures_are_validation_errors(value, message):
    field = FileField(allowed_extensions=["png", "jpg"], max_size=10)
    with pytest.raises(ValidationError) as caught:
        load(field, value)
    assert caught.value.messages == {"file": [message]}


def test_sanitize_filename_option():
    file = load(FileField(sanitize_filename=True), upload(filename="..\\evil name.png"))
    assert (file.filename, file.original_filename) == ("evil_name.png", "..\\evil name.png")


def test_active_validators_are_per_instance():
    class Checked(FileField):
        def validate_not_empty(self, file):
            if not file.size:
                raise ValidationError("Empty file.")

    strict = Checked()
    strict.active_file_validators.append("validate_not_empty")
    lenient = Checked()
    assert lenient.active_file_validators == ["validate_filename", "validate_extension", "validate_size"]
    assert load(lenient, upload(b"")).size == 0
    with pytest.raises(ValidationError, match="Empty file"):
        load(strict, upload(b""))
    strict.active_file_validators.remove("validate_filename")
    assert load(strict, upload(filename="../x.png")).filename == "../x.png"


def test_a_validator_name_that_does_not_exist_fails_when_the_schema_is_built():
    field = FileField()
    field.active_file_validators.append("validate_typo")
    with pytest.raises(TypeError, match="lists file validator\\(s\\) 'validate_typo' it does not define"):
        Schema.from_dict({"file": field})()


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="max_size must be a number of bytes"):
        FileField(max_size="5MB")
    with pytest.raises(ValueError, match="empty extension"):
        FileField(allowed_extensions=[""])


def test_dump_gives_the_filename_or_the_stored_value():
    schema = Schema.from_dict({"cover": FileField()})()
    assert schema.dump({"cover": upload(filename="c.png")}) == {"cover": "c.png"}
    assert schema.dump({"cover": "covers/c.png"}) == {"cover": "covers/c.png"}
    assert schema.dump({"cover": None}) == {"cover": None}
