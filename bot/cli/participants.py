"""`aftercare participant` and `aftercare absence`: people under post-rehab management, their cadre, their term."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli.common import (
    JsonFlag,
    LanguageChoice,
    emit,
    fail,
    find_unit,
    period,
    with_app,
    writable,
    write_private,
)
from bot.cli.invites import RevokeChats, invite_out, issue, reissued
from bot.domain.entities import RiskLevel

if TYPE_CHECKING:
    from bot.app import Application
    from bot.services.operators import Operator

participant_cli = typer.Typer(help="People under post-rehab management.", no_args_is_help=True)
absence_cli = typer.Typer(
    help="Absences from the place of residence (they can move the term end).", no_args_is_help=True
)


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
        fail(as_json, "--start must be a date as YYYY-MM-DD")

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
            out = invite_out(person.id, invite.code, invite.expires_at, expected_end=person.expected_end.isoformat())
        return out

    issue(as_json, work)


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
            out = reissued(participant_id, invite)
        return out

    issue(as_json, work)


@participant_cli.command("completions")
def participant_completions(
    unit: Annotated[str, typer.Option(help="Commune code.")], as_json: JsonFlag = False
) -> None:
    """People whose term has ended: the list for completion certificates (Mẫu 54). Prints names, so each listing is
    audited (who, which commune, how many)."""

    async def work(app: Application, op: Operator) -> list[dict[str, Any]]:
        async with app.store.transaction() as repos:
            found = await find_unit(repos, unit)
            listed = [
                {"id": p.id, "name": p.name, "completed_on": p.completed_on.isoformat() if p.completed_on else None}
                for p in await repos.participants.completed_in(found.id)
            ]
            # Names are printed: who listed which commune's, and how many (never the names themselves).
            await op.record(
                repos, "completions_listed", subject_type="unit", subject_id=found.id, detail={"count": len(listed)}
            )
            return listed

    people = with_app(as_json, work)
    human = "\n".join(f"{p['id']}\t{p['completed_on']}\t{p['name']}" for p in people) or "nobody yet"
    emit(as_json, {"completed": people}, human)


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

    out = with_app(as_json, work)
    emit(as_json, out, f"{len(participants)} assigned to cadre {cadre or 'nobody'}")


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
    first_day, last_day = period(as_json, first, last)

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from bot.services.absences import record_absence

        async with app.store.transaction() as repos:
            absence, end = await record_absence(
                repos, participant, first_day, last_day, reported=reported, reason=reason, by_staff=None, operator=op
            )
            return {"id": absence.id, "participant_id": participant, "expected_end": end.isoformat()}

    out = with_app(as_json, work)
    emit(as_json, out, f"absence {out['id']} recorded; expected end of term now {out['expected_end']}")


@participant_cli.command("complete")
def participant_complete(
    participant_id: Annotated[int, typer.Option("--id", help="Participant id.")],
    on: Annotated[str | None, typer.Option(help="Day the term was completed, YYYY-MM-DD (default: today).")] = None,
    certificate: Annotated[
        Path | None, typer.Option(help="Also write the completion certificate (Mẫu 54) as a PDF to this file.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Record that a person completed their term (on or after its expected end, which unreported absences move):
    they leave the list and their reminders stop. The planner does this by itself the day after a term ends."""
    try:
        day = date.fromisoformat(on) if on else None
    except ValueError:
        fail(as_json, "--on must be a date as YYYY-MM-DD")
    if certificate is not None:
        writable(as_json, certificate)

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from zoneinfo import ZoneInfo

        from bot.services import completion

        zone = ZoneInfo(app.settings.timezone)
        now = app.clock.now()
        async with app.store.transaction() as repos:
            done = await completion.complete(
                repos, participant_id, day or now.astimezone(zone).date(), now=now, zone=zone, operator=op
            )
            content = await completion.certificate(repos, participant_id, operator=op) if certificate else None
        out = done.as_dict()
        if certificate and content:
            write_private(certificate, await completion.certificate_pdf(content))
            out["certificate"] = str(certificate)
        return out

    out = with_app(as_json, work)
    human = f"id {out['id']}: term completed on {out['completed_on']}; reminders stopped"
    emit(as_json, out, human + (f"; certificate written to {out['certificate']}" if "certificate" in out else ""))


