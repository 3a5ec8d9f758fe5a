"""``rectrack watch ...`` and ``rectrack notify ...``: what a user watches, their notifications, how
they come by mail, and the mail run cron calls."""

from __future__ import annotations

import typer

from cli.common import actor_for, app, engine_ready, fail, user_errors
from models.store.db import read_session, write_session

watch_app = typer.Typer(help="Watch recommendations, offices and obstacles.", no_args_is_help=True)
app.add_typer(watch_app, name="watch")
notify_app = typer.Typer(help="Notifications of changes to what you watch.", no_args_is_help=True)
app.add_typer(notify_app, name="notify")

AS = typer.Option(..., "--as", help="Username whose watches or notifications these are.")
KIND = typer.Argument(..., help="recommendation, office or obstacle.")
TARGET = typer.Argument(..., help="The recommendation key, the office's name or the obstacle key.")


@watch_app.command("add")
@user_errors
def watch_add(kind: str = KIND, target: str = TARGET, as_user: str = AS) -> None:
    """Be notified of every change to a recommendation, to what an office owns, or to an obstacle."""
    from models.rules.notifications import watch

    with write_session(engine_ready()) as session:
        new = watch(session, user=actor_for(session, as_user), kind=kind, target=target)
    typer.echo(f"{as_user} {'now watches' if new else 'already watched'} {kind} {target}")


@watch_app.command("remove")
@user_errors
def watch_remove(kind: str = KIND, target: str = TARGET, as_user: str = AS) -> None:
    """Stop watching (an office's members hear of its records unless `notify prefs --no-own-office`)."""
    from models.rules.notifications import unwatch

    with write_session(engine_ready()) as session:
        gone = unwatch(session, user=actor_for(session, as_user), kind=kind, target=target)
    if not gone:
        fail(
            f"{as_user} does not watch {kind} {target}; `rectrack watch list --as {as_user}` shows what they do"
        )
    typer.echo(f"{as_user} no longer watches {kind} {target}")


@watch_app.command("list")
@user_errors
def watch_list(as_user: str = AS) -> None:
    """What the user watches, and their office when its records reach them by default."""
    from models.reads.notifications import mail_preference, watches_of

    with read_session(engine_ready()) as session:
        actor_for(session, as_user)
        rows = watches_of(session, as_user)
        pref = mail_preference(session, as_user)
    for kind, target in rows:
        typer.echo(f"{kind}\t{target}")
    if pref["office"] and pref["own_office"]:
        typer.echo(f"office\t{pref['office']}\t(your office: by default)")
    if not rows and not (pref["office"] and pref["own_office"]):
        typer.echo(f"{as_user} watches nothing")


@notify_app.command("list")
@user_errors
def notify_list(
    as_user: str = AS,
    unread: bool = typer.Option(False, "--unread", help="Only those not yet read."),
    limit: int = typer.Option(25, "--limit", min=1, max=500, help="How many, newest first."),
) -> None:
    """The user's notifications, newest first: when, what changed, who, and the record."""
    from models.reads.notifications import notifications_page

    with read_session(engine_ready()) as session:
        actor_for(session, as_user)
        page = notifications_page(session, as_user, limit=limit, unread_only=unread)
    for r in page["rows"]:
        mark = " " if r.read else "*"
        typer.echo(f"{mark} {r.id}\t{r.at:%Y-%m-%d %H:%M}\t{r.record_key}\t{r.what}\tby {r.actor}")
    typer.echo(f"{page['unread']} unread" + ("" if unread else f" of {page['total']}"))


@notify_app.command("read")
@user_errors
def notify_read(
    as_user: str = AS,
    ids: list[int] = typer.Argument(None, help="Notification ids (from `notify list`); none: all."),
) -> None:
    """Mark notifications read (the given ids, or all)."""
    from models.rules.notifications import mark_read

    with write_session(engine_ready()) as session:
        n = mark_read(session, user=actor_for(session, as_user), ids=list(ids) if ids else None)
    typer.echo(f"marked {n} notification(s) read")


@notify_app.command("prefs")
@user_errors
def notify_prefs(
    as_user: str = AS,
    mode: str | None = typer.Option(None, "--mode", help="immediate, digest (once a day) or off."),
    own_office: bool | None = typer.Option(
        None,
        "--own-office/--no-own-office",
        help="Hear of every record your office owns without watching it.",
    ),
) -> None:
    """Show or set how notifications reach the user by e-mail."""
    from models.reads.notifications import mail_preference
    from models.rules.notifications import set_preferences

    with write_session(engine_ready()) as session:
        user = actor_for(session, as_user)
        if mode is not None or own_office is not None:
            set_preferences(session, user=user, mode=mode, own_office=own_office)
        pref = mail_preference(session, as_user)
    if not pref["office"]:
        office = "no office: only what you watch"
    else:
        office = f"records of {pref['office']} " + (
            "reach you without a watch" if pref["own_office"] else "only when watched"
        )
    typer.echo(
        f"{as_user}: mail {pref['mode']} to {pref['email'] or 'no address (in the app only)'}; {office}"
    )


@notify_app.command("send")
@user_errors
def notify_send() -> None:
    """Mail pending notifications (run it from cron every few minutes): immediate ones now, each
    digest user's once a day; what went out is recorded, so nothing is mailed twice."""
    from models.workflow.mail import MailSettings
    from models.workflow.notify import send_notifications

    cfg = MailSettings()
    if not cfg.smtp_configured:
        typer.echo("RECTRACK_SMTP_HOST is not set: nothing mailed; notifications stay in the app")
        return
    outcomes = send_notifications(engine_ready(), config=cfg)
    for o in outcomes:
        typer.echo(o.line())
    sent = sum(o.result == "emailed" for o in outcomes)
    failed = sum(o.result == "failed" for o in outcomes)
    typer.echo(f"{sent} message(s) sent" if outcomes else "nothing to mail")
    if failed:
        fail(f"{failed} message(s) could not be sent (see above); rerun to retry them")
