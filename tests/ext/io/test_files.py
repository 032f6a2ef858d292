"""``dyne.ext.io.files``: the ``File`` object, filename safety and sanitizing,
and the size/extension checks both ``FileField`` flavours share."""

from __future__ import annotations

import io
import string
import tempfile

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dyne.ext.io import File
from dyne.ext.io.files import (
    check_extension,
    check_filename,
    check_size,
    filename_problem,
    is_empty_upload,
    normalize_extensions,
    sanitize_filename,
)


def make_file(content: bytes = b"hello", filename: str = "hello.txt",
              content_type: str | None = "text/plain"):
    spooled = tempfile.SpooledTemporaryFile(max_size=16)  # noqa: SIM115 - File owns it
    spooled.write(content)
    spooled.seek(0)
    return File(spooled, filename, content_type)


# -- File ------------------------------------------------------------------------------

def test_file_exposes_metadata_and_measures_its_size():
    file = make_file(b"x" * 40, "Report.PDF", None)
    assert (file.filename, file.original_filename, file.size) == ("Report.PDF", "Report.PDF", 40)
    assert file.content_type == "application/octet-stream"
    assert file.extension == "pdf"
    assert make_file(filename="README").extension == ""
    assert repr(file) == "<File filename='Report.PDF' content_type='application/octet-stream' size=40>"


def test_file_reads_in_chunks_and_whole():
    file = make_file(b"0123456789")
    assert file.read(4) == b"0123"
    assert file.tell() == 4
    assert file.content == b"0123456789"  # always from the start
    file.seek(8)
    assert file.read() == b"89"


async def test_file_aread_reads_in_a_thread():
    file = make_file(b"abcdef" * 10)
    assert await file.aread(6) == b"abcdef"
    assert len(await file.aread()) == 54


def test_save_copies_from_the_start_to_a_path_or_a_file_object(tmp_path):
    content = bytes(range(256)) * 500  # larger than the spool threshold: on disk
    file = make_file(content)
    file.read(100)
    file.save(tmp_path / "copy.bin", chunk_size=1000)
    assert (tmp_path / "copy.bin").read_bytes() == content
    buffer = io.BytesIO()
    file.save(buffer)
    assert buffer.getvalue() == content
    (tmp_path / "copy.bin").write_bytes(b"old")
    file.save(str(tmp_path / "copy.bin"))  # overwrites
    assert (tmp_path / "copy.bin").read_bytes() == content


async def test_asave_copies_without_blocking(tmp_path):
    content = b"z" * 200_000
    file = make_file(content)
    await file.asave(tmp_path / "async.bin")
    assert (tmp_path / "async.bin").read_bytes() == content


def test_from_upload_wraps_a_starlette_upload_without_copying():
    from starlette.datastructures import Headers, UploadFile

    spooled = tempfile.SpooledTemporaryFile()  # noqa: SIM115 - the upload owns it
    spooled.write(b"data")
    spooled.seek(0)
    upload = UploadFile(spooled, size=4, filename="a.txt",
                        headers=Headers({"content-type": "text/csv"}))
    file = File.from_upload(upload)
    assert file.file is spooled
    assert (file.filename, file.content_type, file.size) == ("a.txt", "text/csv", 4)
    file.filename = "b.txt"
    again = File.from_upload(file)
    assert (again.filename, again.original_filename, again.file) == ("b.txt", "a.txt", spooled)
    with tempfile.SpooledTemporaryFile() as empty:
        assert is_empty_upload(UploadFile(empty, size=0, filename=""))
    assert not is_empty_upload(upload)
    assert not is_empty_upload("a string")


# -- Filename rules ----------------------------------------------------------------------

@pytest.mark.parametrize("name, problem", [
    ("", "Filename is empty."),
    ("../etc/passwd", "Filename must not contain path separators."),
    ("..\\windows\\system32", "Filename must not contain path separators."),
    ("/absolute.txt", "Filename must not contain path separators."),
    ("..", "Filename must not contain '..'."),
    ("archive..zip", "Filename must not contain '..'."),
    ("nul\x00byte.txt", "Filename must not contain control characters."),
    ("line\nbreak.txt", "Filename must not contain control characters."),
    ("tab\t.txt", "Filename must not contain control characters."),
    ("del\x7f.txt", "Filename must not contain control characters."),
    ("evil\u202egpj.exe", "Filename must not contain control characters."),
    ("C:evil.txt", 'Filename must not contain any of < > : " | ? *.'),
    ("what?.txt", 'Filename must not contain any of < > : " | ? *.'),
    (".htaccess", "Filename must not start with a dot."),
    (" leading.txt", "Filename must not start or end with whitespace, or end with a dot."),
    ("trailing.txt ", "Filename must not start or end with whitespace, or end with a dot."),
    ("trailing.", "Filename must not start or end with whitespace, or end with a dot."),
    ("CON", "Filename is a reserved device name."),
    ("con.txt", "Filename is a reserved device name."),
    ("Lpt1.tar.gz", "Filename is a reserved device name."),
    ("CON .txt", "Filename is a reserved device name."),   # Windows ignores the space
    ("nul  .tar.gz", "Filename is a reserved device name."),
    ("COM\u00b9.txt", "Filename is a reserved device name."),
    ("a" * 252 + ".txt", "Filename is longer than 255 bytes."),
    ("é" * 128, "Filename is longer than 255 bytes."),
])
def test_unsafe_filenames_are_named(name, problem):
    assert filename_problem(name) == problem


