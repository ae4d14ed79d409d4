"""“Người tôi phụ trách”: a cadre's people (an officer's: the commune's), most urgent first, a page at a time, found by
typing initials or a code; and one person's card, with the phone number to call them on when the record holds one,
and — for their cadre — the conversation the person is having with them through the bot (bot/flows/relay/cadre.py).

The list query is scoped by the server (the cadre's own assignments, the officer's own commune); opening a card asks
authorisation again with the record as it is now, so a reassigned cadre or a forged id gets nothing.
"""

from __future__ import annotations

from datetime import timedelta

from bot.core.i18n import N_
from bot.core.messages import Button, OutboundMessage
from bot.domain.authz import Action
from bot.domain.entities import Participant, Role
from bot.domain.fieldwork import (
    CaseloadFacts,
    InPersonOutcome,
    ObservationCategory,
    SubstanceGroup,
    TestOutcome,
    initials,
    urgency,
)
from bot.domain.phone import shown
from bot.domain.planning import ObligationKind, ObligationStatus
from bot.domain.referrals import ReferralStatus
from bot.domain.text import fold
from bot.flows import fieldwork, officer, staff
from bot.flows.caseload import pushed
from bot.flows.common import audit_list, out_of_scope
from bot.flows.context import Context, Replies
from bot.flows.flow import Audience, Flow, Pressed, Step, Verb
from bot.flows.relay import cadre as cadre_chat
from bot.services.fieldwork import consented_to_share
from bot.services.record import checkin_details
from bot.services.support_requests import CHECKIN_NEEDS

FLOW = "caseload"


class Steps(Step):
    LIST = "list"  # the list (or a search's results): typed words search it
    CARD = "card"  # one person's card: typed words are a note about them
    ASSIGN = "assign"  # an officer chooses the cadre who accompanies the person


class Verbs(Verb):
    LIST = "case:list"
    PAGE = "case:page"
    OPEN = "case:open"
    CLEAR = "case:clear"
    IN_PERSON = "case:inperson"
    TEST = "case:test"
    OBSERVE = "case:obs"
    REPORT = "case:report"
    ASSIGN = "case:assign"  # choose the cadre who accompanies this person (an officer)
    CADRE = "off:assign"  # this cadre
    NOBODY = "off:unassign"


PAGE_SIZE = 8

OUTCOME_NAMES: dict[TestOutcome, str] = {
    TestOutcome.NEGATIVE: N_("negative"),
    TestOutcome.POSITIVE: N_("positive"),
    TestOutcome.REFUSED: N_("refused the test"),
    TestOutcome.NO_SHOW: N_("did not come"),
    TestOutcome.INVALID: N_("invalid sample"),
}
SUBSTANCE_NAMES: dict[SubstanceGroup, str] = {
    SubstanceGroup.OPIOIDS: N_("opioids (heroin, morphine…)"),
    SubstanceGroup.STIMULANTS: N_("synthetic stimulants (meth, ecstasy…)"),
    SubstanceGroup.CANNABIS: N_("cannabis"),
    SubstanceGroup.KETAMINE: N_("ketamine"),
    SubstanceGroup.OTHER: N_("other"),
}
IN_PERSON_NAMES: dict[InPersonOutcome, str] = {
    InPersonOutcome.PRESENT: N_("present"),
    InPersonOutcome.ABSENT: N_("absent"),
    InPersonOutcome.UNREACHABLE: N_("could not be reached"),
}
CATEGORY_NAMES: dict[ObservationCategory, str] = {
    ObservationCategory.FAMILY: N_("Family"),
    ObservationCategory.WORK: N_("Work or study"),
    ObservationCategory.HEALTH: N_("Health"),
    ObservationCategory.BEHAVIOUR: N_("Behaviour"),
    ObservationCategory.RELAPSE_RISK: N_("Signs of relapse risk"),
    ObservationCategory.SUPPORT: N_("Support needed"),
    ObservationCategory.OTHER: N_("Other"),
}
REFERRAL_KINDS: dict[str, str] = {
    "counselling": N_("counselling"),
    "training": N_("Vocational training"),
    "job": N_("Finding a job"),
    "livelihood": N_("Livelihood support or a loan"),
    "health": N_("Health care or methadone"),
    "papers": N_("Legal papers (residence, ID, records)"),
}
REFERRAL_STATUS: dict[str, str] = {
    ReferralStatus.REQUESTED: N_("waiting for a counsellor"),
    ReferralStatus.ACCEPTED: N_("taken by a counsellor"),
    ReferralStatus.CLOSED: N_("closed"),
}
# What each obligation is, as a cadre's lists name it (the morning digest, the console's home page).
DUE_WHAT: dict[ObligationKind, str] = {
    ObligationKind.CHECKIN: N_("monthly check-in"),
    ObligationKind.TEST: N_("scheduled check"),
    ObligationKind.RANDOM_TEST: N_("unannounced check"),
}


