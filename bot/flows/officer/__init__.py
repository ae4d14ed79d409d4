"""The officer's desk in the chat: assign or reassign a cadre, confirm what cadres reported (absences and moves), and
accept people moving in from another commune (the hand-over notice, Mẫu 53)."""

from __future__ import annotations

from datetime import date

from bot.core.messages import Button, OutboundMessage
from bot.db.repositories.fieldwork import FieldReport, Transfer
from bot.domain.authz import Action, ParticipantScope
from bot.domain.entities import Participant, Role, Unit, UnitLevel
from bot.domain.fieldwork import ReportKind
from bot.flows import caseload, staff
from bot.flows.common import audit_list, out_of_scope, say
from bot.flows.context import Context, Replies
from bot.flows.flow import Audience, Flow, Pressed, Verb, as_number
from bot.flows.officer import pushed
from bot.services import fieldwork as records


class Verbs(Verb):
    DESK = "off:desk"
    REPORT = "off:rep"
    CONFIRM = "off:ok"
    REJECT = "off:no"
    MOVE_TO = "off:to"
    TRANSFER = "off:tr"
    ACCEPT = "off:tra"
    DECLINE = "off:trd"


async def choose_cadre(ctx: Context, pid: int | None) -> Replies:
    person = await ctx.permitted(Action.ASSIGN_CADRE, pid)
    if person is None:
        return [out_of_scope(ctx.t), *await caseload.show_list(ctx)]
    caseload.enter_assign(ctx, person)
    cadres = await ctx.repos.staff.in_unit(person.unit_id, Role.CADRE)
    current = next((c.name for c in cadres if c.id == person.cadre_id), ctx.t._("nobody"))
    buttons = [Button(c.name, caseload.Verbs.CADRE(c.id)) for c in cadres if c.id != person.cadre_id][:12]
    if person.cadre_id is not None:
        buttons.append(Button(ctx.t._("Nobody for now"), caseload.Verbs.NOBODY))
    text = ctx.t._("Who should accompany {who}? Now: {current}.", who=caseload.label(person), current=current)
    return [OutboundMessage(text, (*buttons, Button(ctx.t._("Cancel"), caseload.Verbs.LIST)))]


async def assign(ctx: Context, cadre: int | None) -> Replies:
    """The cadre chosen for the person whose card was open (`cadre` 0: nobody for now; None: not a cadre's id).
    Every way out shows the card or the list again."""
    assert ctx.staff is not None
    person = await ctx.permitted(Action.ASSIGN_CADRE, ctx.state.data.get("pid", ""))
    if person is None or cadre is None:
        return [out_of_scope(ctx.t), *await caseload.show_list(ctx)]
    cadre_id = cadre or None  # 0: nobody for now
    try:
        await records.assign_cadre(ctx.repos, person, cadre_id, ctx.staff.id, ctx.clock.now())
    except records.FieldworkError:
        return [say(ctx.t._("That cadre cannot take this person.")), *await caseload.show_list(ctx)]
    cadre = await ctx.repos.staff.get(cadre_id) if cadre_id else None
    if cadre is None:
        text = ctx.t._("Done: nobody accompanies {who} for now.", who=caseload.label(person))
    else:
        text = ctx.t._("Done: {cadre} now accompanies {who}.", cadre=cadre.name, who=caseload.label(person))
    return [say(text), *await caseload.card(ctx, person.id)]


async def desk(ctx: Context) -> Replies:
    """Reports waiting for confirmation, and people moving in."""
    assert ctx.staff is not None
    t = ctx.t
    if not await ctx.allowed(Action.LIST_COMMUNE) or ctx.staff.role is not Role.OFFICER:
        return [out_of_scope(t)]
    ctx.leave()
    reports = await ctx.repos.fieldwork.pending_reports(ctx.staff.unit_id)
    transfers = await ctx.repos.fieldwork.pending_transfers_to(ctx.staff.unit_id)
    await audit_list(ctx, "officer_desk", len(reports) + len(transfers))
    if not reports and not transfers:
        return [
            OutboundMessage(
                t._("Nothing is waiting for your confirmation."), (Button(t._("Back to menu"), staff.Verbs.HOME),)
            )
        ]
    buttons = []
    for report in reports[:10]:
        person = await ctx.repos.participants.get(report.participant_id)
        kind = t._("absence") if report.kind is ReportKind.ABSENCE else t._("move")
        buttons.append(Button(f"{caseload.label(person) if person else '—'}: {kind}", Verbs.REPORT(report.id)))
    for transfer_id in transfers[:10]:
        transfer = await ctx.repos.fieldwork.transfer(transfer_id)
        person = await ctx.repos.participants.get(transfer.participant_id) if transfer else None
        buttons.append(
            Button(t._("Moving in: {who}", who=caseload.label(person) if person else "—"), Verbs.TRANSFER(transfer_id))
        )
    text = t._(
        "Waiting for you: {reports} report(s) to confirm, {moves} person(s) moving in.",
        reports=len(reports),
        moves=len(transfers),
    )
    return [OutboundMessage(text, (*buttons, Button(t._("Back to menu"), staff.Verbs.HOME)))]


