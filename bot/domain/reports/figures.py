"""Every figure of a report with its one definition, and the rules that attribute a record to a commune.

A record counts for the commune the person lived in that day (`Person.unit_on`: an accepted move counts from its
date), so a move in the middle of a month puts what came before it in the old commune and what came after in the new
one. A province's counts are the sum of its communes'; the people behind its indicators are the union of theirs. Days
are local days. Requests for help are counted once per person and kind in a period (asking twice is one request).

`DEFINITIONS` is printed with every report (screen, XLSX, PDF): change a rule here and its sentence here, together."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from statistics import median

from bot.core.i18n import N_
from bot.domain.reports.facts import Chats, Facts, Person, Request
from bot.domain.reports.period import Period

KINDS = ("counselling", "training", "job", "livelihood", "health", "papers")  # referral kinds, as stored
ENDINGS = ("open", "advised", "referred", "no_contact", "declined", "withdrawn")  # how a request ended (or not yet)
HELPED = frozenset({"advised", "referred"})  # a request that ended with the help given or passed on
TESTED = frozenset({"negative", "positive"})  # a sample was taken and read

# The sections a report shows, in order, and the counts each holds.
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("people", ("under_management_start", "under_management_end", "enrolled", "completed", "moved_out",
                "moved_in", "due_for_completion", "absences_reported", "absences_unreported")),
    ("checkins", ("checkins_due", "checkins_done", "checkins_self_reported", "in_person_done", "checkins_missed")),
    ("tests", ("tests_due", "tests_due_periodic", "tests_due_unannounced", "tests_done", "tests_done_periodic",
               "tests_done_unannounced", "tests_positive", "tests_positive_periodic", "tests_positive_unannounced",
               "tests_refused", "tests_refused_periodic", "tests_refused_unannounced", "tests_no_show",
               "tests_no_show_periodic", "tests_no_show_unannounced")),
    ("referrals", ("referrals_requested", *(f"referrals_{kind}" for kind in KINDS), "referrals_accepted",
                   *(f"referrals_{ending}" for ending in ENDINGS))),
    ("safety", ("crisis_episodes", "crisis_answered", "crisis_median_minutes", "unreachable", "no_chat")),
    ("reviews", ("reviews_due", "reviews_written", "reviews_good", "reviews_fair", "reviews_concerning",
                 "reviews_missing")),
)  # fmt: skip
COUNT_KEYS: tuple[str, ...] = tuple(key for _, keys in SECTIONS for key in keys)

SECTION_NAMES: dict[str, str] = {
    "people": N_("People under management"),
    "checkins": N_("Monthly check-ins (kiểm danh, kiểm diện)"),
    "tests": N_("Tests"),
    "referrals": N_("Requests for support"),
    "safety": N_("Crisis and reachability"),
    "reviews": N_("Quarterly reviews"),
}

_KIND_WORDS = {
    "counselling": N_("Requests for counselling"),
    "training": N_("Requests for vocational training"),
    "job": N_("Requests for help finding a job"),
    "livelihood": N_("Requests for livelihood support or a loan"),
    "health": N_("Requests for health care or methadone"),
    "papers": N_("Requests for help with legal papers"),
}
_ENDING_WORDS = {
    "open": N_("Requests not closed yet (waiting or taken)"),
    "advised": N_("Requests closed: advised"),
    "referred": N_("Requests closed: referred onward"),
    "no_contact": N_("Requests closed: could not make contact"),
    "declined": N_("Requests closed: the person declined help"),
    "withdrawn": N_("Requests withdrawn by the person"),
}

# Short names (table rows) and definitions (printed with every report).
LABELS: dict[str, str] = {
    "under_management_start": N_("Under management at the start"),
    "under_management_end": N_("Under management at the end"),
    "enrolled": N_("Newly listed"),
    "completed": N_("Completed the term (Mẫu 54)"),
    "moved_out": N_("Moved out"),
    "moved_in": N_("Moved in"),
    "due_for_completion": N_("Past the term's end, completion not recorded"),
    "absences_reported": N_("Reported absences"),
    "absences_unreported": N_("Unreported absences"),
    "checkins_due": N_("Check-ins due"),
    "checkins_done": N_("Check-ins done"),
    "checkins_self_reported": N_("Self-reported by chat"),
    "in_person_done": N_("Confirmed in person"),
    "checkins_missed": N_("Check-ins missed"),
    "tests_due": N_("Tests due"),
    "tests_due_periodic": N_("Periodic tests due"),
    "tests_due_unannounced": N_("Unannounced tests due"),
    "tests_done": N_("Tests done"),
    "tests_done_periodic": N_("Periodic tests done"),
    "tests_done_unannounced": N_("Unannounced tests done"),
    "tests_positive": N_("Positive results"),
    "tests_positive_periodic": N_("Positive results, periodic tests"),
    "tests_positive_unannounced": N_("Positive results, unannounced tests"),
    "tests_refused": N_("Tests refused"),
    "tests_refused_periodic": N_("Periodic tests refused"),
    "tests_refused_unannounced": N_("Unannounced tests refused"),
    "tests_no_show": N_("Did not come to a test"),
    "tests_no_show_periodic": N_("Did not come to a periodic test"),
    "tests_no_show_unannounced": N_("Did not come to an unannounced test"),
    "referrals_requested": N_("Requests for support"),
    **{f"referrals_{kind}": words for kind, words in _KIND_WORDS.items()},
    "referrals_accepted": N_("Requests taken by a counselling point"),
    **{f"referrals_{ending}": words for ending, words in _ENDING_WORDS.items()},
    "crisis_episodes": N_("Crisis episodes"),
    "crisis_answered": N_("Crisis episodes answered by a person"),
    "crisis_median_minutes": N_("Median minutes to the first human answer"),
    "unreachable": N_("Chats that cannot be reached"),
    "no_chat": N_("No linked chat"),
    "reviews_due": N_("Quarterly reviews due"),
    "reviews_written": N_("Quarterly reviews written"),
    "reviews_good": N_("Reviews: good progress"),
    "reviews_fair": N_("Reviews: fair progress"),
    "reviews_concerning": N_("Reviews: concerning"),
    "reviews_missing": N_("Quarterly reviews missing"),
}

DEFINITIONS: dict[str, str] = {
    "under_management_start": N_(
        "People under management at the end of the day before the period starts: their term started on or before "
        "that day, they had not completed it, moved out or been removed, and were not past their expected end "
        "(which unreported absences move later)."
    ),
    "under_management_end": N_("The same count at the end of the period's last day."),
    "enrolled": N_("People whose term started in the period, counted in the commune that listed them that day."),
    "completed": N_("People whose completion (Mẫu 54) is dated in the period."),
    "moved_out": N_("Accepted moves to another commune dated in the period, counted in the commune left."),
    "moved_in": N_("Accepted moves from another commune dated in the period, counted in the commune joined."),
    "due_for_completion": N_(
        "People past their expected end on the period's last day with no completion recorded: not counted as under "
        "management; the officer should record the completion."
    ),
    "absences_reported": N_("Reported absences that overlap the period."),
    "absences_unreported": N_(
        "Unreported absences that overlap the period (their days do not count toward the term)."
    ),
    "checkins_due": N_("Monthly check-ins the schedule set on a day in the period (cancelled ones are not counted)."),
    "checkins_done": N_("Of the check-ins due, those done, by chat or confirmed in person."),
    "checkins_self_reported": N_("Of the check-ins due, those the person completed by chat."),
    "in_person_done": N_("In-person checks (kiểm diện) recorded as present on a day in the period."),
    "checkins_missed": N_("Of the check-ins due, those marked missed (not done by the follow-up)."),
    "tests_due": N_("Tests the schedule set on a day in the period, periodic and unannounced."),
    "tests_due_periodic": N_("Periodic tests due (set by the person's risk level)."),
    "tests_due_unannounced": N_("Unannounced tests due (drawn at random for people at risk)."),
    "tests_done": N_("Results recorded for a sample taken in the period, negative or positive."),
    "tests_done_periodic": N_("Tests done that answered a periodic test or none scheduled."),
    "tests_done_unannounced": N_("Tests done that answered an unannounced test."),
    "tests_positive": N_("Positive results for a sample taken in the period."),
    "tests_refused": N_("Refusals recorded for a test in the period."),
    "tests_no_show": N_("People recorded as not coming to a test in the period."),
    **{
        f"tests_{outcome}_{apart}": N_(
            "The same, for the tests that answered a periodic test (or none scheduled), or an unannounced one."
        )
        for outcome in ("positive", "refused", "no_show")
        for apart in ("periodic", "unannounced")
    },
    "referrals_requested": N_(
        "Requests for support made in the period, once per person and kind (asking twice is one request); a "
        "conversation with one's own cadre is not a request."
    ),
    **{
        f"referrals_{kind}": N_("Requests of this kind made in the period, once per person.")
        for kind in KINDS
    },
    "referrals_accepted": N_("Of the requests, those a counselling point or counsellor took."),
    **{
        f"referrals_{ending}": N_("Of the requests, how the latest one of each person and kind stands today.")
        for ending in ENDINGS
    },
    "crisis_episodes": N_("Crisis episodes (a message about danger, self-harm or overdose) that began in the period."),
    "crisis_answered": N_("Of the crisis episodes, those a counsellor or cadre answered."),
    "crisis_median_minutes": N_(
        "The median of the minutes from a crisis message to the first answer by a person (a counsellor taking it or "
        "replying, or an alert acknowledged); empty when none was answered."
    ),
    "unreachable": N_(
        "People under management at the end of the period whose every linked chat cannot be reached, as known today."
    ),
    "no_chat": N_("People under management at the end of the period with no linked chat, as known today."),
    "reviews_due": N_(
        "Quarterly reviews due: people under management on the last day of each quarter that ends in the period."
    ),
    "reviews_written": N_("Of the reviews due, those written by the cadre."),
    "reviews_good": N_("Reviews written that rate the quarter's progress as good."),
    "reviews_fair": N_("Reviews written that rate the quarter's progress as fair."),
    "reviews_concerning": N_("Reviews written that rate the quarter's progress as concerning."),
    "reviews_missing": N_("Reviews due and not written."),
}


@dataclass(slots=True)
class Tally:
    """One commune's figures for one period: counts, and the people behind the indicators (distinct ids)."""

    counts: Counter[str] = field(default_factory=Counter)
    people: defaultdict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    answer_minutes: list[float] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        """A province sums its communes' counts; the people behind its indicators are the union of its communes'
        (someone tested in two communes after a move is one person tested). Kept months have only their numbers:
        those add up (a trend point may count such a person twice)."""
        self.counts.update(other.counts)
        for key, ids in other.people.items():
            self.people[key] |= ids
        self.answer_minutes.extend(other.answer_minutes)

    def distinct(self, key: str) -> int:
        return len(self.people.get(key, ())) + self.counts.get(f"_people_{key}", 0)

    def dump(self) -> dict[str, object]:
        """What a settled month's trend point keeps (counts, the number of distinct people behind each indicator,
        the crisis answer times): no ids, no names."""
        counts = {key: n for key, n in self.counts.items() if n}
        counts.update({f"_people_{key}": counts.get(f"_people_{key}", 0) + len(ids) for key, ids in self.people.items()
                       if ids})  # fmt: skip
        return {"counts": counts, "minutes": list(self.answer_minutes)}

    @classmethod
    def load(cls, stored: dict[str, object]) -> Tally:
        counts, minutes = stored.get("counts"), stored.get("minutes")
        assert isinstance(counts, dict) and isinstance(minutes, list)
        return cls(counts=Counter({str(k): int(v) for k, v in counts.items()}),
                   answer_minutes=[float(m) for m in minutes])  # fmt: skip

    def figures(self) -> dict[str, int | float | None]:
        """The report's counts, every key present, in the order of SECTIONS."""
        out: dict[str, int | float | None] = {key: self.counts.get(key, 0) for key in COUNT_KEYS}
        out["crisis_median_minutes"] = round(median(self.answer_minutes), 1) if self.answer_minutes else None
        return out


