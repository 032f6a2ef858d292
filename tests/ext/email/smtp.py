"""A real SMTP server (aiosmtpd) on a free loopback port, for the email tests
(and the task-queue tests that send email): plain, STARTTLS or implicit TLS,
with or without authentication. Certificates are made with the openssl CLI."""

from __future__ import annotations

import contextlib
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.conftest import free_port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    tls: bool
    login: str | None

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)  # type: ignore[return-value]


@dataclass
class Mailbox:
    messages: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        login = session.auth_data if isinstance(session.auth_data, str) else None
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content,
                                      server.transport.get_extra_info("ssl_object") is not None, login))
        return "250 Message accepted for delivery"


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    return context


USERS = {"mailer": "s3cret"}


def authenticator(server, session, envelope, mechanism, auth_data):
    from aiosmtpd.smtp import AuthResult, LoginPassword

    if isinstance(auth_data, LoginPassword):
        login, password = auth_data.login.decode(), auth_data.password.decode()
        if USERS.get(login) == password:
            return AuthResult(success=True, auth_data=login)
    return AuthResult(success=False, handled=False)


@contextlib.contextmanager
def smtp_server(port: int | None = None, *, starttls: ssl.SSLContext | None = None,
                implicit_tls: ssl.SSLContext | None = None, auth: bool = False,
                mailbox: Mailbox | None = None) -> Iterator[tuple[int, Mailbox]]:
    """Run aiosmtpd on 127.0.0.1 (a free port unless given) until the block ends."""
    from aiosmtpd.controller import Controller

    port = port or free_port()
    mailbox = mailbox or Mailbox()
    options: dict = {}
    if starttls is not None:
        options.update(tls_context=starttls, require_starttls=True)
    if implicit_tls is not None:
        options.update(ssl_context=implicit_tls)
    if auth:
        options.update(authenticator=authenticator, auth_required=True,
                       auth_require_tls=starttls is not None)  # implicit TLS: aiosmtpd does not count it
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, ready_timeout=10, **options)
    controller.start()
    try:
        yield port, mailbox
    finally:
        controller.stop()
