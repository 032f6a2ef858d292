"""Email over SMTP (aiosmtplib), in PyJolt's shape and Dyne's idiom.

::

    from dyne.ext.email import EmailClient

    app.config["EMAIL_CLIENT"] = {
        "SENDER_NAME_OR_ADDRESS": "Shop <shop@example.com>",
        "SMTP_SERVER": "smtp.example.com",
        "SMTP_PORT": 465,
        "USERNAME": "shop@example.com",
        "PASSWORD": "...",
        "USE_TLS": True,            # implicit TLS (port 465); False: plain, then STARTTLS
    }
    email_client = EmailClient(app)   # or EmailClient() then email_client.init_app(app)

    await email_client.send_email("ada@example.com", "Hello", "Plain text body")
    await email_client.send_email_with_template(["ada@example.com", "bob@example.com"],
                                                "Welcome", "welcome.html", context={"name": "Ada"})

Messages have a plain-text part and, when there is HTML, an HTML alternative
(an HTML template also gets a text version, derived from it or rendered from a
``.txt`` template of the same name). Attachments are ``{filename: bytes}``;
their MIME type comes from the file name. Newlines in a subject, a name or an
address are refused with ``EmailHeaderError`` (header injection).

``BACKEND = "memory"`` keeps messages in ``email_client.outbox`` instead of
sending them, for tests. aiosmtplib is imported on first send.
"""

from __future__ import annotations

import logging
import mimetypes
import re
import ssl
from collections.abc import Iterable, Mapping, Sequence
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr, getaddresses, make_msgid, parseaddr
from html.parser import HTMLParser
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from ...extensions import Extension

if TYPE_CHECKING:
    from ...app import App

__all__ = [
    "EmailBackend",
    "EmailClient",
    "EmailDeliveryError",
    "EmailError",
    "EmailHeaderError",
    "MemoryBackend",
    "SMTPBackend",
    "build_message",
    "html_to_text",
]

logger = logging.getLogger("dyne.email")

_FORBIDDEN = re.compile(r"[\r\n\x00]")


class EmailError(Exception):
    """Base class of the email extension's errors."""


class EmailHeaderError(EmailError, ValueError):
    """A header value (subject, name, address, file name) contains a line break
    or is not a valid address: refused, since it could inject headers."""


class EmailDeliveryError(EmailError):
    """The SMTP server could not be reached, refused the login, or refused the
    message. ``temporary`` says whether trying again later may succeed."""

    def __init__(self, message: str, *, temporary: bool = True) -> None:
        super().__init__(message)
        self.temporary = temporary


# -- building messages ---------------------------------------------------------------------


def _check_header(what: str, value: str) -> str:
    if not isinstance(value, str):
        raise EmailHeaderError(f"The {what} must be a string, not {type(value).__name__}")
    if _FORBIDDEN.search(value):
        raise EmailHeaderError(f"The {what} contains a line break ({value!r}): refused, "
                               "as it could inject email headers")
    return value


def _address(what: str, value: str) -> str:
    """One ``addr`` or ``Name <addr>``, checked, formatted for a header."""
    _check_header(what, value)
    name, addr = parseaddr(value)
    if not addr or "@" not in addr or addr.count("@") != 1 or any(c in addr for c in " <>,;\"'"):
        raise EmailHeaderError(f"The {what} {value!r} is not a valid email address")
    local, _, domain = addr.partition("@")
    if not local or not domain or "." not in domain.strip("."):
        raise EmailHeaderError(f"The {what} {value!r} is not a valid email address")
    try:
        Address(display_name=name, addr_spec=addr)
    except (ValueError, IndexError) as exc:
        raise EmailHeaderError(f"The {what} {value!r} is not a valid email address: {exc}") from None
    return formataddr((name, addr)) if name else addr