def tally(facts: Facts, period: Period, units: set[int]) -> dict[int, Tally]:
    """Each commune's tally (communes in `units` only: a person's days elsewhere count there, not here)."""
    out: defaultdict[int, Tally] = defaultdict(Tally)
    first, last = period.first, period.last
    before = first - timedelta(days=1)
    people = facts.people

    def at(person_id: int, day: date) -> Tally | None:
        person = people.get(person_id)
        if person is None:
            return None
        unit = person.unit_on(day)
        return out[unit] if unit in units else None

    for person in people.values():
        _people(person, before, first, last, units, out, facts.chats.get(person.id))
    for move in facts.moves:
        if first <= move.moved_on <= last:
            if move.from_unit in units:
                out[move.from_unit].counts["moved_out"] += 1
            if move.to_unit in units:
                out[move.to_unit].counts["moved_in"] += 1
    for absence in facts.absences:
        overlaps = absence.starts_on <= last and absence.ends_on >= first
        if overlaps and (t := at(absence.participant_id, max(absence.starts_on, first))) is not None:
            t.counts["absences_reported" if absence.reported else "absences_unreported"] += 1
    for duty in facts.duties:
        if first <= duty.due_on <= last and (t := at(duty.participant_id, duty.due_on)) is not None:
            _duty(t, duty.kind, duty.status, duty.self_reported)
    for check in facts.in_person:
        present = check.outcome == "present" and first <= check.checked_on <= last
        if present and (t := at(check.participant_id, check.checked_on)) is not None:
            t.counts["in_person_done"] += 1
    for result in facts.results:
        if first <= result.taken_on <= last and (t := at(result.participant_id, result.taken_on)) is not None:
            _result(t, result.participant_id, result.outcome, result.unannounced)
    _requests(facts, first, last, units, out)
    for crisis in facts.crises:
        if first <= crisis.raised_on <= last and (t := at(crisis.participant_id, crisis.raised_on)) is not None:
            t.counts["crisis_episodes"] += 1
            if crisis.minutes_to_answer is not None:
                t.counts["crisis_answered"] += 1
                t.answer_minutes.append(crisis.minutes_to_answer)
    _reviews(facts, period, units, out)
    return dict(out)


