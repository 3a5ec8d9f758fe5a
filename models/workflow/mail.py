"""Outgoing mail: one way to build and send a message, for reminders, notifications, leadership
digests and checkpoints alike.

Every message carries ``Date`` and ``Message-ID`` (mail filters score their absence as spam), a
plain-text part and, when given, an HTML alternative; links are absolute, made from the
``RECTRACK_BASE_URL`` setting, so a reader can open the record the message is about.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import cast

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.store.errors import DomainError


class MailSettings(BaseSettings):
    """SMTP settings from the environment or ``.env``.

    ``RECTRACK_SMTP_HOST`` (no host: nothing is mailed), ``RECTRACK_SMTP_PORT`` (25),
    ``RECTRACK_SMTP_USER`` / ``RECTRACK_SMTP_PASSWORD`` (log in when a user is given),
    ``RECTRACK_SMTP_FROM``, ``RECTRACK_SMTP_STARTTLS`` / ``RECTRACK_SMTP_SSL`` (true/false),
    ``RECTRACK_SMTP_TIMEOUT`` (seconds), and ``RECTRACK_BASE_URL`` (where the dashboard is served,
    for links in messages).
    """

    model_config = SettingsConfigDict(env_prefix="RECTRACK_", env_file=".env", extra="ignore")

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "rectrack@localhost"
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_timeout: float = 10.0
    base_url: str = "http://localhost:8501"

    @property
    def smtp_configured(self) -> bool:
        return bool(self.smtp_host and self.smtp_host.strip())


class MailError(DomainError):
    """A message could not be handed to the SMTP server (``where``) for ``reason``."""

    def __init__(self, where: str, reason: str):
        super().__init__(f"could not send mail through {where}: {reason}")
        self.where, self.reason = where, reason


def link(cfg: MailSettings, page: str = "", **params: str) -> str:
    """An absolute link into the dashboard, e.g. ``link(cfg, "recommendations", rec=key)``."""
    from urllib.parse import urlencode

    base = cfg.base_url.rstrip("/")
    query = f"?{urlencode(params)}" if params else ""
    return f"{base}/{page.strip('/')}{query}" if page else f"{base}/{query}"


def build_message(
    cfg: MailSettings,
    *,
    to: list[str],
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Sequence[tuple[str, str, bytes]] = (),
) -> EmailMessage:
    """``attachments``: (filename, MIME type as ``maintype/subtype``, content)."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = cfg.smtp_from
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    domain = cfg.smtp_from.rsplit("@", 1)[-1] if "@" in cfg.smtp_from else "localhost"
    msg["Message-ID"] = make_msgid(domain=domain)
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for name, mime, content in attachments:
        maintype, subtype = mime.split("/", 1)
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return msg


def send(cfg: MailSettings, msg: EmailMessage, to: list[str]) -> None:
    """Hand the message to the SMTP server, or raise :class:`MailError` saying where it failed."""
    where = f"{cfg.smtp_host}:{cfg.smtp_port}"
    try:
        smtp_cls = smtplib.SMTP_SSL if cfg.smtp_ssl else smtplib.SMTP
        host = cast(str, cfg.smtp_host)  # mail is sent only when a host is configured
        with smtp_cls(host, cfg.smtp_port, timeout=cfg.smtp_timeout) as smtp:
            if cfg.smtp_starttls and not cfg.smtp_ssl:
                smtp.starttls(context=ssl.create_default_context())
            if cfg.smtp_user:
                smtp.login(cfg.smtp_user, cfg.smtp_password.get_secret_value() if cfg.smtp_password else "")
            smtp.send_message(msg, to_addrs=to)
    except (smtplib.SMTPException, OSError) as e:
        raise MailError(where, str(e)) from e
