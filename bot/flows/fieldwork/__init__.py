"""A cadre's records from the chat, each a few taps: in-person check, test result, observation, absence or move.

The person's id travels in the conversation state, not in the buttons, and permission is asked again when the record
is written (a cadre reassigned in the middle of a flow writes nothing).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from enum import StrEnum

from bot.core.messages import Button, OutboundMessage
from bot.db.repositories.conversations import ConversationState
from bot.domain.authz import Action
from bot.domain.entities import Participant
from bot.domain.fieldwork import InPersonOutcome, ObservationCategory, ReportKind, SubstanceGroup, TestOutcome
from bot.flows import absences, caseload, staff
from bot.flows.common import out_of_scope, say
from bot.flows.context import Context, Replies
from bot.flows.flow import Audience, Flow, Pressed, Step, Verb, as_number
from bot.services import fieldwork as records


class Entry(StrEnum):
    """Which record is being entered: the chat's `state.flow` while it is (stored: values never change)."""

    IN_PERSON = "inperson"
    TEST = "testresult"
    OBSERVE = "observe"
    REPORT = "report"


class Steps(Step):
    OUTCOME = "outcome"  # in person: present, absent, unreachable; a test: its result
    REASON = "reason"  # of an absence from the in-person check, typed
    WHICH = "which"  # which scheduled test
    SUBSTANCE = "substance"
    DATE = "date"
    PLACE = "place"
    CONFIRM = "confirm"  # a test result, read back before it is saved
    CATEGORY = "category"  # of an observation
    TEXT = "text"  # of an observation, typed
    FLAG = "flag"  # does the observation flag a risk
    KIND = "kind"  # a report: an absence or a move
    DATES = "dates"  # of an absence, typed
    MOVED_ON = "moved_on"
    WHERE = "where"  # moved to


class Verbs(Verb):
    CANCEL = "fw:cancel"
    PRESENCE = "fw:ip"  # in person: present, absent, unreachable
    CATEGORY = "fw:cat"  # of an observation
    FLAG = "fw:flag"  # an observation flags a risk: yes, no
    REPORT_KIND = "fw:rep"  # absence, move
    WHICH = "fw:which"  # which scheduled test (an obligation id, or adhoc)
    OUTCOME = "fw:out"
    SUBSTANCE = "fw:sub"
    DATE = "fw:date"  # days ago
    PLACE = "fw:place"
    SAVE = "fw:save"


MAX_NOTE = 4000  # the engine refuses longer messages before they get here


def _cancel(ctx: Context) -> Button:
    return Button(ctx.t._("Cancel"), Verbs.CANCEL)