class LeaveReason(StrEnum):
    moved_out = "moved_out"
    removed = "removed"


@participant_cli.command("leave")
def participant_leave(
    participant_id: Annotated[int, typer.Option("--id", help="Participant id (on the list now).")],
    reason: Annotated[LeaveReason, typer.Option(help="moved_out: moved out of the province; removed: taken off.")],
    on: Annotated[str, typer.Option(help="Day they left the list, YYYY-MM-DD.")],
    as_json: JsonFlag = False,
) -> None:
    """Record that a person left the list without completing: reminders stop, reports stop counting them from that
    day, and their records are purged AFTERCARE_RETENTION_DAYS later."""
    try:
        day = date.fromisoformat(on)
    except ValueError:
        fail(as_json, "--on must be a date as YYYY-MM-DD")

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from zoneinfo import ZoneInfo

        from bot.services import leaving

        zone = ZoneInfo(app.settings.timezone)
        async with app.store.transaction() as repos:
            left = await leaving.leave(
                repos, participant_id, leaving.Reason(reason.value), day, now=app.clock.now(), zone=zone, operator=op
            )
        return left.as_dict()

    out = with_app(as_json, work)
    emit(as_json, out, f"id {out['id']}: left the list on {out['left_on']} ({out['reason']}); reminders stopped")


@participant_cli.command("certificate")
def participant_certificate(
    participant_id: Annotated[int, typer.Option("--id", help="Participant id (their term completed).")],
    out_file: Annotated[Path, typer.Option("--out", help="The PDF file to write.")],
    as_json: JsonFlag = False,
) -> None:
    """Write the completion certificate (Mẫu 54) of a completed term as a PDF, for the chairman to sign. It holds the
    person's name and national ID, so each printing is audited."""
    writable(as_json, out_file)

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from bot.services import completion

        async with app.store.transaction() as repos:
            content = await completion.certificate(repos, participant_id, operator=op)
        write_private(out_file, await completion.certificate_pdf(content))
        return {"id": participant_id, "file": str(out_file)}

    out = with_app(as_json, work)
    emit(as_json, out, f"certificate of {out['id']} written to {out['file']}")


class ExportFormat(StrEnum):
    JSON = "json"
    PDF = "pdf"


@participant_cli.command("export")
def participant_export(
    participant_id: Annotated[int, typer.Option("--id", help="Participant id.")],
    out_file: Annotated[Path, typer.Option("--out", help="The file to write.")],
    fmt: Annotated[ExportFormat, typer.Option("--format", help="json (default) or pdf (readable).")] = (
        ExportFormat.JSON
    ),
    as_json: JsonFlag = False,
) -> None:
    """Export everything kept about one person (their data request, Law 91/2025), as JSON or a readable PDF, made
    now from the database. Every export is audited; with --as, the staff member must be the person's commune officer."""
    writable(as_json, out_file)

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from zoneinfo import ZoneInfo

        from bot.services import personal_export

        zone = ZoneInfo(app.settings.timezone)
        async with app.store.transaction() as repos:
            if not await personal_export.may_export(repos, participant_id, op):
                data = None
            else:
                data = await personal_export.gather(repos, participant_id, app.clock.now(), zone)
        if data is None:
            raise ValueError(f"participant {participant_id}: not in the reach of staff member {op.staff_id}")
        if fmt is ExportFormat.PDF:
            content = (await personal_export.files(data, zone)).pdf
        else:
            content = personal_export.to_json(data)
        write_private(out_file, content)
        async with app.store.transaction() as repos:  # audited once the file exists (a failure exported nothing)
            await personal_export.record_export(
                repos, participant_id, actor_type=op.actor_type, actor_id=op.staff_id, via="cli",
                formats=[fmt.value], extra=op.detail(),
            )  # fmt: skip
        return {"id": participant_id, "format": fmt.value, "file": str(out_file), "bytes": len(content)}

    out = with_app(as_json, work)
    emit(as_json, out, f"data of {out['id']} ({out['format']}) written to {out['file']}")


