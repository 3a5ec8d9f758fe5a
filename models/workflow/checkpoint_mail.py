"""Mailing a signed checkpoint to the auditors, so a copy lives outside the server.

A checkpoint kept only beside the database can be deleted by whoever can reach both; one sitting
in each auditor's mailbox cannot. ``rectrack checkpoint`` (the cron job) calls this after writing
one: when SMTP is configured, every enabled auditor with an e-mail address receives the file as
an attachment, with the public key's fingerprint to check it against. Without SMTP nothing is sent
and the file stays in the data dir's ``checkpoints/``.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from models.store.tables import User
from models.trail.checkpoints import Written
from models.workflow.mail import MailSettings, build_message, send


def auditor_addresses(session: Session) -> list[str]:
    rows = session.exec(
        select(User.email)
        .where(User.role == "auditor", col(User.disabled).is_(False), col(User.email).is_not(None))
        .order_by(User.email)
    ).all()
    return [e for e in rows if e]


def mail_checkpoint(session: Session, written: Written, *, cfg: MailSettings | None = None) -> list[str]:
    """Send ``written`` to the auditors; the addresses it went to (none without SMTP or auditors).
    Raises :class:`models.workflow.mail.MailError` when the server refuses it."""
    cfg = cfg or MailSettings()
    to = auditor_addresses(session) if cfg.smtp_configured else []
    if not to:
        return []
    text = (
        f"The evidence trail's head, event {written.seq} with hash {written.head_hash}, was signed with "
        f"the installation key {written.fingerprint}.\n\n"
        "Keep the attached file. Later, run `rectrack verify --checkpoints FOLDER --key PUBKEY.pem` with "
        "the folder you keep such files in: it fails if the trail was cut off or rewritten since.\n"
    )
    msg = build_message(
        cfg,
        to=to,
        subject=f"Evidence trail checkpoint: event {written.seq}",
        text=text,
        attachments=[(written.path.name, "application/json", written.path.read_bytes())],
    )
    send(cfg, msg, to)
    return to
