"""The persistence entry point: one `Repositories` bundle per transaction."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from functools import cached_property

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.core.clock import Clock
from bot.core.telemetry import NoTelemetry, Telemetry
from bot.db.crypto import Keyring
from bot.db.engine import make_session_factory
from bot.db.repositories.audit import AuditRepository
from bot.db.repositories.chats import ChatGuardRepository
from bot.db.repositories.consents import ConsentRepository
from bot.db.repositories.conversations import ConversationRepository
from bot.db.repositories.data_requests import DataRequestRepository
from bot.db.repositories.delivery import InboundRepository
from bot.db.repositories.escalations import EscalationRepository
from bot.db.repositories.fieldwork import FieldworkRepository
from bot.db.repositories.identities import IdentityRepository
from bot.db.repositories.invites import InviteRepository
from bot.db.repositories.obligations import AbsenceRepository, CheckinRepository, ObligationRepository
from bot.db.repositories.outbox import OutboxRepository
from bot.db.repositories.people import ParticipantRepository, StaffRepository
from bot.db.repositories.planning import PlanningRepository
from bot.db.repositories.referrals import ReferralRepository
from bot.db.repositories.relay import RelayRepository
from bot.db.repositories.reports import ReportRepository
from bot.db.repositories.retention import RetentionRepository
from bot.db.repositories.safety import SafetyCheckRepository
from bot.db.repositories.units import CounsellingPointRepository, UnitRepository

log = structlog.get_logger(__name__)


class Repositories:
    """The repositories of one transaction, sharing its session. Each is made when first used: a message touches two
    or three of the twenty-odd, and making them all cost a fifth of a millisecond per transaction."""

    def __init__(self, session: AsyncSession, clock: Clock, keyring: Keyring) -> None:
        self.session = session
        self._clock = clock
        self._keyring = keyring
        # What to tell the operator's metrics once this transaction has committed (a rolled-back one tells nothing).
        self.observations: list[Callable[[Telemetry], None]] = []

    def observe(self, what: Callable[[Telemetry], None]) -> None:
        self.observations.append(what)

    @cached_property
    def units(self) -> UnitRepository:
        return UnitRepository(self.session, self._clock)

    @cached_property
    def points(self) -> CounsellingPointRepository:
        return CounsellingPointRepository(self.session, self._clock)

    @cached_property
    def staff(self) -> StaffRepository:
        return StaffRepository(self.session, self._clock)

    @cached_property
    def participants(self) -> ParticipantRepository:
        keyring = self._keyring
        return ParticipantRepository(
            self.session, self._clock, keyring.cipher, keyring.lookup_key, keyring.lookup_keys[1:]
        )

    @cached_property
    def identities(self) -> IdentityRepository:
        return IdentityRepository(self.session, self._clock, self._keyring)

    @cached_property
    def invites(self) -> InviteRepository:
        return InviteRepository(self.session, self._clock)

    @cached_property
    def consents(self) -> ConsentRepository:
        return ConsentRepository(self.session, self._clock)

    @cached_property
    def conversations(self) -> ConversationRepository:
        return ConversationRepository(self.session, self._clock, self._keyring.cipher)

    @cached_property
    def audit(self) -> AuditRepository:
        keyring = self._keyring
        return AuditRepository(self.session, self._clock, keyring.audit_key, keyring.audit_keys[1:], keyring.key_id)

    @cached_property
    def chats(self) -> ChatGuardRepository:
        return ChatGuardRepository(self.session, self._clock)

    @cached_property
    def inbound(self) -> InboundRepository:
        return InboundRepository(self.session, self._clock, self._keyring.cipher)

    @cached_property
    def obligations(self) -> ObligationRepository:
        return ObligationRepository(self.session, self._clock)

    @cached_property
    def checkins(self) -> CheckinRepository:
        return CheckinRepository(self.session, self._clock, self._keyring.cipher)

    @cached_property
    def absences(self) -> AbsenceRepository:
        return AbsenceRepository(self.session, self._clock, self._keyring.cipher)

    @cached_property
    def outbox(self) -> OutboxRepository:
        return OutboxRepository(self.session, self._clock)

    @cached_property
    def escalations(self) -> EscalationRepository:
        return EscalationRepository(self.session, self._clock, self._keyring.cipher)

    @cached_property
    def referrals(self) -> ReferralRepository:
        return ReferralRepository(self.session, self._clock, self._keyring.cipher)

    @cached_property
    def relay(self) -> RelayRepository:
        return RelayRepository(self.session, self._clock, self._keyring.cipher)

    @cached_property
    def safety(self) -> SafetyCheckRepository:
        return SafetyCheckRepository(self.session, self._clock)

    @cached_property
    def fieldwork(self) -> FieldworkRepository:
        return FieldworkRepository(self.session, self._clock, self._keyring.cipher)

    @cached_property
    def planning(self) -> PlanningRepository:
        return PlanningRepository(self.session, self._keyring)

    @cached_property
    def reports(self) -> ReportRepository:
        return ReportRepository(self.session, self._clock, self._keyring.cipher)

    @cached_property
    def data_requests(self) -> DataRequestRepository:
        return DataRequestRepository(self.session, self._clock, self._keyring.cipher)

    @cached_property
    def retention(self) -> RetentionRepository:
        return RetentionRepository(self.session, self._clock, self.audit, self.reports)


class Store:
    def __init__(self, engine: AsyncEngine, keyring: Keyring, clock: Clock, telemetry: Telemetry | None = None) -> None:
        self.engine = engine
        self.keyring = keyring
        self._clock = clock
        self.telemetry = telemetry or NoTelemetry()
        self._sessions: async_sessionmaker[AsyncSession] = make_session_factory(engine)
        # SQLite has one writer at a time; queueing here beats its busy-timeout back-off (long latency tails).
        self._serial = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    @property
    def concurrent_writers(self) -> bool:
        """Whether write transactions run at once (PostgreSQL) or one after another (SQLite, queued here)."""
        return self._serial is None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Repositories]:
        """Commit when the block ends normally, roll back when it raises; then what the block asked to `observe`."""
        async with self._serialised(), self._sessions() as session, session.begin():
            repos = self._bundle(session)
            yield repos
        for what in repos.observations:  # committed: an observation that fails must not look like a failed write
            try:
                what(self.telemetry)
            except Exception:
                log.warning("observation_failed", exc_info=True)

    def _serialised(self) -> AbstractAsyncContextManager[object]:
        return self._serial if self._serial is not None else nullcontext()

    def _bundle(self, session: AsyncSession) -> Repositories:
        return Repositories(session, self._clock, self.keyring)
