"""What the planner wants to exist for one participant at one instant: obligations and the messages about them.

Pure: the planner loads facts, calls these functions, and reconciles the database with the answer (insert what is
missing, cancel what is no longer wanted). Recompute, never patch: a changed term, hour or absence simply yields a
different answer on the next run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from functools import lru_cache

from bot.domain.entities import RiskLevel
from bot.domain.schedule import (
    TEST_EVERY_MONTHS,
    EscalationPolicy,
    QuietHours,
    ReminderPolicy,
    Stage,
    monthly_due_dates,
)
from bot.domain.terms import add_months


class ObligationKind(StrEnum):
    CHECKIN = "checkin"
    TEST = "test"  # periodic, announced in advance
    RANDOM_TEST = "random_test"  # unannounced, drawn with the OS CSPRNG, told only on the day


class ObligationStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    MISSED = "missed"
    CANCELLED = "cancelled"


OPEN_STATUSES = (ObligationStatus.PENDING.value, ObligationStatus.MISSED.value)


class MessageKind(StrEnum):
    """What an outbox row is about; the dispatcher renders each kind in the recipient's language."""

    REMINDER = "reminder"  # to a participant, about one obligation and stage
    DIGEST = "digest"  # to a cadre, every morning
    ESCALATION = "escalation"  # to a cadre or officer
    COMPLETION = "completion"  # to a participant whose term ended
    COMPLETION_NOTICE = "completion_notice"  # to the officer: list the person for completion (Mẫu 54)
    REFERRAL_NOTICE = "referral_notice"  # to the cadre: the participant asked for counselling
    DEAD_LETTER = "dead_letter"  # to the officer: a message could not be delivered after all attempts
    SUPPORT_OFFER = "support_offer"  # to a participant after a difficult result: a neutral offer to talk
    REVIEW_REQUEST = "review_request"  # to a cadre: the quarter's reviews to write
    REVIEWS_MISSING = "reviews_missing"  # to the officer: whose reviews are still missing after the deadline
    FIELD_REPORT = "field_report"  # to the officer: a cadre reported an absence or a move, to confirm
    TRANSFER_NOTICE = "transfer_notice"  # to the receiving commune's officer: hand-over notice (Mẫu 53)
    ASSIGNMENT = "assignment"  # to a cadre: someone was assigned to them
    REFERRAL_ACCEPTED = "referral_accepted"  # to a participant: a counsellor took their request
    CRISIS_ALERT = "crisis_alert"  # to a counsellor of the person's commune: an urgent referral after a crisis message
    RELAY_REQUEST = "relay_request"  # to a counsellor: someone asked to talk
    RELAY = "relay"  # one message of a conversation through the bot, by reference (to the person or the counsellor)
    RELAY_ENDED = "relay_ended"  # to the other side: the conversation is over
    CADRE_NEEDED = "cadre_needed"  # to the officers: a cadre's account was closed, their people need a new cadre
    SAFETY_FOLLOW_UP = "safety_follow_up"  # to a participant who did not answer "are you safe?": who will reach out
    DATA_REQUEST = "data_request"  # to the officers: a person asked for a copy of their data or a correction
    DATA_REQUEST_OVERDUE = "data_request_overdue"  # to the officers and the province's admins: not decided in time
    DATA_COPY = "data_copy"  # to a participant: their approved copy (a PDF and the JSON, or a one-time link)
    DATA_REQUEST_DECIDED = "data_request_decided"  # to a participant: declined (why), or the correction made


