"""Uploaded files: the ``File`` object views receive, the filename safety rules,
and the checks both ``FileField`` flavours (pydantic and marshmallow) share.

An upload arrives as a Starlette ``UploadFile`` whose content Starlette spools
to a temporary file once it passes 1 MB, so a large upload never sits in
memory whole. ``File`` wraps it without copying: its size is known from the
parser, and ``save``/``asave`` copy it in chunks.

Nothing here imports pydantic or marshmallow.
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.datastructures import UploadFile

__all__ = [
    "DEFAULT_FILE_VALIDATORS",
    "File",
    "as_file",
    "check_extension",
    "check_size",
    "filename_problem",
    "is_empty_upload",
    "normalize_extensions",
    "sanitize_filename",
]

#: The validators every ``FileField`` runs, in this order (method names).
DEFAULT_FILE_VALIDATORS = ("validate_filename", "validate_extension", "validate_size")

#: Bytes copied at a time by ``File.save`` / ``File.asave``.
CHUNK_SIZE = 64 * 1024
MAX_FILENAME_BYTES = 255


class File:
    """An uploaded file, as ``@input`` hands it to a view.

    ``filename`` (safe once a ``FileField`` validated it), ``content_type``
    (``application/octet-stream`` when the client sent none), ``size`` in bytes,
    ``headers`` of the multipart part, and ``file``, the underlying binary file
    object (a spooled temporary file). The content is read with ``read`` /
    ``await aread`` or, all at once, ``content``; ``save(path)`` and
    ``await asave(path)`` copy it to disk in chunks.

    The temporary file is closed when the response has been sent: save or
    read the upload inside the view.
    """

    __slots__ = ("content_type", "file", "filename", "headers", "original_filename", "size")

    def __init__(self, file: IO[bytes], filename: str = "", content_type: str | None = None,
                 size: int | None = None, headers: Any = None) -> None:
        self.file = file
        self.filename = filename
        #: The name the client sent, before any sanitizing.
        self.original_filename = filename
        self.content_type = content_type or "application/octet-stream"
        self.size = _measure(file) if size is None else size
        self.headers = headers if headers is not None else {}

    @classmethod
    def from_upload(cls, upload: UploadFile | File) -> File:
        """Wrap a Starlette ``UploadFile`` (or re-wrap another ``File``) without
        copying its content."""
        if isinstance(upload, File):
            made = cls(upload.file, upload.filename, upload.content_type, upload.size, upload.headers)
            made.original_filename = upload.original_filename
            return made
        return cls(upload.file, upload.filename or "", upload.content_type, upload.size,
                   upload.headers)

    @property
    def extension(self) -> str:
        """The filename's extension, lower-case, without the dot (``""`` if none)."""
        return file_extension(self.filename)

    # -- content -----------------------------------------------------------------

    def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes (all that is left by default)."""
        return self.file.read(size)

    async def aread(self, size: int = -1) -> bytes:
        """``read`` in a worker thread: the file may be on disk."""
        from anyio import to_thread

        return await to_thread.run_sync(self.file.read, size)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self.file.seek(offset, whence)

    def tell(self) -> int:
        return self.file.tell()

    @property
    def content(self) -> bytes:
        """The whole content, read from the start. This loads the file into
        memory: prefer ``save``, ``asave`` or chunked ``read`` for large files."""
        self.file.seek(0)
        return self.file.read()

    def save(self, destination: str | os.PathLike[str] | IO[bytes],
             chunk_size: int = CHUNK_SIZE) -> None:
        """Copy the whole upload to ``destination`` (a path, overwritten if it
        exists, or a writable binary file object), ``chunk_size`` bytes at a time."""
        self.file.seek(0)
        if isinstance(destination, (str, os.PathLike)):
            with open(destination, "wb") as target:
                shutil.copyfileobj(self.file, target, chunk_size)
        else:
            shutil.copyfileobj(self.file, destination, chunk_size)

    async def asave(self, destination: str | os.PathLike[str] | IO[bytes],
                    chunk_size: int = CHUNK_SIZE) -> None:
        """``save`` in a worker thread, so the event loop keeps serving while
        the file is copied."""
        from anyio import to_thread

        await to_thread.run_sync(self.save, destination, chunk_size)

    def close(self) -> None:
        self.file.close()

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} filename={self.filename!r} "
                f"content_type={self.content_type!r} size={self.size}>")


def _measure(file: IO[bytes]) -> int:
    position = file.tell()
    file.seek(0, os.SEEK_END)
    size = file.tell()
    file.seek(position)
    return size


def is_upload(value: Any) -> bool:
    """Whether ``value`` is an upload (a ``File`` or a Starlette ``UploadFile``)."""
    if isinstance(value, File):
        return True
    return type(value).__name__ == "UploadFile" and hasattr(value, "file") and hasattr(value, "filename")


def is_empty_upload(value: Any) -> bool:
    """A file input the user left empty: browsers still send a part, with no
    filename and no content. ``@input`` treats it as a missing value."""
    return is_upload(value) and not value.filename and not value.size


def as_file(value: Any, file_class: type[File] = File) -> File | None:
    """``value`` as an instance of ``file_class``, or ``None`` when it is not an upload."""
    if isinstance(value, file_class):
        return value
    if is_upload(value):
        return file_class.from_upload(value)
    return None


# -- Filenames ------------------------------------------------------------------------

_RESERVED_NAMES = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{prefix}{suffix}" for prefix in ("COM", "LPT") for suffix in "0123456789\u00b9\u00b2\u00b3"]
)
_WINDOWS_FORBIDDEN = frozenset('<>:"|?*')
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


#: The characters a filename may hold (Dyne 2.0.5's rule).
_SAFE_CHARS = re.compile(r"[A-Za-z0-9 ._-]+")


def _is_invisible(char: str) -> bool:
    return unicodedata.category(char) in _INVISIBLE_CATEGORIES


def filename_problem(name: str) -> str | None:
    """Why ``name`` is not a safe filename to save under, or ``None`` if it is.

    Unsafe: an empty name; a name over 255 bytes (UTF-8); path separators
    (``/``, ``\\``); ``..`` anywhere; control or invisible formatting
    characters (NUL, line breaks, bidirectional overrides...); the characters
    Windows forbids (``< > : " | ? *``); any character other than ASCII
    letters, digits, space, ``.``, ``-`` and ``_`` (as in Dyne 2.0.5); a
    leading dot (hidden files such as ``.htaccess``); leading or trailing
    whitespace or a trailing dot; Windows device names (``CON``, ``NUL``,
    ``COM1``, ``LPT1``... with any extension).
    """
    if not name:
        return "Filename is empty."
    if len(name.encode("utf-8", "surrogatepass")) > MAX_FILENAME_BYTES:
        return f"Filename is longer than {MAX_FILENAME_BYTES} bytes."
    if "/" in name or "\\" in name:
        return "Filename must not contain path separators."
    if ".." in name:
        return "Filename must not contain '..'."
    if any(_is_invisible(char) for char in name):
        return "Filename must not contain control characters."
    if any(char in _WINDOWS_FORBIDDEN for char in name):
        return 'Filename must not contain any of < > : " | ? *.'
    if not _SAFE_CHARS.fullmatch(name):
        return "Filename contains unsafe characters."
    if name[0] == ".":
        return "Filename must not start with a dot."
    if name != name.strip() or name[-1] == ".":
        return "Filename must not start or end with whitespace, or end with a dot."
    if name.split(".", 1)[0].rstrip().upper() in _RESERVED_NAMES:
        return "Filename is a reserved device name."
    return None


# A run of unsafe characters becomes one "_", swallowing the underscores around it
# ("a _ b" -> "a_b"); underscores already in a safe name are kept ("0__0").
_UNSAFE_STEM_CHARS = re.compile(r"_*[^A-Za-z0-9._-][^A-Za-z0-9.-]*")
_EXTENSION = re.compile(r"[A-Za-z0-9]{1,16}")
_DOTS = re.compile(r"\.{2,}")


def sanitize_filename(name: str, default: str = "file") -> str:
    """A safe ASCII version of ``name``: accents dropped (``é`` -> ``e``), path
    separators, spaces and other characters replaced by ``_``, dot runs
    collapsed, leading dots and dashes removed, device names prefixed with
    ``_``. The extension is kept when it is up to 16 letters and digits. A name with
    nothing usable left becomes ``default`` (plus the extension).

    The result always passes ``filename_problem``, and a safe name made of ASCII
    letters, digits, ``.``, ``_`` and ``-`` that does not start with ``_`` or ``-``
    is its own sanitized form.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ascii_name = ascii_name.replace("\\", "/").strip()
    stem, dot, extension = ascii_name.rpartition(".")
    if not (dot and _EXTENSION.fullmatch(extension)):
        stem, extension = ascii_name, ""
    stem = _UNSAFE_STEM_CHARS.sub("_", stem)
    stem = _DOTS.sub(".", stem).lstrip("._-").rstrip(".")
    if not stem:
        stem = default
    if stem.split(".", 1)[0].upper() in _RESERVED_NAMES:
        stem = f"_{stem}"
    suffix = f".{extension}" if extension else ""
    stem = stem[: MAX_FILENAME_BYTES - len(suffix)].rstrip(".")
    return stem + suffix


def file_extension(name: str) -> str:
    _, dot, extension = name.rpartition(".")
    return extension.lower() if dot else ""


# -- Checks shared by both FileField flavours ---------------------------------------------

def normalize_extensions(extensions: Iterable[str] | str | None) -> frozenset[str] | None:
    """``["PNG", ".jpg"]`` -> ``{"png", "jpg"}``; ``None`` means any extension."""
    if extensions is None:
        return None
    if isinstance(extensions, str):
        extensions = [extensions]
    normalized = frozenset(ext.lower().lstrip(".") for ext in extensions)
    if not all(normalized):
        raise ValueError("allowed_extensions must not contain an empty extension")
    return normalized


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"  # pragma: no cover - the loop always returns


def check_size(file: File, max_size: int | None) -> str | None:
    """A message when ``file`` is larger than ``max_size`` bytes."""
    if max_size is not None and file.size > max_size:
        size, limit = _human_size(file.size), _human_size(max_size)
        if size == limit:  # too close to tell apart once rounded
            size, limit = f"{file.size} bytes", f"{max_size} bytes"
        return f"File is too large ({size}); the limit is {limit}."
    return None


def check_extension(file: File, allowed: Iterable[str] | str | None) -> str | None:
    """A message when ``file``'s extension is not one of ``allowed``."""
    normalized = allowed if isinstance(allowed, frozenset) else normalize_extensions(allowed)
    if normalized is None:
        return None
    extension = file.extension
    if extension not in normalized:
        listed = ", ".join(sorted(normalized))
        if not extension:
            return f"File has no extension; allowed: {listed}."
        return f"File extension '.{extension}' is not allowed; allowed: {listed}."
    return None


def check_filename(file: File, sanitize: bool) -> str | None:
    """A message when ``file.filename`` is unsafe; with ``sanitize``, replace an
    unsafe name by its sanitized version instead (a safe name is kept as is).
    A name with nothing to keep (empty, ``.``, ``..``: only dots and spaces)
    is refused even with ``sanitize``, as in Dyne 2.0.5."""
    problem = filename_problem(file.filename)
    if problem is None:
        return None
    if sanitize and file.filename.strip(" ."):
        file.filename = sanitize_filename(file.filename)
        return None
    return problem
