"""The quarterly review (kiểm điểm cuối quý): a cadre writes one short assessment per assigned person, one after the
other without going back to a menu; the officer sees who has not written theirs."""

from __future__ import annotations

from bot.core.i18n import N_
from bot.core.messages import Button, OutboundMessage
from bot.domain.authz import Action
from bot.domain.entities import Participant, Role
from bot.domain.fieldwork import ReviewPolicy, ReviewProgress, ReviewWindow, review_window
from bot.flows import caseload, staff
from bot.flows.common import audit_list, out_of_scope, say
from bot.flows.context import Context, Replies
from bot.flows.flow import Audience, Flow, Pressed, Step, Verb
from bot.flows.reviews import pushed
from bot.services.fieldwork import write_review

FLOW = "review"


class Steps(Step):
    PROGRESS = "progress"  # how the quarter went
    COMMENT = "comment"  # typed, or none


class Verbs(Verb):
    START = "rev:start"
    WRITE = "rev:write"
    PROGRESS = "rev:p"
    SKIP_COMMENT = "rev:nocomment"
    CANCEL = "rev:cancel"


PROGRESS_NAMES: dict[ReviewProgress, str] = {
    ReviewProgress.GOOD: N_("Good progress"),
    ReviewProgress.FAIR: N_("Fair"),
    ReviewProgress.CONCERNING: N_("Concerning"),
}


def _window(ctx: Context) -> ReviewWindow | None:
    return review_window(ctx.today(), ReviewPolicy())


def quarter_name(ctx: Context, window: ReviewWindow) -> str:
    year, quarter = window.quarter.split("-Q")
    return ctx.t._("quarter {q}/{year}", q=quarter, year=year)


async def start(ctx: Context) -> Replies:
    assert ctx.staff is not None
    t = ctx.t
    window = _window(ctx)
    if ctx.staff.role is Role.OFFICER:
        return await officer_status(ctx, window)
    if window is None:
        return [say(t._("It is not review time. Quarterly reviews open a few days before the quarter ends."))]
    people = await ctx.repos.participants.followed(ctx.staff.unit_id, ctx.staff.id)
    done = await ctx.repos.fieldwork.reviewed(window.quarter, [p.id for p in people])
    todo = [p for p in people if p.id not in done]
    await audit_list(ctx, "reviews_to_write", len(todo))
    if not todo:
        ctx.leave()
        return [say(t._("All reviews for {quarter} are written. Thank you.", quarter=quarter_name(ctx, window)))]
    lines = [
        t._("Review for {quarter}, due {date}.", quarter=quarter_name(ctx, window), date=t.date(window.due_on)),
        t.n_("{n} still to write.", "{n} still to write.", len(todo)),
    ]
    buttons = [Button(caseload.label(p), Verbs.WRITE(p.id)) for p in todo[:10]]
    return [OutboundMessage("\n".join(lines), (*buttons, Button(t._("Back to menu"), staff.Verbs.HOME)))]


async def officer_status(ctx: Context, window: ReviewWindow | None) -> Replies:
    """Who has not written their reviews for the quarter being collected (or the last one, after its deadline)."""
    assert ctx.staff is not None
    t = ctx.t
    if not await ctx.allowed(Action.LIST_COMMUNE):
        return [out_of_scope(t)]
    if window is None:
        return [say(t._("It is not review time. Quarterly reviews open a few days before the quarter ends."))]
    people = await ctx.repos.participants.followed(ctx.staff.unit_id)
    done = await ctx.repos.fieldwork.reviewed(window.quarter, [p.id for p in people])
    await audit_list(ctx, "reviews_missing", len(people) - len(done))
    lines = [
        t._(
            "Reviews for {quarter}: {done} of {total} written (due {date}).",
            quarter=quarter_name(ctx, window),
            done=len(done),
            total=len(people),
            date=t.date(window.due_on),
        )
    ]
    missing: dict[int | None, list[Participant]] = {}
    for person in people:
        if person.id not in done:
            missing.setdefault(person.cadre_id, []).append(person)
    for cadre_id, waiting in missing.items():
        cadre = await ctx.repos.staff.get(cadre_id) if cadre_id else None
        owner = cadre.name if cadre else t._("no cadre assigned")
        lines.append(f"• {owner}: " + ", ".join(caseload.label(p) for p in waiting))
    return [OutboundMessage("\n".join(lines), (Button(t._("Back to menu"), staff.Verbs.HOME),))]


