"""“Việc cần xử lý”: the open alerts (escalations) in the actor's scope, each with "I'm on it" and "note what was done".

Acknowledging (either way) stops the alert going on to the officer. The list comes from the actor's own scope; each
action re-reads the escalation and asks authorisation against the person as they are now.
"""

from __future__ import annotations

from bot.core.messages import Button, OutboundMessage
from bot.db.repositories.escalations import Escalation
from bot.domain.authz import Action
from bot.domain.entities import Participant, Role
from bot.flows import caseload, staff
from bot.flows.common import audit_list, out_of_scope, say
from bot.flows.context import Context, Replies
from bot.flows.flow import Audience, Flow, Pressed, Step, Verb, as_number
from bot.flows.inbox import pushed
from bot.services.escalations import EscalationKind, note_crisis_answer, result_of

FLOW = "inbox"


class Steps(Step):
    LIST = "list"
    NOTE = "note"  # what was done, typed


class Verbs(Verb):
    LIST = "inbox:list"
    OPEN = "inbox:open"
    NOTE = "inbox:note"
    CANCEL = "inbox:cancel"
    ACK = "esc:ack"


LIMIT = 10


async def _in_scope(ctx: Context) -> list[Escalation]:
    assert ctx.staff is not None
    if ctx.staff.role is Role.CADRE and await ctx.allowed(Action.LIST_ASSIGNED):
        mine = [p.id for p in await ctx.repos.participants.followed(ctx.staff.unit_id, ctx.staff.id)]
        alerts = await ctx.repos.escalations.open_for(participant_ids=mine)
        return [a for a in alerts if a.kind != EscalationKind.TEST_RESULT]  # the officer's to handle
    if ctx.staff.role is Role.OFFICER and await ctx.allowed(Action.LIST_COMMUNE):
        return await ctx.repos.escalations.open_for(unit_id=ctx.staff.unit_id)
    return []


async def show(ctx: Context) -> Replies:
    t = ctx.t
    ctx.state.flow, ctx.state.step, ctx.state.data = FLOW, Steps.LIST, {}
    alerts = await _in_scope(ctx)
    if ctx.staff is not None:
        await audit_list(ctx, "alerts", len(alerts))
    if not alerts:
        return [
            OutboundMessage(
                t._("Nothing needs your attention right now."), (Button(t._("Back to menu"), staff.Verbs.HOME),)
            )
        ]
    names: dict[int, Participant | None] = {}
    lines = [t.n_("{n} open alert:", "{n} open alerts:", len(alerts))]
    buttons = []
    for alert in alerts[:LIMIT]:
        if alert.participant_id not in names:
            names[alert.participant_id] = await ctx.repos.participants.get(alert.participant_id)
        person = names[alert.participant_id]
        who = caseload.label(person) if person else "—"
        line = f"• {who}: {_kind(ctx, alert)} ({t.date(alert.raised_at.astimezone(ctx.tz).date())})"
        if ctx.staff is not None and ctx.staff.role is Role.OFFICER:
            line += " — " + (t._("sent up to you") if alert.officer_notified_at else t._("with the cadre"))
        lines.append(line)
        buttons.append(Button(f"{who}: {_kind(ctx, alert)}", Verbs.OPEN(alert.id)))
    if len(alerts) > LIMIT:
        lines.append(t._("…and {n} more; handle these first.", n=len(alerts) - LIMIT))
    buttons.append(Button(t._("Back to menu"), staff.Verbs.HOME))
    return [OutboundMessage("\n".join(lines), tuple(buttons))]


def _kind(ctx: Context, alert: Escalation) -> str:
    return ctx.t._(caseload.ESCALATION_NAMES.get(alert.kind, caseload.OTHER_ALERT))


async def alert_in_scope(ctx: Context, raw_id: object) -> tuple[Escalation, Participant] | None:
    """The alert, if the actor may act on it now (`raw_id`: from a button or the chat's state, checked)."""
    alert_id = as_number(raw_id)
    alert = await ctx.repos.escalations.get(alert_id) if alert_id is not None else None
    if alert is None:
        await ctx.audit("denied:acknowledge_escalation", "denied", detail={"reason": "no such escalation"})
        return None
    action = (
        Action.ACKNOWLEDGE_RESULT_ALERT if alert.kind == EscalationKind.TEST_RESULT else Action.ACKNOWLEDGE_ESCALATION
    )
    person = await ctx.permitted(action, alert.participant_id)
    return (alert, person) if person is not None else None


