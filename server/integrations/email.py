"""Email a rule sends: recorded with the write, handed to the SMTP server by a job.

`SMTP_URL` says where: `smtp://user:password@host:587?starttls=true`, `smtps://host:465`
or `smtp://host:25`. Unset, messages stay `failed` with the reason, so nothing is lost
silently and an admin sees why.
"""

from __future__ import annotations

import smtplib
import ssl
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage as MimeMessage
from email.utils import make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.config import Settings
from server.db import defer_in_transaction
from server.models import EmailMessage


def queue_email(
    session: Session, org_id: uuid.UUID, to: str, subject: str, body: str, *, rule_id: uuid.UUID | None = None
) -> EmailMessage:
    message = EmailMessage(
        id=uuid.uuid4(), org_id=org_id, to_address=to, subject=subject[:300], body=body, rule_id=rule_id
    )
    session.add(message)
    session.flush()
    defer_in_transaction(session, "fieldforce:send_email", {"message_id": str(message.id)})
    return message


def send_email(session: Session, message_id: uuid.UUID, settings: Settings) -> str:
    """One try; returns the message's status afterwards."""
    message = session.scalar(
        select(EmailMessage).where(EmailMessage.id == message_id).with_for_update(skip_locked=True)
    )
    if message is None or message.status != "pending":
        return message.status if message is not None else "missing"
    message.attempts += 1
    try:
        _deliver(settings, message)
    except (OSError, smtplib.SMTPException, ValueError) as error:
        message.error = f"{type(error).__name__}: {error}"[:500]
        if isinstance(error, ValueError) or message.attempts >= settings.email_max_attempts:
            message.status = "failed"
        else:
            defer_in_transaction(
                session,
                "fieldforce:send_email",
                {"message_id": str(message.id)},
                scheduled_at=datetime.now(UTC) + timedelta(seconds=60 * 4 ** (message.attempts - 1)),
            )
    else:
        message.status, message.sent_at, message.error = "sent", datetime.now(UTC), None
    session.flush()
    return message.status


def _deliver(settings: Settings, message: EmailMessage) -> None:
    if not settings.smtp_url:
        raise ValueError("SMTP_URL is not set: email cannot be sent")
    parts = urlsplit(settings.smtp_url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("SMTP_URL must be smtp://host:port or smtps://host:port")
    mime = MimeMessage()
    mime["From"] = settings.smtp_from
    mime["To"] = message.to_address
    mime["Subject"] = message.subject
    mime["Message-ID"] = make_msgid(idstring=str(message.id), domain="fieldforce")
    mime.set_content(message.body)
    options = parse_qs(parts.query)
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if parts.scheme == "smtps":
        smtp = smtplib.SMTP_SSL(parts.hostname, parts.port or 465, timeout=30, context=context)
    else:
        smtp = smtplib.SMTP(parts.hostname, parts.port or 25, timeout=30)
    with smtp:
        if parts.scheme == "smtp" and options.get("starttls", ["false"])[0].lower() in ("1", "true", "yes"):
            smtp.starttls(context=context)
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(mime)
