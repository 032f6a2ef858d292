"""dyne.ext.email against a real SMTP server (aiosmtpd) on loopback."""

import asyncio

import pytest

import dyne
from dyne.ext.email import (
    EmailClient,
    EmailDeliveryError,
    EmailError,
    EmailHeaderError,
    MemoryBackend,
    html_to_text,
)
from tests.conftest import free_port

from .smtp import server_context, smtp_server


def make_client(tmp_path=None, **config):
    app = dyne.App(templates_dir=str(tmp_path / "templates") if tmp_path else "templates")
    app.config["EMAIL_CLIENT"] = {"SENDER_NAME_OR_ADDRESS": "Shop <shop@example.com>",
                                  "SMTP_SERVER": "127.0.0.1", "USE_TLS": False, **config}
    return EmailClient(app)


async def test_plain_text_to_several_recipients():
    with smtp_server() as (port, mailbox):
        client = make_client(SMTP_PORT=port)
        await client.send_email(["ada@example.com", "Bob <bob@example.org>"], "Hello", "Hi there")
    [received] = mailbox.messages
    assert received.mail_from == "shop@example.com"
    assert received.rcpt_tos == ["ada@example.com", "bob@example.org"]
    message = received.message
    assert message["Subject"] == "Hello"
    assert message["From"] == "Shop <shop@example.com>"
    assert message["To"] == "ada@example.com, Bob <bob@example.org>"
    assert message.get_content_type() == "text/plain"
    assert message.get_content().strip() == "Hi there"
    assert not received.tls


async def test_text_and_html_alternatives_and_attachments():
    with smtp_server() as (port, mailbox):
        client = make_client(SMTP_PORT=port)
        await client.send_email("ada@example.com", "Report", "See the report",
                                attachments={"report.pdf": b"%PDF-1.4 data", "data.csv": b"a,b\n1,2\n",
                                             "photo.png": b"\x89PNG...", "blob.weird": b"\x00\x01"},
                                html="<p>See the <b>report</b></p>")
    message = mailbox.messages[0].message
    assert message.get_content_type() == "multipart/mixed"
    body = message.get_body(preferencelist=("html",))
    assert body.get_content_type() == "text/html" and "<b>report</b>" in body.get_content()
    assert message.get_body(preferencelist=("plain",)).get_content().strip() == "See the report"
    attachments = {part.get_filename(): part for part in message.iter_attachments()}
    assert {name: part.get_content_type() for name, part in attachments.items()} == {
        "report.pdf": "application/pdf", "data.csv": "text/csv", "photo.png": "image/png",
        "blob.weird": "application/octet-stream"}
    assert attachments["report.pdf"].get_content() == b"%PDF-1.4 data"
    assert attachments["blob.weird"].get_content() == b"\x00\x01"


async def test_bcc_goes_to_the_envelope_not_the_headers():
    with smtp_server() as (port, mailbox):
        client = make_client(SMTP_PORT=port)
        await client.send_email("ada@example.com", "Hi", "x", cc="cy@example.com", bcc=["hidden@example.com"])
    received = mailbox.messages[0]
    assert received.rcpt_tos == ["ada@example.com", "cy@example.com", "hidden@example.com"]
    assert received.message["Bcc"] is None
    assert b"hidden@example.com" not in received.data


async def test_starttls_with_a_self_signed_certificate_and_auth(certificate):
    cert, key = certificate
    with smtp_server(starttls=server_context(cert, key), auth=True) as (port, mailbox):
        client = make_client(SMTP_PORT=port, USERNAME="mailer", PASSWORD="s3cret", CA_FILE=str(cert))
        await client.send_email("ada@example.com", "Secure", "over STARTTLS")
        wrong = make_client(SMTP_PORT=port, USERNAME="mailer", PASSWORD="nope", CA_FILE=str(cert))
        with pytest.raises(EmailDeliveryError, match="login refused") as info:
            await wrong.send_email("ada@example.com", "Secure", "x")
        assert info.value.temporary is False
        # The certificate is checked: without trusting it, sending fails.
        untrusting = make_client(SMTP_PORT=port, USERNAME="mailer", PASSWORD="s3cret")
        with pytest.raises(EmailDeliveryError):
            await untrusting.send_email("ada@example.com", "Secure", "x")
    [received] = mailbox.messages
    assert received.tls and received.login == "mailer"
    assert received.message.get_content().strip() == "over STARTTLS"


async def test_starttls_required_refuses_a_plain_only_server():
    with smtp_server() as (port, mailbox):
        client = make_client(SMTP_PORT=port, START_TLS=True)
        with pytest.raises(EmailDeliveryError):
            await client.send_email("ada@example.com", "x", "x")
    assert mailbox.messages == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_implicit_tls(certificate):
    cert, key = certificate
    with smtp_server(implicit_tls=server_context(cert, key), auth=True) as (port, mailbox):
        client = make_client(SMTP_PORT=port, USE_TLS=True, USERNAME="mailer", PASSWORD="s3cret",
                             CA_FILE=str(cert))
        await client.send_email("ada@example.com", "TLS", "from the first byte")
        # VALIDATE_CERTS=False accepts any certificate (development only).
        loose = make_client(SMTP_PORT=port, USE_TLS=True, USERNAME="mailer", PASSWORD="s3cret",
                            VALIDATE_CERTS=False)
        await loose.send_email("ada@example.com", "TLS", "unchecked")
    assert [m.tls for m in mailbox.messages] == [True, True]