async def open_alert(ctx: Context, alert_id: int | None) -> Replies:
    t = ctx.t
    found = await alert_in_scope(ctx, alert_id)
    if found is None:
        return [out_of_scope(t), *await show(ctx)]
    alert, person = found
    await ctx.audit(
        "escalation_viewed", subject_type="participant", subject_id=person.id, detail={"escalation": alert.id}
    )
    lines = [
        f"{caseload.label(person)}: {_kind(ctx, alert)}",
        t._("Raised on {date}.", date=t.date(alert.raised_at.astimezone(ctx.tz).date())),
    ]
    if alert.kind == EscalationKind.TEST_RESULT and await ctx.allowed(
        Action.VIEW_TEST_RESULTS, await ctx.scope_of(person)
    ):
        result = await result_of(ctx.repos, alert)
        if result is not None:
            what = t._(caseload.OUTCOME_NAMES[result.outcome])
            if result.substance:
                what += f" ({t._(caseload.SUBSTANCE_NAMES[result.substance])})"
            lines.append(t._("Test of {date}: {what}.", date=t.date(result.taken_on), what=what))
            lines.append(t._("Please inform the commune chairman, as the law requires (Law 73/2021, Art. 22)."))
    if alert.acknowledged_at is not None:
        lines.append(t._("Already acknowledged."))
    note = ctx.repos.escalations.note_of(alert)
    if note:
        lines.append(t._("What was done: {note}", note=note[:300]))
    buttons = (
        Button(t._("I'm on it"), Verbs.ACK(alert.id)),
        Button(t._("Note what was done"), Verbs.NOTE(alert.id)),
        Button(t._("Open their card"), caseload.Verbs.OPEN(person.id)),
        Button(t._("Back to the alerts"), Verbs.LIST),
    )
    return [OutboundMessage("\n".join(lines), buttons)]


async def ask_note(ctx: Context, alert_id: int | None) -> Replies:
    found = await alert_in_scope(ctx, alert_id)
    if found is None:
        return [out_of_scope(ctx.t), *await show(ctx)]
    ctx.state.flow, ctx.state.step, ctx.state.data = FLOW, Steps.NOTE, {"escalation": found[0].id}
    return [prompt(ctx)]


def prompt(ctx: Context) -> OutboundMessage:
    text = ctx.t._("Type in a few words what was done (for example: visited the family, talked on the phone).")
    return OutboundMessage(text, (Button(ctx.t._("Cancel"), Verbs.CANCEL),))


async def cancel(ctx: Context) -> Replies:
    return [say(ctx.t._("Cancelled. Nothing was recorded.")), *await show(ctx)]


async def handle(ctx: Context, text: str) -> Replies:
    """Typed text while a note is asked for; anything else returns to the list."""
    if ctx.state.step == Steps.NOTE and text:
        found = await alert_in_scope(ctx, ctx.state.data.get("escalation", ""))
        if found is None:
            ctx.leave()
            return [out_of_scope(ctx.t)]
        assert ctx.staff is not None
        alert, person = found
        await ctx.repos.escalations.add_note(alert.id, ctx.staff.id, text[:1000])
        if alert.kind == EscalationKind.CRISIS and alert.acknowledged_at is None:  # the note acknowledges it
            await note_crisis_answer(ctx.repos, alert.participant_id, ctx.clock.now())
        await ctx.audit(
            "escalation_noted", subject_type="participant", subject_id=person.id, detail={"escalation": alert.id}
        )
        return [say(ctx.t._("Saved. The alert is closed and will not go further.")), *await show(ctx)]
    return await show(ctx)


async def acknowledge(ctx: Context, alert_id: int | None) -> Replies:
    """ "I'm on it": stops the escalation going on to the officer. Checked against the record, not the button."""
    found = await alert_in_scope(ctx, alert_id)
    if found is None:
        return [out_of_scope(ctx.t), *staff.home(ctx)]
    assert ctx.staff is not None
    escalation, _ = found
    if await ctx.repos.escalations.acknowledge(escalation.id, ctx.staff.id):
        if escalation.kind == EscalationKind.CRISIS:  # perhaps its first human answer (metrics)
            await note_crisis_answer(ctx.repos, escalation.participant_id, ctx.clock.now())
        await ctx.audit(
            "escalation_acknowledged",
            subject_type="participant",
            subject_id=escalation.participant_id,
            detail={"escalation": escalation.id, "kind": escalation.kind},
        )
        return [say(ctx.t._("Thank you. Noted that you are following this up.")), *staff.home(ctx)]
    return [say(ctx.t._("This was already acknowledged.")), *staff.home(ctx)]


class InboxFlow(Flow):
    """Alerts that need someone to act ("Cần xử lý"): the list, one alert, "I'm on it", a note that closes it."""

    name = FLOW
    audience = Audience.STAFF
    verbs = Verbs
    stays = frozenset({Verbs.ACK})  # pushed to a cadre who may be entering a record
    pushes = pushed.PUSHES

    async def on_action(self, ctx: Context, pressed: Pressed) -> Replies:
        match pressed.verb:
            case Verbs.OPEN:
                return await open_alert(ctx, pressed.number)
            case Verbs.NOTE:
                return await ask_note(ctx, pressed.number)
            case Verbs.ACK:
                return await acknowledge(ctx, pressed.number)
            case Verbs.CANCEL:
                return await cancel(ctx)
        return await show(ctx)

    async def on_text(self, ctx: Context, text: str) -> Replies | None:
        return await handle(ctx, text) if ctx.state.step == Steps.NOTE else None

    async def prompt(self, ctx: Context, menu: bool) -> Replies | None:
        if menu:  # a list: nothing half-written
            ctx.leave()
            return None
        return [prompt(ctx)] if ctx.state.step == Steps.NOTE else None
