"""``FileField`` for marshmallow schemas::

    class UploadSchema(Schema):
        image = FileField(allowed_extensions=["png", "jpg"], max_size=5 * 1024 * 1024)

The loaded value is a ``dyne.ext.io.File``; dumping a ``File`` gives its
filename (other values, such as a stored path, are dumped as they are).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from marshmallow import ValidationError, fields

from ..files import (
    DEFAULT_FILE_VALIDATORS,
    File,
    as_file,
    check_extension,
    check_filename,
    check_size,
    normalize_extensions,
)

__all__ = ["FileField"]


class FileField(fields.Field):
    """An uploaded file, checked by the validators named in
    ``active_file_validators`` (a per-instance copy of the class's
    ``file_validators``). Validators are methods that take the ``File`` and
    raise ``marshmallow.ValidationError``.

    :param allowed_extensions: extensions without dots, case-insensitive
        (``None``: any).
    :param max_size: the largest accepted size in bytes (``None``: no limit).
    :param sanitize_filename: ``False`` refuses unsafe filenames; ``True``
        replaces them by a safe ASCII name.
    Other keyword arguments are marshmallow's (``required``, ``metadata``...).
    """

    file_validators: ClassVar[list[str]] = list(DEFAULT_FILE_VALIDATORS)
    default_error_messages: dict[str, Any] = {"invalid": "Expected a file upload."}

    def __init__(self, *, allowed_extensions: Iterable[str] | str | None = None,
                 max_size: int | None = None, sanitize_filename: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if max_size is not None and (isinstance(max_size, bool) or not isinstance(max_size, int)
                                     or max_size < 0):
            raise ValueError(f"FileField max_size must be a number of bytes, got {max_size!r}")
        self.allowed_extensions = normalize_extensions(allowed_extensions)
        self.max_size = max_size
        self.sanitize_filename = bool(sanitize_filename)
        #: The validators this field runs, in order (method names).
        self.active_file_validators: list[str] = list(type(self).file_validators)

    # -- the validators ------------------------------------------------------------

    def validate_filename(self, file: File) -> None:
        """Refuse unsafe filenames (or sanitize them when ``sanitize_filename``)."""
        problem = check_filename(file, self.sanitize_filename)
        if problem:
            raise ValidationError(problem)

    def validate_extension(self, file: File) -> None:
        """Enforce ``allowed_extensions``."""
        problem = check_extension(file, self.allowed_extensions)
        if problem:
            raise ValidationError(problem)

    def validate_size(self, file: File) -> None:
        """Enforce ``max_size`` (from the size the parser counted; the file is not read)."""
        problem = check_size(file, self.max_size)
        if problem:
            raise ValidationError(problem)

    # -- marshmallow integration ------------------------------------------------------

    def _bind_to_schema(self, field_name: str, parent: Any) -> None:
        super()._bind_to_schema(field_name, parent)
        missing = [name for name in self.active_file_validators
                   if not callable(getattr(self, name, None))]
        if missing:
            raise TypeError(f"{type(self).__name__} lists file validator(s) "
                            f"{', '.join(map(repr, missing))} it does not define")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> File:
        file = as_file(value)
        if file is None:
            raise self.make_error("invalid")
        for name in self.active_file_validators:
            getattr(self, name)(file)
        return file

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if isinstance(value, File):
            return value.filename
        return value