async def _report(ctx: Context, report_id: int | None) -> tuple[FieldReport, Participant] | None:
    report = await ctx.repos.fieldwork.report(report_id) if report_id is not None else None
    if report is None:
        await ctx.audit("denied:confirm_report", "denied", detail={"reason": "no such report"})
        return None
    person = await ctx.permitted(Action.CONFIRM_REPORT, report.participant_id)
    return (report, person) if person is not None else None


async def show_report(ctx: Context, report_id: int | None) -> Replies:
    t = ctx.t
    found = await _report(ctx, report_id)
    if found is None:
        return [out_of_scope(t), *await desk(ctx)]
    report, person = found
    await ctx.audit(
        "field_report_viewed", subject_type="participant", subject_id=person.id, detail={"report": report.id}
    )
    reporter = await ctx.repos.staff.get(report.reported_by)
    details = report.details
    if report.kind is ReportKind.ABSENCE:
        what = t._(
            "away from home from {first} to {last}",
            first=t.date(_day(details["first"])),
            last=t.date(_day(details["last"])),
        )
    else:
        what = t._(
            "moved on {date} to: {where}", date=t.date(_day(details["moved_on"])), where=details.get("where", "—")
        )
    lines = [
        t._(
            "{reporter} reports that {who} was {what}.",
            reporter=reporter.name if reporter else "—",
            who=caseload.label(person),
            what=what,
        )
    ]
    if report.kind is ReportKind.ABSENCE:
        lines.append(
            t._("If you confirm, it is recorded as an unreported absence: those days do not count toward the term.")
        )
        buttons = [Button(t._("Confirm"), Verbs.CONFIRM(report.id))]
    else:
        lines.append(
            t._(
                "If you confirm, choose the receiving commune: it gets the hand-over notice and takes over "
                "the record when its officer accepts."
            )
        )
        buttons = [Button(u.name, Verbs.MOVE_TO(report.id, u.id)) for u in await _other_communes(ctx)][:12]
        buttons.append(Button(t._("Outside the province or not known"), Verbs.MOVE_TO(report.id, 0)))
    buttons += [Button(t._("Not correct"), Verbs.REJECT(report.id)), Button(t._("Back"), Verbs.DESK)]
    return [OutboundMessage("\n".join(lines), tuple(buttons))]


def _day(raw: str) -> date:
    return date.fromisoformat(raw)


async def _other_communes(ctx: Context) -> list[Unit]:
    assert ctx.staff is not None
    own = await ctx.repos.units.get(ctx.staff.unit_id)
    return [
        u
        for u in await ctx.repos.units.all()
        if u.level is UnitLevel.COMMUNE and own is not None and u.parent_id == own.parent_id and u.id != own.id
    ]


async def confirm(ctx: Context, report_id: int | None, to_unit: int | None = None) -> Replies:
    """A report confirmed; a move's with the receiving commune (`to_unit` 0: none of the province)."""
    assert ctx.staff is not None
    t = ctx.t
    found = await _report(ctx, report_id)
    if found is None:
        return [out_of_scope(t), *await desk(ctx)]
    report, person = found
    unit_id = None
    if report.kind is ReportKind.MOVE:
        choices = {u.id for u in await _other_communes(ctx)} | {0}
        if to_unit is None or to_unit not in choices:
            return [say(t._("Please choose the receiving commune.")), *await show_report(ctx, report_id)]
        unit_id = to_unit or None
        if unit_id is not None and await ctx.repos.fieldwork.has_pending_transfer(person.id):
            return [
                say(t._("A hand-over for this person is already waiting for a receiving commune.")),
                *await desk(ctx),
            ]
    done = await records.confirm_report(ctx.repos, report, ctx.staff.id, ctx.clock.now(), ctx.today(), unit_id)
    if done is None:
        return [say(t._("Another officer has already decided this.")), *await desk(ctx)]
    if done.new_end is not None:
        text = t._(
            "Confirmed. Expected end of the term for {who}: {date}",
            who=caseload.label(person),
            date=t.date(done.new_end),
        )
    elif done.transfer_id is not None:
        text = t._("Confirmed. The receiving commune has the hand-over notice; the record moves when they accept.")
    else:
        text = t._(
            "Confirmed. No commune of the province receives the record: please hand it over outside this assistant."
        )
    return [say(text), *await desk(ctx)]


