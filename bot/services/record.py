"""A person's record as staff see it when they open one person, and the correction of what the commune's register
says of them. The console's page reads it; the chat's card can read the same.

What a viewer sees is the chat card's rule, asked of the same places: the record opens for whoever may
VIEW_PARTICIPANT it (`bot.domain.authz`, with the record's scope as the database has it now); a check-in's answers
only when the person agreed to share them with their cadre (`fieldwork.consented_to_share`); tests and their results
only for a role with VIEW_TEST_RESULTS; a request for help by its kind and status — never the counsellor's private
note, never a word of a conversation through the bot; an alert by its kind and whether someone took it, never the
note written on it. Every opening is audited (who, whom, when; never what was shown), and so is every refusal; a
record out of reach and one that does not exist are the same None to the caller.

`operator` is who the audit names (`StaffOperator` for the console); `by` is the staff member's authorisation actor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta, tzinfo
from enum import StrEnum

from bot.core.i18n import N_
from bot.db.repositories.escalations import Escalation
from bot.db.repositories.fieldwork import FieldReport, Transfer
from bot.db.repositories.obligations import Absence, Obligation
from bot.db.store import Repositories
from bot.domain.authz import Action, Actor, ParticipantScope, decide
from bot.domain.checkin import CRAVINGS, MOOD, risk_reasons, stated_needs
from bot.domain.entities import FOLLOWED, Participant, StaffMember, Unit
from bot.domain.fieldwork import TransferStatus, quarter_label, quarter_last_day
from bot.domain.planning import ObligationKind, ObligationStatus, unreported_absence_days
from bot.domain.register_import import Cadres, Problem, Rules, check_row, say
from bot.domain.terms import TermPolicy
from bot.services.completion import term_end
from bot.services.fieldwork import consented_to_share
from bot.services.operators import Operator

MOST = 200  # entries of one kind on a record: more than a 24-month term holds (check-ins, checks, tests, notes)
AHEAD = timedelta(days=31)  # the next check-in due is shown; an unannounced test never is before its day


class Kind(StrEnum):
    """What a timeline entry is; the page words each kind."""

    CHECKIN = "checkin"
    IN_PERSON = "in_person"
    TEST = "test"
    TEST_DUE = "test_due"  # a test due with no result recorded yet
    NOTE = "note"
    REVIEW = "review"
    REFERRAL = "referral"
    ALERT = "alert"
    ABSENCE = "absence"
    MOVE = "move"
    START = "start"
    COMPLETION = "completion"


@dataclass(frozen=True, slots=True)
class CheckinDetails:
    """What a check-in's answers tell staff, when the person agreed to share them: the mood (1–5), strong cravings,
    whether they said they used, and the support they said they need (request kinds; what became of each is the
    record's requests)."""

    mood: int | None = None
    strong_cravings: bool = False
    used: bool = False
    needs: tuple[str, ...] = ()

    @property
    def any(self) -> bool:
        return self.mood is not None or self.strong_cravings or self.used or bool(self.needs)


def checkin_details(answers: Mapping[str, object]) -> CheckinDetails:
    """The answers staff may read of a check-in (the caller has checked the person's consent)."""
    mood = answers.get(MOOD)
    return CheckinDetails(
        mood=int(mood) if isinstance(mood, str) and mood.isdigit() else None,
        strong_cravings=answers.get(CRAVINGS) == "strong",
        used="use" in risk_reasons(dict(answers)),
        needs=stated_needs(answers),
    )


@dataclass(frozen=True, slots=True)
class CheckinEntry:
    due_on: date
    status: ObligationStatus
    details: CheckinDetails | None = None  # None: not answered by chat, or not shared


@dataclass(frozen=True, slots=True)
class AbsenceEntry:
    absence: Absence
    reason: str | None

    @property
    def days(self) -> int:
        return (self.absence.ends_on - self.absence.starts_on).days + 1


@dataclass(frozen=True, slots=True)
class MoveEntry:
    transfer: Transfer
    from_unit: str
    to_unit: str


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the timeline: its day (local), its kind, and the record it shows (a type per kind)."""

    day: date
    kind: Kind
    item: object = None


@dataclass(frozen=True, slots=True)
class PersonRecord:
    person: Participant
    scope: ParticipantScope
    unit: Unit | None
    cadre: StaffMember | None
    term_end: date  # start + term + unreported days (recomputed, not trusted from the stored column)
    unreported_days: int
    answers_shared: bool
    tests_visible: bool
    linked_chats: int
    timeline: list[Entry]
    pending_reports: list[FieldReport] = field(default_factory=list)  # a cadre's reports waiting for an officer
    outgoing: MoveEntry | None = None  # a hand-over waiting for the receiving commune

    @property
    def followed(self) -> bool:
        return self.person.status in FOLLOWED


@dataclass(frozen=True, slots=True)
class Handover:
    """The hand-over notice (Mẫu 53) a receiving commune's officer decides on: a person moving in."""

    transfer: Transfer
    person: Participant
    from_unit: str
    unreported_days: int


# ---- who may ----------------------------------------------------------------------------------------------------


async def scope_of(repos: Repositories, person: Participant) -> ParticipantScope:
    """The facts that decide who may touch this record, read from the database now (never from a form or a URL)."""
    unit = await repos.units.get(person.unit_id)
    return ParticipantScope(person.id, person.unit_id, unit.parent_id if unit else None, person.cadre_id)


async def permitted(
    repos: Repositories, by: Actor, action: Action, participant_id: int, operator: Operator
) -> Participant | None:
    """The person, if `by` may do `action` to them now; None otherwise (no such person included), the refusal on
    record in the caller's transaction."""
    person = await repos.participants.get(participant_id)
    reason = "no such record"
    if person is not None:
        decision = decide(by, action, await scope_of(repos, person))
        if decision:
            return person
        reason = decision.reason
    await operator.record(
        repos, f"denied:{action.value}", subject_type="participant", subject_id=participant_id, outcome="denied",
        detail={"reason": reason},
    )  # fmt: skip
    return None


# ---- the record -------------------------------------------------------------------------------------------------


async def open_record(
    repos: Repositories, participant_id: int, *, by: Actor, operator: Operator, today: date, zone: tzinfo
) -> PersonRecord | None:
    """The person's record for `by`, the opening audited; None when out of reach or unknown (refusal audited)."""
    person = await permitted(repos, by, Action.VIEW_PARTICIPANT, participant_id, operator)
    if person is None:
        return None
    await operator.record(repos, "participant_viewed", subject_type="participant", subject_id=person.id)
    scope = await scope_of(repos, person)
    tests_visible = bool(decide(by, Action.VIEW_TEST_RESULTS, scope))
    shared = await consented_to_share(repos, person.id)
    absences = await repos.absences.of(person.id)
    unit = await repos.units.get(person.unit_id)
    cadre = await repos.staff.get(person.cadre_id) if person.cadre_id is not None else None
    entries = await timeline(
        repos, person, absences=absences, tests_visible=tests_visible, answers_shared=shared, today=today, zone=zone
    )
    moves = [e.item for e in entries if e.kind is Kind.MOVE and isinstance(e.item, MoveEntry)]
    outgoing = next((m for m in moves if m.transfer.status is TransferStatus.PENDING), None)
    reports = [r for r in await repos.fieldwork.pending_reports(person.unit_id) if r.participant_id == person.id]
    return PersonRecord(
        person=person,
        scope=scope,
        unit=unit,
        cadre=cadre,
        term_end=await term_end(repos, person),
        unreported_days=unreported_absence_days([(a.starts_on, a.ends_on, a.reported) for a in absences]),
        answers_shared=shared,
        tests_visible=tests_visible,
        linked_chats=await repos.identities.count_of(participant_id=person.id),
        timeline=entries,
        pending_reports=reports,
        outgoing=outgoing,
    )


async def timeline(
    repos: Repositories,
    person: Participant,
    *,
    absences: list[Absence],
    tests_visible: bool,
    answers_shared: bool,
    today: date,
    zone: tzinfo,
) -> list[Entry]:
    """Everything that happened on the record, newest first (the caller has decided what `by` may see)."""
    entries = [Entry(person.term_start, Kind.START)]
    if person.completed_on is not None:
        entries.append(Entry(person.completed_on, Kind.COMPLETION))
    entries += await _checkins(repos, person, answers_shared, today)
    entries += [Entry(c.checked_on, Kind.IN_PERSON, c) for c in await repos.fieldwork.in_person_of(person.id, MOST)]
    if tests_visible:
        results = await repos.fieldwork.test_results_of(person.id, MOST)
        entries += [Entry(r.taken_on, Kind.TEST, r) for r in results]
        waiting = await repos.obligations.tests_to_record(person.id, person.term_start - AHEAD, today)
        entries += [Entry(o.due_on, Kind.TEST_DUE, o) for o in waiting]
    notes = await repos.fieldwork.observations_of(person.id, MOST)
    entries += [Entry(n.recorded_at.astimezone(zone).date(), Kind.NOTE, n) for n in notes]
    entries += await _reviews(repos, person, today)
    referrals = await repos.referrals.of_participant(person.id, MOST)
    entries += [Entry(r.created_at.astimezone(zone).date(), Kind.REFERRAL, r) for r in referrals]
    alerts = await repos.escalations.recent_of(person.id, MOST)
    entries += [Entry(a.raised_at.astimezone(zone).date(), Kind.ALERT, _without_note(a)) for a in alerts]
    reasons = await repos.absences.reasons_of(person.id)
    entries += [Entry(a.starts_on, Kind.ABSENCE, AbsenceEntry(a, reasons.get(a.id))) for a in absences]
    names: dict[int, str] = {}
    for transfer in await repos.fieldwork.transfers_of(person.id):
        move = MoveEntry(transfer, await _name(repos, names, transfer.from_unit_id),
                         await _name(repos, names, transfer.to_unit_id))  # fmt: skip
        entries.append(Entry(transfer.moved_on, Kind.MOVE, move))
    return sorted(entries, key=lambda e: (e.day, -_SAME_DAY.get(e.kind, 1)), reverse=True)


_SAME_DAY = {Kind.COMPLETION: 0, Kind.START: 2}  # on one day: the completion above everything, the start below


async def _checkins(repos: Repositories, person: Participant, shared: bool, today: date) -> list[Entry]:
    obligations = await repos.obligations.of_participant(
        person.id, person.term_start - AHEAD, today + AHEAD, kinds=[ObligationKind.CHECKIN]
    )
    entries = []
    upcoming: Obligation | None = None
    for obligation in obligations:
        if obligation.status is ObligationStatus.CANCELLED:
            continue
        if obligation.due_on > today:  # only the next one ahead
            if obligation.status is ObligationStatus.PENDING and upcoming is None:
                upcoming = obligation
            continue
        details = None
        if shared and obligation.status is ObligationStatus.DONE:
            answers = await repos.checkins.for_obligation(obligation.id)
            details = checkin_details(answers.answers) if answers is not None else None
        entries.append(
            Entry(obligation.due_on, Kind.CHECKIN, CheckinEntry(obligation.due_on, obligation.status, details))
        )
    if upcoming is not None:
        entries.append(Entry(upcoming.due_on, Kind.CHECKIN, CheckinEntry(upcoming.due_on, upcoming.status)))
    return entries


async def _reviews(repos: Repositories, person: Participant, today: date) -> list[Entry]:
    """The quarterly reviews of the term so far, one per quarter at most."""
    entries = []
    last = quarter_last_day(person.term_start)
    while last - timedelta(days=92) < today:
        review = await repos.fieldwork.review_of(person.id, quarter_label(last))
        if review is not None:
            entries.append(Entry(min(last, today), Kind.REVIEW, review))
        last = quarter_last_day(last + timedelta(days=1))
    return entries


def _without_note(alert: Escalation) -> Escalation:
    """An alert as a record shows it: the note written when it was taken stays with whoever wrote it."""
    return replace(alert, note_enc=None)


async def _name(repos: Repositories, names: dict[int, str], unit_id: int) -> str:
    if unit_id not in names:
        unit = await repos.units.get(unit_id)
        names[unit_id] = unit.name if unit else "—"
    return names[unit_id]


# ---- a person moving in -----------------------------------------------------------------------------------------


async def incoming(repos: Repositories, participant_id: int, *, by: Actor, operator: Operator) -> Handover | None:
    """The hand-over notice of a person moving into `by`'s commune (ACCEPT_TRANSFER, asked with the scope of the
    receiving commune: the record is arriving there); None when there is none for them. Opening it is audited."""
    person = await repos.participants.get(participant_id)
    if person is None:
        return None
    for transfer in await repos.fieldwork.transfers_of(person.id):
        if transfer.status is not TransferStatus.PENDING or transfer.from_unit_id != person.unit_id:
            continue
        if not decide(by, Action.ACCEPT_TRANSFER, await _arriving_scope(repos, transfer)):
            continue
        await operator.record(
            repos, "transfer_viewed", subject_type="participant", subject_id=person.id,
            detail={"transfer": transfer.id},
        )  # fmt: skip
        spans = [(a.starts_on, a.ends_on, a.reported) for a in await repos.absences.of(person.id)]
        origin = await repos.units.get(transfer.from_unit_id)
        return Handover(transfer, person, origin.name if origin else "—", unreported_absence_days(spans))
    return None


async def arriving(
    repos: Repositories, transfer_id: int, participant_id: int, *, by: Actor, operator: Operator
) -> Transfer | None:
    """The hand-over of this person into `by`'s commune, if `by` may decide it now (ACCEPT_TRANSFER with the scope of
    the receiving commune); None otherwise, the refusal on record. Whether it is still undecided is the decision's
    own (`fieldwork.decide_transfer` decides once)."""
    transfer = await repos.fieldwork.transfer(transfer_id)
    reason = "no such transfer"
    if transfer is not None and transfer.participant_id == participant_id:
        decision = decide(by, Action.ACCEPT_TRANSFER, await _arriving_scope(repos, transfer))
        if decision:
            return transfer
        reason = decision.reason
    await operator.record(
        repos, f"denied:{Action.ACCEPT_TRANSFER.value}", subject_type="participant", subject_id=participant_id,
        outcome="denied", detail={"reason": reason, "transfer": transfer_id},
    )  # fmt: skip
    return None


async def _arriving_scope(repos: Repositories, transfer: Transfer) -> ParticipantScope:
    """A record arriving in the receiving commune: asked with that commune's scope (and no cadre there yet)."""
    unit = await repos.units.get(transfer.to_unit_id)
    return ParticipantScope(transfer.participant_id, transfer.to_unit_id, unit.parent_id if unit else None, None)


# ---- the register -----------------------------------------------------------------------------------------------

REGISTER_FIELDS = ("name", "birth_year", "sex", "national_id", "address", "decision_no", "decision_date", "phone")


class RegisterRejected(ValueError):
    """The register cannot say that; every problem, in words the officer can fix (nothing was changed)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.msgid for p in problems))
        self.problems = problems


async def edit_register(
    repos: Repositories, person: Participant, cells: Mapping[str, str], *, today: date, operator: Operator
) -> Participant:
    """Correct what the commune's register (Mẫu 52) says of a person: name, year of birth, sex, national ID,
    residence, decision number and date, phone — each read by the import's rules (the same words, the same limits).
    A national ID number another person on any list already has is refused. The caller has asked MANAGE_LIST."""
    row = {name: str(cells.get(name, "")) for name in REGISTER_FIELDS}
    row |= {"start": person.term_start.isoformat(), "term_months": str(person.term_months)}
    rules = Rules(today=today, cadres=Cadres.of([]), terms=TermPolicy(allowed_months=(person.term_months,)))
    checked, problems = check_row(0, row, rules)
    if checked is not None and checked.national_id:
        holder = await national_id_holder(repos, checked.national_id, besides=person.id)
        if holder is not None:
            problems.append(national_id_problem(holder, person.unit_id))
            if holder.unit_id != person.unit_id:  # who learnt the number is on another list (never the number)
                await operator.record(
                    repos, "national_id_elsewhere", subject_type="participant", subject_id=person.id
                )
    if checked is None or problems:
        raise RegisterRejected(problems)
    updated = await repos.participants.set_register(
        person.id, name=checked.name, national_id=checked.national_id, register=checked.register
    )
    changed = _fields_changed(person, updated)
    await operator.record(
        repos, "register_edited", subject_type="participant", subject_id=person.id, detail={"fields": changed}
    )
    return updated


async def national_id_holder(repos: Repositories, number: str, *, besides: int | None = None) -> Participant | None:
    """Someone else on a list now (any commune) with this national ID number. A finished term does not count: the
    same person may be listed again under a new decision."""
    for participant_id in await repos.participants.with_national_id(number):
        if participant_id == besides:
            continue
        other = await repos.participants.get(participant_id)
        if other is not None and other.status in FOLLOWED:
            return other
    return None


ELSEWHERE = N_("Another person on a list already has this national ID number.")


def national_id_problem(holder: Participant, unit_id: int) -> Problem:
    """Someone of the same commune is named by their number (the officer sees them anyway); someone elsewhere is not
    (but the officer learns the number is on a list: the caller audits that, see people_register.add)."""
    if holder.unit_id == unit_id:
        return say(N_("Already on the list (#{id}): same national ID number."), id=holder.id)
    return say(ELSEWHERE)


def _fields_changed(before: Participant, after: Participant) -> list[str]:
    """Which register fields changed (their names only: the audit never holds what the register says)."""
    out = [name for name in ("name", "national_id") if getattr(before, name) != getattr(after, name)]
    for name in ("birth_year", "sex", "address", "phone", "decision_no", "decision_date"):
        if getattr(before.register, name) != getattr(after.register, name):
            out.append(name)
    return out
