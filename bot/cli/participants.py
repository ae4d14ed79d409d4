"""`aftercare participant` and `aftercare absence`: people under post-rehab management, their cadre, their term."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli.common import JsonFlag, LanguageChoice, emit, fail, find_unit, period, with_app
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
