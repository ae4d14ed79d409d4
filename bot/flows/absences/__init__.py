"""An officer records an absence from the chat: whom (a paged list of the commune), when (typed dates), reported
or not. Unreported days move the end of the term; the officer sees the new end at once."""

from __future__ import annotations

import re
from datetime import date

from bot.core.messages import Button, OutboundMessage
from bot.domain.authz import Action
from bot.domain.entities import ParticipantStatus, Role
from bot.flows import staff
from bot.flows.common import audit_list, out_of_scope, say
from bot.flows.context import Context, Replies
from bot.flows.flow import Audience, Flow, Pressed, Step, Verb
from bot.services.absences import AbsenceError, implausible, record_absence

FLOW = "absence"


class Steps(Step):
    PICK = "pick"  # whose absence
    DATES = "dates"  # typed
    KIND = "kind"  # reported in advance or not


class Verbs(Verb):
    START = "absence:start"
    PAGE = "absence:page"
    PICK = "absence:pick"
    REPORTED = "absence:reported"
    UNREPORTED = "absence:unreported"
    CANCEL = "absence:cancel"


PAGE_SIZE = 8
_DATE = r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})"
_RANGE = re.compile(rf"^\s*{_DATE}\s*(?:-|–|đến|den|to)\s*{_DATE}\s*$", re.IGNORECASE)


def parse_range(text: str) -> tuple[date, date] | None:
    """ "01/06/2027 - 10/06/2027" (also with dots, "đến"); None when it is not two real dates."""
    match = _RANGE.match(text)
    if match is None:
        return None
    d1, m1, y1, d2, m2, y2 = (int(g) for g in match.groups())
    try:
        return date(y1, m1, d1), date(y2, m2, d2)
    except ValueError:
        return None


def _cancel(ctx: Context) -> Button:
    return Button(ctx.t._("Cancel"), Verbs.CANCEL)