def parse_day(text: str) -> date | None:
    """ "30/11/2026" (also with dots or dashes); None when it is not a real date."""
    match = re.match(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$", text)
    if match is None:
        return None
    day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


async def _person(ctx: Context, action: Action) -> Participant | None:
    return await ctx.permitted(action, ctx.state.data.get("pid", ""))


async def start(ctx: Context, entry: Entry, pid: int | None) -> Replies:
    """Entering a record for this person (from their card), if the actor may."""
    person = await ctx.permitted(FLOW_ACTIONS[entry], pid)
    if person is None:
        ctx.leave()
        return [out_of_scope(ctx.t), *await caseload.show_list(ctx)]
    ctx.state.flow, ctx.state.step, ctx.state.data = entry, FIRST_STEPS[entry], {"pid": person.id}
    return await prompt(ctx)


async def note_on_card(ctx: Context, pid: object, text: str) -> Replies:
    """A note typed on an open card, without pressing "Add a note": kept, and only what is missing is asked."""
    replies = await start(ctx, Entry.OBSERVE, as_number(pid))
    if ctx.state.flow != Entry.OBSERVE:
        return replies
    return await _typed(ctx, text)


FLOW_ACTIONS = {
    Entry.IN_PERSON: Action.RECORD_IN_PERSON_CHECK,
    Entry.TEST: Action.RECORD_TEST_RESULT,
    Entry.OBSERVE: Action.LOG_OBSERVATION,
    Entry.REPORT: Action.REPORT_ABSENCE_OR_MOVE,
}
FIRST_STEPS = {
    Entry.IN_PERSON: Steps.OUTCOME,
    Entry.TEST: Steps.WHICH,
    Entry.OBSERVE: Steps.CATEGORY,
    Entry.REPORT: Steps.KIND,
}


async def prompt(ctx: Context) -> Replies:
    """The question of the current step (after a bad answer, or when the person comes back to the chat). Asked
    again only while the person is still in scope; a state that no longer makes sense ends the flow."""
    person = await _person(ctx, FLOW_ACTIONS.get(ctx.state.flow, Action.VIEW_PARTICIPANT))
    if person is None:
        ctx.leave()
        return [out_of_scope(ctx.t), *await caseload.show_list(ctx)]
    try:
        return await _ask(ctx, caseload.label(person))
    except (KeyError, ValueError):
        ctx.leave()
        return await caseload.show_list(ctx)


async def _ask(ctx: Context, who: str) -> Replies:
    t, step, entry = ctx.t, ctx.state.step, ctx.state.flow
    if entry == Entry.IN_PERSON and step == Steps.OUTCOME:
        month = f"{ctx.today():%m/%Y}"
        return [
            OutboundMessage(
                t._("In-person check for {who}, {month}:", who=who, month=month),
                (
                    Button(t._("Present"), Verbs.PRESENCE("present")),
                    Button(t._("Absent, with a reason"), Verbs.PRESENCE("absent")),
                    Button(t._("Could not be reached"), Verbs.PRESENCE("unreachable")),
                    _cancel(ctx),
                ),
            )
        ]
    if entry == Entry.IN_PERSON and step == Steps.REASON:
        return [OutboundMessage(t._("Type the reason in a few words."), (_cancel(ctx),))]
    if entry == Entry.TEST:
        return await _test_prompt(ctx, who)
    if entry == Entry.OBSERVE and step == Steps.CATEGORY:
        buttons = [Button(t._(name), Verbs.CATEGORY(cat.value)) for cat, name in caseload.CATEGORY_NAMES.items()]
        kept = t._("I kept the text you typed; choose its category to save it.") if "note" in ctx.state.data else ""
        text = "\n".join(filter(None, [t._("A note about {who}. Which topic?", who=who), kept]))
        return [OutboundMessage(text, (*buttons, _cancel(ctx)))]
    if entry == Entry.OBSERVE and step == Steps.TEXT:
        return [OutboundMessage(t._("Type the note (it is stored encrypted)."), (_cancel(ctx),))]
    if entry == Entry.OBSERVE and step == Steps.FLAG:
        return [
            OutboundMessage(
                t._("Is this a sign of risk that needs watching?"),
                (
                    Button(t._("Yes, flag a risk"), Verbs.FLAG("yes")),
                    Button(t._("No"), Verbs.FLAG("no")),
                    _cancel(ctx),
                ),
            )
        ]
    if entry == Entry.REPORT and step == Steps.KIND:
        return [
            OutboundMessage(
                t._("What did you see about {who}? The officer will confirm it.", who=who),
                (
                    Button(t._("Away from home for a while"), Verbs.REPORT_KIND("absence")),
                    Button(t._("Moved to another place"), Verbs.REPORT_KIND("move")),
                    _cancel(ctx),
                ),
            )
        ]
    if entry == Entry.REPORT and step == Steps.DATES:
        text = t._("Type the first and the last day away, for example: 01/06/2027 - 10/06/2027")
        return [OutboundMessage(text, (_cancel(ctx),))]
    if entry == Entry.REPORT and step == Steps.MOVED_ON:
        return [OutboundMessage(t._("Since when? Type the date, for example: 15/12/2026"), (_cancel(ctx),))]
    if entry == Entry.REPORT and step == Steps.WHERE:
        return [OutboundMessage(t._("Where to? Type the commune or the address you know."), (_cancel(ctx),))]
    ctx.leave()
    return []


async def _test_prompt(ctx: Context, who: str) -> Replies:
    t, step, today = ctx.t, ctx.state.step, ctx.today()
    if step == Steps.WHICH:
        pid = int(ctx.state.data["pid"])
        due = await ctx.repos.obligations.tests_to_record(pid, today - timedelta(days=62), today)
        buttons = [Button(t._("Test of {date}", date=t.date(o.due_on)), Verbs.WHICH(o.id)) for o in due]
        buttons.append(Button(t._("A test outside the schedule"), Verbs.WHICH("adhoc")))
        return [OutboundMessage(t._("Test result for {who}. Which test?", who=who), (*buttons, _cancel(ctx)))]
    if step == Steps.OUTCOME:
        buttons = [Button(t._(name).capitalize(), Verbs.OUTCOME(o.value)) for o, name in caseload.OUTCOME_NAMES.items()]
        return [OutboundMessage(t._("The result?"), (*buttons, _cancel(ctx)))]
    if step == Steps.SUBSTANCE:
        buttons = [Button(t._(n).capitalize(), Verbs.SUBSTANCE(s.value)) for s, n in caseload.SUBSTANCE_NAMES.items()]
        buttons.append(Button(t._("Not known / skip"), Verbs.SUBSTANCE("none")))
        return [OutboundMessage(t._("Substance group (optional):"), (*buttons, _cancel(ctx)))]
    if step == Steps.DATE:
        buttons = (
            Button(t._("Today ({date})", date=t.date(today)), Verbs.DATE("0")),
            Button(t._("Yesterday ({date})", date=t.date(today - timedelta(days=1))), Verbs.DATE("1")),
            _cancel(ctx),
        )
        return [OutboundMessage(t._("Date of the test? Tap, or type it (for example 28/11/2026)."), buttons)]
    if step == Steps.PLACE:
        unit = await ctx.repos.units.get(ctx.staff.unit_id) if ctx.staff else None
        buttons = [Button(unit.test_place, Verbs.PLACE("unit"))] if unit and unit.test_place else []
        text = t._("Where was it done? Tap, or type the place.")
        return [OutboundMessage(text, (*buttons, _cancel(ctx)))]
    if step != Steps.CONFIRM:
        raise KeyError(step)
    data = ctx.state.data
    outcome = TestOutcome(data["outcome"])
    what = t._(caseload.OUTCOME_NAMES[outcome])
    if data.get("substance"):
        what += f" ({t._(caseload.SUBSTANCE_NAMES[SubstanceGroup(data['substance'])])})"
    lines = [
        t._("Please check before saving:"),
        t._("Person: {who}", who=who),
        t._("Result: {what}", what=what),
        t._("Date: {date}", date=t.date(date.fromisoformat(data["taken_on"]))),
        t._("Place: {place}", place=data.get("place") or "—"),
    ]
    if outcome in (TestOutcome.POSITIVE, TestOutcome.REFUSED, TestOutcome.NO_SHOW):
        lines.append(t._("The commune officer will be informed at once."))
    return [OutboundMessage("\n".join(lines), (Button(t._("Save the result"), Verbs.SAVE), _cancel(ctx)))]


async def handle(ctx: Context, pressed: Pressed | None, text: str = "") -> Replies:
    """Inside one of the flows: a button of this flow, or (`pressed` None) the `text` typed where text is asked for."""
    t, data = ctx.t, ctx.state.data
    if pressed is None:
        return await _typed(ctx, text)
    verb, value = pressed.verb, pressed.arg
    if verb is Verbs.CANCEL:
        ctx.leave()
        return [say(t._("Cancelled. Nothing was recorded.")), *await caseload.show_list(ctx)]
    entry, step = ctx.state.flow, ctx.state.step
    if entry == Entry.IN_PERSON and step == Steps.OUTCOME and verb is Verbs.PRESENCE:
        if value == InPersonOutcome.ABSENT.value:
            ctx.state.step = Steps.REASON
            return await prompt(ctx)
        if value in (InPersonOutcome.PRESENT.value, InPersonOutcome.UNREACHABLE.value):
            return await _save_in_person(ctx, InPersonOutcome(value), None)
    if entry == Entry.TEST:
        replies = await _test_step(ctx, step, pressed)
        if replies is not None:
            return replies
    categories = {c.value for c in ObservationCategory}
    if entry == Entry.OBSERVE and step == Steps.CATEGORY and verb is Verbs.CATEGORY and value in categories:
        data["category"] = value
        ctx.state.step = Steps.FLAG if "note" in data else Steps.TEXT
        return await prompt(ctx)
    if entry == Entry.OBSERVE and step == Steps.FLAG and verb is Verbs.FLAG and value in ("yes", "no"):
        return await _save_observation(ctx, value == "yes")
    if entry == Entry.REPORT and step == Steps.KIND and verb is Verbs.REPORT_KIND and value in ("absence", "move"):
        ctx.state.step = Steps.DATES if value == "absence" else Steps.MOVED_ON
        data["kind"] = value
        return await prompt(ctx)
    return [say(t._("Please answer with one of the options.")), *await prompt(ctx)]


async def _test_step(ctx: Context, step: str, pressed: Pressed) -> Replies | None:
    data, verb, value = ctx.state.data, pressed.verb, pressed.arg
    if step == Steps.WHICH and verb is Verbs.WHICH:
        if value != "adhoc":
            number = pressed.number
            obligation = await ctx.repos.obligations.get(number) if number is not None else None
            if obligation is None or obligation.participant_id != data.get("pid"):
                await ctx.audit("denied:record_test_result", "denied", detail={"reason": "not this person's test"})
                return [out_of_scope(ctx.t), *await prompt(ctx)]
            data["obligation_id"] = obligation.id
        ctx.state.step = Steps.OUTCOME
        return await prompt(ctx)
    if step == Steps.OUTCOME and verb is Verbs.OUTCOME and value in {o.value for o in TestOutcome}:
        data["outcome"] = value
        ctx.state.step = Steps.SUBSTANCE if value == TestOutcome.POSITIVE.value else Steps.DATE
        return await prompt(ctx)
    if step == Steps.SUBSTANCE and verb is Verbs.SUBSTANCE:
        data["substance"] = value if value in {s.value for s in SubstanceGroup} else None
        ctx.state.step = Steps.DATE
        return await prompt(ctx)
    days_ago = pressed.number
    if step == Steps.DATE and verb is Verbs.DATE and days_ago in (0, 1):
        data["taken_on"] = (ctx.today() - timedelta(days=days_ago)).isoformat()
        ctx.state.step = Steps.PLACE
        return await prompt(ctx)
    if step == Steps.PLACE and verb is Verbs.PLACE and value == "unit":
        unit = await ctx.repos.units.get(ctx.staff.unit_id) if ctx.staff else None
        data["place"] = unit.test_place if unit else ""
        ctx.state.step = Steps.CONFIRM
        return await prompt(ctx)
    if step == Steps.CONFIRM and verb is Verbs.SAVE:
        return await _save_test(ctx)
    return None


async def _typed(ctx: Context, text: str) -> Replies:
    t, entry, step, data = ctx.t, ctx.state.flow, ctx.state.step, ctx.state.data
    if entry == Entry.IN_PERSON and step == Steps.REASON:
        return await _save_in_person(ctx, InPersonOutcome.ABSENT, text[:500])
    if entry == Entry.OBSERVE and step == Steps.TEXT:
        data["note"] = text  # the conversation state is sealed at rest (ConversationRepository)
        ctx.state.step = Steps.FLAG
        return await prompt(ctx)
    if entry == Entry.OBSERVE and step in (Steps.CATEGORY, Steps.FLAG) and "note" not in data:
        # A note typed while the buttons were still open: keep it (sealed), ask the category, lose nothing.
        data["note"] = text
        return await prompt(ctx)
    if entry == Entry.TEST and step == Steps.DATE:
        day = parse_day(text)
        today = ctx.today()
        if day is None or day > today or (today - day).days > 366:
            return [say(t._("I could not read that date, or it is in the future.")), *await prompt(ctx)]
        data["taken_on"] = day.isoformat()
        ctx.state.step = Steps.PLACE
        return await prompt(ctx)
    if entry == Entry.TEST and step == Steps.PLACE:
        data["place"] = text[:200]
        ctx.state.step = Steps.CONFIRM
        return await prompt(ctx)
    if entry == Entry.REPORT and step == Steps.DATES:
        span = absences.parse_range(text)
        if span is None or span[1] < span[0] or (span[1] - span[0]).days > 366:
            return [say(t._("I could not read those dates.")), *await prompt(ctx)]
        return await _save_report(ctx, {"first": span[0].isoformat(), "last": span[1].isoformat()})
    if entry == Entry.REPORT and step == Steps.MOVED_ON:
        day = parse_day(text)
        if day is None or abs((day - ctx.today()).days) > 366:
            return [say(t._("I could not read that date.")), *await prompt(ctx)]
        data["moved_on"] = day.isoformat()
        ctx.state.step = Steps.WHERE
        return await prompt(ctx)
    if entry == Entry.REPORT and step == Steps.WHERE:
        return await _save_report(ctx, {"moved_on": data["moved_on"], "where": text[:300]})
    return [say(t._("Please choose one of the options; what you typed was not saved.")), *await prompt(ctx)]


async def _save_in_person(ctx: Context, outcome: InPersonOutcome, reason: str | None) -> Replies:
    assert ctx.staff is not None
    person = await _person(ctx, Action.RECORD_IN_PERSON_CHECK)
    ctx.leave()
    if person is None:
        return [out_of_scope(ctx.t), *await caseload.show_list(ctx)]
    today = ctx.today()
    closed = await records.record_in_person(ctx.repos, person, today, outcome, reason, ctx.staff.id)
    lines = [
        ctx.t._(
            "Recorded: in-person check {month} for {who}: {outcome}.",
            month=f"{today:%m/%Y}",
            who=caseload.label(person),
            outcome=ctx.t._(caseload.IN_PERSON_NAMES[outcome]),
        )
    ]
    if closed:
        lines.append(ctx.t._("This month's check-in is now complete."))
    return [say("\n".join(lines)), *await caseload.card(ctx, person.id)]


async def _save_test(ctx: Context) -> Replies:
    assert ctx.staff is not None
    data = dict(ctx.state.data)
    person = await _person(ctx, Action.RECORD_TEST_RESULT)
    ctx.leave()
    if person is None:
        return [out_of_scope(ctx.t), *await caseload.show_list(ctx)]
    outcome = TestOutcome(data["outcome"])
    try:
        await records.record_test_result(
            ctx.repos,
            person,
            data.get("obligation_id"),
            outcome,
            SubstanceGroup(data["substance"]) if data.get("substance") else None,
            str(data.get("place", "")),
            date.fromisoformat(data["taken_on"]),
            ctx.staff.id,
            ctx.clock.now(),
        )
    except records.FieldworkError:
        return [out_of_scope(ctx.t), *await caseload.show_list(ctx)]
    lines = [ctx.t._("The result is saved.")]
    if outcome in (TestOutcome.POSITIVE, TestOutcome.REFUSED, TestOutcome.NO_SHOW):
        lines.append(ctx.t._("The commune officer has been informed, and the person will be offered support."))
    if outcome is TestOutcome.INVALID:
        lines.append(ctx.t._("The test stays open: please record the repeat test when it is done."))
    return [say("\n".join(lines)), *await caseload.card(ctx, person.id)]


async def _save_observation(ctx: Context, flagged: bool) -> Replies:
    assert ctx.staff is not None
    data = dict(ctx.state.data)
    person = await _person(ctx, Action.LOG_OBSERVATION)
    ctx.leave()
    if person is None:
        return [out_of_scope(ctx.t), *await caseload.show_list(ctx)]
    text = str(data["note"])
    category = ObservationCategory(data.get("category", ObservationCategory.OTHER.value))
    await records.log_observation(ctx.repos, person, category, text, flagged, ctx.staff.id)
    return [say(ctx.t._("The note is saved.")), *await caseload.card(ctx, person.id)]


async def _save_report(ctx: Context, details: dict[str, str]) -> Replies:
    assert ctx.staff is not None
    kind = ReportKind(ctx.state.data.get("kind", ReportKind.ABSENCE.value))
    person = await _person(ctx, Action.REPORT_ABSENCE_OR_MOVE)
    ctx.leave()
    if person is None:
        return [out_of_scope(ctx.t), *await caseload.show_list(ctx)]
    await records.report_absence_or_move(ctx.repos, person, kind, details, ctx.staff.id, ctx.clock.now())
    return [
        say(ctx.t._("Thank you. The commune officer will confirm it; nothing changes until then.")),
        *await caseload.card(ctx, person.id),
    ]


class FieldworkFlow(Flow):
    """A record being entered from a person's card: in person, a test result, an observation, an absence or move.
    The four share their steps' machinery; the chat's state names which one it is."""

    name = "fieldwork"
    audience = Audience.STAFF
    verbs = Verbs

    def holds(self, state: ConversationState) -> bool:
        return state.flow in FLOW_ACTIONS

    async def on_action(self, ctx: Context, pressed: Pressed) -> Replies:
        if not self.holds(ctx.state):  # a button of a record finished or left since
            return [say(ctx.t._("That button is no longer valid. Here are the current options.")), *staff.home(ctx)]
        return await handle(ctx, pressed)

    async def on_text(self, ctx: Context, text: str) -> Replies:
        return await handle(ctx, None, text)

    async def prompt(self, ctx: Context, menu: bool) -> Replies | None:
        return await prompt(ctx) or None
