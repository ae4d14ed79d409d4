"""The persistence entry point: one `Repositories` bundle per transaction."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass, field

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


@dataclass(slots=True)
class Repositories:
    session: AsyncSession
    units: UnitRepository
    points: CounsellingPointRepository
    staff: StaffRepository
    participants: ParticipantRepository
    identities: IdentityRepository
    invites: InviteRepository
    consents: ConsentRepository
    conversations: ConversationRepository
    audit: AuditRepository
    chats: ChatGuardRepository
    inbound: InboundRepository
    obligations: ObligationRepository
    checkins: CheckinRepository
    absences: AbsenceRepository
    outbox: OutboxRepository
    escalations: EscalationRepository
    referrals: ReferralRepository
    relay: RelayRepository
    safety: SafetyCheckRepository
    fieldwork: FieldworkRepository
    planning: PlanningRepository
    reports: ReportRepository
    data_requests: DataRequestRepository
    retention: RetentionRepository
    # What to tell the operator's metrics once this transaction has committed (a rolled-back one tells nothing).
    observations: list[Callable[[Telemetry], None]] = field(default_factory=list)

    def observe(self, what: Callable[[Telemetry], None]) -> None:
        self.observations.append(what)


class Store:
    def __init__(self, engine: AsyncEngine, keyring: Keyring, clock: Clock, telemetry: Telemetry | None = None) -> None:
        self.engine = engine
        self.keyring = keyring
        self._clock = clock
        self.telemetry = telemetry or NoTelemetry()
        self._sessions: async_sessionmaker[AsyncSession] = make_session_factory(engine)
        # SQLite has one writer at a time; queueing here beats its busy-timeout back-off (long latency tails).
        self._serial = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Repositories]:
        """Commit when the block ends normally, roll back when it raises; then what the block asked to `observe`."""
        async with self._serialised(), self._sessions() as session, session.begin():
            repos = self._bundle(session)
            yield repos
        for what in repos.observations:
            what(self.telemetry)

    def _serialised(self) -> AbstractAsyncContextManager[object]:
        return self._serial if self._serial is not None else nullcontext()

    def _bundle(self, session: AsyncSession) -> Repositories:
        clock = self._clock
        audit = AuditRepository(
            session, clock, self.keyring.audit_key, self.keyring.audit_keys[1:], self.keyring.key_id
        )
        reports = ReportRepository(session, clock, self.keyring.cipher)
        return Repositories(
            session=session,
            units=UnitRepository(session, clock),
            points=CounsellingPointRepository(session, clock),
            staff=StaffRepository(session, clock),
            participants=ParticipantRepository(
                session, clock, self.keyring.cipher, self.keyring.lookup_key, self.keyring.lookup_keys[1:]
            ),
            identities=IdentityRepository(session, clock, self.keyring),
            invites=InviteRepository(session, clock),
            consents=ConsentRepository(session, clock),
            conversations=ConversationRepository(session, clock, self.keyring.cipher),
            audit=audit,
            chats=ChatGuardRepository(session, clock),
            inbound=InboundRepository(session, clock, self.keyring.cipher),
            obligations=ObligationRepository(session, clock),
            checkins=CheckinRepository(session, clock, self.keyring.cipher),
            absences=AbsenceRepository(session, clock, self.keyring.cipher),
            outbox=OutboxRepository(session, clock),
            escalations=EscalationRepository(session, clock, self.keyring.cipher),
            fieldwork=FieldworkRepository(session, clock, self.keyring.cipher),
            referrals=ReferralRepository(session, clock, self.keyring.cipher),
            relay=RelayRepository(session, clock, self.keyring.cipher),
            safety=SafetyCheckRepository(session, clock),
            planning=PlanningRepository(session, self.keyring),
            reports=reports,
            data_requests=DataRequestRepository(session, clock, self.keyring.cipher),
            retention=RetentionRepository(session, clock, audit, reports),
        )