OTHER_ALERT = N_("needs follow-up")  # an alert of a kind not named above (a newer version's)
ESCALATION_NAMES: dict[str, str] = {
    "missed_checkin": N_("missed check-in"),
    "unreachable": N_("cannot be reached"),
    "risky_checkin": N_("may need support after a check-in"),
    "test_result": N_("test result to follow up"),
    "crisis": N_("may be in crisis"),
}


# Texts staff read inside the chat after a tap, never in a notification: they may name tests and substances (the
# catalog check allows these, and checks that the scheduler's pushed texts use none of them).
STAFF_VIEW_MSGIDS = frozenset(
    {
        "A test outside the schedule",
        "Date of the test? Tap, or type it (for example 28/11/2026).",
        "Hand-over notice (Mẫu 53): a person under post-rehab management moving to your commune.",
        "Test of {date}: {what}.",
        "Test result",
        "Test result for {who}. Which test?",
        "Tests and results:",
        "The test stays open: please record the repeat test when it is done.",
        "Where was it done? Tap, or type the place.",
        SUBSTANCE_NAMES[SubstanceGroup.OPIOIDS],
        SUBSTANCE_NAMES[SubstanceGroup.STIMULANTS],
        OUTCOME_NAMES[TestOutcome.REFUSED],
    }
)


def label(person: Participant | CaseloadFacts) -> str:
    """How a person is named on buttons and lines: name and code (the code is what one types to find them)."""
    pid = person.id if isinstance(person, Participant) else person.participant_id
    return f"{person.name} (#{pid})"


async def _people(ctx: Context) -> list[Participant]:
    """The actor's own scope, from the server: a cadre's assignments, an officer's commune."""
    assert ctx.staff is not None
    if ctx.staff.role is Role.CADRE and await ctx.allowed(Action.LIST_ASSIGNED):
        return await ctx.repos.participants.followed(ctx.staff.unit_id, ctx.staff.id)
    if ctx.staff.role is Role.OFFICER and await ctx.allowed(Action.LIST_COMMUNE):
        return await ctx.repos.participants.followed(ctx.staff.unit_id)
    return []


def matches(person: Participant, query: str) -> bool:
    """A code ("#12", "12"), initials ("nva") or part of the name, typed with or without diacritics."""
    wanted = fold(query).lstrip("#").strip()
    if not wanted:
        return False
    if wanted.isdigit():
        return str(person.id) == wanted
    compact = wanted.replace(" ", "")
    return compact == initials(person.name) or wanted in fold(person.name)


