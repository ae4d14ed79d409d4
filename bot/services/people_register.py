"""One person's entry in the commune's register (Mẫu 52): adding someone (the console's *Thêm người*), showing it and
correcting it (`aftercare participant show` / `participant edit`).

The rules are the import's (`bot.domain.register_import`): a form field, a CLI option and a spreadsheet cell accept
exactly the same things and are refused with the same words (a date that does not exist, a year of birth that is
not plausible, a national ID that is not 12 or 9 digits, a cadre who is not an active cadre of the commune…). Each
field is checked alone, so a form can show every problem next to its field at once.

A national ID number already on a list now (enrolled or linked, in any commune) is refused: the same person twice
would get two sets of reminders. Someone whose earlier term was completed may be put on the list again.

`by` is a staff member acting through the console, asked of the authorisation table with the record as loaded
(MANAGE_LIST to add or correct, VIEW_PARTICIPANT to show); a refusal raises `Refused` after recording it in the
caller's transaction. None is the server's operator (the CLI): recorded, not restricted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.core.i18n import N_, Translator
from bot.db.repositories.people import unreadable_name
from bot.db.store import Repositories
from bot.domain.authz import Action, Actor, ParticipantScope, decide
from bot.domain.entities import Participant, Role, Unit
from bot.domain.register_import import FIELDS, Cadres, Person, Problem, Rules, check_row, normalise_national_id, say
from bot.domain.terms import TermPolicy
from bot.services import record, register_import
from bot.services.access import Refused
from bot.services.enrolment import Enrolment, IssuedInvite
from bot.services.operators import Operator

# What `participant edit` may correct: the register, the risk level and the chat's language (not the term: its
# start and length move every date planned from them, and absences already do that by their own rules).
EDITABLE: tuple[str, ...] = (
    "name", "birth_year", "sex", "national_id", "address", "phone", "decision_no", "decision_date", "risk", "language",
)  # fmt: skip


class RegisterError(ValueError):
    """The entry cannot be saved as given: the problems by field (nothing was changed)."""

    def __init__(self, fields: Mapping[str, tuple[Problem, ...]]) -> None:
        super().__init__("; ".join(p.msgid for problems in fields.values() for p in problems))
        self.fields = dict(fields)

    def text(self, t: Translator) -> str:
        return " ".join(p.text(t) for problems in self.fields.values() for p in problems)


@dataclass(frozen=True, slots=True)
class Checked:
    """A new entry: the person to enrol, or the problems next to each field and about the entry as a whole."""

    person: Person | None
    fields: dict[str, tuple[Problem, ...]]
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return self.person is not None


@dataclass(frozen=True, slots=True)
class Added:
    checked: Checked
    participant: Participant | None = None
    invite: IssuedInvite | None = None


def field_problems(
    cells: Mapping[str, str], rules: Rules, names: Iterable[str] = FIELDS
) -> dict[str, tuple[Problem, ...]]:
    """Each field's problems on its own: the row's rules applied to that one field (the others filled with values
    that pass), so every field's message can stand next to it."""
    passing = {"name": "-", "start": rules.today.isoformat(), "term_months": str(rules.terms.allowed_months[0])}
    out: dict[str, tuple[Problem, ...]] = {}
    for name in names:
        _, problems = check_row(0, passing | {name: cells.get(name, "")}, rules)
        if problems:
            out[name] = tuple(problems)
    return out


async def _national_id(
    repos: Repositories, cells: Mapping[str, str], unit_id: int, besides: int | None
) -> Problem | None:
    text = cells.get("national_id", "").strip()
    if not text:
        return None
    holder = await record.national_id_holder(repos, normalise_national_id(text), besides=besides)
    return record.national_id_problem(holder, unit_id) if holder is not None else None


async def check_new(
    repos: Repositories, unit: Unit, cells: Mapping[str, str], *, today: date, terms: TermPolicy | None = None
) -> Checked:
    """A new entry for the commune against the rules, its active cadres and who is listed now (writes nothing)."""
    register_import.commune_only(unit)
    terms = terms or TermPolicy()
    rules = Rules(today, Cadres.of(await repos.staff.in_unit(unit.id, Role.CADRE)), terms)
    fields = field_problems(cells, rules)
    if "national_id" not in fields and (taken := await _national_id(repos, cells, unit.id, None)) is not None:
        fields["national_id"] = (taken,)
    if fields:
        return Checked(None, fields)
    sheet = register_import.Sheet(1, ((2, {k: v for k, v in cells.items() if k in FIELDS}),))
    preview = await register_import.check(repos, unit, sheet, today=today, terms=terms)
    if not preview.ok:  # the same name (and year of birth) already on this commune's list
        return Checked(None, {}, tuple(p for row in preview.problems for p in row.problems))
    return Checked(preview.rows[0], {})


async def add(
    repos: Repositories,
    enrolment: Enrolment,
    unit: Unit,
    cells: Mapping[str, str],
    *,
    today: date,
    operator: Operator,
    by: Actor | None = None,
    terms: TermPolicy | None = None,
) -> Added:
    """Put one person on the commune's list with a first invite code, if the entry is right; otherwise the
    problems, nothing written."""
    if by is not None:
        decision = decide(by, Action.MANAGE_LIST, ParticipantScope(0, unit.id, unit.parent_id, None))
        if not decision:
            raise await _refuse(repos, operator, Action.MANAGE_LIST, ("unit", unit.id), decision.reason)
    checked = await check_new(repos, unit, cells, today=today, terms=terms)
    if checked.person is None:
        if any(p.msgid == record.ELSEWHERE for p in checked.fields.get("national_id", ())):
            # The officer now knows this number is on some list: who asked is kept (never the number).
            await operator.record(repos, "national_id_elsewhere", subject_type="unit", subject_id=unit.id)
        return Added(checked)
    person = checked.person
    participant, invite = await enrolment.add_participant(
        name=person.name, unit_code=unit.code, start=person.start, term_months=person.term_months,
        cadre_id=person.cadre_id, risk=person.risk, language=person.language, national_id=person.national_id,
        register=person.register,
    )  # fmt: skip
    return Added(checked, participant, invite)