@dataclass(frozen=True, slots=True)
class PlanPolicy:
    """Defaults from SPEC §3; every number is data an operator may change."""

    reminders: ReminderPolicy = field(default_factory=ReminderPolicy)
    tests_every: dict[RiskLevel, int | None] = field(default_factory=lambda: dict(TEST_EVERY_MONTHS))
    random_tests_per_quarter: dict[RiskLevel, int] = field(
        default_factory=lambda: {RiskLevel.HIGH: 1, RiskLevel.MEDIUM: 0, RiskLevel.LOW: 0}
    )
    horizon_days: int = 35  # obligations and reminders are materialised this far ahead
    missed_after_days: int = 3  # an obligation still open this long after its day is missed (and escalated)
    # Staff's morning messages (the digest, review requests) go out from `digest_from` over `digest_spread_minutes`,
    # each staff member at their own minute (`staff_minute`): the same every day, and 20,000 digests do not all
    # queue at one minute behind the platform's rate limit.
    digest_from: time = time(7, 0)
    digest_spread_minutes: int = 120
    random_announce_by: time = time(8, 0)  # a random test is announced on its day no later than this
    escalation: EscalationPolicy = field(default_factory=EscalationPolicy)
    # an urgent referral not taken by then goes to the next counsellor on duty; when none is left, to the officers
    urgent_referral_within: timedelta = timedelta(minutes=10)
    # "are you safe?" (after a message the crisis check was unsure about) unanswered by then: escalated like a crisis
    safety_check_within: timedelta = timedelta(minutes=10)
    # after a person's term ends (or they leave the list), how long their conversations with counsellors are kept
    retention: timedelta = timedelta(days=365)
    # a key rotation under way goes on by at most this many batches (of 200 rows) per plan tick
    rotation_batches: int = 5


def obligation_key(kind: ObligationKind, participant_id: int, due: date) -> str:
    """One check-in per calendar month, one periodic test per month: the month identifies the obligation."""
    return f"{kind.value}:{participant_id}:{due:%Y-%m}"


def random_test_key(participant_id: int, quarter: date, index: int) -> str:
    return f"{ObligationKind.RANDOM_TEST.value}:{participant_id}:{quarter:%Y-%m}:{index}"


@dataclass(frozen=True, slots=True)
class WantedObligation:
    key: str
    kind: ObligationKind
    due_on: date


def wanted_obligations(
    participant_id: int,
    term_start: date,
    term_end: date,
    risk: RiskLevel,
    due_day: int,
    today: date,
    policy: PlanPolicy,
) -> list[WantedObligation]:
    """Scheduled check-ins and periodic tests from the start of last month up to the horizon (random tests are
    drawn separately: a draw is an event, not a function of the schedule)."""
    window_start, window_end, window_cut = _window(today, policy.horizon_days)
    first, last = max(term_start, window_start), min(term_end, window_cut)
    if first > last:
        return []
    interval = policy.tests_every[risk]
    checkin, test = (
        f"{ObligationKind.CHECKIN.value}:{participant_id}:",
        f"{ObligationKind.TEST.value}:{participant_id}:",
    )
    dues = _window_dues(first, last, due_day, min(window_end, term_end))
    wanted = [WantedObligation(checkin + month, ObligationKind.CHECKIN, due) for due, month in dues]
    if interval:
        wanted += [
            WantedObligation(test + month, ObligationKind.TEST, due)
            for due, month in dues
            if ((due.year - term_start.year) * 12 + due.month - term_start.month) % interval == 0
        ]
    return wanted


# The planner asks the next two for every person on every run with a handful of distinct arguments (today, the
# window, the commune's due day; a term's start or end only near its edges): pure, so computed once each.


@lru_cache(maxsize=64)
def _window(today: date, horizon_days: int) -> tuple[date, date, date]:
    """(first day of last month, the horizon, the 1st of the month after the horizon's)."""
    window_end = today + timedelta(days=horizon_days)
    return (
        (today.replace(day=1) - timedelta(days=1)).replace(day=1),
        window_end,
        add_months(window_end.replace(day=1), 1),
    )


@lru_cache(maxsize=4096)
def _window_dues(first: date, last: date, due_day: int, until: date) -> tuple[tuple[date, str], ...]:
    """The due days of the window's months (a page of 1,000 people would otherwise build 24 months each: the window
    starts on the 1st, so clamping to it never moves a due day; past `until`, the window's end or the term's, is cut
    off here), each with its month as `obligation_key` spells it. Keyed on `until`, not the term's end: most terms end
    past the window, and share one entry."""
    return tuple((d, f"{d:%Y-%m}") for d in monthly_due_dates(first, last, due_day) if d <= until)


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