@participant_cli.command("handover-notice")
def participant_handover_notice(
    transfer_id: Annotated[int, typer.Option("--transfer", help="Transfer id (a move between communes).")],
    out_file: Annotated[Path, typer.Option("--out", help="The PDF file to write.")],
    as_json: JsonFlag = False,
) -> None:
    """Write the hand-over notice (Mẫu 53) of a move to another commune as a PDF, for the sending commune's
    chairman to sign. It holds the person's name and national ID, so each printing is audited."""
    writable(as_json, out_file)

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from zoneinfo import ZoneInfo

        from bot.services import handover_notice

        async with app.store.transaction() as repos:
            content = await handover_notice.notice(
                repos, transfer_id, zone=ZoneInfo(app.settings.timezone), operator=op
            )
        write_private(out_file, await handover_notice.notice_pdf(content))
        return {"transfer": transfer_id, "file": str(out_file)}

    out = with_app(as_json, work)
    emit(as_json, out, f"hand-over notice of transfer {out['transfer']} written to {out['file']}")


@participant_cli.command("cards")
def participant_cards(
    out_file: Annotated[Path, typer.Option("--out", help="The PDF file to write.")],
    participant_ids: Annotated[
        list[int] | None, typer.Option("--id", help="Participant id; repeat for several.", show_default=False)
    ] = None,
    unit: Annotated[str | None, typer.Option(help="Commune code: everyone on its list.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Print invite cards (A4, eight a page): each person gets a NEW code (the unused old one stops working), with a
    QR code of the Telegram link when Telegram is configured. Nothing on a card says what the programme is."""
    if bool(participant_ids) == bool(unit):
        fail(as_json, "name the people with --id, or a commune with --unit (not both)")
    writable(as_json, out_file)  # before any code is replaced: new codes nobody can print would be lost

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from zoneinfo import ZoneInfo

        from bot.services.invite_cards import print_cards

        ids = list(participant_ids or [])
        if unit:
            async with app.store.transaction() as repos:
                found = await find_unit(repos, unit)
                ids = [p.id for p in await repos.participants.followed(found.id)]
            if not ids:
                raise LookupError(f"nobody is on the list of {found.code}")
        printed = await print_cards(
            app.store, app.enrolment, app.catalogs, ids,
            operator=op, zone=ZoneInfo(app.settings.timezone), deep_link=await _deep_link(app),
        )  # fmt: skip
        write_private(out_file, printed.pdf)
        return {"pages": printed.pages, "cards": printed.cards, "file": str(out_file)}

    out = with_app(as_json, work)
    emit(as_json, out, f"{out['cards']} card(s) on {out['pages']} page(s) written to {out['file']}")


async def _deep_link(app: Application) -> Callable[[str], str | None] | None:
    """The Telegram deep link builder when Telegram is configured (the bot's username is asked once); None without."""
    telegram = app.telegram
    if telegram is None:
        return None
    try:
        await telegram.identify()
    except Exception:  # an unreachable Bot API must not stop a print run: the cards carry the code to type
        typer.echo("warning: could not reach Telegram; the cards have no QR code", err=True)
    return telegram.deep_link


@participant_cli.command("import")
def participant_import(
    file: Annotated[
        str,
        typer.Argument(
            help="The list: XLSX, or CSV in UTF-8 or Windows-1258; headers as in the template (Vietnamese) or English "
            "(name, birth_year, start, …)."
        ),
    ],
    unit: Annotated[str, typer.Option(help="Commune code.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check every row and write nothing.")] = False,
    with_codes: Annotated[bool, typer.Option("--with-codes", help="Also print each person's invite code.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Put a commune's list on the system from its spreadsheet: everyone, each with an invite code, or no one. A row
    with any problem: exit 1 with every row's problems (row numbers as the spreadsheet shows them), nothing written."""
    import json
    from pathlib import Path

    from bot.services import register_import as ri

    source = Path(file)
    try:
        if source.stat().st_size > ri.MAX_BYTES:
            fail(as_json, f"{file} is larger than 10 MB")
        data = source.read_bytes()
    except OSError as exc:
        fail(as_json, f"cannot read {file}: {exc.strerror}")

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from zoneinfo import ZoneInfo

        from bot.core.clock import local_today
        from bot.core.i18n import Audience
        from bot.domain.register_import import ImportFileError, summary

        t = app.catalogs.translator("vi", Audience.STAFF)
        today = local_today(app.clock, ZoneInfo(app.settings.timezone))
        try:
            sheet = ri.read_file(data, source.name)
            async with app.store.transaction() as repos:
                found = await find_unit(repos, unit.strip().upper())
                if dry_run:
                    checked = await ri.check(repos, found, sheet, today=today)
                    if not checked.ok:
                        raise ri.ImportRejected(checked)
                    return {"imported": 0, "ids": [], "dry_run": True, "valid": len(checked.rows)}
                done = await ri.commit(repos, app.enrolment(repos, op), found, sheet, today=today, operator=op)
        except ImportFileError as exc:
            return {"error": exc.problem.text(t), "rows": []}
        except ri.ImportRejected as exc:
            problems = exc.preview.problems
            message = t._("Rows with problems: {count}. Nothing was imported.", count=len(problems))
            return {"error": message, "rows": summary(problems, t)}
        out: dict[str, Any] = {"imported": len(done.ids), "ids": done.ids}
        if with_codes:
            out["invite_codes"] = {str(pid): invite.code for pid, invite in done.invites.items()}
        return out

    out = with_app(as_json, work)
    if "error" in out:
        if as_json:
            typer.echo(json.dumps(out, ensure_ascii=False))
        else:
            lines = [f"error: {out['error']}", *(f"row {r['row']}: {'; '.join(r['errors'])}" for r in out["rows"])]
            typer.echo("\n".join(lines), err=True)
        raise typer.Exit(1)
    if dry_run:
        human = f"{out['valid']} people can be imported (dry run: nothing written)"
    else:
        human = f"{out['imported']} people imported; ids {', '.join(map(str, out['ids']))}"
    if with_codes and not dry_run:
        human += "".join(f"\n{pid}\t{code}" for pid, code in out["invite_codes"].items())
    emit(as_json, out, human)


@participant_cli.command("import-template")
def participant_import_template(
    out_file: Annotated[str, typer.Option("--out", help="Where to write the template (.xlsx).")],
    unit: Annotated[str | None, typer.Option(help="Commune code: its cadres are offered in a list.")] = None,
    language: Annotated[LanguageChoice, typer.Option(help="Language of the headers and help.")] = LanguageChoice.vi,
    as_json: JsonFlag = False,
) -> None:
    """Write the spreadsheet to fill in for `participant import`: the template's headers, drop-down lists, date and
    year checks, and a sheet of instructions."""
    target = Path(out_file)
    writable(as_json, target)

    async def work(app: Application, op: Operator) -> bytes:
        from zoneinfo import ZoneInfo

        from bot.core.clock import local_today
        from bot.core.i18n import Audience
        from bot.domain.entities import Role
        from bot.services.register_import import template_xlsx

        cadres: list[str] = []
        if unit is not None:
            async with app.store.transaction() as repos:
                found = await find_unit(repos, unit.strip().upper())
                cadres = [c.name for c in await repos.staff.in_unit(found.id, Role.CADRE)]
        t = app.catalogs.translator(language.value, Audience.STAFF)
        return template_xlsx(t, today=local_today(app.clock, ZoneInfo(app.settings.timezone)), cadres=cadres)

    data = with_app(as_json, work)
    write_private(target, data)
    emit(as_json, {"file": str(target), "bytes": len(data)}, f"template written to {target}")


class ListStatus(StrEnum):
    followed = "followed"
    enrolled = "enrolled"
    active = "active"
    completed = "completed"
    transferred = "transferred"
    removed = "removed"
    all = "all"


@participant_cli.command("list")
def participant_list(
    unit: Annotated[str, typer.Option(help="Commune code.")],
    status: Annotated[
        ListStatus, typer.Option(help="followed (on the list now: enrolled or active), or one status, or all.")
    ] = ListStatus.followed,
    cadre: Annotated[int | None, typer.Option(help="Only this cadre's people; 0: people without a cadre.")] = None,
    q: Annotated[
        str | None, typer.Option("--q", help="Search: a record number (#12), initials (nva) or part of the name.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """The commune's people, in register order (by given name), as the console's list shows them. Prints names, so
    each listing is audited (who, which commune, how many, the filters; a search only as its kind and length)."""

    async def work(app: Application, op: Operator) -> list[dict[str, Any]]:
        from zoneinfo import ZoneInfo

        from bot.core.clock import local_today
        from bot.services import people_list

        params = {"status": status.value, "q": q or ""} | ({"cadre": str(cadre)} if cadre is not None else {})
        filters = people_list.Filters.parse(params)
        today = local_today(app.clock, ZoneInfo(app.settings.timezone))
        async with app.store.transaction() as repos:
            found = await find_unit(repos, unit.strip().upper())
            shown = await people_list.listing(repos, people_list.Scope.commune(found), filters, today=today)
            await people_list.record_view(repos, op, shown, "participants_listed")
        return [
            {"id": r.id, "name": r.name, "status": r.status.value, "cadre_id": r.cadre_id, "risk": r.risk.value,
             "expected_end": r.expected_end.isoformat()}
            for r in shown.rows
        ]  # fmt: skip

    people = with_app(as_json, work)
    human = "\n".join(f"{p['id']}\t{p['status']}\t{p['expected_end']}\t{p['name']}" for p in people) or "nobody"
    emit(as_json, {"participants": people}, human)


@participant_cli.command("show")
def participant_show(
    participant_id: Annotated[int, typer.Option("--id", help="Participant id.")], as_json: JsonFlag = False
) -> None:
    """What the commune's register (Mẫu 52) says of a person, and their term. Prints their national ID and address,
    so each showing is audited (who, whose record; never what it says)."""

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from bot.services import people_register

        async with app.store.transaction() as repos:
            person = await people_register.show(repos, participant_id, operator=op)
            return people_register.as_dict(person, await repos.units.get(person.unit_id))

    out = with_app(as_json, work)
    emit(as_json, out, "\n".join(f"{key}: {'' if value is None else value}" for key, value in out.items()))


@participant_cli.command("edit")
def participant_edit(
    participant_id: Annotated[int, typer.Option("--id", help="Participant id.")],
    name: Annotated[str | None, typer.Option(help="Full name (stored encrypted).")] = None,
    birth_year: Annotated[str | None, typer.Option(help="Year of birth, e.g. 1990.")] = None,
    sex: Annotated[str | None, typer.Option(help="nam/nữ (male/female).")] = None,
    national_id: Annotated[str | None, typer.Option(help="12 digits (9 for an old ID card); stored encrypted.")] = None,
    address: Annotated[str | None, typer.Option(help="Place of residence / hamlet (stored encrypted).")] = None,
    phone: Annotated[str | None, typer.Option(help="Phone number (stored encrypted).")] = None,
    decision_no: Annotated[str | None, typer.Option(help="Number of the management decision.")] = None,
    decision_date: Annotated[str | None, typer.Option(help="Date of the decision, YYYY-MM-DD or dd/mm/yyyy.")] = None,
    risk: Annotated[str | None, typer.Option(help="low, medium or high (thấp, trung bình, cao).")] = None,
    language: Annotated[str | None, typer.Option(help="Language of their chat: vi or en.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Correct what the register says of a person. Each value is checked as the import checks a cell (an empty value
    clears an optional field); a national ID already on a list is refused; everything is saved, or nothing. Audited
    with the names of the fields changed."""
    given = {
        "name": name, "birth_year": birth_year, "sex": sex, "national_id": national_id, "address": address,
        "phone": phone, "decision_no": decision_no, "decision_date": decision_date, "risk": risk, "language": language,
    }  # fmt: skip
    changes = {key: value for key, value in given.items() if value is not None}

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from zoneinfo import ZoneInfo

        from bot.core.clock import local_today
        from bot.core.i18n import Audience
        from bot.services import people_register

        today = local_today(app.clock, ZoneInfo(app.settings.timezone))
        try:
            async with app.store.transaction() as repos:
                person = await people_register.correct(repos, participant_id, changes, today=today, operator=op)
                return people_register.as_dict(person, await repos.units.get(person.unit_id))
        except people_register.RegisterError as exc:
            raise ValueError(exc.text(app.catalogs.translator("vi", Audience.STAFF))) from None

    out = with_app(as_json, work)
    emit(as_json, out, f"participant {out['id']} updated")
