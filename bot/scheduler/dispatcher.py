"""Dispatch: claim due outbox rows under a lease, send each through its channel, record what happened.

At-least-once at the platform, exactly-once in the normal case: a row is claimed by one dispatcher (SKIP LOCKED),
sent, and closed. Rows the platform accepted are closed in small groups, one short transaction per `close_group`
messages or per `close_within` (whichever comes first; a commit per message was most of a message's cost). Only a
process that dies between sending and closing leaves rows whose lease runs out and which are sent again: at most
what was in flight, that is `concurrency` sends at the platform plus `2 × close_group` accepted ones not yet closed
(one group committing, one filling; a full group makes the next accepted send wait). Nothing is ever lost.

A staff member's notification that finds no chat the bot can reach (they have not linked one yet) is held, not
cancelled: it goes out, oldest first, once they link a chat, unless it expired meanwhile (`held_until`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo

import structlog

from bot.core.clock import Clock
from bot.core.messages import OutboundMessage, join
from bot.core.ports import DeliveryDeferred, DeliveryRefused, Messenger
from bot.core.telemetry import NoTelemetry, Telemetry
from bot.db.repositories.outbox import Claimed, NewMessage, OutboxStatus
from bot.db.repositories.planning import Chat
from bot.db.store import Repositories, Store
from bot.domain.planning import MessageKind
from bot.domain.schedule import QuietHours
from bot.scheduler.limits import RateLimits
from bot.scheduler.texts import Renderer, Skip
from bot.services import reachability
from bot.services.escalations import cadre_cannot_act, raise_unreachable

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class DispatchPolicy:
    batch: int = 100
    concurrency: int = 32
    # Accepted messages are closed together: one transaction per this many, or per `close_within` seconds after the
    # first of a group was accepted. Bounds what a crash re-sends (see the module's docstring).
    close_group: int = 16
    close_within: float = 0.05
    lease: timedelta = timedelta(minutes=5)
    # Crisis alerts and conversations: after a crash they go out again within seconds, not minutes. Longer than one
    # platform call takes; a row that waited (rate limits, a slow batch) has its lease renewed right before it is
    # sent, so a second dispatcher never takes a row that is still being worked on.
    urgent_lease: timedelta = timedelta(seconds=30)
    max_attempts: int = 8
    first_backoff: timedelta = timedelta(seconds=30)
    max_backoff: timedelta = timedelta(hours=1)
    quiet: QuietHours = field(default_factory=QuietHours)
    # How long a staff notification waits for its staff member to link a chat (a digest or a review request: only
    # until its day ends, see `held_until`). Past it, the console and the chat's lists say the same, fresher.
    hold_for: timedelta = timedelta(days=30)

    def backoff(self, attempts: int) -> timedelta:
        return min(self.max_backoff, self.first_backoff * 2 ** max(0, attempts - 1))


@dataclass
class DispatchReport:
    sent: int = 0
    cancelled: int = 0
    retried: int = 0
    dead: int = 0
    undeliverable: int = 0
    held_for_quiet_hours: bool = False
    held_for_a_chat: int = 0  # staff notifications kept until their staff member links a chat (not failures)
    released: int = 0  # kept ones whose staff member has linked a chat since: queued again now


@dataclass(frozen=True, slots=True)
class _Hold:
    """Kept for its staff member until they link a chat, at most until `until`."""

    until: datetime


# Kinds sent again every day while they matter: one kept past its day would arrive stale, beside today's.
_OF_THE_DAY = frozenset({MessageKind.DIGEST, MessageKind.REVIEW_REQUEST})


def held_until(item: Claimed, tz: tzinfo, keep: timedelta) -> datetime:
    """How long a staff notification is kept for a staff member without a chat. A morning digest or a review
    request is worth reading only on its day (tomorrow brings a new one, and the chat's and the console's lists
    show what is still open), so it is kept until midnight where the commune is. Anything else (an alert, an
    assignment, a report to confirm, a request to talk) is kept `keep` after it was due: it is re-read when it goes
    out, so one dealt with meanwhile (acknowledged, taken, reassigned) is not sent at all."""
    if item.kind in _OF_THE_DAY:
        raw = item.payload.get("day")
        try:
            day = date.fromisoformat(raw) if isinstance(raw, str) else item.due_at.astimezone(tz).date()
        except ValueError:
            day = item.due_at.astimezone(tz).date()
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return item.due_at + keep


@dataclass(frozen=True, slots=True)
class _Job:
    item: Claimed
    chat: Chat | None
    message: OutboundMessage | Skip | _Hold


@dataclass(frozen=True, slots=True)
class _Send:
    """What one chat gets in one batch: its messages joined into one (one notification, one numbered menu)."""

    chat: Chat
    jobs: tuple[_Job, ...]
    message: OutboundMessage


def bundle(jobs: list[_Job]) -> tuple[list[_Send], list[_Job]]:
    """Group sendable jobs by chat, oldest first; return (sends, jobs to close without sending). A message with files
    goes on its own: a retry of it never repeats other messages' texts."""
    by_chat: dict[tuple[int, int], list[_Job]] = {}
    skipped = []
    for job in jobs:
        if not isinstance(job.message, OutboundMessage) or job.chat is None:
            skipped.append(job)
        else:
            alone = job.item.id if job.message.documents else 0
            by_chat.setdefault((job.chat.identity_id, alone), []).append(job)
    sends = []
    for group in by_chat.values():
        messages = [job.message for job in group if isinstance(job.message, OutboundMessage)]
        assert group[0].chat is not None
        sends.append(_Send(group[0].chat, tuple(group), join(messages)))
    return sends, skipped


