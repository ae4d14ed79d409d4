"""Enrolment operations shared by the CLI and (later) the officer's chat: list people, issue invite codes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from bot.core.clock import Clock
from bot.core.i18n import SUPPORTED_LANGUAGES
from bot.db.store import Keyring, Repositories
from bot.domain.entities import CounsellingPoint, Participant, Register, RiskLevel, Role, StaffMember, Unit, UnitLevel
from bot.domain.invites import InvitePolicy, format_code, generate_code, hash_code
from bot.domain.opening import OpeningHoursError
from bot.domain.opening import parse as parse_hours
from bot.domain.terms import TermPolicy
from bot.services.access import unlink_chats
from bot.services.operators import Operator


class EnrolmentError(ValueError):
    """A refusal an operator can fix (unknown unit, wrong role for a unit, …); the message says how."""


@dataclass(frozen=True, slots=True)
class IssuedInvite:
    code: str
    expires_at: datetime
    linked_chats: int = 0  # chats of the person still linked (the old phone keeps working unless revoked)
    unlinked_chats: int = 0  # unlinked with this invite (--revoke-chats: the lost-phone case)


@dataclass(frozen=True, slots=True)
class EnrolmentPolicies:
    invites: InvitePolicy = field(default_factory=InvitePolicy)
    terms: TermPolicy = field(default_factory=TermPolicy)


class Enrolment:
    def __init__(
        self,
        repos: Repositories,
        keyring: Keyring,
        clock: Clock,
        policies: EnrolmentPolicies,
        operator: Operator | None = None,
    ) -> None:
        self._r = repos
        self._keys = keyring
        self._clock = clock
        self._policies = policies
        self._operator = operator or Operator()
        self._units: dict[str, Unit] = {}  # an import enrols hundreds into one commune: look it up once

    async def add_unit(self, code: str, name: str, parent_code: str | None) -> Unit:
        code = code.strip().upper()
        if not code or not name.strip():
            raise EnrolmentError("a unit needs a code and a name")
        if await self._r.units.by_code(code):
            raise EnrolmentError(f"unit {code} already exists")
        parent = None
        if parent_code:
            parent = await self._unit(parent_code)
            if parent.level is not UnitLevel.PROVINCE:
                raise EnrolmentError("a commune's parent must be a province (two-tier administration since 2025)")
        level = UnitLevel.COMMUNE if parent else UnitLevel.PROVINCE
        unit = await self._r.units.add(code, name.strip(), level, parent.id if parent else None)
        await self._audit("unit_added", "unit", unit.id)
        return unit

    async def add_point(self, unit_code: str, name: str, address: str, phone: str, hours: str) -> CounsellingPoint:
        unit = await self._unit(unit_code)
        _check_hours(hours)
        point = await self._r.points.add(unit.id, name.strip(), address.strip(), phone.strip(), hours.strip())
        await self._audit("point_added", "point", point.id)
        return point

    async def set_point_hours(self, point_id: int, hours: str) -> CounsellingPoint:
        _check_hours(hours)
        point = await self._r.points.set_hours(point_id, hours.strip())
        if point is None:
            raise EnrolmentError(f"no counselling point {point_id}")
        await self._audit("point_hours_changed", "point", point.id)
        return point

    async def add_staff(
        self, name: str, role: Role, unit_code: str, point_id: int | None, language: str
    ) -> tuple[StaffMember, IssuedInvite]:
        unit = await self._unit(unit_code)
        self._check_language(language)
        if role is Role.ADMIN and unit.level is not UnitLevel.PROVINCE:
            raise EnrolmentError("an admin belongs to a province")
        if role in (Role.CADRE, Role.OFFICER) and unit.level is not UnitLevel.COMMUNE:
            raise EnrolmentError(f"a {role.value} belongs to a commune")
        if role is Role.COUNSELLOR:
            if point_id is None:
                raise EnrolmentError("a counsellor needs --point (their counselling point)")
            point = await self._r.points.get(point_id)
            if point is None:
                raise EnrolmentError(f"no counselling point {point_id}")
        elif point_id is not None:
            raise EnrolmentError("only counsellors belong to a counselling point")
        if not name.strip():
            raise EnrolmentError("a staff member needs a name")
        staff = await self._r.staff.add(name.strip(), role, unit.id, point_id, language)
        await self._audit("staff_added", "staff", staff.id)
        return staff, await self.issue_staff_invite(staff.id)

    async def add_participant(
        self,
        *,
        name: str,
        unit_code: str,
        start: date,
        term_months: int,
        cadre_id: int | None,
        risk: RiskLevel,
        language: str,
        national_id: str | None = None,
        register: Register | None = None,
    ) -> tuple[Participant, IssuedInvite]:
        unit = await self._unit(unit_code)
        if unit.level is not UnitLevel.COMMUNE:
            raise EnrolmentError("participants are managed by a commune, not a province")
        try:
            self._policies.terms.check(term_months)
        except ValueError as exc:
            raise EnrolmentError(str(exc)) from exc
        self._check_language(language)
        if not name.strip():
            raise EnrolmentError("a participant needs a name")
        if cadre_id is not None:
            cadre = await self._r.staff.get(cadre_id)
            if cadre is None or cadre.role is not Role.CADRE or cadre.unit_id != unit.id:
                raise EnrolmentError(f"staff {cadre_id} is not a cadre of {unit.code}")
        participant = await self._r.participants.add(
            name=name.strip(),
            unit_id=unit.id,
            term_start=start,
            term_months=term_months,
            risk_level=risk,
            cadre_id=cadre_id,
            language=language,
            national_id=national_id.strip() if national_id else None,
            register=register,
        )
        await self._audit("participant_enrolled", "participant", participant.id)
        return participant, await self._first_invite(participant_id=participant.id)

    async def _first_invite(self, *, participant_id: int | None = None, staff_id: int | None = None) -> IssuedInvite:
        """A new record's first code: no earlier code to revoke, no chat linked yet (fewer statements per person,
        which an import of a whole commune's list repeats hundreds of times)."""
        code, expires = self._new_code()
        code_hash = hash_code(self._keys.code_key, code)
        await self._r.invites.issue(code_hash, expires, participant_id=participant_id, staff_id=staff_id, first=True)
        subject = ("participant", participant_id) if participant_id is not None else ("staff", staff_id)
        await self._audit("invite_issued", subject[0], subject[1] or 0, {"chats_unlinked": 0})
        return IssuedInvite(format_code(code), expires, 0, 0)

    async def issue_participant_invite(self, participant_id: int, *, revoke_chats: bool = False) -> IssuedInvite:
        """A new code; the unused one stops working. `revoke_chats`: the linked chats are unlinked in the same
        transaction (a lost phone), otherwise they keep working and their number is returned."""
        if await self._r.participants.get(participant_id) is None:
            raise EnrolmentError(f"no participant {participant_id}")
        unlinked = 0
        if revoke_chats:
            chats = await unlink_chats(self._r, self._operator, participant_id=participant_id, reason="reinvite")
            unlinked = len(chats)
        code, expires = self._new_code()
        await self._r.invites.issue(hash_code(self._keys.code_key, code), expires, participant_id=participant_id)
        await self._audit("invite_issued", "participant", participant_id, {"chats_unlinked": unlinked})
        linked = await self._r.identities.count_of(participant_id=participant_id)
        return IssuedInvite(format_code(code), expires, linked, unlinked)

    async def issue_staff_invite(self, staff_id: int, *, revoke_chats: bool = False) -> IssuedInvite:
        member = await self._r.staff.get(staff_id)
        if member is None:
            raise EnrolmentError(f"no staff member {staff_id}")
        if not member.active:
            raise EnrolmentError(f"staff member {staff_id} is not active (aftercare staff activate --id {staff_id})")
        unlinked = 0
        if revoke_chats:
            unlinked = len(await unlink_chats(self._r, self._operator, staff_id=staff_id, reason="reinvite"))
        code, expires = self._new_code()
        await self._r.invites.issue(hash_code(self._keys.code_key, code), expires, staff_id=staff_id)
        await self._audit("invite_issued", "staff", staff_id, {"chats_unlinked": unlinked})
        linked = await self._r.identities.count_of(staff_id=staff_id)
        return IssuedInvite(format_code(code), expires, linked, unlinked)

    def _new_code(self) -> tuple[str, datetime]:
        return generate_code(), self._policies.invites.expires_at(self._clock.now())

    async def _unit(self, code: str) -> Unit:
        key = code.strip().upper()
        if key in self._units:
            return self._units[key]
        unit = await self._r.units.by_code(key)
        if unit is None:
            raise EnrolmentError(f"no unit with code {code}")
        self._units[key] = unit
        return unit

    @staticmethod
    def _check_language(language: str) -> None:
        if language not in SUPPORTED_LANGUAGES:
            raise EnrolmentError(f"language must be one of {', '.join(SUPPORTED_LANGUAGES)}")

    async def _audit(
        self, action: str, subject_type: str, subject_id: int, detail: dict[str, object] | None = None
    ) -> None:
        await self._operator.record(
            self._r, action, subject_type=subject_type, subject_id=subject_id, detail=dict(detail or {})
        )


def _check_hours(hours: str) -> None:
    """Hours the bot cannot read would silently mean "always open": refused with the reason instead."""
    try:
        parse_hours(hours)
    except OpeningHoursError as exc:
        raise EnrolmentError(f"opening hours: {exc}") from exc