@dataclass(frozen=True, slots=True)
class DrawWindow:
    """Where the random tests of one quarter may fall: working days after today, inside the term."""

    quarter: date
    first: date
    last: date
    count: int


def random_draw_windows(
    term_start: date, term_end: date, risk: RiskLevel, today: date, policy: PlanPolicy
) -> list[DrawWindow]:
    """The current quarter's window (the planner draws once per quarter; later runs find the draw already made)."""
    count = policy.random_tests_per_quarter.get(risk, 0)
    if count <= 0 or today >= term_end:
        return []
    quarter = quarter_start(today)
    first = max(term_start, today + timedelta(days=1))
    last = min(term_end, add_months(quarter, 3) - timedelta(days=1))
    if first > last:
        return []
    return [DrawWindow(quarter, first, last, count)]


@dataclass(frozen=True, slots=True)
class KnownObligation:
    """An obligation as stored: what reminders are planned from."""

    id: int
    key: str
    kind: ObligationKind
    due_on: date
    status: ObligationStatus


@dataclass(frozen=True, slots=True)
class WantedMessage:
    key: str
    kind: MessageKind
    due_at: datetime  # UTC, never inside quiet hours
    payload: dict[str, object]


STAGES_BY_KIND: dict[ObligationKind, tuple[Stage, ...]] = {
    ObligationKind.CHECKIN: (Stage.BEFORE, Stage.DUE_DAY, Stage.FOLLOW_UP),
    ObligationKind.TEST: (Stage.BEFORE, Stage.DUE_DAY),
    ObligationKind.RANDOM_TEST: (Stage.DUE_DAY,),
}


def reminder_instants(
    obligation: KnownObligation, preferred: time, tz: tzinfo, policy: PlanPolicy
) -> list[tuple[Stage, int, datetime, datetime]]:
    """(stage, day offset, when to send, when it is too late to bother) for the stages of this kind."""
    instants = _instants(obligation.kind, obligation.due_on, preferred, tz, policy.reminders, policy.random_announce_by)
    return [(stage, offset, send, stale) for stage, offset, send, stale, _, _ in instants]


@lru_cache(maxsize=8192)
def _instants(
    kind: ObligationKind, due_on: date, preferred: time, tz: tzinfo, reminders: ReminderPolicy, announce_by: time
) -> tuple[tuple[Stage, int, datetime, datetime, str, str], ...]:
    """`reminder_instants`, each with its stale instant in ISO form and the stage's value: the same for everyone due
    that day who chose that hour, so computed once (the planner asks it for every open obligation on every run)."""
    quiet = reminders.quiet
    preferred_for_kind = min(preferred, announce_by) if kind is ObligationKind.RANDOM_TEST else preferred
    offsets = {Stage.DUE_DAY: 0, Stage.FOLLOW_UP: reminders.follow_up_after_days}
    result = []
    for stage in STAGES_BY_KIND[kind]:
        days = [-d for d in reminders.days_before] if stage is Stage.BEFORE else [offsets[stage]]
        for offset in days:
            day = due_on + timedelta(days=offset)
            send = same_day_allowed(quiet, day, preferred_for_kind, tz)
            stale = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
            result.append((stage, offset, send.astimezone(UTC), stale, stale.isoformat(), stage.value))
    return tuple(result)


def same_day_allowed(quiet: QuietHours, day: date, preferred: time, tz: tzinfo) -> datetime:
    """The preferred time on `day`, moved out of quiet hours without leaving the day: to the morning opening when
    it falls before it, to half an hour before the evening closing when it falls after (a reminder for today must
    not slide to tomorrow)."""
    local = datetime.combine(day, preferred, tzinfo=tz)
    if not quiet.contains(local):
        return local
    if preferred < quiet.end:
        return datetime.combine(day, quiet.end, tzinfo=tz)
    return datetime.combine(day, quiet.start, tzinfo=tz) - timedelta(minutes=30)