async def show_list(ctx: Context, page: int = 0) -> Replies:
    t = ctx.t
    people = await _people(ctx)
    query = str(ctx.state.data.get("q", "")) if ctx.state.flow == FLOW else ""
    ctx.state.flow, ctx.state.step = FLOW, Steps.LIST
    ctx.state.data = {"q": query} if query else {}
    if query:
        people = [p for p in people if matches(p, query)]
    today = ctx.today()
    facts = await ctx.repos.fieldwork.caseload([(p.id, p.name) for p in people], today, ctx.tz)
    facts.sort(key=lambda f: urgency(f, today))
    pages = max(1, -(-len(facts) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = facts[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    assert ctx.staff is not None
    scope = "assigned" if ctx.staff.role is Role.CADRE else "commune"
    await audit_list(ctx, f"caseload:{scope}", len(facts), page=page + 1, query=query)
    if query and not facts:
        text = t._("Nobody in your list matches “{query}”.", query=query[:40])
    elif not facts:
        text = t._("Nobody is assigned to you yet.")
    else:
        title = t._("Found for “{query}”:", query=query[:40]) if query else t._("The people you follow:")
        where = t._("page {page}/{pages}", page=page + 1, pages=pages)
        lines = [f"{title} ({where})"]
        lines += [f"• {status_line(ctx, f)}" for f in shown]  # unnumbered: Zalo's menu below numbers the choices
        lines += ["", t._("Tap a name to open their card, or type initials or a code (for example #12) to search.")]
        text = "\n".join(lines)
    buttons = [Button(label(f), Verbs.OPEN(f.participant_id)) for f in shown]
    if page > 0:
        buttons.append(Button(t._("Previous page"), Verbs.PAGE(page - 1)))
    if page + 1 < pages:
        buttons.append(Button(t._("Next page"), Verbs.PAGE(page + 1)))
    if query:
        buttons.append(Button(t._("Show everyone"), Verbs.CLEAR))
    buttons.append(Button(t._("Back to menu"), staff.Verbs.HOME))
    return [OutboundMessage(text, tuple(buttons))]


def status_line(ctx: Context, facts: CaseloadFacts) -> str:
    t = ctx.t
    parts = [label(facts)]
    if facts.open_escalations:
        parts.append(t.n_("{n} alert open", "{n} alerts open", facts.open_escalations))
    if facts.overdue:
        parts.append(t.n_("{n} overdue", "{n} overdue", facts.overdue))
    if facts.risk_flag:
        parts.append(t._("needs attention"))
    if facts.next_due:
        parts.append(t._("next {date}", date=t.date(facts.next_due)))
    parts.append(
        t._("last check-in {date}", date=t.date(facts.last_checkin)) if facts.last_checkin else t._("no check-in yet")
    )
    return " · ".join(parts)


async def search(ctx: Context, text: str) -> Replies:
    ctx.state.flow, ctx.state.data = FLOW, {"q": text[:60]}
    return await show_list(ctx)


async def card(ctx: Context, pid: object) -> Replies:
    """One person's card: term, recent check-ins (answers only with their consent), in-person checks, tests and
    results, observations, open alerts. Every opening is audited (who, whom, when; never what was shown).

    `pid`: from a button or the chat's state, checked (`Context.permitted`)."""
    person = await ctx.permitted(Action.VIEW_PARTICIPANT, pid)
    if person is None:
        return [out_of_scope(ctx.t), *await show_list(ctx)]
    assert ctx.staff is not None
    await ctx.audit("participant_card_viewed", subject_type="participant", subject_id=person.id)
    ctx.state.flow, ctx.state.step, ctx.state.data = FLOW, Steps.CARD, {"pid": person.id}
    t, today = ctx.t, ctx.today()
    lines = [
        label(person),
        t._("Term: {start} – {end} (expected end)", start=t.date(person.term_start), end=t.date(person.expected_end)),
        t._("Chat linked: {answer}", answer=t._("yes") if person.status.value == "active" else t._("not yet")),
        t._("Phone: {phone}", phone=shown(person.register.phone))
        if person.register.phone
        else t._("Phone: not recorded"),
    ]
    talking = await cadre_chat.on_card(ctx, person)
    if talking is not None:
        lines.append(talking[0])
    lines += ["", t._("Recent check-ins:"), *await _checkin_lines(ctx, person)]
    in_person = await ctx.repos.fieldwork.in_person_of(person.id)
    if in_person:
        lines += ["", t._("In-person checks:")]
        for check in in_person:
            line = f"• {check.month[5:]}/{check.month[:4]}: {t._(IN_PERSON_NAMES[check.outcome])}"
            lines.append(line + (f" ({check.reason[:100]})" if check.reason else ""))
    if await ctx.allowed(Action.VIEW_TEST_RESULTS, await ctx.scope_of(person)):
        results = await ctx.repos.fieldwork.test_results_of(person.id)
        waiting = await ctx.repos.obligations.tests_to_record(person.id, today - timedelta(days=366), today)
        lines += ["", t._("Tests and results:")]
        if not results and not waiting:
            lines.append(t._("• none yet"))
        for result in results:
            what = t._(OUTCOME_NAMES[result.outcome])
            if result.substance:
                what += f" ({t._(SUBSTANCE_NAMES[result.substance])})"
            lines.append(f"• {t.date(result.taken_on)}: {what}" + (f" — {result.place[:80]}" if result.place else ""))
        for due in waiting:
            lines.append(t._("• {date}: no result recorded yet", date=t.date(due.due_on)))
    observations = await ctx.repos.fieldwork.observations_of(person.id)
    if observations:
        lines += ["", t._("Latest notes:")]
        for note in observations:
            flag = " ⚠" if note.risk_flag else ""
            day = t.date(note.recorded_at.astimezone(ctx.tz).date())
            text = note.text if len(note.text) <= 200 else note.text[:200] + "…"
            lines.append(f"• {day} · {t._(CATEGORY_NAMES[note.category])}{flag}: {text}")
    referrals = await ctx.repos.referrals.of_participant(person.id, limit=5)
    if referrals:
        lines += ["", t._("Requests for help:")]
        for referral in referrals:
            day = t.date(referral.created_at.astimezone(ctx.tz).date())
            kind = t._(REFERRAL_KINDS.get(referral.kind, REFERRAL_KINDS["counselling"]))
            if referral.status == "requested" and referral.point_id is None:  # not "waiting" for what cannot come
                status = t._("no counselling point in this commune: nobody can take it through the assistant")
            else:
                status = t._(REFERRAL_STATUS.get(referral.status, REFERRAL_STATUS[ReferralStatus.REQUESTED]))
            if referral.source == CHECKIN_NEEDS:
                kind = t._("{kind} (asked in the check-in)", kind=kind)
            lines.append(f"• {day}: {kind} — {status}")
    alerts = [e for e in await ctx.repos.escalations.recent_of(person.id) if e.acknowledged_at is None]
    if alerts:
        lines += ["", t._("Open alerts:")]
        for alert in alerts:
            name = t._(ESCALATION_NAMES.get(alert.kind, OTHER_ALERT))
            lines.append(f"• {t.date(alert.raised_at.astimezone(ctx.tz).date())}: {name}")
    buttons = card_buttons(ctx, person)
    if talking is not None:  # the conversation first: it is what the cadre came for
        buttons = (talking[1], *buttons)
    return [OutboundMessage("\n".join(lines), buttons)]


def enter_assign(ctx: Context, person: Participant) -> None:
    """The officer is choosing the cadre for this person (the choice is `Verbs.CADRE` or `Verbs.NOBODY`)."""
    ctx.state.flow, ctx.state.step, ctx.state.data = FLOW, Steps.ASSIGN, {"pid": person.id}


def card_buttons(ctx: Context, person: Participant) -> tuple[Button, ...]:
    t = ctx.t
    buttons = [
        Button(t._("In-person check"), Verbs.IN_PERSON(person.id)),
        Button(t._("Test result"), Verbs.TEST(person.id)),
        Button(t._("Add a note"), Verbs.OBSERVE(person.id)),
        Button(t._("Report an absence or a move"), Verbs.REPORT(person.id)),
    ]
    if ctx.staff is not None and ctx.staff.role is Role.OFFICER:
        buttons.append(Button(t._("Assign a cadre"), Verbs.ASSIGN(person.id)))
    buttons.append(Button(t._("Back to the list"), Verbs.LIST))
    return tuple(buttons)


async def _checkin_lines(ctx: Context, person: Participant) -> list[str]:
    t, today = ctx.t, ctx.today()
    obligations = await ctx.repos.obligations.of_participant(
        person.id, today - timedelta(days=100), today + timedelta(days=31), kinds=[ObligationKind.CHECKIN]
    )
    shared = await consented_to_share(ctx.repos, person.id)
    lines = []
    for obligation in obligations[-3:]:
        month = f"{obligation.due_on:%m/%Y}"
        if obligation.status is ObligationStatus.DONE:
            line = t._("• {month}: done", month=month)
            answers = await ctx.repos.checkins.for_obligation(obligation.id)
            if shared and answers is not None:
                facts = checkin_details(answers.answers)  # what staff may read of the answers (shared with the record)
                details = [t._("mood {mood}/5", mood=facts.mood)] if facts.mood is not None else []
                if facts.strong_cravings:
                    details.append(t._("strong cravings"))
                if facts.used:
                    details.append(t._("says they used"))
                if facts.needs:
                    what = ", ".join(t._(REFERRAL_KINDS[kind]) for kind in facts.needs)
                    details.append(t._("needs: {what}", what=what))
                if details:
                    line += f" ({', '.join(details)})"
        elif obligation.status is ObligationStatus.MISSED:
            line = t._("• {month}: missed", month=month)
        elif obligation.status is ObligationStatus.PENDING:
            line = t._("• {month}: due {date}", month=month, date=t.date(obligation.due_on))
        else:
            continue
        lines.append(line)
    if not shared:
        lines.append(t._("(Answers are shown only if the person agreed to share them.)"))
    return lines or [t._("• none yet")]


class CaseloadFlow(Flow):
    """The cadre's people (the officer's: the commune's): the list, a search, a person's card and what can be
    recorded from it (the recording itself is `fieldwork`)."""

    name = FLOW
    audience = Audience.STAFF
    verbs = Verbs
    pushes = pushed.PUSHES

    async def on_action(self, ctx: Context, pressed: Pressed) -> Replies:
        match pressed.verb:
            case Verbs.LIST:
                return await show_list(ctx)
            case Verbs.CLEAR:
                ctx.leave()
                return await show_list(ctx)
            case Verbs.PAGE:
                return await show_list(ctx, pressed.number or 0)
            case Verbs.OPEN:
                return await card(ctx, pressed.number)
            case Verbs.ASSIGN:
                return await officer.choose_cadre(ctx, pressed.number)
            case Verbs.CADRE:
                return await officer.assign(ctx, pressed.number)
            case Verbs.NOBODY:
                return await officer.assign(ctx, 0)
            case Verbs.IN_PERSON:
                return await fieldwork.start(ctx, fieldwork.Entry.IN_PERSON, pressed.number)
            case Verbs.TEST:
                return await fieldwork.start(ctx, fieldwork.Entry.TEST, pressed.number)
            case Verbs.OBSERVE:
                return await fieldwork.start(ctx, fieldwork.Entry.OBSERVE, pressed.number)
            case Verbs.REPORT:
                return await fieldwork.start(ctx, fieldwork.Entry.REPORT, pressed.number)
        return await show_list(ctx)

    async def on_text(self, ctx: Context, text: str) -> Replies | None:
        if ctx.state.step == Steps.LIST:
            return await search(ctx, text)
        if ctx.state.step != Steps.CARD:
            return None
        return await fieldwork.note_on_card(ctx, ctx.state.data.get("pid"), text)

    async def prompt(self, ctx: Context, menu: bool) -> Replies | None:
        if menu:  # a list or a card: nothing half-written
            ctx.leave()
            return None
        if ctx.state.step == Steps.CARD:
            return await card(ctx, ctx.state.data.get("pid", ""))
        return await show_list(ctx)
