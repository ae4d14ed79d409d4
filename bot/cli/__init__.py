"""`aftercare`: the operator's command line. With --json every command prints exactly one JSON object.

Start-up is kept light on purpose (a cron `tick` runs every minute): this module imports only typer and small domain
modules; the application, the database layer and the services are imported when a command runs, and a platform's
library (aiogram, httpx) only when the command talks to that platform.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo

import typer

from bot.core.channel_names import SIMULATOR, TELEGRAM, ZALO
from bot.core.clock import Clock, FixedClock
from bot.domain.entities import RiskLevel, Role

if TYPE_CHECKING:
    from bot.app import Application
    from bot.services.operators import Operator

T = TypeVar("T")

cli = typer.Typer(
    help=(
        "Đồng Hành aftercare bot: serve it, migrate it, set up communes. Every change is audited as done by an "
        "operator: the OS account running the command and, with --as STAFF_ID, the staff member taking it."
    ),
    no_args_is_help=True,
)
db_cli = typer.Typer(help="Database migrations.", no_args_is_help=True)
unit_cli = typer.Typer(help="Provinces and communes.", no_args_is_help=True)
point_cli = typer.Typer(help="Community counselling points.", no_args_is_help=True)
staff_cli = typer.Typer(help="Cadres, counsellors, officers and admins.", no_args_is_help=True)
participant_cli = typer.Typer(help="People under post-rehab management.", no_args_is_help=True)
absence_cli = typer.Typer(
    help="Absences from the place of residence (they can move the term end).", no_args_is_help=True
)
outbox_cli = typer.Typer(help="Messages the scheduler sends: counts and the ones given up on.", no_args_is_help=True)
escalation_cli = typer.Typer(help="Alerts someone must act on: what is open in a commune.", no_args_is_help=True)
review_cli = typer.Typer(
    help="Quarterly reviews (kiểm điểm cuối quý): who has not written theirs.", no_args_is_help=True
)
cli.add_typer(db_cli, name="db")
cli.add_typer(unit_cli, name="unit")
cli.add_typer(point_cli, name="point")
cli.add_typer(staff_cli, name="staff")
cli.add_typer(participant_cli, name="participant")
cli.add_typer(absence_cli, name="absence")
cli.add_typer(outbox_cli, name="outbox")
cli.add_typer(escalation_cli, name="escalation")
cli.add_typer(review_cli, name="review")
referral_cli = typer.Typer(
    help="Referrals to counselling points and support: figures for reports.", no_args_is_help=True
)
cli.add_typer(referral_cli, name="referral")
chat_cli = typer.Typer()
cli.add_typer(chat_cli, name="chat")
audit_cli = typer.Typer(help="The audit log: check that nobody edited it.", no_args_is_help=True)
cli.add_typer(audit_cli, name="audit")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]


class LanguageChoice(StrEnum):
    vi = "vi"
    en = "en"


class ChannelChoice(StrEnum):
    telegram = TELEGRAM
    zalo = ZALO
    simulator = SIMULATOR


@dataclass
class _Invocation:
    as_staff: int | None = None


_invocation = _Invocation()


@cli.callback()
def _root(
    as_staff: Annotated[
        int | None,
        typer.Option(
            "--as",
            help=(
                "Staff id of the person taking responsibility for this command (must be an active staff member); "
                "recorded in the audit log with the OS account. It is a statement, not a proof: whoever can run the "
                "command can name anyone; the OS account is what the machine vouches for. Without it, only the OS "
                "account is recorded."
            ),
        ),
    ] = None,
) -> None:
    """Options before the command apply to every command."""
    _invocation.as_staff = as_staff


def _emit(as_json: bool, payload: dict[str, Any], human: str) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False) if as_json else human)


def _period(as_json: bool, first: str, last: str) -> tuple[date, date]:
    """--from and --to as dates, or the one-line error and exit 1."""
    try:
        return date.fromisoformat(first), date.fromisoformat(last)
    except ValueError:
        _fail(as_json, "--from and --to must be dates as YYYY-MM-DD")


def _fail(as_json: bool, message: str) -> NoReturn:
    if as_json:
        typer.echo(json.dumps({"error": message}, ensure_ascii=False))
    else:
        typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _with_app(as_json: bool, work: Callable[[Application, Operator], Awaitable[T]], clock: Clock | None = None) -> T:
    """Build the app, apply migrations, resolve who runs the command (--as, OS account), run one piece of work, close;
    operator errors (every ValueError and LookupError: unknown record, refused value, bad --as) become exit code 1."""
    from bot.app import build_application
    from bot.config import ConfigError, Settings
    from bot.logging import configure_logging
    from bot.services.operators import os_user, resolve

    async def main() -> T:
        settings = Settings()
        configure_logging(json_logs=settings.json_logs, level=logging.WARNING)  # stdout is for results only
        app = build_application(settings, clock=clock)
        try:
            await app.migrate()
            async with app.store.transaction() as repos:
                operator = await resolve(repos, _invocation.as_staff, os_user())
            return await work(app, operator)
        finally:
            await app.aclose()

    try:
        return asyncio.run(main())
    except (ConfigError, LookupError, ValueError) as exc:
        _fail(as_json, str(exc))


@cli.command()
def run() -> None:
    """Apply migrations, then serve the web app (health, simulator) until stopped."""
    from bot.config import ConfigError, Settings
    from bot.logging import configure_logging
    from bot.runner import PortBusy, serve

    try:
        settings = Settings()
        configure_logging(json_logs=settings.json_logs)
        asyncio.run(serve(settings))
    except (ConfigError, PortBusy) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    except KeyboardInterrupt:
        pass


@chat_cli.callback(invoke_without_command=True)
def chat(ctx: typer.Context) -> None:
    """Without a command: the console simulator (talk to the bot in this terminal, no token needed). `chat unlink`
    takes a lost or handed-on phone's access away."""
    if ctx.invoked_subcommand is not None:
        return
    from bot.channels.simulator.console import run_console

    async def work(app: Application, _op: Operator) -> None:
        await run_console(app.simulator)

    _with_app(False, work)


