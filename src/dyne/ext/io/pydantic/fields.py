"""``FileField`` for pydantic models: a reusable, validated upload type.

Subclass it and set class attributes::

    class Image(FileField):
        max_size = 5 * 1024 * 1024
        allowed_extensions = {"jpg", "jpeg", "png"}

    class UploadSchema(BaseModel):
        image: Image

The validated value is an instance of the subclass (a ``dyne.ext.io.File``).
``FileField`` defines its own pydantic schema, so ``arbitrary_types_allowed``
is accepted but not needed. In JSON schema (OpenAPI) it is a binary string.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, ClassVar

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from ..files import DEFAULT_FILE_VALIDATORS, File, as_file, check_extension, check_filename, check_size

__all__ = ["FileField"]


def _filename(value: Any) -> Any:
    return value.filename if isinstance(value, File) else value


class FileField(File):
    """An uploaded file checked by the validators named in ``file_validators``.

    Class attributes: ``max_size`` (bytes, ``None`` for no limit),
    ``allowed_extensions`` (without dots, case-insensitive; ``None`` for any),
    ``sanitize_filename`` (``False``: unsafe names are refused; ``True``:
    they are replaced by a safe ASCII name), ``file_validators`` (method
    names, run in order). Validators are classmethods that take the ``File``
    and raise ``ValueError``.
    """

    __slots__ = ()

    max_size: ClassVar[int | None] = None
    allowed_extensions: ClassVar[Collection[str] | None] = None
    sanitize_filename: ClassVar[bool] = False
    file_validators: ClassVar[list[str]] = list(DEFAULT_FILE_VALIDATORS)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        missing = [name for name in cls.file_validators if not callable(getattr(cls, name, None))]
        if missing:
            raise TypeError(f"{cls.__name__}.file_validators names {', '.join(map(repr, missing))}, "
                            f"which {cls.__name__} does not define (as a classmethod)")

    # -- the validators ------------------------------------------------------------

    @classmethod
    def validate_filename(cls, file: File) -> None:
        """Refuse unsafe filenames (or sanitize them when ``sanitize_filename``)."""
        problem = check_filename(file, cls.sanitize_filename)
        if problem:
            raise ValueError(problem)

    @classmethod
    def validate_extension(cls, file: File) -> None:
        """Enforce ``allowed_extensions``."""
        problem = check_extension(file, cls.allowed_extensions)
        if problem:
            raise ValueError(problem)

    @classmethod
    def validate_size(cls, file: File) -> None:
        """Enforce ``max_size`` (from the size the parser counted; the file is not read)."""
        problem = check_size(file, cls.max_size)
        if problem:
            raise ValueError(problem)

    # -- pydantic integration ----------------------------------------------------------

    @classmethod
    def validate_upload(cls, value: Any) -> FileField:
        """Turn an upload into an instance of ``cls`` and run ``file_validators``."""
        file = as_file(value, cls)
        if file is None:
            raise ValueError("Expected a file upload.")
        for name in cls.file_validators:
            getattr(cls, name)(file)
        return file  # type: ignore[return-value]

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler
                                     ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls.validate_upload,
            serialization=core_schema.plain_serializer_function_ser_schema(_filename, when_used="json"),
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: core_schema.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {"type": "string", "format": "binary"}
