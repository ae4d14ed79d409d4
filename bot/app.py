"""Composition root: the only place that builds settings-driven objects and wires them together."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.simulator.clock import TimeMachine
from bot.channels.simulator.hub import SimulatorHub
from bot.config import ConfigError, Secrets, Settings, resolve_secrets
from bot.core.channel_names import SIMULATOR, TELEGRAM, ZALO
from bot.core.clock import Clock, ShiftedClock, SystemClock
from bot.core.i18n import Catalogs, default_locales_dir
from bot.core.liveness import Liveness
from bot.core.messages import OutboundMessage
from bot.core.ports import Messenger
from bot.core.telemetry import Telemetry
from bot.data import canned_replies_source, crisis_model_source, crisis_sources, hotlines_source
from bot.db.engine import is_sqlite as engine_is_sqlite
from bot.db.engine import make_engine, make_probe_engine
from bot.db.revision import at_head
from bot.db.store import Keyring, Repositories, Store
from bot.domain.canned import parse_canned_replies
from bot.domain.crisis import CrisisDetector, Deferred, Lexicon, Model
from bot.domain.hotlines import parse_hotlines
from bot.domain.invites import InvitePolicy
from bot.domain.planning import PlanPolicy
from bot.domain.schedule import QuietHours, ReminderPolicy
from bot.flows.context import Policies
from bot.flows.engine import ConversationEngine
from bot.flows.pushing import Links
from bot.flows.registry import Registry, build_registry
from bot.observability.telemetry import PrometheusTelemetry
from bot.scheduler.budget import DirectSends, SendBudget
from bot.scheduler.dispatcher import Dispatcher, DispatchPolicy
from bot.scheduler.leader import Locks, SoleProcess
from bot.scheduler.limits import RateLimits
from bot.scheduler.planner import Planner
from bot.scheduler.service import Scheduler
from bot.scheduler.texts import Renderer
from bot.services import signin
from bot.services.enrolment import Enrolment, EnrolmentPolicies
from bot.services.operators import Operator

if TYPE_CHECKING:
    from bot.channels.telegram.channel import TelegramChannel
    from bot.channels.zalo.channel import ZaloChannel

Sleep = Callable[[float], Awaitable[None]]

# The advisory lock one starting process holds while it migrates (beside the scheduler's, bot/scheduler/leader.py).
MIGRATION_LOCK = 0x44484E4800000003

# Channels without buttons: their people choose by typing an option's number or words, which the engine reads as that
# choice (Zalo lists the choices as text, bot/channels/zalo/render.py). On every other channel typed words are words.
TYPED_CHOICES = frozenset({ZALO})


class LazyChannels:
    """The platform channels, built on first use: their libraries (aiogram's ~300 pydantic models, httpx) are
    imported only by a process that talks to that platform, so `aftercare --help`, `unit list` or an idle `tick`
    start in a fraction of the time and `run` without a Telegram token never imports aiogram."""

    def __init__(self, factories: dict[str, Callable[[], object]]) -> None:
        self._factories = factories
        self._built: dict[str, object] = {}

    def get(self, channel: str) -> object | None:
        if channel not in self._factories:
            return None
        if channel not in self._built:
            self._built[channel] = self._factories[channel]()
        return self._built[channel]

    def built(self) -> list[object]:
        return list(self._built.values())


class LazyMessenger:
    """A channel as the dispatcher sees it (`Messenger`), built the first time something is sent through it."""

    def __init__(self, channel: str, channels: LazyChannels) -> None:
        self.channel = channel
        self._channels = channels

    def _messenger(self) -> Messenger:
        found = self._channels.get(self.channel)
        assert found is not None
        return found  # type: ignore[return-value]

    async def send(self, external_id: str, message: OutboundMessage) -> None:
        await self._messenger().send(external_id, message)

    async def push(self, external_id: str, message: OutboundMessage) -> None:
        await self._messenger().push(external_id, message)


@dataclass
class Application:
    settings: Settings
    secrets: Secrets
    clock: Clock
    engine: AsyncEngine
    store: Store
    catalogs: Catalogs
    conversation: ConversationEngine
    simulator: SimulatorHub
    scheduler: Scheduler
    policies: Policies = field(default_factory=Policies)
    channels: LazyChannels = field(default_factory=lambda: LazyChannels({}))
    liveness: Liveness | None = None  # pollers and scheduler jobs beat here; /healthz reports it
    # The clock the simulator may move ahead (development with the simulator on; `clock` is it); None: real time.
    rehearsal: ShiftedClock | None = None
    probe: AsyncEngine | None = None  # /healthz's pool-less engine on a server database (None: use `engine`)

    @property
    def telegram(self) -> TelegramChannel | None:
        """The Telegram channel (built, and aiogram imported, on first access); None without a token."""
        return self.channels.get(TELEGRAM)  # type: ignore[return-value]

    @property
    def zalo(self) -> ZaloChannel | None:
        return self.channels.get(ZALO)  # type: ignore[return-value]

    async def migrate(self) -> None:
        """Apply migrations, then check that the configured keys fit the data (`ConfigError` naming the setting
        when not: refused at start-up, never a crash later); when the database is already at the newest one,
        neither Alembic nor the migration scripts are loaded (a third of a short command's start-up)."""
        if not await at_head(self.engine):
            from bot.db import migrate

            if engine_is_sqlite(self.settings.database_url):
                await migrate.upgrade(self.engine, key=self.secrets.encryption_key)  # 0008 re-seals stored values
            else:  # several containers starting at once: one migrates, the others wait and find it done
                async with self.engine.begin() as held:  # a transaction's lock: also through PgBouncer
                    await held.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
                    if not await at_head(self.engine):
                        await migrate.upgrade(self.engine, key=self.secrets.encryption_key)
        from bot.services.keys import KeyMismatch, check_keys

        try:
            await check_keys(self.store, self.clock)
        except KeyMismatch as exc:
            raise ConfigError(str(exc)) from exc

    async def outbox_due(self, repos: Repositories) -> tuple[int, float | None]:
        """What the outbox owes now and how long its oldest has waited (metrics, `outbox status`); in quiet hours
        only the urgent messages, the only ones that may go then."""
        now = self.clock.now()
        quiet = QuietHours(*self.settings.quiet).contains(now.astimezone(ZoneInfo(self.settings.timezone)))
        return await repos.outbox.due(now, urgent_only=quiet)

    def enrolment(self, repos: Repositories, operator: Operator | None = None) -> Enrolment:
        policies = EnrolmentPolicies(invites=self.policies.invites)
        return Enrolment(repos, self.store.keyring, self.clock, policies, operator)

    async def simulator_labels(self) -> dict[str, str]:
        """Simulator chats already linked, labelled by role and record number (no names)."""
        async with self.store.transaction() as repos:
            pairs = await repos.identities.for_channel(SIMULATOR)
            labels: dict[str, str] = {}
            for external_id, identity in pairs:
                if identity.staff_id is not None:
                    member = await repos.staff.get(identity.staff_id)
                    role = member.role.value if member else "staff"
                    labels[external_id] = f"{external_id} · {role} #{identity.staff_id}"
                else:
                    labels[external_id] = f"{external_id} · participant #{identity.participant_id}"
            return labels

    async def aclose(self) -> None:
        for channel in self.channels.built():  # only what was built: closing must not import a platform's library
            await channel.close()  # type: ignore[attr-defined]
        await self.scheduler.locks.close()
        await self.engine.dispose()
        if self.probe is not None:
            await self.probe.dispose()


def build_application(
    settings: Settings,
    *,
    clock: Clock | None = None,
    locales_dir: Path | None = None,
    sleep: Sleep = asyncio.sleep,
) -> Application:
    """`sleep` is what retries and rate-limit waits call; tests pass one that records instead of waiting.

    In development with the simulator on, the application's clock is a `ShiftedClock` over the given (or real) one,
    which the simulator's time control moves ahead; in production it is the real clock, untouched."""
    real = clock or SystemClock()
    rehearsal = ShiftedClock(real) if settings.simulator_on and not settings.is_production else None
    clock = rehearsal or real
    secrets = resolve_secrets(settings)
    engine = make_engine(settings.database_url, pooler=settings.database_pooler)
    telemetry = PrometheusTelemetry()  # prometheus_client imported at the first observation, not here
    store = Store(engine, Keyring(secrets.encryption_key, secrets.previous_keys), clock, telemetry)
    catalogs = Catalogs(locales_dir or default_locales_dir())
    policies = Policies(
        invites=InvitePolicy(ttl=timedelta(days=settings.invite_ttl_days)),
        crisis=Deferred(
            lambda: CrisisDetector(
                Lexicon.parse(crisis_sources(settings.crisis_phrases_dir)), Model.load(crisis_model_source())
            )
        ),
        hotlines=parse_hotlines(hotlines_source(settings.hotlines_file)),
        canned=parse_canned_replies(canned_replies_source(settings.canned_replies_file)),
        inbound_per_minute=settings.inbound_per_minute,
        console_url=signin.base_url(settings.public_url, settings.http_host, settings.http_port),
        data_request_days=settings.data_request_days,
        retention_days=settings.retention_days,
    )
    flows = build_registry()  # one table of flows: what the engine routes and what the scheduler asks to word pushes
    conversation = ConversationEngine(
        store, catalogs, clock, ZoneInfo(settings.timezone), policies, flows, typed_choices=TYPED_CHOICES
    )
    factories: dict[str, Callable[[], object]] = {}
    direct_sends = DirectSends()  # every reply a channel sends itself, against the bot's one rate
    if settings.telegram_token is not None:
        token = settings.telegram_token.get_secret_value()

        def telegram() -> object:
            from bot.channels.telegram.channel import TelegramChannel, make_bot

            bot = make_bot(token, settings.telegram_api_url)
            return TelegramChannel(bot, conversation, store, catalogs, sleep, counter=direct_sends)

        factories[TELEGRAM] = telegram
    if settings.zalo_token is not None:
        zalo_token = settings.zalo_token.get_secret_value()

        def zalo() -> object:
            from bot.channels.zalo.channel import ZaloChannel
            from bot.channels.zalo.client import ZaloClient

            client = ZaloClient(zalo_token, settings.zalo_api_url, sleep=sleep)
            return ZaloChannel(client, conversation, store, catalogs, sleep, counter=direct_sends)

        factories[ZALO] = zalo
    channels = LazyChannels(factories)
    messengers: dict[str, Messenger] = {}
    simulator = SimulatorHub(conversation, clock)
    if settings.simulator_on:
        messengers[SIMULATOR] = simulator
    for name in factories:
        messengers[name] = LazyMessenger(name, channels)
    liveness = Liveness(real)  # how long a poller or job has been silent is real time, whatever the simulated one
    scheduler = build_scheduler(
        settings,
        store,
        catalogs,
        clock,
        messengers,
        sleep,
        liveness,
        flows,
        direct_sends,
        leadership(settings),
        telemetry,
    )
    if rehearsal is not None:

        async def tick() -> dict[str, Any]:
            return (await scheduler.tick()).as_dict()

        simulator.time_machine = TimeMachine(rehearsal, tick, ZoneInfo(settings.timezone))
    return Application(
        settings=settings,
        secrets=secrets,
        clock=clock,
        engine=engine,
        store=store,
        catalogs=catalogs,
        conversation=conversation,
        simulator=simulator,
        policies=policies,
        channels=channels,
        scheduler=scheduler,
        liveness=liveness,
        probe=make_probe_engine(settings.database_url, pooler=settings.database_pooler),
        rehearsal=rehearsal,
    )


def leadership(settings: Settings) -> Locks:
    """Advisory locks on a dedicated connection (PostgreSQL: any number of processes, one plans and one sends);
    on SQLite the one process leads everything. The connection is made on first use, not here."""
    if engine_is_sqlite(settings.database_url):
        return SoleProcess()
    from bot.db.locks import SessionLocks  # asyncpg: only a process on PostgreSQL

    return SessionLocks(settings.direct_database_url or settings.database_url)


def build_scheduler(
    settings: Settings,
    store: Store,
    catalogs: Catalogs,
    clock: Clock,
    messengers: dict[str, Messenger],
    sleep: Sleep,
    liveness: Liveness | None = None,
    flows: Registry | None = None,
    direct_sends: DirectSends | None = None,
    locks: Locks | None = None,
    telemetry: Telemetry | None = None,
) -> Scheduler:
    tz = ZoneInfo(settings.timezone)
    quiet = QuietHours(*settings.quiet)
    plan_policy = PlanPolicy(
        reminders=ReminderPolicy(quiet=quiet),
        urgent_referral_within=timedelta(minutes=settings.urgent_referral_minutes),
        safety_check_within=timedelta(minutes=settings.safety_check_minutes),
        retention=timedelta(days=settings.retention_days),
    )
    # Two pages at a time hold two connections for whole pages: behind PgBouncer's few server connections the
    # webhooks and the sender would wait for them, so one there.
    planner = Planner(store, clock, tz, plan_policy, page_workers=1 if settings.database_pooler == "pgbouncer" else 2)
    limits = RateLimits(
        {"telegram": settings.telegram_rate_limit, "zalo": settings.zalo_rate_limit}, per_chat_interval=1.0, sleep=sleep
    )
    policy = DispatchPolicy(quiet=quiet, max_attempts=settings.outbox_max_attempts)
    links = Links(
        signin.base_url(settings.public_url, settings.http_host, settings.http_port),
        public=bool(settings.public_url),
        valid_for_hours=settings.data_link_hours,
    )
    renderer = Renderer(catalogs, tz, flows, links)
    dispatcher = Dispatcher(store, renderer, messengers, limits, clock, tz, policy, telemetry)
    locks = locks or SoleProcess()
    # One process (SQLite): its own direct sends are all there are; several: each writes its counts, the sender reads.
    budget = SendBudget(store if locks.exclusive else None, limits, direct_sends or DirectSends())
    scheduler = Scheduler(
        planner, dispatcher, clock, liveness, locks=locks, budget=budget, store=store, telemetry=telemetry
    )
    limits.gate = scheduler.may_send  # a process that lost the send lock sends nothing more
    return scheduler
