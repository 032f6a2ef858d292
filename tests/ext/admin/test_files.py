"""The files page: browse, download and delete inside the root, never outside it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .helpers import csrf_token, log_in, make_admin_app

pytest.importorskip("sqlalchemy")


def test_browse_download_delete_and_no_way_out(tmp_path: Path) -> None:
    root = tmp_path / "uploads"
    (root / "avatars").mkdir(parents=True)
    (root / "avatars" / "ada.png").write_bytes(b"\x89PNG fake")
    (root / "report 1.csv").write_text("a,b\n1,2\n")
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    os.symlink(secret, root / "leak.txt")
    os.symlink(tmp_path, root / "escape")
    app, _, _ = make_admin_app(f"sqlite:///{tmp_path / 'files.db'}", files_root=root)
    with app.client as client:
        log_in(client)
        listing = client.get("/admin/files")
        assert listing.status_code == 200
        assert "avatars/" in listing.text and "report 1.csv" in listing.text
        assert "leak.txt" not in listing.text and "escape" not in listing.text
        assert "ada.png" in client.get("/admin/files", params={"path": "avatars"}).text

        download = client.get("/admin/files/download", params={"path": "report 1.csv"})
        assert download.status_code == 200 and download.content == b"a,b\n1,2\n"
        assert download.headers["Content-Disposition"] == "attachment; filename*=UTF-8''report%201.csv"

        for attempt in ("../secret.txt", "avatars/../../secret.txt", str(secret), "/etc/passwd",
                        "leak.txt", "escape/secret.txt", "avatars\\..\\..\\secret.txt", "a\x00b"):
            answer = client.get("/admin/files/download", params={"path": attempt})
            assert answer.status_code == 400, attempt
            assert b"top secret" not in answer.content
        for raw in ("path=..%2Fsecret.txt", "path=avatars%2F..%2F..%2Fsecret.txt",
                    "path=%2e%2e/secret.txt", "path=%252e%252e%252fsecret.txt"):
            answer = client.get(f"/admin/files/download?{raw}")
            assert answer.status_code in (400, 404), raw
            assert b"top secret" not in answer.content
        assert client.get("/admin/files", params={"path": ".."}).status_code == 400
        assert client.get("/admin/files/download", params={"path": "nope.txt"}).status_code == 404
        assert client.get("/admin/files/download", params={"path": "avatars"}).status_code == 400

        token = csrf_token(client, "/admin/files")
        for attempt in ("../secret.txt", "leak.txt", str(secret)):
            refused = client.post("/admin/files/delete", data={"csrf_token": token, "path": attempt})
            assert refused.status_code == 400, attempt
        assert secret.read_text() == "top secret"
        assert client.post("/admin/files/delete", data={"path": "report 1.csv"}).status_code == 403

        deleted = client.post("/admin/files/delete", data={"csrf_token": token, "path": "avatars/ada.png"},
                              follow_redirects=False)
        assert deleted.status_code == 303 and deleted.headers["Location"] == "/admin/files?path=avatars"
        assert not (root / "avatars" / "ada.png").exists()
        audit = client.get("/admin/audit").text
        assert "<td>file delete</td><td>files avatars/ada.png</td>" in audit


def test_without_a_files_root(tmp_path: Path) -> None:
    app, _, _ = make_admin_app(f"sqlite:///{tmp_path / 'nofiles.db'}")
    with app.client as client:
        log_in(client)
        assert client.get("/admin/files").status_code == 404
        assert ">Files<" not in client.get("/admin").text
    app, _, _ = make_admin_app(f"sqlite:///{tmp_path / 'later.db'}", files_root=tmp_path / "later")
    with app.client as client:
        log_in(client)
        assert "does not exist yet" in client.get("/admin/files").text
        assert client.get("/admin/files/download", params={"path": "x"}).status_code == 404


def test_email_page_sends_a_test_message(tmp_path: Path) -> None:
    from dyne.ext.email import EmailClient

    app, _, _ = make_admin_app(f"sqlite:///{tmp_path / 'mail.db'}")
    app.config["EMAIL_CLIENT"] = {"BACKEND": "memory", "SENDER_NAME_OR_ADDRESS": "ops@example.com"}
    mail = EmailClient(app)
    with app.client as client:
        log_in(client)
        token = csrf_token(client, "/admin/email")
        sent = client.post("/admin/email/test", data={"csrf_token": token, "to": "ada@example.com"})
        assert sent.status_code == 200 and "Test message sent to ada@example.com." in sent.text
        assert [m["To"] for m in mail.outbox] == ["ada@example.com"]
        assert "Test message from dyne admin" in sent.text  # the outbox table
        assert client.post("/admin/email/test", data={"csrf_token": token, "to": "nobody"}).status_code == 400
        assert "<td>email test</td>" in client.get("/admin/audit").text