async def test_server_down_then_up():
    port = free_port()
    client = make_client(SMTP_PORT=port, TIMEOUT=5)
    with pytest.raises(EmailDeliveryError, match=f"127.0.0.1:{port}") as info:
        await client.send_email("ada@example.com", "Hello", "first try")
    assert info.value.temporary is True
    with smtp_server(port) as (_, mailbox):
        await client.send_email("ada@example.com", "Hello", "second try")
    assert [m.message.get_content().strip() for m in mailbox.messages] == ["second try"]


@pytest.mark.parametrize("field, value", [
    ("subject", "Hi\r\nBcc: victim@example.com"),
    ("subject", "Hi\nX-Evil: 1"),
    ("to", "ada@example.com\nBcc: victim@example.com"),
    ("to", "Ada\r\n <ada@example.com>"),
    ("sender", "Shop\n <shop@example.com>"),
    ("attachment", "a.txt\r\nContent-Type: text/html"),
    ("to", "not-an-address"),
])
async def test_header_injection_is_refused_before_connecting(field, value):
    client = make_client(SMTP_PORT=free_port())  # nothing listens: nothing must be attempted
    kwargs = {"to_address": "ada@example.com", "subject": "Hi", "body": "x"}
    if field == "subject":
        kwargs["subject"] = value
    elif field == "to":
        kwargs["to_address"] = [value]
    elif field == "sender":
        kwargs["sender"] = value
    else:
        kwargs["attachments"] = {value: b"x"}
    with pytest.raises(EmailHeaderError):
        await client.send_email(**kwargs)


async def test_injection_through_config_is_refused_too():
    client = make_client(SENDER_NAME_OR_ADDRESS="Shop <shop@example.com>\nBcc: x@example.com",
                         BACKEND="memory")
    with pytest.raises(EmailHeaderError, match="line break"):
        await client.send_email("ada@example.com", "Hi", "x")


async def test_templates_html_with_text_part(tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "welcome.html").write_text(
        "<h1>Welcome {{ name }}</h1><p>Visit <a href='https://example.com'>us</a>.</p>")
    (templates / "receipt.html").write_text("<p>Total {{ total }}</p>")
    (templates / "receipt.txt").write_text("Total: {{ total }} EUR")
    (templates / "note.txt").write_text("Dear {{ name }}")
    client = make_client(tmp_path, BACKEND="memory")
    await client.send_email_with_template("ada@example.com", "Welcome", "welcome.html",
                                          context={"name": "<Ada>"})
    await client.send_email_with_template("ada@example.com", "Receipt", "receipt.html",
                                          context={"total": 12})
    await client.send_email_with_template("ada@example.com", "Note", "note.txt", context={"name": "Ada"},
                                          attachments={"a.json": b"{}"})
    welcome, receipt, note = client.outbox
    assert "<h1>Welcome &lt;Ada&gt;</h1>" in welcome.get_body(("html",)).get_content()
    assert welcome.get_body(("plain",)).get_content() == (
        "Welcome <Ada>\n\nVisit us (https://example.com).\n")
    assert receipt.get_body(("plain",)).get_content().strip() == "Total: 12 EUR"
    assert note.get_body(("html",)) is None
    assert note.get_body(("plain",)).get_content().strip() == "Dear Ada"
    assert [p.get_content_type() for p in note.iter_attachments()] == ["application/json"]


async def test_memory_backend_and_extension_wiring():
    app = dyne.App()
    app.config["EMAIL_CLIENT"] = {"SENDER_NAME_OR_ADDRESS": "Shop", "USERNAME": "shop@example.com",
                                  "BACKEND": "memory"}
    client = EmailClient()
    client.init_app(app)
    assert app.extensions["email_client"] is client

    @app.route("/signup", methods=["POST"])
    async def signup(req, resp):
        await client.send_email((await req.media())["email"], "Welcome", "Hello!")
        resp.media = {"sent": True}

    assert app.client.post("/signup", json={"email": "ada@example.com"}).json() == {"sent": True}
    [message] = client.outbox
    assert message["From"] == "Shop <shop@example.com>" and message["To"] == "ada@example.com"
    smtp = make_client()
    with pytest.raises(EmailError, match="memory backend only"):
        smtp.outbox  # noqa: B018


async def test_explicit_backend_object():
    backend = MemoryBackend()
    app = dyne.App()
    app.config["EMAIL_CLIENT"] = {"SENDER_NAME_OR_ADDRESS": "a@example.com"}
    client = EmailClient(app, backend=backend)
    await asyncio.gather(*(client.send_email(f"u{i}@example.com", "Hi", "x") for i in range(3)))
    assert sorted(m["To"] for m in backend.outbox) == ["u0@example.com", "u1@example.com", "u2@example.com"]


def test_html_to_text():
    assert html_to_text("<style>p{}</style><ul><li>one</li><li>two &amp; three</li></ul>") == (
        "- one\n\n- two & three\n")
