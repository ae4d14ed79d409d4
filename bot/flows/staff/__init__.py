"""Staff menus: a greeting for the role, the role's menu, and routing to the role's work (the cadre's people and
records, the alerts inbox, the officer's desk, quarterly reviews), and the one-time link that opens the staff
console (*Mở trang quản lý*, or `/login`)."""

from __future__ import annotations

from bot.core.i18n import N_, SUPPORTED_LANGUAGES
from bot.core.messages import Button, OutboundMessage
from bot.db.repositories.conversations import ConversationState
from bot.domain.authz import Action
from bot.domain.entities import Role
from bot.flows import absences, caseload, counsellor, inbox, officer, reviews
from bot.flows.common import say
from bot.flows.context import HOME, Context, Replies
from bot.flows.flow import Audience, Flow, Pressed, Verb
from bot.services import signin


class Verbs(Verb):
    HOME = "staff:home"
    ROLE = "staff:role"
    LANGUAGES = "staff:language"
    LANGUAGE = "staff:lang"
    CONSOLE = "staff:console"


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
            Button(t._("My people"), caseload.Verbs.LIST),
            Button(t._("Needs attention"), inbox.Verbs.LIST),
            Button(t._("Quarterly review"), reviews.Verbs.START),
        ]
    if role is Role.OFFICER:
        buttons += [
            Button(t._("Commune list"), caseload.Verbs.LIST),
            Button(t._("Needs attention"), inbox.Verbs.LIST),
            Button(t._("To confirm"), officer.Verbs.DESK),
            Button(t._("Quarterly review"), reviews.Verbs.START),
        ]
    if role in (Role.OFFICER, Role.ADMIN):
        buttons.append(Button(t._("Record an absence"), absences.Verbs.START))
    if role is Role.COUNSELLOR:
        buttons += counsellor.menu_buttons(ctx)
    buttons += [Button(t._("My role and scope"), Verbs.ROLE), Button(t._("Language"), Verbs.LANGUAGES)]
    # Last, so the numbers a Zalo user knows by heart keep their meaning.
    buttons.append(Button(t._("Open the staff console"), Verbs.CONSOLE))
    return [OutboundMessage(t._("Staff menu. What would you like to do?"), tuple(buttons))]


async def console_link(ctx: Context) -> Replies:
    """A one-time link that opens the staff console (bot/services/signin.py): valid 10 minutes, spent by the page's
    confirm button (a previewer's GET spends nothing), sent without a link preview. Only an active staff member's
    own chat gets one, and only for their own account; issuing it is audited (never the link). A closed account
    hears that it is closed, as for any other request."""
    member, t = ctx.staff, ctx.t
    assert member is not None
    if not member.active:
        await ctx.audit("login_link_refused", "denied", subject_type="staff", subject_id=member.id)
        return [say(t._("This account is no longer active. Please contact your administrator."))]
    if ctx.policies.console_url is None:
        return [say(t._("The staff console is not available on this server.")), *home(ctx)]
    link = await signin.issue_link(ctx.repos, ctx.keyring.token_key, ctx.clock, member.id, ctx.policies.console_url)
    await ctx.audit("login_link_issued", subject_type="staff", subject_id=member.id)
    minutes = int(signin.LINK_TTL.total_seconds() // 60)
    text = t._(
        "Here is your sign-in link to the staff console. It works once, within {minutes} minutes:\n{url}\n"
        "Do not forward it to anyone.",
        minutes=minutes,
        url=link.url,
    )
    return [OutboundMessage(text, no_preview=True)]


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
    return [OutboundMessage("\n".join(lines), (Button(t._("Back to menu"), Verbs.HOME),))]


async def _set_language(ctx: Context, language: str) -> Replies:
    assert ctx.staff is not None
    if language not in SUPPORTED_LANGUAGES:
        return home(ctx)
    await ctx.repos.staff.set_language(ctx.staff.id, language)
    ctx.use_language(language)
    await ctx.audit("setting_changed", subject_type="staff", subject_id=ctx.staff.id, detail={"setting": "language"})
    return [say(ctx.t._("Done. I will write to you in English from now on.")), *home(ctx)]


class HomeFlow(Flow):
    """The staff menu (what it offers depends on the role), the member's role and scope, their language."""

    name = "staff_home"
    audience = Audience.STAFF
    verbs = Verbs

    def holds(self, state: ConversationState) -> bool:
        return state.flow == HOME

    async def on_action(self, ctx: Context, pressed: Pressed) -> Replies:
        match pressed.verb:
            case Verbs.ROLE:
                return await my_role(ctx)
            case Verbs.LANGUAGES:
                buttons = tuple(Button(LANGUAGE_NAMES[code], Verbs.LANGUAGE(code)) for code in SUPPORTED_LANGUAGES)
                return [OutboundMessage(ctx.t._("Which language would you like me to use?"), buttons)]
            case Verbs.LANGUAGE:
                return await _set_language(ctx, pressed.arg)
            case Verbs.CONSOLE:
                return await console_link(ctx)
        return home(ctx)

    async def prompt(self, ctx: Context, menu: bool) -> Replies:
        return home(ctx)
