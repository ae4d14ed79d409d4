"""The quarterly review (kiểm điểm cuối quý): a cadre writes one short assessment per assigned person, one after the
other without going back to a menu; the officer sees who has not written theirs."""

from __future__ import annotations

from bot.core.i18n import N_
from bot.core.messages import Button, OutboundMessage
from bot.domain.authz import Action
from bot.domain.entities import Participant, Role
from bot.domain.fieldwork import ReviewPolicy, ReviewProgress, ReviewWindow, review_window
from bot.flows import caseload
from bot.flows.common import audit_list, say
from bot.flows.context import Context, Replies
from bot.services.fieldwork import write_review

FLOW = "review"
START, WRITE, PROGRESS, SKIP_COMMENT, CANCEL = "rev:start", "rev:write:", "rev:p:", "rev:nocomment", "rev:cancel"
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
        ctx.state.flow, ctx.state.step, ctx.state.data = "menu", "", {}
        return [say(t._("All reviews for {quarter} are written. Thank you.", quarter=quarter_name(ctx, window)))]
    lines = [
        t._("Review for {quarter}, due {date}.", quarter=quarter_name(ctx, window), date=t.date(window.due_on)),
        t.n_("{n} still to write.", "{n} still to write.", len(todo)),
    ]
    buttons = [Button(caseload.label(p), f"{WRITE}{p.id}") for p in todo[:10]]
    return [OutboundMessage("\n".join(lines), (*buttons, Button(t._("Back to menu"), "staff:home")))]


async def officer_status(ctx: Context, window: ReviewWindow | None) -> Replies:
    """Who has not written their reviews for the quarter being collected (or the last one, after its deadline)."""
    assert ctx.staff is not None
    t = ctx.t
    if not await ctx.allowed(Action.LIST_COMMUNE):
        return [say(t._("This is not in your scope."))]
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
    return [OutboundMessage("\n".join(lines), (Button(t._("Back to menu"), "staff:home"),))]


async def write(ctx: Context, raw_id: str) -> Replies:
    window = _window(ctx)
    person = await ctx.permitted(Action.WRITE_REVIEW, raw_id)
    if person is None or window is None:
        return [say(ctx.t._("This is not in your scope.")), *await start(ctx)]
    ctx.state.flow, ctx.state.step, ctx.state.data = FLOW, "progress", {"pid": person.id}
    return await prompt(ctx)


async def prompt(ctx: Context) -> Replies:
    t = ctx.t
    person = await ctx.permitted(Action.WRITE_REVIEW, ctx.state.data.get("pid", ""))
    if person is None:
        ctx.state.flow, ctx.state.step, ctx.state.data = "menu", "", {}
        return [say(t._("This is not in your scope."))]
    who = caseload.label(person)
    cancel = Button(t._("Cancel"), CANCEL)
    if ctx.state.step == "progress":
        buttons = [Button(t._(name), f"{PROGRESS}{p.value}") for p, name in PROGRESS_NAMES.items()]
        return [OutboundMessage(t._("{who}: how has this quarter gone?", who=who), (*buttons, cancel))]
    return [
        OutboundMessage(
            t._("A short comment for {who} (type it), or save without one.", who=who),
            (Button(t._("Save without a comment"), SKIP_COMMENT), cancel),
        )
    ]


async def handle(ctx: Context) -> Replies:
    t, action, step = ctx.t, ctx.msg.action, ctx.state.step
    if action == CANCEL:
        ctx.state.flow, ctx.state.step, ctx.state.data = "menu", "", {}
        return [say(t._("Cancelled. Nothing was recorded."))]
    if step == "progress" and action and action.startswith(PROGRESS):
        value = action.removeprefix(PROGRESS)
        if value in {p.value for p in ReviewProgress}:
            ctx.state.data["progress"], ctx.state.step = value, "comment"
            return await prompt(ctx)
    if step == "comment" and (action == SKIP_COMMENT or (action is None and ctx.msg.text)):
        return await _save(ctx, "" if action == SKIP_COMMENT else (ctx.msg.text or "")[:1000])
    return [say(t._("Please answer with one of the options.")), *await prompt(ctx)]


async def _save(ctx: Context, comment: str) -> Replies:
    assert ctx.staff is not None
    window = _window(ctx)
    progress = ReviewProgress(ctx.state.data["progress"])
    person = await ctx.permitted(Action.WRITE_REVIEW, ctx.state.data.get("pid", ""))
    ctx.state.flow, ctx.state.step, ctx.state.data = "menu", "", {}
    if person is None or window is None:
        return [say(ctx.t._("This is not in your scope."))]
    await write_review(ctx.repos, person, window.quarter, progress, comment, ctx.staff.id)
    return [say(ctx.t._("Saved the review for {who}.", who=caseload.label(person))), *await start(ctx)]
