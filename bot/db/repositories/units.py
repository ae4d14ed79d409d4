from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.db.models import CounsellingPointRow, UnitRow
from bot.domain.entities import CounsellingPoint, Unit, UnitLevel


def _unit(row: UnitRow) -> Unit:
    assert row.id is not None
    return Unit(
        row.id,
        row.code,
        row.name,
        UnitLevel(row.level),
        row.parent_id,
        row.checkin_due_day,
        row.test_place,
        row.test_hours,
    )


def _point(row: CounsellingPointRow) -> CounsellingPoint:
    assert row.id is not None
    return CounsellingPoint(row.id, row.unit_id, row.name, row.address, row.phone, row.hours)


class UnitRepository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._s = session
        self._clock = clock

    async def add(self, code: str, name: str, level: UnitLevel, parent_id: int | None) -> Unit:
        row = UnitRow(code=code, name=name, level=level.value, parent_id=parent_id, created_at=self._clock.now())
        self._s.add(row)
        await self._s.flush()
        return _unit(row)

    async def by_code(self, code: str) -> Unit | None:
        row = (await self._s.execute(select(UnitRow).where(UnitRow.code == code))).scalar_one_or_none()
        return _unit(row) if row else None

    async def get(self, unit_id: int) -> Unit | None:
        row = await self._s.get(UnitRow, unit_id)
        return _unit(row) if row else None

    async def configure(
        self, unit_id: int, *, due_day: int | None = None, test_place: str | None = None, test_hours: str | None = None
    ) -> Unit:
        """A commune's schedule settings: check-in due day, where and when tests take place."""
        row = await self._s.get(UnitRow, unit_id)
        if row is None:
            raise LookupError(unit_id)
        if due_day is not None:
            if not 1 <= due_day <= 28:
                raise ValueError("the due day must be 1-28, so every month has it")
            row.checkin_due_day = due_day
        if test_place is not None:
            row.test_place = test_place
        if test_hours is not None:
            row.test_hours = test_hours
        await self._s.flush()
        return _unit(row)

    async def all(self) -> list[Unit]:
        rows = (await self._s.execute(select(UnitRow).order_by(UnitRow.code))).scalars()
        return [_unit(r) for r in rows]

    async def communes_of(self, province_id: int) -> list[Unit]:
        """A province's communes, by code (a province's report has a row for each)."""
        stmt = select(UnitRow).where(UnitRow.parent_id == province_id).order_by(UnitRow.code)
        return [_unit(r) for r in (await self._s.execute(stmt)).scalars()]

    async def with_communes(self, unit_id: int) -> list[int]:
        """Ids of a unit and of the communes under it (a province's report counts its communes; a commune's, itself)."""
        stmt = select(UnitRow.id).where(UnitRow.parent_id == unit_id).order_by(UnitRow.code)
        return [unit_id, *(await self._s.execute(stmt)).scalars()]


class CounsellingPointRepository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._s = session
        self._clock = clock

    async def add(self, unit_id: int, name: str, address: str, phone: str, hours: str) -> CounsellingPoint:
        row = CounsellingPointRow(
            unit_id=unit_id, name=name, address=address, phone=phone, hours=hours, created_at=self._clock.now()
        )
        self._s.add(row)
        await self._s.flush()
        return _point(row)

    async def get(self, point_id: int) -> CounsellingPoint | None:
        row = await self._s.get(CounsellingPointRow, point_id)
        return _point(row) if row else None

    async def set_hours(self, point_id: int, hours: str) -> CounsellingPoint | None:
        row = await self._s.get(CounsellingPointRow, point_id)
        if row is None:
            return None
        row.hours = hours
        await self._s.flush()
        return _point(row)

    async def first_in(self, unit_id: int) -> int | None:
        """The counselling point a commune's referrals go to (the first one set up there)."""
        points = await self.in_unit(unit_id)
        return points[0].id if points else None

    async def listed(self, unit_ids: list[int] | None = None) -> list[CounsellingPoint]:
        """Counselling points (of these units when given), by unit, then in the order they were set up."""
        stmt = select(CounsellingPointRow)
        if unit_ids is not None:
            stmt = stmt.where(CounsellingPointRow.unit_id.in_(unit_ids))  # type: ignore[attr-defined]
        order = (CounsellingPointRow.unit_id, CounsellingPointRow.id)
        return [_point(r) for r in (await self._s.execute(stmt.order_by(*order))).scalars()]

    async def in_unit(self, unit_id: int) -> list[CounsellingPoint]:
        stmt = select(CounsellingPointRow).where(CounsellingPointRow.unit_id == unit_id)
        return [_point(r) for r in (await self._s.execute(stmt.order_by(CounsellingPointRow.id))).scalars()]