@dataclass(frozen=True, slots=True)
class _Outcome:
    status: str  # sent | cancelled | held | retry | refund | unreachable | dead | lost
    reason: str | None = None
    retry_after: float | None = None
    lost: frozenset[int] = frozenset()  # rows another dispatcher reclaimed meanwhile: theirs, left untouched


class _Closer:
    """Collects accepted sends and closes them in groups (`close` gets each group): when `every` are waiting, or
    `within` seconds after the first of a group was accepted. While one group commits the next fills; when that one
    is full too, `add` waits, so no more than two groups are ever accepted and not yet closed. Leaving the block
    closes whatever is left; a failed close is logged and its rows stay leased (sent again when the lease runs out,
    as after a crash)."""

    def __init__(self, close: Callable[[list[_Send]], Awaitable[None]], every: int, within: float) -> None:
        self._close = close
        self._every = max(1, every)
        self._within = within
        self._pending: list[_Send] = []
        self._count = 0  # messages (rows) in `_pending`
        self._arrived = asyncio.Event()
        self._full = asyncio.Event()
        self._room = asyncio.Condition()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> _Closer:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._stopping = True
        self._arrived.set()
        self._full.set()
        assert self._task is not None
        await self._task

    async def add(self, send: _Send) -> None:
        async with self._room:
            await self._room.wait_for(lambda: self._count < self._every)
            self._pending.append(send)
            self._count += len(send.jobs)
        self._arrived.set()
        if self._count >= self._every:
            self._full.set()

    async def _run(self) -> None:
        while True:
            await self._arrived.wait()
            if not self._stopping:
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), self._within)
            async with self._room:
                group, self._pending, self._count = self._pending, [], 0
                self._arrived.clear()
                self._full.clear()
                self._room.notify_all()
            if group:
                try:
                    await self._close(group)
                except Exception:
                    log.exception("outbox_close_failed", outbox_ids=[j.item.id for s in group for j in s.jobs])
            if self._stopping and not self._pending:
                return