async def start(ctx: Context, page: int = 0) -> Replies:
    """The commune's people on the list, a page at a time (only officers and admins get here)."""
    assert ctx.staff is not None
    if ctx.staff.role not in (Role.OFFICER, Role.ADMIN):
        await ctx.audit("denied:manage_list", "denied", detail={"reason": "role may not"})
        return [out_of_scope(ctx.t)]
    people = [
        p
        for p in await ctx.repos.participants.in_unit(ctx.staff.unit_id)
        if p.status in (ParticipantStatus.ENROLLED, ParticipantStatus.ACTIVE)
    ]
    people.sort(key=lambda p: (p.name, p.id))
    shown = people[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    await audit_list(ctx, "absence_pick", len(people), page=page + 1)
    ctx.state.flow, ctx.state.step, ctx.state.data = FLOW, Steps.PICK, {}
    buttons = [Button(ctx.t._("{name} (#{id})", name=p.name, id=p.id), Verbs.PICK(p.id)) for p in shown]
    if (page + 1) * PAGE_SIZE < len(people):
        buttons.append(Button(ctx.t._("More"), Verbs.PAGE(page + 1)))
    text = ctx.t._("Record an absence. Whose?") if people else ctx.t._("There is nobody on your list yet.")
    return [OutboundMessage(text, (*buttons, _cancel(ctx)))]


async def handle(ctx: Context, pressed: Pressed | None, text: str = "") -> Replies:
    """An answer inside the flow (`pressed` None: the words typed, `text`)."""
    t, verb = ctx.t, pressed.verb if pressed else None
    if verb is Verbs.CANCEL:
        ctx.leave()
        return [say(t._("Cancelled. Nothing was recorded."))]
    if pressed is not None and verb is Verbs.PAGE:
        return await start(ctx, pressed.number or 0)
    if pressed is not None and verb is Verbs.PICK:
        return await _picked(ctx, pressed.number)
    if ctx.state.step == Steps.DATES and pressed is None and text:
        return await _dates(ctx, text)
    if ctx.state.step == Steps.KIND and verb in (Verbs.REPORTED, Verbs.UNREPORTED):
        return await _record(ctx, reported=verb is Verbs.REPORTED)
    return [say(t._("Please answer with one of the options.")), *await prompt(ctx)]


async def prompt(ctx: Context) -> Replies:
    if ctx.state.step == Steps.DATES:
        return [_ask_dates(ctx)]
    if ctx.state.step == Steps.KIND:
        return [_ask_kind(ctx)]
    return await start(ctx)


async def _picked(ctx: Context, pid: int | None) -> Replies:
    person = await ctx.permitted(Action.MANAGE_LIST, pid)
    if person is None:
        return [out_of_scope(ctx.t), *await start(ctx)]
    ctx.state.step, ctx.state.data = Steps.DATES, {"participant_id": person.id}
    return [_ask_dates(ctx)]


def _ask_dates(ctx: Context) -> OutboundMessage:
    text = ctx.t._("Type the first and the last day away, for example: 01/06/2027 - 10/06/2027")
    return OutboundMessage(text, (_cancel(ctx),))


def _ask_kind(ctx: Context) -> OutboundMessage:
    return OutboundMessage(
        ctx.t._("Was this absence reported in advance? Unreported days do not count toward the term."),
        (
            Button(ctx.t._("Reported in advance"), Verbs.REPORTED),
            Button(ctx.t._("Not reported"), Verbs.UNREPORTED),
            _cancel(ctx),
        ),
    )


async def _dates(ctx: Context, text: str) -> Replies:
    span = parse_range(text)
    if span is None or span[1] < span[0]:
        return [say(ctx.t._("I could not read those dates.")), _ask_dates(ctx)]
    today = ctx.clock.now().astimezone(ctx.tz).date()
    if implausible(span[0], span[1], today):
        return [
            say(ctx.t._("Those dates look wrong (more than a year away, or years from today). Please check them.")),
            _ask_dates(ctx),
        ]
    ctx.state.step = Steps.KIND
    ctx.state.data = {**ctx.state.data, "first": span[0].isoformat(), "last": span[1].isoformat()}
    return [_ask_kind(ctx)]


async def _record(ctx: Context, *, reported: bool) -> Replies:
    assert ctx.staff is not None
    person = await ctx.permitted(Action.MANAGE_LIST, ctx.state.data.get("participant_id", ""))
    if person is None:  # checked again: the list may have changed
        ctx.leave()
        return [out_of_scope(ctx.t)]
    participant_id = person.id
    first, last = date.fromisoformat(ctx.state.data["first"]), date.fromisoformat(ctx.state.data["last"])
    try:
        _, end = await record_absence(
            ctx.repos, participant_id, first, last, reported=reported, reason=None, by_staff=ctx.staff.id
        )
    except AbsenceError:
        return [say(ctx.t._("I could not read those dates.")), _ask_dates(ctx)]
    ctx.leave()
    days = (last - first).days + 1
    return [
        say(
            "\n".join(
                [
                    ctx.t.n_("Recorded: {n} day away.", "Recorded: {n} days away.", days),
                    ctx.t._("Expected end of the term: {date}", date=ctx.t.date(end)),
                ]
            )
        )
    ]


class AbsenceFlow(Flow):
    """An officer records a person's absence from their place of residence: whom, the dates, reported or not."""

    name = FLOW
    audience = Audience.STAFF
    verbs = Verbs

    async def on_action(self, ctx: Context, pressed: Pressed) -> Replies:
        if pressed.verb is Verbs.START:
            return await start(ctx)
        if not self.holds(ctx.state):
            return staff.home(ctx)
        return await self._answer(ctx, pressed)

    async def on_text(self, ctx: Context, text: str) -> Replies:
        return await self._answer(ctx, None, text)

    async def _answer(self, ctx: Context, pressed: Pressed | None, text: str = "") -> Replies:
        replies = await handle(ctx, pressed, text)
        return replies if self.holds(ctx.state) else [*replies, *staff.home(ctx)]

    async def prompt(self, ctx: Context, menu: bool) -> Replies:
        return await prompt(ctx)
