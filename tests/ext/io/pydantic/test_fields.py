"""``dyne.ext.io.pydantic.fields.FileField``: class attributes, the validator
registry, pydantic integration (with or without ``arbitrary_types_allowed``)."""

from __future__ import annotations

import tempfile

import pytest
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from dyne.ext.io import File
from dyne.ext.io.pydantic.fields import FileField


def upload(content: bytes = b"data", filename: str = "a.png", content_type: str = "image/png") -> File:
    spooled = tempfile.SpooledTemporaryFile()  # noqa: SIM115 - the File owns it
    spooled.write(content)
    spooled.seek(0)
    return File(spooled, filename, content_type)


class Image(FileField):
    max_size = 10
    allowed_extensions = {"PNG", ".jpg"}


def test_validated_value_is_an_instance_of_the_subclass():
    class Model(BaseModel):
        image: Image

    model = Model(image=upload())
    assert isinstance(model.image, Image) and isinstance(model.image, File)
    assert model.image.content == b"data"


def test_starlette_uploads_are_accepted_too():
    from starlette.datastructures import Headers, UploadFile

    spooled = tempfile.SpooledTemporaryFile()  # noqa: SIM115 - the upload owns it
    spooled.write(b"img")
    spooled.seek(0)
    raw = UploadFile(spooled, size=3, filename="x.jpg", headers=Headers({"content-type": "image/jpeg"}))
    value = TypeAdapter(Image).validate_python(raw)
    assert (type(value), value.filename, value.size, value.content_type) == (Image, "x.jpg", 3, "image/jpeg")


@pytest.mark.parametrize("file, message", [
    (upload(b"x" * 11), "File is too large (11 bytes); the limit is 10 bytes."),
    (upload(filename="a.gif"), "File extension '.gif' is not allowed; allowed: jpg, png."),
    (upload(filename="../a.png"), "Filename must not contain path separators."),
    ("a string", "Expected a file upload."),
])
def test_failures_are_value_errors(file, message):
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(Image).validate_python(file)
    error = caught.value.errors()[0]
    assert error["type"] == "value_error" and str(error["ctx"]["error"]) == message


def test_sanitize_filename_class_attribute():
    class Safe(FileField):
        sanitize_filename = True

    value = TypeAdapter(Safe).validate_python(upload(filename="../../x y.png"))
    assert (value.filename, value.original_filename) == ("x_y.png", "../../x y.png")


def test_the_validator_registry_runs_in_order_and_can_be_extended():
    calls = []

    class Audited(FileField):
        file_validators = ["validate_first", *FileField.file_validators, "validate_last"]

        @classmethod
        def validate_first(cls, file):
            calls.append(("first", file.filename))

        @classmethod
        def validate_last(cls, file):
            calls.append(("last", file.filename))
            if file.size == 0:
                raise ValueError("Empty file")

    TypeAdapter(Audited).validate_python(upload())
    assert calls == [("first", "a.png"), ("last", "a.png")]
    with pytest.raises(ValidationError, match="Empty file"):
        TypeAdapter(Audited).validate_python(upload(b""))
    assert FileField.file_validators == ["validate_filename", "validate_extension", "validate_size"]


def test_a_registry_naming_a_missing_validator_fails_at_class_definition():
    with pytest.raises(TypeError, match="names 'validate_typo', which Broken does not define"):
        class Broken(FileField):
            file_validators = [*FileField.file_validators, "validate_typo"]


@pytest.mark.parametrize("config", [ConfigDict(), ConfigDict(arbitrary_types_allowed=True)])
def test_works_with_and_without_arbitrary_types_allowed(config):
    class Model(BaseModel):
        model_config = config
        image: Image | None = None
        gallery: list[Image] = []

    model = Model(image=upload(), gallery=[upload(), upload(filename="b.jpg")])
    assert [f.filename for f in model.gallery] == ["a.png", "b.jpg"]
    assert Model().image is None


def test_json_schema_and_json_dump_use_the_filename():
    class Model(BaseModel):
        image: Image

    schema = Model.model_json_schema()
    assert schema["properties"]["image"] == {"type": "string", "format": "binary", "title": "Image"}
    model = Model(image=upload(filename="pic.png"))
    assert model.model_dump(mode="json") == {"image": "pic.png"}
    assert isinstance(model.model_dump()["image"], Image)
