"""What cadres record: in-person checks, test results, observations, quarterly reviews, field reports, transfers.

Every sensitive value is sealed here on the way in and opened on the way out; callers see plain records.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.db.crypto import FieldCipher, row_ref
from bot.db.dialect import upsert
from bot.db.models import (
    CheckinRow,
    EscalationRow,
    FieldReportRow,
    InPersonCheckRow,
    ObligationRow,
    ObservationRow,
    QuarterlyReviewRow,
    TestResultRow,
    TransferRow,
)
from bot.domain.fieldwork import (
    CaseloadFacts,
    InPersonOutcome,
    ObservationCategory,
    ReportKind,
    ReportStatus,
    ReviewProgress,
    SubstanceGroup,
    TestOutcome,
    TransferStatus,
)
from bot.domain.planning import OPEN_STATUSES, ObligationKind, ObligationStatus

RISK_FLAG_DAYS = 45  # a risky check-in or a flagged observation marks the person on the list this long


@dataclass(frozen=True, slots=True)
class InPersonCheck:
    id: int
    month: str
    outcome: InPersonOutcome
    reason: str | None
    checked_on: date


@dataclass(frozen=True, slots=True)
class TestResult:
    __test__ = False  # not a pytest test class, despite its name
    id: int
    participant_id: int
    obligation_id: int | None
    outcome: TestOutcome
    substance: SubstanceGroup | None
    place: str
    taken_on: date


@dataclass(frozen=True, slots=True)
class Observation:
    id: int
    category: ObservationCategory
    text: str
    risk_flag: bool
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class Review:
    quarter: str
    progress: ReviewProgress
    comment: str
    cadre_id: int


@dataclass(frozen=True, slots=True)
class FieldReport:
    id: int
    participant_id: int
    unit_id: int
    kind: ReportKind
    details: dict[str, Any]
    reported_by: int
    status: ReportStatus
    reported_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Transfer:
    id: int
    participant_id: int
    from_unit_id: int
    to_unit_id: int
    moved_on: date
    status: TransferStatus
    created_at: datetime | None = None  # when the sending commune started it: the hand-over notice's date


class FieldworkRepository:
    _REASON = "in_person_check.reason"
    _RESULT = "test_result.result"
    _OBSERVATION = "observation.body"
    _REVIEW = "quarterly_review.assessment"
    _REPORT = "field_report.details"

    def __init__(self, session: AsyncSession, clock: Clock, cipher: FieldCipher) -> None:
        self._s = session
        self._clock = clock
        self._cipher = cipher

    def _seal(self, value: dict[str, Any], column: str, row: str) -> str:
        return self._cipher.encrypt(json.dumps(value, sort_keys=True, ensure_ascii=False), column, row)

    def _open(self, stored: str, column: str, row: str) -> dict[str, Any]:
        opened = json.loads(self._cipher.decrypt(stored, column, row))
        assert isinstance(opened, dict)
        return opened

    # In-person checks -------------------------------------------------------------------------------------------

    async def record_in_person(
        self, participant_id: int, checked_on: date, outcome: InPersonOutcome, reason: str | None, by: int
    ) -> None:
        """One per person and month: a second record the same month replaces the first (a correction)."""
        month = f"{checked_on:%Y-%m}"  # with the person, the row's unique key: what the reason is sealed for
        values = {
            "participant_id": participant_id,
            "month": month,
            "outcome": outcome.value,
            "reason_enc": self._cipher.encrypt_optional(
                reason, self._REASON, row_ref(participant=participant_id, month=month)
            ),
            "checked_on": checked_on,
            "recorded_by": by,
            "recorded_at": self._clock.now(),
        }
        stmt = upsert(self._s, InPersonCheckRow).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["participant_id", "month"],
            set_={k: stmt.excluded[k] for k in ("outcome", "reason_enc", "checked_on", "recorded_by", "recorded_at")},
        )
        await self._s.execute(stmt)

    async def in_person_of(self, participant_id: int, limit: int = 3) -> list[InPersonCheck]:
        stmt = (
            select(InPersonCheckRow)
            .where(InPersonCheckRow.participant_id == participant_id)
            .order_by(InPersonCheckRow.month.desc())  # type: ignore[attr-defined]
            .limit(limit)
        )
        return [
            InPersonCheck(
                r.id or 0,
                r.month,
                InPersonOutcome(r.outcome),
                self._cipher.decrypt_optional(
                    r.reason_enc, self._REASON, row_ref(participant=r.participant_id, month=r.month)
                ),
                r.checked_on,
            )
            for r in (await self._s.execute(stmt)).scalars()
        ]

    # Test results -----------------------------------------------------------------------------------------------

    async def add_test_result(
        self,
        participant_id: int,
        obligation_id: int | None,
        outcome: TestOutcome,
        substance: SubstanceGroup | None,
        place: str,
        taken_on: date,
        by: int,
    ) -> TestResult:
        row = TestResultRow(
            participant_id=participant_id,
            obligation_id=obligation_id,
            result_enc="",  # sealed for the row once it has its id, below
            taken_on=taken_on,
            recorded_by=by,
            recorded_at=self._clock.now(),
        )
        self._s.add(row)
        await self._s.flush()
        row.result_enc = self._seal(
            {"outcome": outcome.value, "substance": substance.value if substance else None, "place": place},
            self._RESULT,
            row_ref(id=row.id, participant=participant_id),
        )
        await self._s.flush()
        return self._result(row)

    def _result(self, row: TestResultRow) -> TestResult:
        opened = self._open(row.result_enc, self._RESULT, row_ref(id=row.id, participant=row.participant_id))
        substance = opened.get("substance")
        return TestResult(
            row.id or 0,
            row.participant_id,
            row.obligation_id,
            TestOutcome(opened["outcome"]),
            SubstanceGroup(substance) if substance else None,
            str(opened.get("place", "")),
            row.taken_on,
        )

    async def test_results_of(self, participant_id: int, limit: int = 5) -> list[TestResult]:
        stmt = (
            select(TestResultRow)
            .where(TestResultRow.participant_id == participant_id)
            .order_by(TestResultRow.taken_on.desc(), TestResultRow.id.desc())  # type: ignore[attr-defined,union-attr]
            .limit(limit)
        )
        return [self._result(r) for r in (await self._s.execute(stmt)).scalars()]

    async def latest_result_for(self, obligation_id: int) -> TestResult | None:
        stmt = (
            select(TestResultRow)
            .where(TestResultRow.obligation_id == obligation_id)
            .order_by(TestResultRow.id.desc())  # type: ignore[union-attr]
            .limit(1)
        )
        row = (await self._s.execute(stmt)).scalar_one_or_none()
        return self._result(row) if row else None

    async def test_result(self, result_id: int) -> TestResult | None:
        row = await self._s.get(TestResultRow, result_id)
        return self._result(row) if row else None

    # Observations -----------------------------------------------------------------------------------------------

    async def add_observation(
        self, participant_id: int, staff_id: int, category: ObservationCategory, text: str, risk_flag: bool
    ) -> int:
        row = ObservationRow(
            participant_id=participant_id,
            staff_id=staff_id,
            body_enc="",  # sealed for the row once it has its id, below
            risk_flag=risk_flag,
            recorded_at=self._clock.now(),
        )
        self._s.add(row)
        await self._s.flush()
        ref = row_ref(id=row.id, participant=participant_id)
        row.body_enc = self._seal({"category": category.value, "text": text}, self._OBSERVATION, ref)
        await self._s.flush()
        return row.id or 0

    async def observations_of(self, participant_id: int, limit: int = 3) -> list[Observation]:
        stmt = (
            select(ObservationRow)
            .where(ObservationRow.participant_id == participant_id)
            .order_by(ObservationRow.recorded_at.desc(), ObservationRow.id.desc())  # type: ignore[attr-defined,union-attr]
            .limit(limit)
        )
        found = []
        for row in (await self._s.execute(stmt)).scalars():
            opened = self._open(row.body_enc, self._OBSERVATION, row_ref(id=row.id, participant=row.participant_id))
            found.append(
                Observation(
                    row.id or 0,
                    ObservationCategory(opened["category"]),
                    str(opened["text"]),
                    row.risk_flag,
                    row.recorded_at,
                )
            )
        return found

    # Quarterly reviews ------------------------------------------------------------------------------------------

    async def save_review(
        self, participant_id: int, quarter: str, cadre_id: int, progress: ReviewProgress, comment: str
    ) -> None:
        """Writing it again the same quarter replaces it (the cadre corrected it)."""
        ref = row_ref(participant=participant_id, quarter=quarter)  # the row's unique key
        sealed = self._seal({"progress": progress.value, "comment": comment}, self._REVIEW, ref)
        stmt = upsert(self._s, QuarterlyReviewRow).values(
            participant_id=participant_id,
            quarter=quarter,
            cadre_id=cadre_id,
            assessment_enc=sealed,
            written_at=self._clock.now(),
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["participant_id", "quarter"],
            set_={k: stmt.excluded[k] for k in ("cadre_id", "assessment_enc", "written_at")},
        )
        await self._s.execute(stmt)

    async def reviewed(self, quarter: str, participant_ids: Sequence[int]) -> set[int]:
        if not participant_ids:
            return set()
        stmt = select(QuarterlyReviewRow.participant_id).where(
            QuarterlyReviewRow.quarter == quarter,
            QuarterlyReviewRow.participant_id.in_(list(participant_ids)),  # type: ignore[attr-defined]
        )
        return set((await self._s.execute(stmt)).scalars())

    async def review_of(self, participant_id: int, quarter: str) -> Review | None:
        stmt = select(QuarterlyReviewRow).where(
            QuarterlyReviewRow.participant_id == participant_id, QuarterlyReviewRow.quarter == quarter
        )
        row = (await self._s.execute(stmt)).scalar_one_or_none()
        if row is None:
            return None
        opened = self._open(
            row.assessment_enc, self._REVIEW, row_ref(participant=row.participant_id, quarter=row.quarter)
        )
        return Review(row.quarter, ReviewProgress(opened["progress"]), str(opened["comment"]), row.cadre_id)

    # Field reports (absence or move seen in the community) -----------------------------------------------------

    async def add_report(
        self, participant_id: int, unit_id: int, kind: ReportKind, details: dict[str, Any], by: int
    ) -> FieldReport:
        row = FieldReportRow(
            participant_id=participant_id,
            unit_id=unit_id,
            kind=kind.value,
            details_enc="",  # sealed for the row once it has its id, below
            reported_by=by,
            reported_at=self._clock.now(),
        )
        self._s.add(row)
        await self._s.flush()
        row.details_enc = self._seal(details, self._REPORT, row_ref(id=row.id, participant=participant_id))
        await self._s.flush()
        return self._report(row)

    def _report(self, row: FieldReportRow) -> FieldReport:
        return FieldReport(
            row.id or 0,
            row.participant_id,
            row.unit_id,
            ReportKind(row.kind),
            self._open(row.details_enc, self._REPORT, row_ref(id=row.id, participant=row.participant_id)),
            row.reported_by,
            ReportStatus(row.status),
            row.reported_at,
        )

    async def report(self, report_id: int) -> FieldReport | None:
        row = await self._s.get(FieldReportRow, report_id)
        return self._report(row) if row else None

    async def reports_of(self, participant_id: int, limit: int = 500) -> list[FieldReport]:
        """Every field report about one person, oldest first (their personal export)."""
        stmt = select(FieldReportRow).where(FieldReportRow.participant_id == participant_id)
        rows = (await self._s.execute(stmt.order_by(FieldReportRow.id).limit(limit))).scalars()
        return [self._report(r) for r in rows]

    async def pending_reports(self, unit_id: int) -> list[FieldReport]:
        stmt = select(FieldReportRow).where(
            FieldReportRow.unit_id == unit_id, FieldReportRow.status == ReportStatus.PENDING.value
        )
        return [self._report(r) for r in (await self._s.execute(stmt.order_by(FieldReportRow.id))).scalars()]

    async def decide_report(self, report_id: int, status: ReportStatus, by: int) -> bool:
        """False when someone already decided it (two officers pressing at once: one wins)."""
        result = await self._s.execute(
            update(FieldReportRow)
            .where(FieldReportRow.id == report_id, FieldReportRow.status == ReportStatus.PENDING.value)
            .values(status=status.value, decided_by=by, decided_at=self._clock.now())
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def void_reports(self, participant_id: int, unit_id: int) -> None:
        """Reports the sending commune had not decided when the person moved away: nothing left to decide."""
        await self._s.execute(
            update(FieldReportRow)
            .where(
                FieldReportRow.participant_id == participant_id,
                FieldReportRow.unit_id == unit_id,
                FieldReportRow.status == ReportStatus.PENDING.value,
            )
            .values(status=ReportStatus.VOID.value, decided_at=self._clock.now())
        )

    # Transfers --------------------------------------------------------------------------------------------------

    async def add_transfer(self, participant_id: int, from_unit: int, to_unit: int, moved_on: date, by: int) -> int:
        row = TransferRow(
            participant_id=participant_id,
            from_unit_id=from_unit,
            to_unit_id=to_unit,
            moved_on=moved_on,
            created_by=by,
            created_at=self._clock.now(),
        )
        self._s.add(row)
        await self._s.flush()
        return row.id or 0

    async def transfer(self, transfer_id: int) -> Transfer | None:
        row = await self._s.get(TransferRow, transfer_id)
        if row is None:
            return None
        return Transfer(
            row.id or 0,
            row.participant_id,
            row.from_unit_id,
            row.to_unit_id,
            row.moved_on,
            TransferStatus(row.status),
            row.created_at,
        )

    async def transfers_of(self, participant_id: int, limit: int = 50) -> list[Transfer]:
        """A person's moves between communes, newest first (a person's record shows them, whatever their status)."""
        stmt = (
            select(TransferRow)
            .where(TransferRow.participant_id == participant_id)
            .order_by(TransferRow.moved_on.desc(), TransferRow.id.desc())  # type: ignore[attr-defined,union-attr]
            .limit(limit)
        )
        rows = (await self._s.execute(stmt)).scalars()
        return [
            Transfer(r.id or 0, r.participant_id, r.from_unit_id, r.to_unit_id, r.moved_on, TransferStatus(r.status),
                     r.created_at)
            for r in rows
        ]  # fmt: skip

    async def pending_transfers_to(self, unit_id: int) -> list[int]:
        stmt = select(TransferRow.id).where(
            TransferRow.to_unit_id == unit_id, TransferRow.status == TransferStatus.PENDING.value
        )
        return list((await self._s.execute(stmt.order_by(TransferRow.id))).scalars())

    async def has_pending_transfer(self, participant_id: int) -> bool:
        stmt = select(TransferRow.id).where(
            TransferRow.participant_id == participant_id, TransferRow.status == TransferStatus.PENDING.value
        )
        return (await self._s.execute(stmt.limit(1))).first() is not None

    async def decide_transfer(self, transfer_id: int, status: TransferStatus, by: int) -> bool:
        result = await self._s.execute(
            update(TransferRow)
            .where(TransferRow.id == transfer_id, TransferRow.status == TransferStatus.PENDING.value)
            .values(status=status.value, decided_by=by, decided_at=self._clock.now())
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # The cadre's list -------------------------------------------------------------------------------------------

    async def caseload(self, participants: Sequence[tuple[int, str]], today: date, tz: tzinfo) -> list[CaseloadFacts]:
        """Status facts for (id, name) pairs, in a handful of grouped queries (no per-person round trips).

        An unannounced test is not "next due" before its day: the cadre's list must not predict it either."""
        ids = [pid for pid, _ in participants]
        if not ids:
            return []
        in_ids = ObligationRow.participant_id.in_(ids)  # type: ignore[attr-defined]
        overdue_stmt = (
            select(ObligationRow.participant_id, func.count())
            .where(in_ids, ObligationRow.status.in_(OPEN_STATUSES), ObligationRow.due_on < today)  # type: ignore[attr-defined]
            .group_by(ObligationRow.participant_id)
        )
        overdue = dict((await self._s.execute(overdue_stmt)).all())
        announced = (ObligationRow.kind != ObligationKind.RANDOM_TEST.value) | (ObligationRow.due_on <= today)
        next_stmt = (
            select(ObligationRow.participant_id, func.min(ObligationRow.due_on))
            .where(in_ids, ObligationRow.status == ObligationStatus.PENDING.value, ObligationRow.due_on >= today)
            .where(announced)
            .group_by(ObligationRow.participant_id)
        )
        next_due = dict((await self._s.execute(next_stmt)).all())
        checkin_ids = CheckinRow.participant_id.in_(ids)  # type: ignore[attr-defined]
        last_stmt = (
            select(CheckinRow.participant_id, func.max(CheckinRow.completed_at))
            .where(checkin_ids, CheckinRow.completed_at.is_not(None))  # type: ignore[union-attr]
            .group_by(CheckinRow.participant_id)
        )
        last_checkin = dict((await self._s.execute(last_stmt)).all())
        since = self._clock.now() - timedelta(days=RISK_FLAG_DAYS)
        risky = set(
            (
                await self._s.execute(
                    select(CheckinRow.participant_id).where(
                        checkin_ids,
                        CheckinRow.risky.is_(True),
                        CheckinRow.completed_at >= since,  # type: ignore[attr-defined,operator]
                    )
                )
            ).scalars()
        )
        risky |= set(
            (
                await self._s.execute(
                    select(ObservationRow.participant_id).where(
                        ObservationRow.participant_id.in_(ids),  # type: ignore[attr-defined]
                        ObservationRow.risk_flag.is_(True),  # type: ignore[attr-defined]
                        ObservationRow.recorded_at >= since,
                    )
                )
            ).scalars()
        )
        escalations_stmt = (
            select(EscalationRow.participant_id, func.count())
            .where(EscalationRow.participant_id.in_(ids), EscalationRow.acknowledged_at.is_(None))  # type: ignore[attr-defined,union-attr]
            .group_by(EscalationRow.participant_id)
        )
        escalations = dict((await self._s.execute(escalations_stmt)).all())
        return [
            CaseloadFacts(
                participant_id=pid,
                name=name,
                overdue=int(overdue.get(pid, 0)),
                next_due=next_due.get(pid),
                last_checkin=_local_day(last_checkin.get(pid), tz),
                risk_flag=pid in risky,
                open_escalations=int(escalations.get(pid, 0)),
            )
            for pid, name in participants
        ]


def _local_day(at: datetime | None, tz: tzinfo) -> date | None:
    return at.astimezone(tz).date() if at else None