async def _refuse(
    repos: Repositories, operator: Operator, action: Action, subject: tuple[str, int], reason: str
) -> Refused:
    await operator.record(
        repos, f"denied:{action.value}", subject_type=subject[0], subject_id=subject[1], outcome="denied",
        detail={"reason": reason},
    )  # fmt: skip
    return Refused("not allowed")


async def _person(
    repos: Repositories, participant_id: int, action: Action, operator: Operator, by: Actor | None
) -> Participant:
    person = await repos.participants.get(participant_id)
    if person is None:
        if by is not None:
            raise await _refuse(repos, operator, action, ("participant", participant_id), "no such record")
        raise LookupError(f"no participant {participant_id}")
    if by is not None:
        unit = await repos.units.get(person.unit_id)
        scope = ParticipantScope(person.id, person.unit_id, unit.parent_id if unit else None, person.cadre_id)
        decision = decide(by, action, scope)
        if not decision:
            raise await _refuse(repos, operator, action, ("participant", participant_id), decision.reason)
    return person


async def show(repos: Repositories, participant_id: int, *, operator: Operator, by: Actor | None = None) -> Participant:
    """The person's record with their register, the opening audited (who, whose, when; never what it says)."""
    person = await _person(repos, participant_id, Action.VIEW_PARTICIPANT, operator, by)
    await operator.record(
        repos, "participant_viewed", subject_type="participant", subject_id=participant_id, detail={"view": "register"}
    )
    return person


def as_dict(person: Participant, unit: Unit | None) -> dict[str, Any]:
    """The register and the term as the CLI prints them (dates as YYYY-MM-DD)."""
    register = person.register

    def day(value: date | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": person.id, "name": person.name, "unit": unit.code if unit else None, "status": person.status.value,
        "birth_year": register.birth_year, "sex": register.sex.value if register.sex else None,
        "national_id": person.national_id, "address": register.address, "phone": register.phone,
        "decision_no": register.decision_no, "decision_date": day(register.decision_date),
        "term_start": day(person.term_start), "term_months": person.term_months,
        "expected_end": day(person.expected_end), "completed_on": day(person.completed_on),
        "cadre_id": person.cadre_id, "risk": person.risk_level.value, "language": person.language,
    }  # fmt: skip


async def correct(
    repos: Repositories,
    participant_id: int,
    changes: Mapping[str, str],
    *,
    today: date,
    operator: Operator,
) -> Participant:
    """The operator's correction of some fields (`participant edit`): the register's through the console's own
    `record.edit_register` (every field read by the import's rules, a national ID another person has refused, audited
    with the names of the fields changed), the risk level and the chat's language checked by the same rules. Text as
    typed; an empty value clears an optional register field. Everything is saved, or `RegisterError` and nothing."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ValueError(f"cannot edit {', '.join(unknown)}")
    if not changes:
        raise ValueError("nothing to change: give at least one field")
    person = await _person(repos, participant_id, Action.MANAGE_LIST, operator, None)
    if person.name == unreadable_name(person.id):  # a register that does not open is never rewritten from blanks
        raise RegisterError({"name": (say(N_("This record's sealed fields do not open; nothing was changed.")),)})
    settings = {k: v.strip() for k, v in changes.items() if k in ("risk", "language") and v.strip()}
    fields = field_problems(settings, Rules(today, Cadres.of(())), settings)
    if fields:
        raise RegisterError(fields)
    register = {k: v for k, v in changes.items() if k not in ("risk", "language")}
    if register:
        try:
            person = await record.edit_register(repos, person, register_cells(person) | register, today=today,
                                                operator=operator)  # fmt: skip
        except record.RegisterRejected as exc:
            raise RegisterError({"register": tuple(exc.problems)}) from None
    if settings:
        passing = {"name": "-", "start": today.isoformat(), "term_months": str(TermPolicy().allowed_months[0])}
        parsed, _ = check_row(0, passing | settings, Rules(today, Cadres.of(())))
        assert parsed is not None
        risk = parsed.risk if "risk" in settings else None
        language = parsed.language if "language" in settings else None
        changed = (["risk"] if risk not in (None, person.risk_level) else []) + (
            ["language"] if language not in (None, person.language) else []
        )
        person = await repos.participants.update(participant_id, risk_level=risk, language=language)
        await operator.record(
            repos, "register_edited", subject_type="participant", subject_id=participant_id, detail={"fields": changed}
        )
    return person


def register_cells(person: Participant) -> dict[str, str]:
    """What the register says of a person now, as the text a form or a spreadsheet cell would hold."""
    register = person.register
    return {
        "name": person.name,
        "birth_year": str(register.birth_year) if register.birth_year else "",
        "sex": register.sex.value if register.sex else "",
        "national_id": person.national_id or "",
        "address": register.address or "",
        "phone": register.phone or "",
        "decision_no": register.decision_no or "",
        "decision_date": register.decision_date.isoformat() if register.decision_date else "",
    }
