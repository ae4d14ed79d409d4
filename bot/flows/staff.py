"""Staff menus: a greeting for the role, the role's menu, and routing to the role's work (the cadre's people and
records, the alerts inbox, the officer's desk, quarterly reviews)."""

from __future__ import annotations

from bot.core.i18n import N_, SUPPORTED_LANGUAGES
from bot.core.messages import Button, OutboundMessage
from bot.domain.authz import Action
from bot.domain.entities import Role
from bot.flows import absences, caseload, counsellor, fieldwork, inbox, officer, reviews
from bot.flows.actions import ESCALATION_ACK
from bot.flows.common import not_understood, say
from bot.flows.context import Context, Replies

HOME, ROLE, LANGUAGE = "staff:home", "staff:role", "staff:language"
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}

ROLE_NAMES: dict[Role, str] = {
    Role.CADRE: N_("mass-organisation cadre"),
    Role.COUNSELLOR: N_("counsellor"),
    Role.OFFICER: N_("officer in charge"),
    Role.ADMIN: N_("administrator"),
}

ROLE_SCOPE: dict[Role, str] = {
    Role.CADRE: N_("You will see only the people assigned to you in {unit}."),
    Role.COUNSELLOR: N_("You will receive referrals for {point}."),
    Role.OFFICER: N_("You manage the list of {unit}."),
    Role.ADMIN: N_("You configure units, counselling points and hotlines for {unit}."),
}


async def greeting(ctx: Context) -> Replies:
    assert ctx.staff is not None
    hello = say(
        ctx.t._(
            "Hello {name}. This chat is now linked to your account as {role}.",
            name=ctx.staff.name,
            role=ctx.t._(ROLE_NAMES[ctx.staff.role]),
        )
    )
    return [hello, *home(ctx)]


def home(ctx: Context) -> Replies:
    t = ctx.t
    role = ctx.staff.role if ctx.staff is not None else None
    buttons: list[Button] = []
    if role is Role.CADRE:
        buttons += [
            Button(t._("My people"), caseload.LIST),
            Button(t._("Needs attention"), inbox.LIST),
            Button(t._("Quarterly review"), reviews.START),
        ]
    if role is Role.OFFICER:
        buttons += [
            Button(t._("Commune list"), caseload.LIST),
            Button(t._("Needs attention"), inbox.LIST),
            Button(t._("To confirm"), officer.DESK),
            Button(t._("Quarterly review"), reviews.START),
        ]
    if role in (Role.OFFICER, Role.ADMIN):
        buttons.append(Button(t._("Record an absence"), absences.START))
    if role is Role.COUNSELLOR:
        buttons += counsellor.menu_buttons(ctx)
    buttons += [Button(t._("My role and scope"), ROLE), Button(t._("Language"), LANGUAGE)]
    return [OutboundMessage(t._("Staff menu. What would you like to do?"), tuple(buttons))]


async def prompt(ctx: Context, menu: bool = False) -> Replies:
    """Where a staff member is: the open question of a flow, or the menu. Asking for the menu leaves a list or a
    card (nothing is half-written there); an open question is asked again."""
    flow = ctx.state.flow
    if menu and (flow in (caseload.FLOW, inbox.FLOW) or counsellor.in_chat(ctx)):
        _end_flow(ctx)
        return home(ctx)
    if flow == absences.FLOW:
        return await absences.prompt(ctx)
    if flow in fieldwork.FLOWS:
        return await fieldwork.prompt(ctx) or home(ctx)
    if flow == reviews.FLOW:
        return await reviews.prompt(ctx)
    if flow == inbox.FLOW and ctx.state.step == "note":
        return [inbox.prompt(ctx)]
    if flow == counsellor.FLOW:
        return [counsellor.prompt(ctx)]
    if flow == caseload.FLOW and ctx.state.step == "card":
        return await caseload.card(ctx, str(ctx.state.data.get("pid", "")))
    if flow == caseload.FLOW:
        return await caseload.show_list(ctx)
    return home(ctx)