def _addresses(what: str, value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    result: list[str] = []
    for item in items:
        _check_header(what, item)
        # "a@x.com, b@y.com" in one string is several recipients.
        parts = [formataddr(pair) if pair[0] else pair[1] for pair in getaddresses([item])] \
            if "," in item else [item]
        result.extend(_address(what, part) for part in parts)
    return result


class _TextExtractor(HTMLParser):
    _BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table",
               "ul", "ol", "section", "article", "header", "footer", "hr", "blockquote", "pre"}
    _SKIP = {"style", "script", "head", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")
        if tag == "a":
            self._href = dict(attrs).get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")
        if tag == "a" and self._href:
            self.parts.append(f" ({self._href})")
            self._href = None

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(markup: str) -> str:
    """A readable plain-text version of an HTML email (the text alternative)."""
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    lines = [line.strip() for line in "".join(parser.parts).splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def build_message(*, sender: str, to: str | Iterable[str], subject: str, body: str | None = None,
                  html: str | None = None, cc: str | Iterable[str] | None = None,
                  bcc: str | Iterable[str] | None = None, reply_to: str | Iterable[str] | None = None,
                  attachments: Mapping[str, bytes] | None = None,
                  headers: Mapping[str, str] | None = None) -> EmailMessage:
    """An ``EmailMessage`` with a text part, an optional HTML alternative and
    attachments; every header is checked against injection. Bcc recipients
    are kept in ``msg["Bcc"]`` for the envelope; the SMTP backend removes the
    header before sending."""
    recipients = _addresses("recipient address", to)
    if not recipients:
        raise EmailHeaderError("An email needs at least one recipient")
    message = EmailMessage()
    message["From"] = _address("sender", sender)
    message["To"] = ", ".join(recipients)
    if cc:
        message["Cc"] = ", ".join(_addresses("Cc address", cc))
    if bcc:
        message["Bcc"] = ", ".join(_addresses("Bcc address", bcc))
    if reply_to:
        message["Reply-To"] = ", ".join(_addresses("Reply-To address", reply_to))
    message["Subject"] = _check_header("subject", subject)
    domain = message["From"].addresses[0].domain or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    for name, value in (headers or {}).items():
        _check_header("header name", name)
        if not re.fullmatch(r"[!-9;-~]+", name):
            raise EmailHeaderError(f"{name!r} is not a valid header name")
        message[name] = _check_header(f"{name} header", value)
    if body is None and html is None:
        raise ValueError("An email needs a body (text) or html")
    message.set_content(body if body is not None else html_to_text(html or ""))
    if html is not None:
        message.add_alternative(html, subtype="html")
    for filename, data in (attachments or {}).items():
        _check_header("attachment file name", filename)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"Attachment {filename!r} must be bytes, not {type(data).__name__}")
        mime, encoding = mimetypes.guess_type(PurePath(filename).name)
        if mime is None or encoding is not None:
            mime = "application/octet-stream" if encoding is None else _ENCODED_TYPES.get(
                encoding, "application/octet-stream")
        maintype, _, subtype = mime.partition("/")
        message.add_attachment(bytes(data), maintype=maintype, subtype=subtype,
                               filename=PurePath(filename).name)
    return message


_ENCODED_TYPES = {"gzip": "application/gzip", "bzip2": "application/x-bzip2",
                  "xz": "application/x-xz", "br": "application/x-brotli",
                  "compress": "application/x-compress"}


# -- backends ------------------------------------------------------------------------------


class EmailBackend:
    """Delivers built messages. Subclass it for another transport."""

    async def send(self, message: EmailMessage) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        """Release connections (called at app shutdown)."""


class MemoryBackend(EmailBackend):
    """Keeps messages in ``outbox`` (a list) instead of sending them: for tests."""

    def __init__(self) -> None:
        self.outbox: list[EmailMessage] = []

    async def send(self, message: EmailMessage) -> None:
        self.outbox.append(message)


class SMTPBackend(EmailBackend):
    """Sends through an SMTP server with aiosmtplib, one connection per message.

    :param use_tls: implicit TLS from the first byte (SMTPS, port 465).
    :param start_tls: with ``use_tls=False``: ``None`` upgrades with STARTTLS
        when the server offers it, ``True`` requires it, ``False`` never does.
    :param validate_certs: check the server's certificate (and host name).
    :param cafile: trust this CA file (for a private or self-signed certificate).
    """

    def __init__(self, hostname: str = "localhost", port: int | None = None, *,
                 username: str | None = None, password: str | None = None,
                 use_tls: bool = False, start_tls: bool | None = None,
                 validate_certs: bool = True, cafile: str | None = None,
                 timeout: float = 30.0, local_hostname: str | None = None) -> None:
        self.hostname = hostname
        self.port = port
        self.username = username
        self.password = password
        self.use_tls = use_tls
        self.start_tls = start_tls
        self.validate_certs = validate_certs
        self.cafile = cafile
        self.timeout = timeout
        self.local_hostname = local_hostname

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.cafile)
        if not self.validate_certs:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    async def send(self, message: EmailMessage) -> None:
        try:
            import aiosmtplib
        except ModuleNotFoundError:  # pragma: no cover - depends on the environment
            raise ImportError('The email extension needs aiosmtplib: pip install "dyne[email]"') from None
        recipients = [a.addr_spec for field in ("To", "Cc", "Bcc")
                      for a in (message[field].addresses if message[field] else ())]
        sender = message["From"].addresses[0].addr_spec
        if message["Bcc"] is not None:
            message = _copy_without_bcc(message)
        options: dict[str, Any] = {
            "hostname": self.hostname, "port": self.port, "username": self.username,
            "password": self.password, "use_tls": self.use_tls, "timeout": self.timeout,
            "validate_certs": self.validate_certs, "local_hostname": self.local_hostname,
        }
        if self.use_tls or self.start_tls is not False:
            options["tls_context"] = self._tls_context()
        if not self.use_tls:
            options["start_tls"] = self.start_tls
        try:
            await aiosmtplib.send(message, sender=sender, recipients=recipients, **options)
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise EmailDeliveryError(f"SMTP login refused by {self.hostname}:{self.port}: {exc}",
                                     temporary=False) from exc
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise EmailDeliveryError(f"All recipients refused: {exc}", temporary=False) from exc
        except aiosmtplib.SMTPResponseException as exc:
            temporary = 400 <= exc.code < 500
            raise EmailDeliveryError(f"SMTP server {self.hostname}:{self.port} answered "
                                     f"{exc.code} {exc.message}", temporary=temporary) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise EmailDeliveryError(f"Could not send through {self.hostname}:{self.port}: "
                                     f"{exc}") from exc