@pytest.mark.parametrize("name", [
    "photo.jpg", "résumé.pdf", "My Holiday (2024).png", "archive.tar.gz", "ConfigFile.txt",
    "CONSOLE.log", "a", "x" * 251 + ".txt", "数据.csv", "file-name_v2.JSON", "-starts-with-dash",
])
def test_safe_filenames_pass(name):
    assert filename_problem(name) is None


@pytest.mark.parametrize("name, sanitized", [
    ("../../etc/passwd", "etc_passwd"),
    ("..\\..\\boot.ini", "boot.ini"),
    ("Café au lait.JPG", "Cafe_au_lait.JPG"),
    (".htaccess", "file.htaccess"),
    ("CON.txt", "_CON.txt"),
    ("nul", "_nul"),
    ("", "file"),
    ("...", "file"),
    ("数据.csv", "file.csv"),
    ("evil\u202egpj.exe", "evilgpj.exe"),
    ("a\x00b.txt", "a_b.txt"),
    ("report.p\x00df", "report.p_df"),
    ("Mr. Smith report", "Mr._Smith_report"),
    ("--help", "help"),
    ("0__0", "0__0"),
    ("report..pdf", "report.pdf"),                      # no ".." left before the extension
    ("TAX.pdf", "TAX.pdf"),
    ("CON.a.b.gz", "_CON.a.b.gz"),                     # a device name before several dots
    ("x" * 300 + ".tar.gz", "x" * 252 + ".gz"),         # truncated, the extension kept
    ("x" * 250 + ".yyyy.txt", "x" * 250 + ".txt"),      # cut at a dot: no ".." left
    ("a _ b.txt", "a_b.txt"),
    ("a_\x00_b", "a_b"),
    ("x" * 300 + ".txt", "x" * 251 + ".txt"),
])
def test_sanitize_examples(name, sanitized):
    assert sanitize_filename(name) == sanitized


def _is_safe_ascii(name: str) -> bool:
    return name.isascii() and filename_problem(name) is None


@settings(max_examples=400)
@given(st.text())
@example("../" * 100)
@example("\x00")
@example(". .")
@example("CON .txt")
@example("aux. .x")
@example("com1")
def test_sanitized_names_are_never_unsafe(name):
    sanitized = sanitize_filename(name)
    assert _is_safe_ascii(sanitized), (name, sanitized)
    assert sanitize_filename(sanitized) == sanitized  # idempotent


@settings(max_examples=400)
@given(st.text(min_size=1))
def test_safe_names_pass_unchanged_even_with_sanitizing(name):
    file = make_file(filename=name)
    problem = filename_problem(name)
    assert check_filename(file, sanitize=True) is None
    if problem is None:
        assert file.filename == name  # a safe name is kept as it is
    else:
        assert file.filename != name and _is_safe_ascii(file.filename)
        assert file.original_filename == name


SAFE_STEM = st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=50).filter(
    lambda s: s[0] not in "_-" and s[-1] not in "_-")


@given(SAFE_STEM, st.text(string.ascii_letters + string.digits, max_size=8))
@example("0__0", "")  # was collapsed to "0_0" although filename_problem() found it safe
@example("a__b", "tar")
def test_plain_ascii_names_are_their_own_sanitized_form(stem, extension):
    name = f"{stem}.{extension}" if extension else stem
    if filename_problem(name) is None:
        assert sanitize_filename(name) == name


@given(st.text())
def test_check_filename_refuses_what_filename_problem_names(name):
    file = make_file(filename=name)
    assert check_filename(file, sanitize=False) == filename_problem(name)
    assert file.filename == name


# -- Size and extension checks -------------------------------------------------------------

def test_check_size():
    file = make_file(b"x" * 2048)
    assert check_size(file, None) is None
    assert check_size(file, 2048) is None
    assert check_size(file, 2047) == "File is too large (2048 bytes); the limit is 2047 bytes."
    assert check_size(file, 1000) == "File is too large (2.0 KB); the limit is 1000 bytes."
    big = make_file(b"")
    big.size = 6 * 1024 * 1024
    assert check_size(big, 5 * 1024 * 1024) == "File is too large (6.0 MB); the limit is 5.0 MB."


def test_check_extension_is_case_insensitive_and_accepts_dots():
    assert normalize_extensions(["PNG", ".jpg"]) == {"png", "jpg"}
    assert normalize_extensions("pdf") == {"pdf"}
    assert normalize_extensions(None) is None
    with pytest.raises(ValueError, match="empty extension"):
        normalize_extensions(["png", "."])
    assert check_extension(make_file(filename="A.PNG"), ["png"]) is None
    assert check_extension(make_file(filename="a.gif"), {"png", "jpg"}) == (
        "File extension '.gif' is not allowed; allowed: jpg, png.")
    assert check_extension(make_file(filename="Makefile"), ["txt"]) == (
        "File has no extension; allowed: txt.")
    assert check_extension(make_file(filename="a.exe"), None) is None


def test_the_extension_is_what_follows_the_last_dot():
    # A double extension is judged by its last part: the one servers and browsers act on.
    assert check_extension(make_file(filename="backup.tar.gz"), ["gz"]) is None
    assert check_extension(make_file(filename="photo.png.php"), ["png"]) == (
        "File extension '.php' is not allowed; allowed: png.")
