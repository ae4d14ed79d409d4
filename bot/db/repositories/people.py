from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import structlog
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.db.crypto import FieldCipher, SealBroken, national_id_key, row_ref
from bot.db.models import ParticipantRow, StaffRow
from bot.domain.entities import (
    FOLLOWED,
    Participant,
    ParticipantStatus,
    Register,
    RiskLevel,
    Role,
    Sex,
    StaffMember,
    Wording,
)
from bot.domain.terms import expected_end

log = structlog.get_logger(__name__)


def unreadable_name(participant_id: int) -> str:
    """Shown instead of a name whose seal does not open (moved from another row, altered): a warning sign and the
    record number, the same in every language, so lists and cards still work and staff can report it."""
    return f"⚠ #{participant_id}"


def _staff(row: StaffRow) -> StaffMember:
    assert row.id is not None
    return StaffMember(
        row.id, row.name, Role(row.role), row.unit_id, row.point_id, row.language, row.active, row.on_duty
    )


class StaffRepository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._s = session
        self._clock = clock

    @staticmethod
    def from_row(row: StaffRow) -> StaffMember:
        return _staff(row)

    async def add(self, name: str, role: Role, unit_id: int, point_id: int | None, language: str) -> StaffMember:
        row = StaffRow(
            name=name,
            role=role.value,
            unit_id=unit_id,
            point_id=point_id,
            language=language,
            created_at=self._clock.now(),
        )
        self._s.add(row)
        await self._s.flush()
        return _staff(row)

    async def get(self, staff_id: int) -> StaffMember | None:
        row = await self._s.get(StaffRow, staff_id)
        return _staff(row) if row else None

    async def active_among(self, staff_ids: list[int]) -> set[int]:
        """Which of these staff are active: one query for a whole list of recipients."""
        if not staff_ids:
            return set()
        stmt = select(StaffRow.id).where(
            StaffRow.id.in_(staff_ids),  # type: ignore[union-attr]
            StaffRow.active.is_(True),  # type: ignore[attr-defined]
        )
        return set((await self._s.execute(stmt)).scalars())

    async def in_unit(self, unit_id: int, role: Role) -> list[StaffMember]:
        stmt = select(StaffRow).where(
            StaffRow.unit_id == unit_id,
            StaffRow.role == role.value,
            StaffRow.active.is_(True),  # type: ignore[attr-defined]
        )
        return [_staff(r) for r in (await self._s.execute(stmt.order_by(StaffRow.name, StaffRow.id))).scalars()]

    async def listed(self, unit_ids: list[int] | None = None, role: Role | None = None) -> list[StaffMember]:
        """Staff accounts, closed ones too (the operator's and the admin's list), of these units and this role when
        given, by unit, role, name."""
        stmt = select(StaffRow)
        if unit_ids is not None:
            stmt = stmt.where(StaffRow.unit_id.in_(unit_ids))  # type: ignore[attr-defined]
        if role is not None:
            stmt = stmt.where(StaffRow.role == role.value)
        order = (StaffRow.unit_id, StaffRow.role, StaffRow.name, StaffRow.id)
        return [_staff(r) for r in (await self._s.execute(stmt.order_by(*order))).scalars()]

    async def counsellors_of(self, point_id: int) -> list[StaffMember]:
        """Active counsellors of one counselling point, in a fixed order (who is "next" when one does not answer)."""
        stmt = select(StaffRow).where(
            StaffRow.point_id == point_id,
            StaffRow.role == Role.COUNSELLOR.value,
            StaffRow.active.is_(True),  # type: ignore[attr-defined]
        )
        return [_staff(r) for r in (await self._s.execute(stmt.order_by(StaffRow.id))).scalars()]

    async def set_duty(self, staff_id: int, on_duty: bool) -> None:
        row = await self._s.get(StaffRow, staff_id)
        if row is not None:
            row.on_duty = on_duty
            await self._s.flush()

    async def set_language(self, staff_id: int, language: str) -> None:
        row = await self._s.get(StaffRow, staff_id)
        if row is not None:
            row.language = language
            await self._s.flush()

    async def set_active(self, staff_id: int, active: bool) -> None:
        """Deactivated: no access, no messages, no new link; the record stays (history, audit, their people)."""
        row = await self._s.get(StaffRow, staff_id)
        if row is not None:
            if row.active != active:  # retention counts from the first deactivation, not a repeated one
                row.deactivated_at = None if active else self._clock.now()
            row.active = active
            if not active:
                row.on_duty = False
            await self._s.flush()