async def write(ctx: Context, pid: int | None) -> Replies:
    window = _window(ctx)
    person = await ctx.permitted(Action.WRITE_REVIEW, pid)
    if person is None or window is None:
        return [out_of_scope(ctx.t), *await start(ctx)]
    ctx.state.flow, ctx.state.step, ctx.state.data = FLOW, Steps.PROGRESS, {"pid": person.id}
    return await prompt(ctx)


async def prompt(ctx: Context) -> Replies:
    t = ctx.t
    person = await ctx.permitted(Action.WRITE_REVIEW, ctx.state.data.get("pid", ""))
    if person is None:
        ctx.leave()
        return [out_of_scope(t)]
    who = caseload.label(person)
    cancel = Button(t._("Cancel"), Verbs.CANCEL)
    if ctx.state.step == Steps.PROGRESS:
        buttons = [Button(t._(name), Verbs.PROGRESS(p.value)) for p, name in PROGRESS_NAMES.items()]
        return [OutboundMessage(t._("{who}: how has this quarter gone?", who=who), (*buttons, cancel))]
    return [
        OutboundMessage(
            t._("A short comment for {who} (type it), or save without one.", who=who),
            (Button(t._("Save without a comment"), Verbs.SKIP_COMMENT), cancel),
        )
    ]


async def handle(ctx: Context, pressed: Pressed | None, text: str = "") -> Replies:
    """An answer inside the flow (`pressed` None: the words typed, `text`)."""
    t, step, verb = ctx.t, ctx.state.step, pressed.verb if pressed else None
    if verb is Verbs.CANCEL:
        ctx.leave()
        return [say(t._("Cancelled. Nothing was recorded."))]
    progress = {p.value for p in ReviewProgress}
    if step == Steps.PROGRESS and pressed is not None and verb is Verbs.PROGRESS and pressed.arg in progress:
        ctx.state.data["progress"], ctx.state.step = pressed.arg, Steps.COMMENT
        return await prompt(ctx)
    if step == Steps.COMMENT and (verb is Verbs.SKIP_COMMENT or (pressed is None and text)):
        return await _save(ctx, "" if verb is Verbs.SKIP_COMMENT else text[:1000])
    return [say(t._("Please answer with one of the options.")), *await prompt(ctx)]


async def _save(ctx: Context, comment: str) -> Replies:
    assert ctx.staff is not None
    window = _window(ctx)
    progress = ReviewProgress(ctx.state.data["progress"])
    person = await ctx.permitted(Action.WRITE_REVIEW, ctx.state.data.get("pid", ""))
    ctx.leave()
    if person is None or window is None:
        return [out_of_scope(ctx.t)]
    await write_review(ctx.repos, person, window.quarter, progress, comment, ctx.staff.id)
    return [say(ctx.t._("Saved the review for {who}.", who=caseload.label(person))), *await start(ctx)]


class ReviewFlow(Flow):
    """The quarterly review (kiểm điểm cuối quý): the cadre's list of reviews to write, then one review."""

    name = FLOW
    audience = Audience.STAFF
    verbs = Verbs
    pushes = pushed.PUSHES

    async def on_action(self, ctx: Context, pressed: Pressed) -> Replies:
        match pressed.verb:
            case Verbs.START:
                return await start(ctx)
            case Verbs.WRITE:
                return await write(ctx, pressed.number)
        if not self.holds(ctx.state):
            return staff.home(ctx)
        return await handle(ctx, pressed)

    async def on_text(self, ctx: Context, text: str) -> Replies:
        return await handle(ctx, None, text)

    async def prompt(self, ctx: Context, menu: bool) -> Replies:
        return await prompt(ctx)