def _people(
    person: Person, before: date, first: date, last: date, units: set[int], out: dict[int, Tally], chats: Chats | None
) -> None:
    if person.managed_on(before) and (unit := person.unit_on(before)) in units:
        out[unit].counts["under_management_start"] += 1
    end_unit = person.unit_on(last)
    if end_unit in units:
        end = out[end_unit]
        if person.managed_on(last):
            end.counts["under_management_end"] += 1
            end.people["managed_end"].add(person.id)
            if chats is None or chats.linked == 0:
                end.counts["no_chat"] += 1
            elif chats.unreachable >= chats.linked:
                end.counts["unreachable"] += 1
        elif person.due_for_completion_on(last):
            end.counts["due_for_completion"] += 1
    if first <= person.term_start <= last and (unit := person.unit_on(person.term_start)) in units:
        out[unit].counts["enrolled"] += 1
    done = person.completed_on
    if done is not None and first <= done <= last and (unit := person.unit_on(done)) in units:
        out[unit].counts["completed"] += 1


def _duty(t: Tally, kind: str, status: str, self_reported: bool) -> None:
    if kind == "checkin":
        t.counts["checkins_due"] += 1
        t.counts["checkins_done"] += status == "done"
        t.counts["checkins_self_reported"] += self_reported
        t.counts["checkins_missed"] += status == "missed"
        return
    apart = "unannounced" if kind == "random_test" else "periodic"
    t.counts["tests_due"] += 1
    t.counts[f"tests_due_{apart}"] += 1