class ParticipantRepository:
    """Names and national ID numbers are encrypted here, on the way in, and decrypted on the way out; both are sealed
    for the person's row (a name copied into another person's row does not open: `unreadable_name` is shown)."""

    _NAME = "participant.name"
    _NATIONAL_ID = "participant.national_id"
    _ADDRESS = "participant.address"
    _PHONE = "participant.phone"
    _DECISION_NO = "participant.decision_no"

    def __init__(
        self,
        session: AsyncSession,
        clock: Clock,
        cipher: FieldCipher,
        lookup_key: bytes = b"",
        previous_lookup_keys: Sequence[bytes] = (),
    ) -> None:
        self._s = session
        self._clock = clock
        self._cipher = cipher
        self._lookup_key = lookup_key
        self._previous_lookup_keys = tuple(previous_lookup_keys)  # a rotation under way: still found under these

    def national_id_key(self, national_id: str) -> str:
        return national_id_key(self._lookup_key, national_id)

    async def with_national_id(self, national_id: str) -> list[int]:
        """Everyone listed with this national ID number, anywhere (a duplicate across communes is a duplicate)."""
        keys = [national_id_key(k, national_id) for k in (self._lookup_key, *self._previous_lookup_keys)]
        stmt = select(ParticipantRow.id).where(ParticipantRow.national_id_key.in_(keys))  # type: ignore[union-attr]
        return list((await self._s.execute(stmt)).scalars())

    def from_row(self, row: ParticipantRow) -> Participant:
        return self._record(row)

    def open_name(self, participant_id: int, name_enc: str) -> str:
        """One name from its sealed column, without building the whole record (a list of 2,000 opens only names)."""
        try:
            return self._cipher.decrypt(name_enc, self._NAME, row_ref(id=participant_id))
        except SealBroken as exc:
            log.warning("sealed_value_rejected", column=exc.column, row_id=participant_id)
            return unreadable_name(participant_id)

    def _record(self, row: ParticipantRow) -> Participant:
        assert row.id is not None
        ref = row_ref(id=row.id)
        try:
            name = self._cipher.decrypt(row.name_enc, self._NAME, ref)
            national_id = self._cipher.decrypt_optional(row.national_id_enc, self._NATIONAL_ID, ref)
            register = Register(
                birth_year=row.birth_year,
                sex=Sex(row.sex) if row.sex else None,
                address=self._cipher.decrypt_optional(row.address_enc, self._ADDRESS, ref),
                phone=self._cipher.decrypt_optional(row.phone_enc, self._PHONE, ref),
                decision_no=self._cipher.decrypt_optional(row.decision_no_enc, self._DECISION_NO, ref),
                decision_date=row.decision_date,
            )
        except SealBroken as exc:
            log.warning("sealed_value_rejected", column=exc.column, row_id=row.id)
            name, national_id, register = unreadable_name(row.id), None, Register()
        return Participant(
            id=row.id,
            unit_id=row.unit_id,
            name=name,
            national_id=national_id,
            term_start=row.term_start,
            term_months=row.term_months,
            expected_end=row.expected_end,
            risk_level=RiskLevel(row.risk_level),
            status=ParticipantStatus(row.status),
            cadre_id=row.cadre_id,
            language=row.language,
            wording=Wording(row.wording),
            reminder_hour=row.reminder_hour,
            completed_on=row.completed_on,
            register=register,
            left_on=row.left_on,
        )

    def _seal_register(self, row: ParticipantRow, register: Register, national_id: str | None) -> None:
        ref = row_ref(id=row.id)
        row.national_id_enc = self._cipher.encrypt_optional(national_id, self._NATIONAL_ID, ref)
        row.national_id_key = self.national_id_key(national_id) if national_id else None
        row.birth_year, row.decision_date = register.birth_year, register.decision_date
        row.sex = register.sex.value if register.sex else None
        row.address_enc = self._cipher.encrypt_optional(register.address, self._ADDRESS, ref)
        row.phone_enc = self._cipher.encrypt_optional(register.phone, self._PHONE, ref)
        row.decision_no_enc = self._cipher.encrypt_optional(register.decision_no, self._DECISION_NO, ref)

    async def set_register(
        self, participant_id: int, *, name: str, national_id: str | None, register: Register
    ) -> Participant:
        """Correct what the register says of a person (the console's and the CLI's edit)."""
        row = await self._s.get(ParticipantRow, participant_id)
        if row is None:
            raise LookupError(participant_id)
        row.name_enc = self._cipher.encrypt(name, self._NAME, row_ref(id=row.id))
        self._seal_register(row, register, national_id)
        row.updated_at = self._clock.now()
        await self._s.flush()
        return self._record(row)

    async def add(
        self,
        *,
        name: str,
        unit_id: int,
        term_start: date,
        term_months: int,
        risk_level: RiskLevel,
        cadre_id: int | None,
        language: str,
        national_id: str | None = None,
        register: Register | None = None,
    ) -> Participant:
        now = self._clock.now()
        row = ParticipantRow(
            unit_id=unit_id,
            name_enc="",  # sealed for the row once it has its id, below
            term_start=term_start,
            term_months=term_months,
            expected_end=expected_end(term_start, term_months),
            risk_level=risk_level.value,
            status=ParticipantStatus.ENROLLED.value,
            cadre_id=cadre_id,
            language=language,
            wording=Wording.NEUTRAL.value,
            created_at=now,
            updated_at=now,
        )
        self._s.add(row)
        await self._s.flush()
        ref = row_ref(id=row.id)
        row.name_enc = self._cipher.encrypt(name, self._NAME, ref)
        self._seal_register(row, register or Register(), national_id)
        await self._s.flush()
        return self._record(row)

    async def get(self, participant_id: int) -> Participant | None:
        row = await self._s.get(ParticipantRow, participant_id)
        return self._record(row) if row else None

    async def update(
        self,
        participant_id: int,
        *,
        status: ParticipantStatus | None = None,
        language: str | None = None,
        risk_level: RiskLevel | None = None,
        wording: Wording | None = None,
        reminder_hour: int | None = None,
        expected_end: date | None = None,
        completed_on: date | None = None,
        left_on: date | None = None,
        retain_from: date | None = None,
    ) -> Participant:
        row = await self._s.get(ParticipantRow, participant_id)
        if row is None:
            raise LookupError(participant_id)
        if status is not None and not (row.status in LEFT and status in FOLLOWED):
            row.status = status.value  # a person who left the list is never put back on it by a chat (onboarding, …)
        if language is not None:
            row.language = language
        if risk_level is not None:
            row.risk_level = risk_level.value
        if wording is not None:
            row.wording = wording.value
        if reminder_hour is not None:
            row.reminder_hour = reminder_hour
        if expected_end is not None:
            row.expected_end = expected_end
        if completed_on is not None:
            row.completed_on = completed_on
        if left_on is not None:
            row.left_on = left_on
        if retain_from is not None:
            row.retain_from = retain_from
        row.updated_at = self._clock.now()
        await self._s.flush()
        return self._record(row)

    async def set_phone(self, participant_id: int, phone: str | None) -> Participant:
        """The person's own phone number, given or corrected in the chat (None: removed); sealed like the rest of the
        register, touching nothing else of it (a register that would not open is never rewritten from a blank)."""
        row = await self._s.get(ParticipantRow, participant_id)
        if row is None:
            raise LookupError(participant_id)
        row.phone_enc = self._cipher.encrypt_optional(phone, self._PHONE, row_ref(id=row.id))
        row.updated_at = self._clock.now()
        await self._s.flush()
        return self._record(row)

    async def assign(self, participant_id: int, cadre_id: int | None) -> None:
        row = await self._s.get(ParticipantRow, participant_id)
        if row is None:
            raise LookupError(participant_id)
        row.cadre_id = cadre_id
        row.updated_at = self._clock.now()
        await self._s.flush()

    async def move(self, participant_id: int, unit_id: int) -> None:
        """To another commune: the old cadre no longer follows the person; the receiving officer assigns one."""
        row = await self._s.get(ParticipantRow, participant_id)
        if row is None:
            raise LookupError(participant_id)
        row.unit_id, row.cadre_id = unit_id, None
        row.updated_at = self._clock.now()
        await self._s.flush()

    async def left_before(self, day: date) -> list[int]:
        """People who left the list before that day: their term completed, or they moved out of the system."""
        return list((await self._s.execute(left_before(day).order_by(ParticipantRow.id))).scalars())

    async def followed(self, unit_id: int, cadre_id: int | None = None) -> list[Participant]:
        """Who is followed now (on the list, not completed or moved away): a commune's, or one cadre's in it."""
        stmt = select(ParticipantRow).where(
            ParticipantRow.unit_id == unit_id,
            ParticipantRow.status.in_([ParticipantStatus.ENROLLED.value, ParticipantStatus.ACTIVE.value]),  # type: ignore[attr-defined]
        )
        if cadre_id is not None:
            stmt = stmt.where(ParticipantRow.cadre_id == cadre_id)
        return [self._record(r) for r in (await self._s.execute(stmt.order_by(ParticipantRow.id))).scalars()]

    async def in_unit(self, unit_id: int) -> list[Participant]:
        stmt = select(ParticipantRow).where(ParticipantRow.unit_id == unit_id).order_by(ParticipantRow.id)
        return [self._record(r) for r in (await self._s.execute(stmt)).scalars()]

    async def completed_in(self, unit_id: int) -> list[Participant]:
        """A commune's people whose term has ended: the list for completion certificates (Mẫu 54)."""
        stmt = select(ParticipantRow).where(
            ParticipantRow.unit_id == unit_id, ParticipantRow.status == ParticipantStatus.COMPLETED.value
        )
        return [self._record(r) for r in (await self._s.execute(stmt.order_by(ParticipantRow.id))).scalars()]

    async def count(self, unit_id: int, cadre_id: int | None = None) -> int:
        """How many people a commune (or one cadre in it) follows, without decrypting anyone's name."""
        stmt = select(func.count()).select_from(ParticipantRow).where(ParticipantRow.unit_id == unit_id)
        if cadre_id is not None:
            stmt = stmt.where(ParticipantRow.cadre_id == cadre_id)
        return int((await self._s.execute(stmt)).scalar_one())


def left_before(day: date) -> Select[tuple[int]]:
    """Ids of the people whose retention started before that day (they left the list: term completed, moved out of
    the province, removed; counted from `retain_from`, the later of leaving and recording it)."""
    return select(ParticipantRow.id).where(
        ParticipantRow.status.in_(LEFT),  # type: ignore[attr-defined]
        ParticipantRow.retain_from < day,  # type: ignore[operator]
    )


LEFT = [ParticipantStatus.COMPLETED.value, ParticipantStatus.TRANSFERRED.value, ParticipantStatus.REMOVED.value]