async def _referrals(ctx: Context, action: str) -> Replies:
    if action == counsellor.LIST or action == counsellor.CANCEL:
        return await counsellor.show_list(ctx)
    if action in (counsellor.DUTY_ON, counsellor.DUTY_OFF):
        return [*await counsellor.set_duty(ctx, action == counsellor.DUTY_ON), *home(ctx)]
    with_id = {
        counsellor.OPEN: counsellor.open_referral,
        counsellor.ACCEPT: counsellor.accept,
        counsellor.CLOSE: counsellor.close,
        counsellor.NOTE: counsellor.ask_note,
        counsellor.CHAT: counsellor.chat,
        counsellor.END: counsellor.ask_end,
        counsellor.CANNED: counsellor.canned,
        counsellor.SEND: counsellor.confirmed,
        counsellor.END_CONFIRMED: counsellor.end,
    }
    for prefix, act in with_id.items():
        if action.startswith(prefix):
            return await act(ctx, action.removeprefix(prefix))
    return home(ctx)


def _end_flow(ctx: Context) -> None:
    ctx.state.flow, ctx.state.step, ctx.state.data = "menu", "", {}


async def _typed(ctx: Context, text: str) -> Replies:
    """Typed text means something only inside a flow: an answer, a search in the list, a note on an open card."""
    flow, step = ctx.state.flow, ctx.state.step
    if flow in fieldwork.FLOWS:
        return await fieldwork.handle(ctx)
    if flow == reviews.FLOW:
        return await reviews.handle(ctx)
    if flow == inbox.FLOW and step == "note":
        return await inbox.handle(ctx)
    if flow == counsellor.FLOW:
        return await counsellor.typed(ctx)
    if flow == caseload.FLOW and step == "list":
        return await caseload.search(ctx, text)
    if flow == caseload.FLOW and step == "card":
        # A note typed on an open card, without pressing "Add a note": keep it and ask only what is missing.
        replies = await fieldwork.start(ctx, fieldwork.OBSERVE, Action.LOG_OBSERVATION, str(ctx.state.data.get("pid")))
        if ctx.state.flow == fieldwork.OBSERVE:
            return await fieldwork.handle(ctx)
        return replies
    return [not_understood(ctx.t), *home(ctx)]


async def _work(ctx: Context, action: str) -> Replies | None:
    """The buttons of the cadre's and officer's work; None when the action is not one of them."""
    if action.startswith("fw:"):
        if ctx.state.flow in fieldwork.FLOWS:
            return await fieldwork.handle(ctx)
        return [say(ctx.t._("That button is no longer valid. Here are the current options.")), *home(ctx)]
    if action in (caseload.LIST, caseload.CLEAR):
        if action == caseload.CLEAR or ctx.state.flow != caseload.FLOW:
            _end_flow(ctx)
        return await caseload.show_list(ctx)
    if action.startswith(caseload.PAGE):
        page = action.removeprefix(caseload.PAGE)
        return await caseload.show_list(ctx, int(page) if page.isdigit() else 0)
    if action.startswith(caseload.OPEN):
        return await caseload.card(ctx, action.removeprefix(caseload.OPEN))
    starts = {
        caseload.IN_PERSON: (fieldwork.IN_PERSON, Action.RECORD_IN_PERSON_CHECK),
        caseload.TEST: (fieldwork.TEST, Action.RECORD_TEST_RESULT),
        caseload.OBSERVE: (fieldwork.OBSERVE, Action.LOG_OBSERVATION),
        caseload.REPORT: (fieldwork.REPORT, Action.REPORT_ABSENCE_OR_MOVE),
    }
    for prefix, (flow, permission) in starts.items():
        if action.startswith(prefix):
            return await fieldwork.start(ctx, flow, permission, action.removeprefix(prefix))
    if action.startswith(caseload.ASSIGN):
        return await officer.choose_cadre(ctx, action.removeprefix(caseload.ASSIGN))
    if action.startswith(officer.ASSIGN_TO):
        return await officer.assign(ctx, action.removeprefix(officer.ASSIGN_TO))
    if action == officer.UNASSIGN:
        return await officer.assign(ctx, "0")
    return await _desk_and_inbox(ctx, action)