def _result(t: Tally, person_id: int, outcome: str, unannounced: bool) -> None:
    apart = "unannounced" if unannounced else "periodic"
    if outcome in TESTED:
        t.counts["tests_done"] += 1
        t.counts[f"tests_done_{apart}"] += 1
        t.people["tested"].add(person_id)
        if outcome == "positive":
            t.people["positive"].add(person_id)
    if outcome in ("positive", "refused", "no_show"):
        t.counts[f"tests_{outcome}"] += 1
        t.counts[f"tests_{outcome}_{apart}"] += 1


def _requests(facts: Facts, first: date, last: date, units: set[int], out: dict[int, Tally]) -> None:
    """Requests once per person and kind (the latest of the period tells how it stands, and whether help was got for
    the support indicators); a taken request of any kind, up to the period's end, for 'accessed services'."""
    accessed: set[int] = set()
    asked: list[Request] = []
    for request in facts.requests:
        if request.accepted_on is not None and request.accepted_on <= last:
            accessed.add(request.participant_id)
        if first <= request.asked_on <= last and request.participant_id in facts.people:
            asked.append(request)
    latest: dict[tuple[int, str], tuple[int, Request]] = {}  # the commune of the first, the latest request
    for request in sorted(asked, key=lambda r: r.asked_on):  # stable: the repository's order within a day
        pair = (request.participant_id, request.kind)
        unit = latest[pair][0] if pair in latest else facts.people[request.participant_id].unit_on(request.asked_on)
        latest[pair] = (unit, request)
    for (person_id, kind), (unit, request) in latest.items():
        if unit not in units:
            continue
        t = out[unit]
        outcome = request.outcome
        taken = request.accepted_on is not None
        t.counts["referrals_requested"] += 1
        t.counts[f"referrals_{kind}"] += kind in KINDS
        t.counts["referrals_accepted"] += taken
        ending = outcome if outcome in ENDINGS else ("open" if outcome is None else None)
        if ending is not None:
            t.counts[f"referrals_{ending}"] += 1
        t.people[f"asked_{kind}"].add(person_id)
        if outcome in HELPED:  # the latest request of the period ended with help (an earlier one does not count)
            t.people[f"got_{kind}"].add(person_id)
    for unit in units:
        if unit in out:
            t = out[unit]
            t.people["accessed"] = t.people["managed_end"] & accessed


def _reviews(facts: Facts, period: Period, units: set[int], out: dict[int, Tally]) -> None:
    ends = period.quarter_ends()
    if not ends:
        return
    written = {(r.participant_id, r.quarter): r.progress for r in facts.reviews}
    for quarter, last_day in ends:
        for person in facts.people.values():
            if not person.managed_on(last_day) or (unit := person.unit_on(last_day)) not in units:
                continue
            t = out[unit]
            t.counts["reviews_due"] += 1
            progress = written.get((person.id, quarter))
            if progress is None:
                t.counts["reviews_missing"] += 1
                continue
            t.counts["reviews_written"] += 1
            if progress in ("good", "fair", "concerning"):
                t.counts[f"reviews_{progress}"] += 1