async def reject(ctx: Context, report_id: int | None) -> Replies:
    assert ctx.staff is not None
    found = await _report(ctx, report_id)
    if found is None:
        return [out_of_scope(ctx.t), *await desk(ctx)]
    if not await records.reject_report(ctx.repos, found[0], ctx.staff.id):
        return [say(ctx.t._("Another officer has already decided this.")), *await desk(ctx)]
    return [say(ctx.t._("Noted: the report was not correct. Nothing changes on the record.")), *await desk(ctx)]


async def _transfer(ctx: Context, transfer_id: int | None) -> tuple[Transfer, Participant] | None:
    transfer = await ctx.repos.fieldwork.transfer(transfer_id) if transfer_id is not None else None
    person = await ctx.repos.participants.get(transfer.participant_id) if transfer else None
    if transfer is None or person is None:
        await ctx.audit("denied:accept_transfer", "denied", detail={"reason": "no such transfer"})
        return None
    unit = await ctx.repos.units.get(transfer.to_unit_id)
    arriving = ParticipantScope(person.id, transfer.to_unit_id, unit.parent_id if unit else None, None)
    if not await ctx.allowed(Action.ACCEPT_TRANSFER, arriving):
        return None
    return transfer, person


async def handover_notice(ctx: Context, transfer: Transfer, person: Participant) -> str:
    """The content of the hand-over notice (Mẫu 53): who, their term, from where, since when."""
    t = ctx.t
    origin = await ctx.repos.units.get(transfer.from_unit_id)
    absences = [a for a in await ctx.repos.absences.of(person.id) if not a.reported]
    unreported = sum((a.ends_on - a.starts_on).days + 1 for a in absences)
    lines = [
        t._("Hand-over notice (Mẫu 53): a person under post-rehab management moving to your commune."),
        t._("Name: {who}", who=caseload.label(person)),
    ]
    if person.national_id:
        lines.append(t._("ID number: {number}", number=person.national_id))
    lines += [
        t._("From: {unit}", unit=origin.name if origin else "—"),
        t._("Moved on: {date}", date=t.date(transfer.moved_on)),
        t._(
            "Term: {months} months from {start}; expected end {end}",
            months=person.term_months,
            start=t.date(person.term_start),
            end=t.date(person.expected_end),
        ),
        t.n_("Unreported absence so far: {n} day", "Unreported absence so far: {n} days", unreported),
    ]
    return "\n".join(lines)


async def show_transfer(ctx: Context, transfer_id: int | None) -> Replies:
    found = await _transfer(ctx, transfer_id)
    if found is None:
        return [out_of_scope(ctx.t), *await desk(ctx)]
    transfer, person = found
    await ctx.audit(
        "transfer_viewed", subject_type="participant", subject_id=person.id, detail={"transfer": transfer.id}
    )
    buttons = (
        Button(ctx.t._("Accept the record"), Verbs.ACCEPT(transfer.id)),
        Button(ctx.t._("Decline"), Verbs.DECLINE(transfer.id)),
        Button(ctx.t._("Back"), Verbs.DESK),
    )
    return [OutboundMessage(await handover_notice(ctx, transfer, person), buttons)]


async def decide_transfer(ctx: Context, transfer_id: int | None, accept: bool) -> Replies:
    assert ctx.staff is not None
    found = await _transfer(ctx, transfer_id)
    if found is None:
        return [out_of_scope(ctx.t), *await desk(ctx)]
    transfer, person = found
    if not await records.decide_transfer(ctx.repos, transfer.id, accept, ctx.staff.id):
        return [say(ctx.t._("Another officer has already decided this.")), *await desk(ctx)]
    if accept:
        text = ctx.t._("{who} is now on your list. Please assign a cadre.", who=caseload.label(person))
        return [say(text), *await caseload.card(ctx, person.id)]
    return [say(ctx.t._("Declined. The sending commune keeps the record.")), *await desk(ctx)]


class OfficerFlow(Flow):
    """The officer's desk: confirming what cadres reported (an absence, a move), transfers
    between communes."""

    name = "officer"
    audience = Audience.STAFF
    verbs = Verbs
    pushes = pushed.PUSHES

    async def on_action(self, ctx: Context, pressed: Pressed) -> Replies:
        match pressed.verb:
            case Verbs.REPORT:
                return await show_report(ctx, pressed.number)
            case Verbs.CONFIRM:
                return await confirm(ctx, pressed.number)
            case Verbs.MOVE_TO:
                report, unit = pressed.split()
                return await confirm(ctx, report, as_number(unit))
            case Verbs.REJECT:
                return await reject(ctx, pressed.number)
            case Verbs.TRANSFER:
                return await show_transfer(ctx, pressed.number)
            case Verbs.ACCEPT | Verbs.DECLINE:
                return await decide_transfer(ctx, pressed.number, pressed.verb is Verbs.ACCEPT)
        return await desk(ctx)