async def _desk_and_inbox(ctx: Context, action: str) -> Replies | None:
    if action.startswith("ref:"):
        return await _referrals(ctx, action)
    simple = {
        inbox.LIST: inbox.show,
        inbox.CANCEL: inbox.handle,
        officer.DESK: officer.desk,
        reviews.START: reviews.start,
    }
    if action in simple:
        return await simple[action](ctx)
    with_id = {
        inbox.OPEN: inbox.open_alert,
        inbox.NOTE: inbox.ask_note,
        reviews.WRITE: reviews.write,
        officer.REPORT: officer.show_report,
        officer.REJECT: officer.reject,
        officer.TRANSFER: officer.show_transfer,
        officer.CONFIRM: officer.confirm,
    }
    for prefix, act in with_id.items():
        if action.startswith(prefix):
            return await act(ctx, action.removeprefix(prefix))
    if action.startswith(officer.MOVE_TO):
        report, _, unit = action.removeprefix(officer.MOVE_TO).partition(":")
        return await officer.confirm(ctx, report, unit)
    if action.startswith(officer.ACCEPT) or action.startswith(officer.DECLINE):
        accept = action.startswith(officer.ACCEPT)
        raw = action.removeprefix(officer.ACCEPT if accept else officer.DECLINE)
        return await officer.decide_transfer(ctx, raw, accept)
    if action.startswith("rev:") and ctx.state.flow == reviews.FLOW:
        return await reviews.handle(ctx)
    return None


async def handle(ctx: Context) -> Replies:
    action = ctx.msg.action
    if action == absences.START:
        return await absences.start(ctx)
    if ctx.state.flow == absences.FLOW and (action is None or action.startswith("absence:")):
        replies = await absences.handle(ctx)
        return replies if ctx.state.flow == absences.FLOW else [*replies, *home(ctx)]
    if ctx.state.flow == absences.FLOW:
        _end_flow(ctx)
    if action is None:
        return await _typed(ctx, ctx.msg.text or "")
    if action.startswith(ESCALATION_ACK):
        return await _acknowledge(ctx, action.removeprefix(ESCALATION_ACK))
    work = await _work(ctx, action)
    if work is not None:
        return work
    _end_flow(ctx)
    if action == ROLE:
        return await my_role(ctx)
    if action == LANGUAGE:
        buttons = tuple(Button(LANGUAGE_NAMES[code], f"staff:lang:{code}") for code in SUPPORTED_LANGUAGES)
        return [OutboundMessage(ctx.t._("Which language would you like me to use?"), buttons)]
    if action.startswith("staff:lang:"):
        return await _set_language(ctx, action.removeprefix("staff:lang:"))
    return home(ctx)


async def _acknowledge(ctx: Context, raw_id: str) -> Replies:
    """ "I'm on it": stops the escalation going on to the officer. Checked against the record, not the button."""
    found = await inbox.alert_in_scope(ctx, raw_id)
    if found is None:
        return [say(ctx.t._("This is not in your scope.")), *home(ctx)]
    assert ctx.staff is not None
    escalation, _ = found
    if await ctx.repos.escalations.acknowledge(escalation.id, ctx.staff.id):
        await ctx.audit(
            "escalation_acknowledged",
            subject_type="participant",
            subject_id=escalation.participant_id,
            detail={"escalation": escalation.id, "kind": escalation.kind},
        )
        return [say(ctx.t._("Thank you. Noted that you are following this up.")), *home(ctx)]
    return [say(ctx.t._("This was already acknowledged.")), *home(ctx)]


async def my_role(ctx: Context) -> Replies:
    member = ctx.staff
    assert member is not None
    if not await ctx.allowed(Action.VIEW_OWN_ROLE):
        return home(ctx)
    t = ctx.t
    unit = await ctx.repos.units.get(member.unit_id)
    point = await ctx.repos.points.get(member.point_id) if member.point_id else None
    lines = [
        t._("Role: {role}", role=t._(ROLE_NAMES[member.role])),
        t._("Unit: {unit}", unit=unit.name if unit else "—"),
    ]
    if point is not None:
        lines.append(t._("Counselling point: {point}", point=point.name))
    lines.append(t._(ROLE_SCOPE[member.role], unit=unit.name if unit else "—", point=point.name if point else "—"))
    if member.role in (Role.OFFICER, Role.CADRE) and unit is not None:
        cadre_id = member.id if member.role is Role.CADRE else None
        count = await ctx.repos.participants.count(unit.id, cadre_id)
        lines.append(t.n_("People in your scope: {n}", "People in your scope: {n}", count))
    return [OutboundMessage("\n".join(lines), (Button(t._("Back to menu"), HOME),))]


async def _set_language(ctx: Context, language: str) -> Replies:
    assert ctx.staff is not None
    if language not in SUPPORTED_LANGUAGES:
        return home(ctx)
    await ctx.repos.staff.set_language(ctx.staff.id, language)
    ctx.use_language(language)
    await ctx.audit("setting_changed", subject_type="staff", subject_id=ctx.staff.id, detail={"setting": "language"})
    return [say(ctx.t._("Done. I will write to you in English from now on.")), *home(ctx)]