@cli.command()
def keygen() -> None:
    """Print a new random AFTERCARE_ENCRYPTION_KEY (keep it safe: data cannot be read without it)."""
    from bot.config import new_encryption_key

    typer.echo(new_encryption_key())


@db_cli.command("upgrade")
def db_upgrade(as_json: JsonFlag = False) -> None:
    """Apply all migrations."""

    async def work(app: Application, _op: Operator) -> str | None:
        from bot.db import migrate

        return await migrate.current(app.engine)

    revision = _with_app(as_json, work)
    _emit(as_json, {"revision": revision}, f"database at revision {revision}")


@unit_cli.command("add")
def unit_add(
    code: Annotated[str, typer.Option(help="Unit code, e.g. the official commune code.")],
    name: Annotated[str, typer.Option(help="Unit name, e.g. 'Phường Hà Đông'.")],
    parent: Annotated[str | None, typer.Option(help="Province code, for a commune.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Add a province (no --parent) or a commune/ward (--parent PROVINCE_CODE)."""

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        async with app.store.transaction() as repos:
            unit = await app.enrolment(repos, op).add_unit(code, name, parent)
            return {
                "id": unit.id,
                "code": unit.code,
                "name": unit.name,
                "level": unit.level.value,
                "parent_id": unit.parent_id,
            }

    out = _with_app(as_json, work)
    _emit(as_json, out, f"{out['level']} {out['code']} ({out['name']}) added")


@unit_cli.command("set")
def unit_set(
    code: Annotated[str, typer.Option(help="Commune code.")],
    due_day: Annotated[int | None, typer.Option(help="Day of the month check-ins are due (1-28).")] = None,
    test_place: Annotated[str | None, typer.Option(help="Where tests take place, e.g. 'Trạm y tế phường'.")] = None,
    test_hours: Annotated[str | None, typer.Option(help="When, e.g. '7:30-10:30'.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Set a commune's schedule: the check-in due day, and the place and hours announced for tests."""

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        async with app.store.transaction() as repos:
            unit = await repos.units.by_code(code)
            if unit is None:
                raise LookupError(f"no unit with code {code}")
            unit = await repos.units.configure(unit.id, due_day=due_day, test_place=test_place, test_hours=test_hours)
            await op.record(repos, "unit_configured", subject_type="unit", subject_id=unit.id)
            return {
                "code": unit.code,
                "checkin_due_day": unit.checkin_due_day,
                "test_place": unit.test_place,
                "test_hours": unit.test_hours,
            }

    out = _with_app(as_json, work)
    _emit(as_json, out, f"{out['code']}: check-ins due on day {out['checkin_due_day']}")


@unit_cli.command("list")
def unit_list(as_json: JsonFlag = False) -> None:
    """List provinces and communes."""

    async def work(app: Application, op: Operator) -> list[dict[str, Any]]:
        async with app.store.transaction() as repos:
            return [
                {"id": u.id, "code": u.code, "name": u.name, "level": u.level.value, "parent_id": u.parent_id}
                for u in await repos.units.all()
            ]

    units = _with_app(as_json, work)
    _emit(as_json, {"units": units}, "\n".join(f"{u['code']}\t{u['level']}\t{u['name']}" for u in units))


@point_cli.command("add")
def point_add(
    unit: Annotated[str, typer.Option(help="Code of the commune (or province) the point serves.")],
    name: Annotated[str, typer.Option(help="Name of the counselling point.")],
    address: Annotated[str, typer.Option(help="Street address.")] = "",
    phone: Annotated[str, typer.Option(help="Phone number people can call.")] = "",
    hours: Annotated[
        str,
        typer.Option(help="Opening hours, e.g. 'T2-T6 7:30-11:30,13:30-17:00; T7 8:00-11:00' (empty: no fixed hours)."),
    ] = "",
    as_json: JsonFlag = False,
) -> None:
    """Add a community counselling point (Điểm tư vấn, chăm sóc, hỗ trợ điều trị nghiện)."""

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        async with app.store.transaction() as repos:
            point = await app.enrolment(repos, op).add_point(unit, name, address, phone, hours)
            return {"id": point.id, "unit_id": point.unit_id, "name": point.name}

    out = _with_app(as_json, work)
    _emit(as_json, out, f"counselling point {out['id']} ({out['name']}) added")


@point_cli.command("hours")
def point_hours(
    point: Annotated[int, typer.Option("--id", help="Counselling point id.")],
    hours: Annotated[str, typer.Option(help="Opening hours, e.g. 'T2-T6 7:30-17:00; T7 8:00-11:00' (empty: none).")],
    as_json: JsonFlag = False,
) -> None:
    """Change a counselling point's opening hours (outside them, people are told when someone will answer)."""

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        async with app.store.transaction() as repos:
            changed = await app.enrolment(repos, op).set_point_hours(point, hours)
            return {"id": changed.id, "hours": changed.hours}

    out = _with_app(as_json, work)
    _emit(as_json, out, f"counselling point {out['id']}: hours {out['hours'] or '(none)'}")


@referral_cli.command("stats")
def referral_stats(
    unit: Annotated[str, typer.Option(help="Commune code, or a province code for all its communes.")],
    first: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD (local time).")],
    last: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD (local time), included.")],
    as_json: JsonFlag = False,
) -> None:
    """Referrals asked for in a period: by kind, how many reached a counsellor, median time to the first reply."""
    first_day, last_day = _period(as_json, first, last)

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from bot.domain.referral_stats import summarise

        tz = ZoneInfo(app.settings.timezone)
        since = datetime.combine(first_day, time(0), tzinfo=tz)
        until = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=tz)
        async with app.store.transaction() as repos:
            found = await repos.units.by_code(unit)
            if found is None:
                raise LookupError(f"no unit {unit}")
            units = [found.id] + [u.id for u in await repos.units.all() if u.parent_id == found.id]
            stats = summarise(await repos.referrals.in_period(units, since, until))
        return {"unit": unit, "from": first, "to": last, **stats.as_dict()}

    out = _with_app(as_json, work)
    median_reply = out["median_minutes_to_first_reply"]
    human = (
        f"{out['unit']} {out['from']}..{out['to']}: {out['requested']} referrals ({out['urgent']} urgent), "
        f"{out['accessed_counselling']} reached a counsellor, median first reply "
        + (f"{median_reply} min" if median_reply is not None else "n/a")
    )
    _emit(as_json, out, human)


def _invite_out(person_id: int, code: str, expires: Any, **extra: Any) -> dict[str, Any]:
    return {"id": person_id, "invite_code": code, "invite_expires_at": expires.isoformat(), **extra}


async def _with_links(app: Application, out: dict[str, Any]) -> dict[str, Any]:
    """Add the Telegram deep link (t.me/<bot>?start=<code>) when the Telegram channel is configured."""
    if app.telegram is not None:
        try:
            await app.telegram.identify()
        except Exception:  # an unreachable Bot API must not stop an officer enrolling someone
            typer.echo("warning: could not reach Telegram to build the deep link", err=True)
        link = app.telegram.deep_link(out["invite_code"])
        if link:
            out["telegram_link"] = link
    return out


@staff_cli.command("add")
def staff_add(
    name: Annotated[str, typer.Option(help="Display name shown to the people they work with.")],
    role: Annotated[Role, typer.Option(help="cadre, counsellor, officer or admin.")],
    unit: Annotated[str, typer.Option(help="Commune code (province code for an admin).")],
    point: Annotated[int | None, typer.Option(help="Counselling point id (counsellors only).")] = None,
    language: Annotated[LanguageChoice, typer.Option(help="Language of their chat.")] = LanguageChoice.vi,
    as_json: JsonFlag = False,
) -> None:
    """Add a staff member and print their one-time invite code."""

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        async with app.store.transaction() as repos:
            member, invite = await app.enrolment(repos, op).add_staff(name, role, unit, point, language.value)
            out = _invite_out(member.id, invite.code, invite.expires_at, role=member.role.value)
        return await _with_links(app, out)

    out = _with_app(as_json, work)
    _emit(as_json, out, _invite_human(out))


RevokeChats = Annotated[
    bool,
    typer.Option(
        "--revoke-chats",
        help="Also unlink the chats linked now, in the same step (a lost or handed-on phone loses access at once).",
    ),
]


@staff_cli.command("invite")
def staff_invite(
    staff_id: Annotated[int, typer.Option("--id", help="Staff member id.")],
    revoke_chats: RevokeChats = False,
    as_json: JsonFlag = False,
) -> None:
    """Issue a new invite code for a staff member; their previous unused code stops working. Their linked chats keep
    working unless --revoke-chats (the output says how many remain linked)."""

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        async with app.store.transaction() as repos:
            invite = await app.enrolment(repos, op).issue_staff_invite(staff_id, revoke_chats=revoke_chats)
            out = _invite_out(
                staff_id, invite.code, invite.expires_at, linked_chats=invite.linked_chats,
                unlinked_chats=invite.unlinked_chats,
            )  # fmt: skip
        return await _with_links(app, out)

    out = _with_app(as_json, work)
    _emit(as_json, out, _invite_human(out))


@participant_cli.command("add")
def participant_add(
    name: Annotated[str, typer.Option(help="Full name (stored encrypted).")],
    unit: Annotated[str, typer.Option(help="Commune code.")],
    start: Annotated[str, typer.Option(help="Start of the management term, YYYY-MM-DD.")],
    term_months: Annotated[int, typer.Option(help="Term length in months: 12 or 24.")],
    cadre: Annotated[int | None, typer.Option(help="Id of the assigned cadre (same commune).")] = None,
    risk: Annotated[RiskLevel, typer.Option(help="Relapse risk level.")] = RiskLevel.MEDIUM,
    language: Annotated[LanguageChoice, typer.Option(help="Language of their chat.")] = LanguageChoice.vi,
    national_id: Annotated[str | None, typer.Option(help="National ID number (stored encrypted).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Put a person on the commune's list and print their one-time invite code."""
    try:
        start_date = date.fromisoformat(start)
    except ValueError:
        _fail(as_json, "--start must be a date as YYYY-MM-DD")
        return

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        async with app.store.transaction() as repos:
            person, invite = await app.enrolment(repos, op).add_participant(
                name=name,
                unit_code=unit,
                start=start_date,
                term_months=term_months,
                cadre_id=cadre,
                risk=risk,
                language=language.value,
                national_id=national_id,
            )
            out = _invite_out(person.id, invite.code, invite.expires_at, expected_end=person.expected_end.isoformat())
        return await _with_links(app, out)

    out = _with_app(as_json, work)
    _emit(as_json, out, _invite_human(out))


@participant_cli.command("invite")
def participant_invite(
    participant_id: Annotated[int, typer.Option("--id", help="Participant id.")],
    revoke_chats: RevokeChats = False,
    as_json: JsonFlag = False,
) -> None:
    """Issue a new invite code for a participant; their previous unused code stops working. Their linked chats keep
    working unless --revoke-chats (the output says how many remain linked)."""

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        async with app.store.transaction() as repos:
            invite = await app.enrolment(repos, op).issue_participant_invite(participant_id, revoke_chats=revoke_chats)
            out = _invite_out(
                participant_id, invite.code, invite.expires_at, linked_chats=invite.linked_chats,
                unlinked_chats=invite.unlinked_chats,
            )  # fmt: skip
        return await _with_links(app, out)

    out = _with_app(as_json, work)
    _emit(as_json, out, _invite_human(out))


@participant_cli.command("completions")
def participant_completions(
    unit: Annotated[str, typer.Option(help="Commune code.")], as_json: JsonFlag = False
) -> None:
    """People whose term has ended: the list for completion certificates (Mẫu 54). Prints names, so each listing is
    audited (who, which commune, how many)."""

    async def work(app: Application, op: Operator) -> list[dict[str, Any]]:
        async with app.store.transaction() as repos:
            found = await repos.units.by_code(unit)
            if found is None:
                raise LookupError(f"no unit with code {unit}")
            people = await repos.participants.in_unit(found.id)
            listed = [
                {"id": p.id, "name": p.name, "completed_on": p.completed_on.isoformat() if p.completed_on else None}
                for p in people
                if p.status.value == "completed"
            ]
            # Names are printed: who listed which commune's, and how many (never the names themselves).
            await op.record(
                repos, "completions_listed", subject_type="unit", subject_id=found.id, detail={"count": len(listed)}
            )
            return listed

    people = _with_app(as_json, work)
    human = "\n".join(f"{p['id']}\t{p['completed_on']}\t{p['name']}" for p in people) or "nobody yet"
    _emit(as_json, {"completed": people}, human)


@participant_cli.command("assign")
def participant_assign(
    participants: Annotated[list[int], typer.Argument(help="Participant ids (several for bulk work).")],
    cadre: Annotated[int, typer.Option(help="Staff id of the cadre; 0 leaves the people without a cadre.")],
    as_json: JsonFlag = False,
) -> None:
    """Assign or reassign a cadre: the new cadre is told and sees them at once, the old one loses access at once."""

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from bot.services.fieldwork import assign_cadre

        async with app.store.transaction() as repos:
            for participant_id in participants:
                person = await repos.participants.get(participant_id)
                if person is None:
                    raise LookupError(f"no participant {participant_id}")
                await assign_cadre(repos, person, cadre or None, None, app.clock.now(), op)
        return {"assigned": participants, "cadre_id": cadre or None}

    out = _with_app(as_json, work)
    _emit(as_json, out, f"{len(participants)} assigned to cadre {cadre or 'nobody'}")


@escalation_cli.command("list")
def escalation_list(
    unit: Annotated[str, typer.Option(help="Commune code.")],
    as_json: JsonFlag = False,
) -> None:
    """Open (unacknowledged) alerts of a commune, oldest first: whom, what kind, since when, whether the officer was
    told. No names or content: look the person up in the chat."""

    async def work(app: Application, op: Operator) -> list[dict[str, Any]]:
        async with app.store.transaction() as repos:
            found = await repos.units.by_code(unit)
            if found is None:
                raise LookupError(f"no unit {unit}")
            return [
                {
                    "id": e.id,
                    "participant_id": e.participant_id,
                    "kind": e.kind,
                    "raised_at": e.raised_at.isoformat(),
                    "cadre_id": e.cadre_id,
                    "officer_notified": e.officer_notified_at is not None,
                }
                for e in await repos.escalations.open_for(unit_id=found.id)
            ]

    rows = _with_app(as_json, work)
    human = "\n".join(
        f"{r['id']}\t#{r['participant_id']}\t{r['kind']}\t{r['raised_at']}\t"
        f"{'officer told' if r['officer_notified'] else 'with the cadre'}"
        for r in rows
    )
    _emit(as_json, {"open": rows}, human or "nothing open")


@review_cli.command("status")
def review_status(
    unit: Annotated[str, typer.Option(help="Commune code.")],
    quarter: Annotated[str, typer.Option(help="Quarter as YYYY-QN, e.g. 2026-Q4.")],
    as_json: JsonFlag = False,
) -> None:
    """Who has a review for the quarter and who is still missing one, by cadre."""

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        async with app.store.transaction() as repos:
            found = await repos.units.by_code(unit)
            if found is None:
                raise LookupError(f"no unit {unit}")
            people = await repos.participants.followed(found.id)
            done = await repos.fieldwork.reviewed(quarter, [p.id for p in people])
            missing = [{"participant_id": p.id, "cadre_id": p.cadre_id} for p in people if p.id not in done]
            return {"quarter": quarter, "written": len(done), "total": len(people), "missing": missing}

    out = _with_app(as_json, work)
    human = f"{out['quarter']}: {out['written']}/{out['total']} written" + "".join(
        f"\n  missing: #{m['participant_id']} (cadre {m['cadre_id'] or 'none'})" for m in out["missing"]
    )
    _emit(as_json, out, human)


@absence_cli.command("add")
def absence_add(
    participant: Annotated[int, typer.Option(help="Participant id.")],
    first: Annotated[str, typer.Option("--from", help="First day away, YYYY-MM-DD.")],
    last: Annotated[str, typer.Option("--to", help="Last day away, YYYY-MM-DD.")],
    reported: Annotated[
        bool,
        typer.Option("--reported/--unreported", help="Was it reported in advance? Unreported days extend the term."),
    ],
    reason: Annotated[str | None, typer.Option(help="Reason (stored encrypted).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Record an absence; an unreported one moves the expected end of the term by its days."""
    first_day, last_day = _period(as_json, first, last)

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from bot.services.absences import record_absence

        async with app.store.transaction() as repos:
            absence, end = await record_absence(
                repos, participant, first_day, last_day, reported=reported, reason=reason, by_staff=None, operator=op
            )
            return {"id": absence.id, "participant_id": participant, "expected_end": end.isoformat()}

    out = _with_app(as_json, work)
    _emit(as_json, out, f"absence {out['id']} recorded; expected end of term now {out['expected_end']}")


@cli.command()
def tick(
    at: Annotated[
        str | None, typer.Option(help="The instant to act as, ISO-8601 (default: now). Naive times are UTC.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Plan and dispatch everything due at that instant, once, then exit (for cron; no long-lived scheduler)."""
    when = datetime.now(UTC)
    clock: Clock | None = None  # the real clock, unless acting as another instant
    if at is not None:
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            _fail(as_json, "--at must be an ISO-8601 instant, e.g. 2026-12-10T08:00:00+07:00")
            return
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        when = when.astimezone(UTC)
        clock = FixedClock(when)

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        app.scheduler.dispatcher.without(SIMULATOR)  # its chats live in the `run` process, which sends to them
        report = await app.scheduler.tick(when if at is not None else None)
        return report.as_dict()

    out = _with_app(as_json, work, clock=clock)
    plan, sent = out["plan"], out["dispatch"]
    human = (
        f"{out['at']}: planned {plan['reminders_added']} reminders, {plan['escalations']} escalations, "
        f"{plan['digests']} digests; sent {sent['sent']}, retrying {sent['retried']}, given up {sent['dead']}"
    )
    _emit(as_json, out, human)


@outbox_cli.command("status")
def outbox_status(as_json: JsonFlag = False) -> None:
    """How many scheduled messages are pending, sent, cancelled, undeliverable or given up."""

    async def work(app: Application, op: Operator) -> dict[str, int]:
        async with app.store.transaction() as repos:
            return await repos.outbox.counts()

    counts = _with_app(as_json, work)
    _emit(as_json, {"counts": counts}, "\n".join(f"{k}\t{v}" for k, v in sorted(counts.items())) or "empty")


@outbox_cli.command("dead")
def outbox_dead(
    unit: Annotated[str | None, typer.Option(help="Only this commune's people and staff.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Messages given up on or undeliverable (no content: kind, recipient record, attempts, last error)."""

    async def work(app: Application, op: Operator) -> list[dict[str, Any]]:
        async with app.store.transaction() as repos:
            unit_id = None
            if unit is not None:
                found = await repos.units.by_code(unit)
                if found is None:
                    raise LookupError(f"no unit with code {unit}")
                unit_id = found.id
            return await repos.outbox.dead(unit_id)

    rows = _with_app(as_json, work)
    human = "\n".join(
        f"{r['id']}\t{r['status']}\t{r['kind']}\tparticipant {r['participant_id']}\tstaff {r['staff_id']}\t"
        f"{r['attempts']} attempts\t{r['last_error']}"
        for r in rows
    )
    _emit(as_json, {"messages": rows}, human or "none")


def _invite_human(out: dict[str, Any]) -> str:
    text = (
        f"id {out['id']}: invite code {out['invite_code']} (single use, expires {out['invite_expires_at']}).\n"
        "Give it to the person in private; they send it to the bot to link their chat."
    )
    if "telegram_link" in out:
        text += f"\nTelegram: {out['telegram_link']}"
    if out.get("unlinked_chats"):
        text += f"\n{out['unlinked_chats']} chat(s) unlinked: the old phone no longer has access."
    if out.get("linked_chats"):
        text += (
            f"\n{out['linked_chats']} chat(s) still linked and working; if a phone was lost, run this again with "
            "--revoke-chats or use `aftercare chat unlink`."
        )
    return text


@staff_cli.command("deactivate")
def staff_deactivate(
    staff_id: Annotated[int, typer.Option("--id", help="Staff member id.")], as_json: JsonFlag = False
) -> None:
    """Close a staff member's account at once: every chat unlinked (their next message or button press reaches
    nothing), unused invite codes revoked, nothing queued for them sent. A cadre's people stay listed and the
    commune's officers are told they need a new cadre; a counsellor's taken referrals wait again at their point."""

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from bot.services.access import deactivate_staff

        async with app.store.transaction() as repos:
            return (await deactivate_staff(repos, staff_id, op, app.clock.now())).as_dict()

    out = _with_app(as_json, work)
    human = (
        f"staff {out['staff_id']} deactivated: {out['unlinked_chats']} chat(s) unlinked, {out['cancelled']} queued "
        f"message(s) cancelled, {out['alerts_to_officers']} waiting alert(s) sent to the commune's officers, "
        f"{len(out['people_without_cadre'])} person(s) need a new cadre, "
        f"{len(out['referrals_released'])} referral(s) back at the counselling point"
    )
    _emit(as_json, out, human)


@staff_cli.command("activate")
def staff_activate(
    staff_id: Annotated[int, typer.Option("--id", help="Staff member id.")], as_json: JsonFlag = False
) -> None:
    """Reopen a deactivated account. No chat comes back: issue a new invite (`aftercare staff invite --id`)."""

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from bot.services.access import activate_staff

        async with app.store.transaction() as repos:
            linked = await activate_staff(repos, staff_id, op)
        return {"staff_id": staff_id, "active": True, "linked_chats": linked}

    out = _with_app(as_json, work)
    _emit(as_json, out, f"staff {out['staff_id']} active again; send them a new invite to link a chat")


@chat_cli.command("unlink")
def chat_unlink(
    participant: Annotated[int | None, typer.Option("--participant", help="Participant id.")] = None,
    staff: Annotated[int | None, typer.Option("--staff", help="Staff member id.")] = None,
    channel: Annotated[
        ChannelChoice | None, typer.Option(help="Only the chat on this channel (default: all of them).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Unlink a person's chats (all, or one channel's): the phone's next message is an unlinked chat's and its
    conversation state is gone. A participant left without a chat gets no reminders until a new code links one."""
    if (participant is None) == (staff is None):
        _fail(as_json, "give exactly one of --participant and --staff")

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from bot.services.access import unlink_chats

        async with app.store.transaction() as repos:
            channels = await unlink_chats(
                repos, op, participant_id=participant, staff_id=staff, channel=channel.value if channel else None
            )
            left = await repos.identities.count_of(participant_id=participant, staff_id=staff)
        who = {"participant_id": participant} if participant is not None else {"staff_id": staff}
        return {"unlinked_chats": len(channels), "channels": channels, **who, "linked_chats": left}

    out = _with_app(as_json, work)
    _emit(as_json, out, f"{out['unlinked_chats']} chat(s) unlinked; {out['linked_chats']} still linked")


@audit_cli.command("verify")
def audit_verify(as_json: JsonFlag = False) -> None:
    """Check the audit log's hash chain (sealing what is pending first); exit 1 when an entry was changed, removed
    or reordered, naming the first bad entry."""

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from bot.services.audit_chain import verify_chain

        report = await verify_chain(app.store)  # short transactions of its own: reads hold back no message or seal
        return {
            "ok": report.ok,
            "entries": report.entries,
            "sealed": report.sealed,
            "first_bad_id": report.first_bad_id,
            "reason": report.reason,
        }

    out = _with_app(as_json, work)
    if out["ok"]:
        _emit(as_json, out, f"audit log intact: {out['sealed']} of {out['entries']} entries chained")
        return
    bad = f" at entry {out['first_bad_id']}" if out["first_bad_id"] is not None else ""
    _emit(as_json, out, f"audit log BROKEN{bad}: {out['reason']}")
    raise typer.Exit(1)


def main() -> None:
    cli(prog_name="aftercare")


if __name__ == "__main__":
    sys.exit(main())