def _copy_without_bcc(message: EmailMessage) -> EmailMessage:
    import copy

    clone = copy.copy(message)
    del clone["Bcc"]
    return clone


# -- the extension -------------------------------------------------------------------------


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


class EmailClient(Extension):
    """Sends email for an app, configured from its ``EMAIL_CLIENT`` section.

    Keys: ``SENDER_NAME_OR_ADDRESS`` (``"Name <addr>"``, an address, or a name
    used with ``USERNAME`` as the address), ``SMTP_SERVER``, ``SMTP_PORT``,
    ``USERNAME``, ``PASSWORD``, ``USE_TLS`` (implicit TLS, default ``True`` as
    in PyJolt), ``START_TLS`` (``None``: when offered), ``VALIDATE_CERTS``,
    ``CA_FILE``, ``TIMEOUT`` and ``BACKEND`` (``"smtp"`` or ``"memory"``, or an
    ``EmailBackend`` object).
    """

    name = "email_client"
    configs_name = "EMAIL_CLIENT"

    def __init__(self, app: App | None = None, *, configs_name: str | None = None,
                 variable_prefix: str = "", backend: EmailBackend | None = None) -> None:
        self._backend = backend
        self._configured_backend: EmailBackend | None = None
        super().__init__(app, configs_name=configs_name, variable_prefix=variable_prefix)

    async def on_shutdown(self) -> None:
        if self._configured_backend is not None:
            await self._configured_backend.close()

    # -- configuration ---------------------------------------------------------------

    @property
    def backend(self) -> EmailBackend:
        """The backend messages go through (built from the config on first use)."""
        if self._backend is not None:
            return self._backend
        if self._configured_backend is None:
            self._configured_backend = self._make_backend()
        return self._configured_backend

    def _make_backend(self) -> EmailBackend:
        choice = self.config_value("BACKEND", "smtp")
        if isinstance(choice, EmailBackend):
            return choice
        if str(choice).lower() == "memory":
            return MemoryBackend()
        if str(choice).lower() != "smtp":
            raise ValueError(f"EMAIL_CLIENT BACKEND must be 'smtp' or 'memory', not {choice!r}")
        use_tls = _truthy(self.config_value("USE_TLS", True))
        start_tls = self.config_value("START_TLS", None)
        return SMTPBackend(
            hostname=self.config_value("SMTP_SERVER", "localhost"),
            port=self.config_value("SMTP_PORT", None, cast=int),
            username=self.config_value("USERNAME", None),
            password=self.config_value("PASSWORD", None),
            use_tls=use_tls,
            start_tls=None if start_tls is None else _truthy(start_tls),
            validate_certs=_truthy(self.config_value("VALIDATE_CERTS", True)),
            cafile=self.config_value("CA_FILE", None),
            timeout=self.config_value("TIMEOUT", 30.0, cast=float),
        )

    @property
    def sender(self) -> str:
        """The ``From`` address, from ``SENDER_NAME_OR_ADDRESS`` (and ``USERNAME``)."""
        value = self.config_value("SENDER_NAME_OR_ADDRESS", None)
        username = self.config_value("USERNAME", None)
        if not value:
            if not username:
                raise EmailError("Set EMAIL_CLIENT['SENDER_NAME_OR_ADDRESS'] (or USERNAME)")
            return str(username)
        value = _check_header("sender", str(value))
        if "@" not in value:
            if not username or "@" not in str(username):
                raise EmailError(f"The sender {value!r} is a name without an address: set "
                                 "SENDER_NAME_OR_ADDRESS to 'Name <address>' or an address")
            return formataddr((value, str(username)))
        return value

    @property
    def outbox(self) -> list[EmailMessage]:
        """Messages kept by the memory backend (``BACKEND = "memory"``)."""
        backend = self.backend
        if not isinstance(backend, MemoryBackend):
            raise EmailError("outbox exists with the memory backend only (EMAIL_CLIENT BACKEND='memory')")
        return backend.outbox

    # -- sending ------------------------------------------------------------------

    def build(self, to_address: str | Sequence[str], subject: str, body: str | None = None, *,
              html: str | None = None, attachments: Mapping[str, bytes] | None = None,
              cc: str | Sequence[str] | None = None, bcc: str | Sequence[str] | None = None,
              reply_to: str | Sequence[str] | None = None,
              headers: Mapping[str, str] | None = None,
              sender: str | None = None) -> EmailMessage:
        """The message ``send_email`` would send (checked, not sent)."""
        return build_message(sender=sender or self.sender, to=to_address, subject=subject,
                             body=body, html=html, cc=cc, bcc=bcc, reply_to=reply_to,
                             attachments=attachments, headers=headers)

    async def send_message(self, message: EmailMessage) -> EmailMessage:
        """Send an ``EmailMessage`` built elsewhere through the configured backend."""
        await self.backend.send(message)
        logger.info("Sent email %r to %s", message["Subject"], message["To"])
        return message

    async def send_email(self, to_address: str | Sequence[str], subject: str, body: str,
                         attachments: Mapping[str, bytes] | None = None, *,
                         html: str | None = None, cc: str | Sequence[str] | None = None,
                         bcc: str | Sequence[str] | None = None,
                         reply_to: str | Sequence[str] | None = None,
                         headers: Mapping[str, str] | None = None,
                         sender: str | None = None) -> EmailMessage:
        """Send ``body`` (plain text; with ``html=`` an HTML alternative too) to
        one address or a list. Raises ``EmailHeaderError`` for an unsafe header
        and ``EmailDeliveryError`` when the server cannot take the message."""
        message = self.build(to_address, subject, body, html=html, attachments=attachments, cc=cc,
                             bcc=bcc, reply_to=reply_to, headers=headers, sender=sender)
        return await self.send_message(message)

    async def render_template(self, template_path: str,
                              context: Mapping[str, Any] | None = None) -> tuple[str | None, str | None]:
        """``(text, html)`` rendered from the app's templates: an HTML template
        (``.html``/``.htm``) gives the HTML part and a text part from
        ``<name>.txt`` when it exists (else derived from the HTML); any other
        template is the text part."""
        app = self.require_app()
        values = dict(context or {})
        stem, dot, suffix = template_path.rpartition(".")
        if dot and suffix.lower() in {"html", "htm"}:
            markup = await app.template_async(template_path, **values)
            text_name = f"{stem}.txt"
            try:
                text = await app.template_async(text_name, **values)
            except Exception as exc:
                if type(exc).__name__ != "TemplateNotFound":
                    raise
                text = html_to_text(markup)
            return text, markup
        return await app.template_async(template_path, **values), None

    async def send_email_with_template(self, to_address: str | Sequence[str], subject: str,
                                       template_path: str,
                                       attachments: Mapping[str, bytes] | None = None,
                                       context: Mapping[str, Any] | None = None, **options: Any,
                                       ) -> EmailMessage:
        """Render ``template_path`` from the app's templates with ``context``
        and send it (see ``render_template`` for the text and HTML parts)."""
        text, markup = await self.render_template(template_path, context)
        return await self.send_email(to_address, subject, text or "", attachments, html=markup,
                                     **options)