def wanted_reminders(
    obligations: Iterable[KnownObligation],
    preferred: time,
    tz: tzinfo,
    now: datetime,
    policy: PlanPolicy,
) -> list[WantedMessage]:
    """Reminders for open obligations whose moment has not passed (a planner that was down does not send
    yesterday's "see you tomorrow"). Whether the obligation is still open is checked again at send time.

    A periodic test on the same day as the check-in is one visit: its reminders ride on the check-in's (the
    payload names it, so explicit wording can mention it) instead of a second identical "you have an appointment".
    """
    pending = [o for o in obligations if o.status is ObligationStatus.PENDING]
    checkin_days = {o.due_on for o in pending if o.kind is ObligationKind.CHECKIN}
    tests_on: dict[date, int] = {}  # the first pending test of each day
    for o in pending:
        if o.kind is ObligationKind.TEST:
            tests_on.setdefault(o.due_on, o.id)
    wanted = []
    for obligation in pending:
        if obligation.kind is ObligationKind.TEST and obligation.due_on in checkin_days:
            continue  # rides on the check-in's reminders
        same_day_test = tests_on.get(obligation.due_on) if obligation.kind is ObligationKind.CHECKIN else None
        instants = _instants(
            obligation.kind, obligation.due_on, preferred, tz, policy.reminders, policy.random_announce_by
        )
        for _, offset, send, stale, stale_at, stage in instants:
            if stale <= now:
                continue
            key = f"r:{obligation.key}:{stage}:{offset}"
            payload: dict[str, object] = {"obligation_id": obligation.id, "stage": stage, "stale_at": stale_at}
            if same_day_test is not None:
                payload["with_test"] = same_day_test
            wanted.append(WantedMessage(key, MessageKind.REMINDER, send, payload))
    return wanted


def shown_before_due(kind: ObligationKind, due_on: date, today: date) -> bool:
    """Whether staff lists may show this obligation today: an unannounced check never before its day (that is
    what makes it unannounced), anything else also ahead of it."""
    return kind is not ObligationKind.RANDOM_TEST or due_on <= today


def staff_minute(staff_id: int, spread_minutes: int) -> int:
    """A staff member's minute in the morning window, 0 … spread - 1: a hash of their id, so the same every day
    (they know when to expect it) and spread evenly over staff. Not secret, so not keyed: anyone who sees the
    digest arrive knows its minute anyway."""
    if spread_minutes <= 1:
        return 0
    digest = hashlib.sha256(f"morning:{staff_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % spread_minutes


def digest_instant(day: date, tz: tzinfo, policy: PlanPolicy, staff_id: int) -> datetime:
    """When a staff member's morning message of `day` goes out: their own minute in the morning window, never
    inside quiet hours."""
    minute = staff_minute(staff_id, policy.digest_spread_minutes)
    start = datetime.combine(day, policy.digest_from, tzinfo=tz)
    # Quiet hours ending later than the window's start (an operator's 22:00-08:00): the window starts when they end,
    # so the morning stays spread instead of everyone's minute bunching at the opening.
    start = policy.reminders.quiet.next_allowed(start, tz)
    if start.date() != day:  # quiet all morning and on to the next day: as before, the first allowed moment
        start = datetime.combine(day, policy.digest_from, tzinfo=tz)
    local = start + timedelta(minutes=minute)
    return policy.reminders.quiet.next_allowed(local, tz).astimezone(UTC)


def unreported_absence_days(absences: Sequence[tuple[date, date, bool]]) -> int:
    """Calendar days covered by unreported absences, overlaps counted once (inclusive ranges)."""
    days: set[date] = set()
    for first, last, reported in absences:
        if reported or last < first:
            continue
        days.update(first + timedelta(days=n) for n in range((last - first).days + 1))
    return len(days)