class Dispatcher:
    def __init__(
        self,
        store: Store,
        renderer: Renderer,
        messengers: Mapping[str, Messenger],
        limits: RateLimits,
        clock: Clock,
        tz: tzinfo,
        policy: DispatchPolicy | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self._store = store
        self._renderer = renderer
        self._messengers = messengers
        self._limits = limits
        self._clock = clock
        self._tz = tz
        self.policy = policy or DispatchPolicy()
        self._telemetry = telemetry or NoTelemetry()

    def without(self, channel: str) -> None:
        """Leave this channel's messages to another process (they are released untouched, not retried)."""
        self._messengers = {name: m for name, m in self._messengers.items() if name != channel}

    async def run(
        self,
        now: datetime | None = None,
        max_batches: int | None = None,
        *,
        urgent_only: bool = False,
        keep_going: Callable[[], bool] | None = None,
    ) -> DispatchReport:
        """Send everything due at `now` (default: the clock), batch after batch, then return. `urgent_only`: crisis
        alerts and conversations alone (the urgent lane, beside a long burst); `keep_going` is asked before each
        batch (false: this process no longer leads the outbox, stop)."""
        report = DispatchReport()
        batches = 0
        fixed = now
        async with self._store.transaction() as repos:  # kept for a staff member who has linked a chat since: due
            expired, report.released = await repos.outbox.settle_held(fixed or self._clock.now())
        if expired:
            log.info("outbox_held_expired", count=expired)
        while (max_batches is None or batches < max_batches) and (keep_going is None or keep_going()):
            at = fixed or self._clock.now()
            quiet = self.policy.quiet.contains(at.astimezone(self._tz))
            report.held_for_quiet_hours = quiet
            async with self._store.transaction() as repos:
                claimed = await repos.outbox.claim(
                    at,
                    self.policy.batch,
                    self.policy.lease,
                    urgent_only=quiet or urgent_only,
                    urgent_lease=self.policy.urgent_lease,
                )
            if not claimed:
                break
            batches += 1
            jobs = await self._make_files(await self._prepare(claimed, at))
            sends, skipped = bundle(jobs)
            outcomes = await self._send_all(sends, at)
            await self._record(list(zip(sends, outcomes, strict=True)), skipped, at, report)
            self._telemetry.job_ran("dispatch")  # a morning burst runs for minutes: each batch shows it alive
        return report

    async def _prepare(self, claimed: list[Claimed], now: datetime) -> list[_Job]:
        async with self._store.transaction() as repos:
            participants = [c.participant_id for c in claimed if c.participant_id is not None]
            staff = [c.staff_id for c in claimed if c.staff_id is not None]
            by_participant, by_staff = await repos.planning.chats(participants, staff)
            # What rendering reads, a query per table instead of per row (held here: the session keeps weak refs).
            loaded = await repos.outbox.preload(claimed)
            # Active staff without a chat the bot can reach: their notifications wait for one (closed: cancelled).
            waiting = await repos.staff.active_among(sorted({sid for sid in staff if sid not in by_staff}))
            jobs = []
            for item in claimed:
                chat = (
                    by_participant.get(item.participant_id)
                    if item.participant_id is not None
                    else by_staff.get(item.staff_id or 0)
                )
                message: OutboundMessage | Skip | _Hold
                try:
                    if chat is not None:
                        message = await self._renderer.render(repos, item, now, chat.channel)
                    elif item.participant_id is None and item.staff_id in waiting:
                        message = _Hold(held_until(item, self._tz, self.policy.hold_for))
                    else:
                        message = Skip("no_chat")
                except Exception:  # a bad row must not block the others
                    log.exception("outbox_render_failed", outbox_id=item.id, kind=item.kind.value)
                    message = Skip("render_failed")
                jobs.append(_Job(item, chat, message))
            del loaded
            return jobs

    async def _make_files(self, jobs: list[_Job]) -> list[_Job]:
        """Files still to be made (a PDF: a second of CPU) are made now, outside any database transaction."""
        made = []
        for job in jobs:
            message = job.message
            if isinstance(message, OutboundMessage) and message.make is not None:
                try:
                    documents = await message.make()
                    message = replace(message, documents=message.documents + documents, make=None)
                except Exception:  # like a failed rendering: this row closed, the others go on
                    log.exception("outbox_files_failed", outbox_id=job.item.id, kind=job.item.kind.value)
                    message = Skip("render_failed")
                job = replace(job, message=message)
            made.append(job)
        return made

    async def _send_all(self, sends: list[_Send], now: datetime) -> list[_Outcome]:
        gate = asyncio.Semaphore(self.policy.concurrency)

        async with _Closer(self._mark_sent, self.policy.close_group, self.policy.close_within) as closer:

            async def one(send: _Send) -> _Outcome:
                async with gate:
                    outcome = await self._send(send, now)
                    if outcome.status == "sent":
                        # Still inside the gate: a send waiting for room in a group counts as in flight, so no more
                        # than `concurrency` are ever sent or waiting beyond the two groups.
                        await closer.add(send)
                return outcome

            return list(await asyncio.gather(*(one(send) for send in sends)))

    async def _send(self, send: _Send, now: datetime) -> _Outcome:
        chat = send.chat
        messenger = self._messengers.get(chat.channel)
        if messenger is None:  # another process serves this channel (the simulator lives inside `run`)
            return _Outcome("refund", "channel_elsewhere", 60.0)
        paused = self._limits.paused_until(chat.channel, now)
        if paused is not None:
            return _Outcome("refund", "channel_paused", (paused - now).total_seconds())
        try:
            async with self._limits.slot(chat.channel, chat.external_id):
                paused = self._limits.paused_until(chat.channel, self._clock.now())
                if paused is not None:  # a 429 came, or the lead was lost, while this send waited its turn: untried
                    return _Outcome("refund", "channel_paused", max(1.0, (paused - self._clock.now()).total_seconds()))
                lost = await self._keep_lease(send)  # after every wait, right before the platform is asked
                if lost:
                    held = len(lost) < len(send.jobs)  # the rest go out on their own next time, not merged
                    return _Outcome("refund" if held else "lost", "lease_lost", 1.0 if held else None, lost)
                with self._telemetry.sending(chat.channel):
                    await messenger.push(chat.external_id, send.message)
        except DeliveryDeferred as exc:
            if exc.retry_after:  # from the moment the platform said so, not from the batch's start
                self._limits.pause(chat.channel, self._clock.now(), exc.retry_after)
            return _Outcome("retry", exc.reason, exc.retry_after)
        except DeliveryRefused as exc:
            return _Outcome("unreachable" if exc.unreachable else "dead", exc.reason)
        except Exception as exc:  # an adapter bug: retry later, it may be transient
            log.exception("outbox_send_failed", outbox_ids=[j.item.id for j in send.jobs], channel=chat.channel)
            return _Outcome("retry", type(exc).__name__[:64])
        return _Outcome("sent")

    async def _keep_lease(self, send: _Send) -> frozenset[int]:
        """Renew the leases of a send's rows when little of the shortest lease is left (a wait for the rate limit,
        the chat's gap, the concurrency gate or a slow batch): a lease that ran out lets a second dispatcher claim
        the row, and both would send it. Returns the rows that were reclaimed meanwhile (never to be sent here).
        What this cannot cover: one platform call that itself outlasts the lease."""
        now = self._clock.now()
        soon = now + self.policy.urgent_lease / 2  # half of the shortest lease left: renew (not on every send)
        items = [job.item for job in send.jobs]
        if all(item.leased_until is None or item.leased_until >= soon for item in items):
            return frozenset()
        until = now + (self.policy.urgent_lease if any(item.urgent for item in items) else self.policy.lease)
        async with self._store.transaction() as repos:
            kept = await repos.outbox.extend_lease(items, until)
        lost = frozenset(item.id for item in items if item.id not in kept)
        if lost:
            log.warning("outbox_lease_lost", outbox_ids=sorted(lost))
        return lost

    async def _mark_sent(self, group: list[_Send]) -> None:
        """Close a group of accepted sends in one transaction: a crash after this point re-sends none of them; a
        crash before re-sends them (and what else was in flight) once their leases run out."""
        async with self._store.transaction() as repos:
            await repos.outbox.finish([job.item for send in group for job in send.jobs], OutboxStatus.SENT)
            # Their buttons are now valid choices in those chats (a press is not "stale").
            await repos.conversations.offer_many(
                [(send.chat.identity_id, send.message.buttons, send.message.typed_by)
                 for send in group if send.message.buttons]
            )  # fmt: skip
        for send in group:
            for job in send.jobs:  # what only a message that went out records (a copy delivered, its export)
                if not self._renderer.records_when_sent(job.item):
                    continue
                try:  # apart: a failure here must not leave the row open to be sent again
                    async with self._store.transaction() as repos:
                        await self._renderer.sent(repos, job.item, send.chat.channel, self._clock.now())
                except Exception:
                    log.exception("outbox_after_sent_failed", outbox_id=job.item.id, kind=job.item.kind.value)

    async def _record(
        self, sent_or_not: list[tuple[_Send, _Outcome]], skipped: list[_Job], now: datetime, report: DispatchReport
    ) -> None:
        results = [(job, outcome) for send, outcome in sent_or_not for job in send.jobs
                    if job.item.id not in outcome.lost]  # fmt: skip
        results += [(job, _left_out(job)) for job in skipped]
        labels = ((j.chat.channel if j.chat else "none", j.item.kind.value, o.status) for j, o in results)
        self._telemetry.dispatched(labels)  # the operator's counts by channel, kind and outcome
        report.sent += sum(1 for _, outcome in results if outcome.status == "sent")
        if all(outcome.status == "sent" for _, outcome in results):
            return
        async with self._store.transaction() as repos:
            for job, outcome in results:
                if outcome.status == "sent":
                    continue
                if outcome.status == "held":
                    assert isinstance(job.message, _Hold)
                    await self._hold(repos, job, job.message.until, now, report)
                elif outcome.status == "cancelled":
                    await repos.outbox.finish([job.item], OutboxStatus.CANCELLED, outcome.reason)
                    report.cancelled += 1
                    if _cadre_gone(job, outcome):  # closed or unlinked since it was queued: the officers, now
                        await cadre_cannot_act(repos, int(job.item.payload.get("escalation_id", 0)), now)
                elif outcome.status == "refund":
                    wait = timedelta(seconds=outcome.retry_after or 1)
                    await repos.outbox.retry_at(job.item, now + wait, outcome.reason or "", refund=True)
                    report.retried += 1
                elif outcome.status == "retry":
                    await self._retry(repos, job, outcome, now, report)
                elif outcome.status == "unreachable":
                    await self._unreachable(repos, job, now)
                    report.undeliverable += 1
                else:
                    await self._dead(repos, job, outcome.reason or "refused", now)
                    report.dead += 1

    async def _hold(
        self, repos: Repositories, job: _Job, until: datetime, now: datetime, report: DispatchReport
    ) -> None:
        """No chat to reach an active staff member by: kept for when they link one, unless already past its time. A
        cadre's escalation alert still goes to the officers now (someone must act today); the cadre reads it later
        if it is still open then."""
        if until <= now:
            await repos.outbox.finish([job.item], OutboxStatus.CANCELLED, "expired")
            report.cancelled += 1
        else:
            await repos.outbox.hold(job.item, until)
            report.held_for_a_chat += 1
        if _cadre_gone(job, _Outcome("held", "no_chat")):
            await cadre_cannot_act(repos, int(job.item.payload.get("escalation_id", 0)), now)

    async def _retry(
        self, repos: Repositories, job: _Job, outcome: _Outcome, now: datetime, report: DispatchReport
    ) -> None:
        if job.item.attempts >= self.policy.max_attempts:
            await self._dead(repos, job, outcome.reason or "gave_up", now)
            report.dead += 1
            return
        delay = (
            timedelta(seconds=outcome.retry_after) if outcome.retry_after else self.policy.backoff(job.item.attempts)
        )
        await repos.outbox.retry_at(job.item, now + delay, outcome.reason or "deferred")
        report.retried += 1

    async def _unreachable(self, repos: Repositories, job: _Job, now: datetime) -> None:
        """Blocked or gone: mark the chat, close the row, and if the person has no other chat, escalate."""
        assert job.chat is not None
        await reachability.mark(repos, job.chat.channel, job.chat.external_id, reachable=False, actor_type="scheduler")
        await repos.outbox.finish([job.item], OutboxStatus.UNDELIVERABLE, "unreachable")
        if job.item.participant_id is None:
            return
        others, _ = await repos.planning.chats([job.item.participant_id], [])
        if job.item.participant_id in others:
            return
        people = await repos.planning.participant_facts([job.item.participant_id])
        if job.item.participant_id not in people:
            return
        _, _, unit_id, cadre_id = people[job.item.participant_id]
        await raise_unreachable(repos, job.item.participant_id, unit_id, cadre_id, now)

    async def _dead(self, repos: Repositories, job: _Job, reason: str, now: datetime) -> None:
        """Given up: the row stays visible (`aftercare outbox dead`) and the commune's officer is told."""
        await repos.outbox.finish([job.item], OutboxStatus.DEAD, reason[:64])
        log.warning("outbox_dead", outbox_id=job.item.id, kind=job.item.kind.value, reason=reason)
        if job.item.kind is MessageKind.DEAD_LETTER or job.item.participant_id is None:
            return  # never a notice about a notice; staff messages are counted in `outbox status`
        people = await repos.planning.participant_facts([job.item.participant_id])
        if job.item.participant_id not in people:
            return
        unit_id = people[job.item.participant_id][2]
        await repos.outbox.add(
            [
                NewMessage(
                    f"dead:{job.item.id}:officer:{officer}",
                    MessageKind.DEAD_LETTER,
                    now,
                    staff_id=officer,
                    payload={"participant_id": job.item.participant_id, "attempts": job.item.attempts},
                )
                for officer in await repos.escalations.officers_of(unit_id)
            ]
        )


def _left_out(job: _Job) -> _Outcome:
    """What becomes of a job that is not sent: held for a chat, or cancelled with the renderer's reason."""
    if isinstance(job.message, _Hold):
        return _Outcome("held", "no_chat")
    return _Outcome("cancelled", job.message.reason if isinstance(job.message, Skip) else "no_chat")


def _cadre_gone(job: _Job, outcome: _Outcome) -> bool:
    """A cadre's escalation alert found no chat or no active account when it was to go out."""
    item = job.item
    return (
        item.kind is MessageKind.ESCALATION
        and item.staff_id is not None
        and item.payload.get("to") != "officer"
        and outcome.reason in ("no_chat", "no_staff")
    )
