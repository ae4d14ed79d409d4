"""Staff menus: a greeting for the role and what the role can see; later issues add the role's work."""

from __future__ import annotations

from bot.core.i18n import N_, SUPPORTED_LANGUAGES
from bot.core.messages import Button, OutboundMessage
from bot.domain.authz import Action, ParticipantScope
from bot.domain.entities import Role
from bot.handlers import absences
from bot.handlers.actions import ESCALATION_ACK
from bot.handlers.common import not_understood, say
from bot.handlers.context import Context, Replies

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
    buttons = [Button(t._("My role and scope"), ROLE), Button(t._("Language"), LANGUAGE)]
    if ctx.staff is not None and ctx.staff.role in (Role.OFFICER, Role.ADMIN):
        buttons.insert(0, Button(t._("Record an absence"), absences.START))
    return [OutboundMessage(t._("Staff menu. More tools for your role will appear here."), tuple(buttons))]


async def handle(ctx: Context) -> Replies:
    action = ctx.msg.action
    if action == absences.START:
        return await absences.start(ctx)
    if ctx.state.flow == absences.FLOW and (action is None or action.startswith("absence:")):
        replies = await absences.handle(ctx)
        return replies if ctx.state.flow == absences.FLOW else [*replies, *home(ctx)]
    if ctx.state.flow == absences.FLOW:
        ctx.state.flow, ctx.state.step, ctx.state.data = "menu", "", {}
    if action is None:
        return [not_understood(ctx.t), *home(ctx)]
    if action == ROLE:
        return await my_role(ctx)
    if action == LANGUAGE:
        buttons = tuple(Button(LANGUAGE_NAMES[code], f"staff:lang:{code}") for code in SUPPORTED_LANGUAGES)
        return [OutboundMessage(ctx.t._("Which language would you like me to use?"), buttons)]
    if action.startswith("staff:lang:"):
        return await _set_language(ctx, action.removeprefix("staff:lang:"))
    if action.startswith(ESCALATION_ACK):
        return await _acknowledge(ctx, action.removeprefix(ESCALATION_ACK))
    return home(ctx)


async def _acknowledge(ctx: Context, raw_id: str) -> Replies:
    """ "I'm on it": stops the escalation going on to the officer. Checked against the record, not the button."""
    escalation = await ctx.repos.escalations.get(int(raw_id)) if raw_id.isdigit() else None
    if escalation is None:
        await ctx.audit("denied:acknowledge_escalation", "denied", detail={"reason": "no such escalation"})
        return home(ctx)
    subject = await ctx.repos.participants.get(escalation.participant_id)
    unit = await ctx.repos.units.get(escalation.unit_id)
    scope = ParticipantScope(
        participant_id=escalation.participant_id,
        unit_id=escalation.unit_id,
        province_id=unit.parent_id if unit else None,
        cadre_id=subject.cadre_id if subject else None,
    )
    if not await ctx.allowed(Action.ACKNOWLEDGE_ESCALATION, scope):
        return [say(ctx.t._("This is not in your scope.")), *home(ctx)]
    assert ctx.staff is not None
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
