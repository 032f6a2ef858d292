"""Seed 002 (PyJolt README), "Email client", in dyne's idiom: the extension
made with configs_name, bound to the app (dyne's init_app in place of the
EXTENSIONS list), the EMAIL_CLIENT keys, and both sending methods, against a
real SMTP server with implicit TLS (USE_TLS = True, the seed's default)."""

import pytest

import dyne
from dyne.ext.email import EmailClient

from .smtp import server_context, smtp_server


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_seed_email_client(tmp_path, certificate):
    cert, key = certificate
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "email.html").write_text("<p>Hello {{ name }}</p>")

    # app/extensions.py
    email_client: EmailClient = EmailClient(configs_name="EMAIL_CLIENT")

    with smtp_server(implicit_tls=server_context(cert, key), auth=True) as (port, mailbox):
        # app/configs.py
        EMAIL_CLIENT: dict[str, str | int | bool] = {
            "SENDER_NAME_OR_ADDRESS": "PyJolt app <app@example.com>",
            "SMTP_SERVER": "127.0.0.1",
            "SMTP_PORT": port,
            "USERNAME": "mailer",
            "PASSWORD": "s3cret",
            "USE_TLS": True,
            "CA_FILE": str(cert),  # the test server's self-signed certificate
        }
        app = dyne.App(templates_dir=str(tmp_path / "templates"))
        app.config["EMAIL_CLIENT"] = EMAIL_CLIENT
        email_client.init_app(app)

        # inside an endpoint
        await email_client.send_email(["ada@example.com", "bob@example.com"], "Report", "The body",
                                      attachments={"report.pdf": b"%PDF-1.7"})
        await email_client.send_email_with_template("ada@example.com", "Hi", "email.html",
                                                    context={"name": "Ada"})

    first, second = mailbox.messages
    assert first.tls and first.login == "mailer"
    assert first.rcpt_tos == ["ada@example.com", "bob@example.com"]
    assert first.message["From"] == "PyJolt app <app@example.com>"
    assert [p.get_content_type() for p in first.message.iter_attachments()] == ["application/pdf"]
    assert second.message.get_body(("html",)).get_content().strip() == "<p>Hello Ada</p>"
    assert second.message.get_body(("plain",)).get_content().strip() == "Hello Ada"
