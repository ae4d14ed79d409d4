"""Plan: make the database say what should be sent, and when. Idempotent; safe to run in several processes.

Every run recomputes from the records (terms, absences, hours, consent) and reconciles: obligations and messages are
inserted with ON CONFLICT DO NOTHING, pending reminders that are no longer wanted are cancelled, moved ones are moved.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

import structlog

from bot.core.clock import Clock
from bot.db.repositories.outbox import NewMessage, Planned
from bot.db.repositories.planning import PlanFacts
from bot.db.repositories.safety import Outcome as SafetyOutcome
from bot.db.store import Repositories, Store
from bot.domain.entities import ParticipantStatus
from bot.domain.escalations import EscalationKind
from bot.domain.fieldwork import ReviewPolicy, review_reminder_days, review_window
from bot.domain.planning import (
    DrawWindow,
    KnownObligation,
    MessageKind,
    ObligationKind,
    ObligationStatus,
    PlanPolicy,
    WantedObligation,
    digest_instant,
    quarter_start,
    random_draw_windows,
    random_test_key,
    wanted_obligations,
    wanted_reminders,
)
from bot.domain.schedule import draw_random_test_days
from bot.services import audit_chain, data_requests, keys, relay, retention
from bot.services.audit_rekey import AuditRekeyRefused
from bot.services.completion import finish_term
from bot.services.crisis import OfficerWhy, crisis_alert
from bot.services.escalations import (
    notify_officers,
    raise_and_tell,
    raise_unreachable,
    tell_officers,
)

log = structlog.get_logger(__name__)

# Records of handled platform updates are kept this long, then pruned by the daily purge. Longer than any
# redelivery: Telegram keeps an unconfirmed update for at most 24 hours, Zalo retries a webhook for minutes, and the
# per-chat inbound limit looks back one minute. Shorter than Telegram's week of quiet after which update_id
# numbering restarts at random, so a new update is not taken for an old one (the purge runs daily: ≤ 4 days kept).
INBOUND_RETENTION = timedelta(days=3)
_SCHEDULED = (ObligationKind.CHECKIN, ObligationKind.TEST)  # obligations of the schedule (random tests are drawn)
_PURGE_BATCHES = 20  # retention batches per tick (bot/services/retention.py BATCH people each)


@dataclass
class PlanReport:
    participants: int = 0
    obligations: int = 0
    random_draws: int = 0
    reminders_added: int = 0
    reminders_cancelled: int = 0
    reminders_moved: int = 0
    escalations: int = 0
    completed: int = 0
    digests: int = 0
    extra: dict[str, int] = field(default_factory=dict)


class _Turn:
    """A page's place in the order of random draws: it draws once the page before it has drawn (or has finished
    without drawing)."""

    def __init__(self, before: _Turn | None) -> None:
        self._before = before
        self._drawn = asyncio.Event()

    async def wait(self) -> None:
        if self._before is not None:
            await self._before._drawn.wait()

    def done(self) -> None:
        self._drawn.set()
        self._before = None  # the chain of pages behind it is not kept


class Planner:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        tz: tzinfo,
        policy: PlanPolicy | None = None,
        page_size: int = 1000,
        rng: secrets.SystemRandom | None = None,
        review_policy: ReviewPolicy | None = None,
        page_workers: int = 2,
    ) -> None:
        self._store = store
        self._clock = clock
        self._tz = tz
        self.policy = policy or PlanPolicy()
        self._page = page_size
        # pages planned at once where the database takes concurrent writers (PostgreSQL): one page's statements run
        # on the server while the next page is computed here, so both cores work (one at a time on SQLite)
        self._page_workers = max(1, page_workers) if store.concurrent_writers else 1
        self._rng = rng or secrets.SystemRandom()
        self.review_policy = review_policy or ReviewPolicy()
        self._purged_on: date | None = None

    async def run(self, now: datetime | None = None) -> PlanReport:
        now = now or self._clock.now()
        report = PlanReport()
        async with self._store.transaction() as repos:
            await self._complete_terms(repos, now, report)
            await self._missed(repos, now, report)
            await repos.outbox.cancel_reminders_of_inactive()
        await self._plan_pages(now, report)
        async with self._store.transaction() as repos:
            await self._unreachable(repos, now, report)
            await self._officer_escalations(repos, now, report)
            await self._digests(repos, now, report)
            await self._reviews(repos, now, report)
            await self._safety_checks(repos, now, report)
            await self._urgent_referrals(repos, now, report)
            # a person's request about their data not decided in time: the officers and the province's admins, once
            if overdue := await data_requests.plan_overdue(repos, now):
                report.extra["data_requests_overdue"] = overdue
        today = self._today(now).date()
        # once a day, in its own transactions: a failure here holds nothing else back
        if self._purged_on != today:
            try:
                if await self._purge(now, report):
                    self._purged_on = today
            except Exception:  # logged; the sealer and a key rotation below still run, the purge is tried again
                log.exception("retention_purge_stopped")
        # chain the audit entries written since the last tick: short transactions of its own, none when nothing waits;
        # a large backlog is worked off over several ticks so this one still returns (and beats) promptly
        report.extra["audit_sealed"] = await audit_chain.seal(self._store, max_batches=20)
        await self._rotate_keys(report)
        log.debug("planned", **{k: v for k, v in vars(report).items() if v and k != "extra"})
        return report

    async def _plan_pages(self, now: datetime, report: PlanReport) -> None:
        """Every active participant, a page at a time in id order, each page in its own transaction; with several
        workers, each takes the next page when done with its own. The random draws stay in page order (`_Turn`): the
        generator is asked in the same order as when the pages went one after another."""
        lock = asyncio.Lock()
        after, finished = 0, False
        previous: _Turn | None = None

        async def worker() -> None:
            nonlocal after, finished, previous
            while True:
                async with self._store.transaction() as repos:
                    async with lock:  # the next page, and its place in the order of draws
                        if finished:
                            return
                        page = await repos.planning.active_page(after, self._page)
                        if not page:
                            finished = True
                            return
                        after = page[-1].participant_id
                        turn = previous = _Turn(previous)
                    try:
                        await self._plan_page(repos, page, now, report, turn)
                    finally:
                        turn.done()  # drawn, or failed: the next page does not wait for ever (the group is cancelled)

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(self._page_workers):
                    group.create_task(worker())
        except ExceptionGroup as failed:  # the first failure, as the caller would see it from pages in a row
            for other in failed.exceptions[1:]:
                log.error("plan_page_failed", error=type(other).__name__)
            raise failed.exceptions[0] from None

    async def _rotate_keys(self, report: PlanReport) -> None:
        """A key rotation an operator started (`aftercare keys rotate`, which does the rest at once) goes on a
        bounded amount per tick until it has gone through everything once; a new key alone starts nothing."""
        try:
            done = await keys.continue_rotation(self._store, max_batches=self.policy.rotation_batches)
        except AuditRekeyRefused as exc:
            log.warning("key_rotation_stopped", reason=str(exc))
            return
        if done is not None and (done.resealed or done.audit_entries):
            report.extra["keys_resealed"] = sum(done.resealed.values()) + done.audit_entries

    def _today(self, now: datetime) -> datetime:
        return now.astimezone(self._tz)

    async def _plan_page(
        self, repos: Repositories, page: list[PlanFacts], now: datetime, report: PlanReport, turn: _Turn | None = None
    ) -> None:
        """`turn`: when this page may ask the generator for its draws (after the pages before it)."""
        today = self._today(now).date()
        policy = self.policy
        on_page = {facts.participant_id for facts in page}
        first_id, last_id = min(on_page), max(on_page)
        window_first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        window_last = today + timedelta(days=policy.horizon_days)
        # What is stored for the page, read once (one indexed range; the few people in it who are not on the page are
        # left out): what the writes below would leave unchanged is not sent, what is no longer wanted is cancelled.
        stored = [
            (pid, obligation)
            for pid, obligation in await repos.obligations.of_participant_range(
                first_id, last_id, min(window_first, quarter_start(today))
            )
            if pid in on_page
        ]
        # The random draws first, before this page writes anything: waiting for the pages before it while holding
        # row locks could hang against a transaction PostgreSQL cannot see waiting on us.
        no_longer, draws = await self._random_draws(page, today, stored, turn)
        wanted: list[tuple[int, WantedObligation]] = []
        for facts in page:
            for obligation in wanted_obligations(
                facts.participant_id, facts.term_start, facts.term_end, facts.risk, facts.due_day, today, policy
            ):
                if obligation.due_on >= facts.listed_on:  # nothing is "missed" from before the person was listed
                    wanted.append((facts.participant_id, obligation))
        scheduled = [(pid, o) for pid, o in stored if o.kind in _SCHEDULED]
        await repos.obligations.ensure_many(wanted, known={o.key: o for _, o in scheduled})
        report.obligations += len(wanted)
        # Scheduled obligations in the window that the schedule no longer contains (new start, shorter term); one
        # dated before the person was listed exists only because they checked in early: it stays.
        keep = {w.key for _, w in wanted}
        listed = {facts.participant_id: facts.listed_on for facts in page}
        await repos.obligations.cancel_ids(
            [
                o.id
                for pid, o in scheduled
                if o.status is ObligationStatus.PENDING
                and window_first <= o.due_on <= window_last
                and o.key not in keep
                and o.due_on >= listed[pid]
            ],
            pending_only=True,  # read at the page's start: one marked done since stays done
        )
        await repos.obligations.cancel_ids(no_longer, pending_only=True)
        await self._add_random_tests(repos, draws, report)

        since = today - timedelta(days=policy.reminders.follow_up_after_days + 1)
        open_obligations: dict[int, list[KnownObligation]] = {}
        for pid, obligation in await repos.obligations.of_participant_range(first_id, last_id, since):
            if pid in on_page and obligation.status is ObligationStatus.PENDING:
                open_obligations.setdefault(pid, []).append(obligation)
        planned: dict[str, Planned] = {}
        for pid, reminders in (await repos.outbox.pending_reminders_in_range(first_id, last_id)).items():
            if pid in on_page:
                planned |= reminders
        want: dict[str, NewMessage] = {}
        for facts in page:
            if not facts.active:
                continue
            preferred = time(facts.reminder_hour, 0)
            for message in wanted_reminders(
                open_obligations.get(facts.participant_id, []), preferred, self._tz, now, policy
            ):
                want[message.key] = NewMessage(
                    message.key, message.kind, message.due_at, participant_id=facts.participant_id,
                    payload=message.payload,
                )  # fmt: skip
        await repos.outbox.add([m for key, m in want.items() if key not in planned], revive=True)
        report.reminders_added += sum(1 for key in want if key not in planned)
        stale = [p.id for key, p in planned.items() if key not in want]
        await repos.outbox.cancel(stale, "replanned")
        report.reminders_cancelled += len(stale)
        moved = [(p.id, want[key].due_at) for key, p in planned.items() if key in want and want[key].due_at != p.due_at]
        await repos.outbox.reschedule(moved)
        report.reminders_moved += len(moved)
        report.participants += len(page)

    async def _random_draws(
        self,
        page: list[PlanFacts],
        today: date,
        stored: list[tuple[int, KnownObligation]],
        turn: _Turn | None = None,
    ) -> tuple[list[int], list[tuple[int, str, date, dict[str, object]]]]:
        """The page's unannounced tests no longer called for (ids to cancel), and its new draws; writes nothing.
        `stored`: the page's obligations as read at its start (the random tests among them are what was drawn). The
        generator is asked in the same order as ever: after the pages before this one (`turn`)."""
        windows = {
            facts.participant_id: random_draw_windows(facts.term_start, facts.term_end, facts.risk, today, self.policy)
            for facts in page
        }
        randoms = [(pid, o) for pid, o in stored if o.kind is ObligationKind.RANDOM_TEST]
        # unannounced tests not yet due of people whose risk level no longer calls for them
        no_longer = {f.participant_id for f in page if not self.policy.random_tests_per_quarter.get(f.risk, 0)}
        cancel = [
            o.id for pid, o in randoms if pid in no_longer and o.status is ObligationStatus.PENDING and o.due_on > today
        ]
        drawing = {pid for pid, ws in windows.items() if ws}
        quarter_first = min((w.quarter for ws in windows.values() for w in ws), default=today)
        drawn = {o.key for pid, o in randoms if pid in drawing and o.due_on >= quarter_first}
        if turn is not None:
            await turn.wait()
        try:
            return cancel, self._draw(windows, drawn)
        finally:
            if turn is not None:
                turn.done()

    async def _add_random_tests(
        self, repos: Repositories, draws: list[tuple[int, str, date, dict[str, object]]], report: PlanReport
    ) -> None:
        """One INSERT … ON CONFLICT DO NOTHING for the page's draws and one statement for their audit entries: a draw
        another planner made first is not ours."""
        if not draws:
            return
        added = await repos.obligations.add_drawn_many([(pid, key, day) for pid, key, day, _ in draws])
        entries = [(pid, {"obligation": added[key], **detail}) for pid, key, _, detail in draws if key in added]
        await repos.audit.by_scheduler_many("random_test_drawn", entries)
        report.random_draws += len(entries)

    def _draw(
        self, windows: dict[int, list[DrawWindow]], drawn: set[str]
    ) -> list[tuple[int, str, date, dict[str, object]]]:
        """(participant id, key, day, audit detail) of each draw not made yet, the generator asked window by window."""
        draws: list[tuple[int, str, date, dict[str, object]]] = []
        for pid, ws in windows.items():
            for window in ws:
                keys = [random_test_key(pid, window.quarter, i) for i in range(window.count)]
                if all(key in drawn for key in keys):
                    continue
                picked = draw_random_test_days(window.first, window.last, window.count, rng=self._rng)
                for key, draw in zip(keys, picked, strict=False):
                    if key in drawn:
                        continue
                    detail: dict[str, object] = {
                        "reason": "risk_level_policy",
                        "window": [window.first.isoformat(), window.last.isoformat()],
                        "candidates": draw.candidates,
                        "rng": "secrets.SystemRandom",
                    }
                    draws.append((pid, key, draw.day, detail))
        return draws

    async def _complete_terms(self, repos: Repositories, now: datetime, report: PlanReport) -> None:
        """A term that ended: the person is listed for completion (Mẫu 54), told once, and reminders stop."""
        today = self._today(now).date()
        for pid, unit_id, end in await repos.planning.term_ended(today):
            await finish_term(repos, pid, term_end=end, completed_on=end, now=now, zone=self._tz)
            notice = {"participant_id": pid, "end": end.isoformat()}
            await tell_officers(repos, unit_id, f"completion:{pid}", MessageKind.COMPLETION_NOTICE, now, notice)
            await repos.audit.by_scheduler("term_completed", pid, {"end": end.isoformat()})
            report.completed += 1

    async def _missed(self, repos: Repositories, now: datetime, report: PlanReport) -> None:
        """Obligations still open `missed_after_days` after their day are missed; a missed check-in escalates
        (the message waits for the end of quiet hours like every other)."""
        local = self._today(now)
        threshold = local.date() - timedelta(days=self.policy.missed_after_days)
        missed = await repos.obligations.mark_missed(threshold)
        checkins = [(oid, pid) for oid, pid, kind in missed if kind is ObligationKind.CHECKIN]
        if not checkins:
            return
        people = await repos.planning.participant_facts([pid for _, pid in checkins])
        for obligation_id, pid in checkins:
            if pid not in people:
                continue
            status, _, unit_id, cadre_id = people[pid]
            if status != ParticipantStatus.ACTIVE.value:
                continue  # no chat to check in by: the cadre's in-person check closes it (listed in the digest)
            raised, _ = await raise_and_tell(
                repos,
                key=f"{EscalationKind.MISSED_CHECKIN}:{obligation_id}",
                kind=EscalationKind.MISSED_CHECKIN,
                participant_id=pid,
                unit_id=unit_id,
                cadre_id=cadre_id,
                now=now,
                obligation_id=obligation_id,
            )
            report.escalations += raised is not None

    async def _unreachable(self, repos: Repositories, now: datetime, report: PlanReport) -> None:
        for pid, unit_id, cadre_id in await repos.escalations.unreachable_without_escalation():
            raised = await raise_unreachable(repos, pid, unit_id, cadre_id, now)
            report.escalations += raised is not None

    async def _officer_escalations(self, repos: Repositories, now: datetime, report: PlanReport) -> None:
        """The cadre did not acknowledge within the policy's time (or there is no cadre): the officer hears of it."""
        waited = now - self.policy.escalation.cadre_must_act_within
        for escalation in await repos.escalations.awaiting_officer(waited):
            await notify_officers(repos, escalation, now)
            report.escalations += 1
        crisis_waited = now - self.policy.escalation.crisis_cadre_must_act_within
        for escalation in await repos.escalations.awaiting_officer(crisis_waited, kind=EscalationKind.CRISIS):
            await notify_officers(repos, escalation, now, urgent=True)  # a crisis does not wait for morning
            report.escalations += 1

    async def _digests(self, repos: Repositories, now: datetime, report: PlanReport) -> None:
        """Each morning's digest for cadres, queued once per day; it is empty (and skipped) when nothing is due."""
        local = self._today(now)
        if self.policy.reminders.quiet.contains(local) and local.time() >= self.policy.reminders.quiet.start:
            return  # the evening: today's digest is stale, tomorrow's is planned tomorrow
        cadres = await repos.planning.cadres_with_people()
        await repos.outbox.add(
            [
                NewMessage(
                    f"digest:{cadre}:{local.date().isoformat()}",
                    MessageKind.DIGEST,
                    digest_instant(local.date(), self._tz, self.policy, cadre),  # each cadre at their own minute
                    staff_id=cadre,
                    payload={"day": local.date().isoformat()},
                )
                for cadre in cadres
            ]
        )
        report.digests += len(cadres)

    async def _reviews(self, repos: Repositories, now: datetime, report: PlanReport) -> None:
        """The quarterly review: asked of every cadre with people (at their morning minute, like the digest) on the day
        it opens and every few days until the deadline (each message is skipped at send time if all is written); the
        day after the deadline the officers hear what is missing."""
        local = self._today(now)
        if self.policy.reminders.quiet.contains(local) and local.time() >= self.policy.reminders.quiet.start:
            return  # the evening: like the digest, today's request would only arrive tomorrow, stale
        today = local.date()
        window = review_window(today, self.review_policy)
        messages: list[NewMessage] = []
        if window is not None and today in review_reminder_days(window, self.review_policy):
            payload = {"quarter": window.quarter, "due": window.due_on.isoformat()}
            messages += [
                NewMessage(f"review:{cadre}:{window.quarter}:{today}", MessageKind.REVIEW_REQUEST,
                           digest_instant(today, self._tz, self.policy, cadre), staff_id=cadre,
                           payload=payload)
                for cadre in await repos.planning.cadres_with_people()
            ]  # fmt: skip
        ended = review_window(today - timedelta(days=1), self.review_policy)
        if ended is not None and ended.due_on == today - timedelta(days=1):
            messages += [
                NewMessage(f"reviews_missing:{officer}:{ended.quarter}", MessageKind.REVIEWS_MISSING,
                           digest_instant(today, self._tz, self.policy, officer), staff_id=officer,
                           payload={"quarter": ended.quarter})
                for officer in await repos.planning.officers_with_people()
            ]  # fmt: skip
        await repos.outbox.add(messages)
        report.extra["review_messages"] = report.extra.get("review_messages", 0) + len(messages)

    async def _safety_checks(self, repos: Repositories, now: datetime, report: PlanReport) -> None:
        """The safety question ("are you safe?") unanswered for `safety_check_within`: closed (silent) and escalated
        like a crisis message (the urgent referral and the alerts of `crisis_alert`, once per episode), and the person
        is told, discreetly, who will reach out (bot/flows/safety/pushed.py, from the alerts' own record of who was
        told). Closing is conditional, so two planners, or an answer arriving now, escalate it once."""
        for check in await repos.safety.unanswered(now - self.policy.safety_check_within):
            if not await repos.safety.close(check.id, SafetyOutcome.SILENT):
                continue
            await repos.audit.by_scheduler(
                "safety_check_closed", check.participant_id, {"check": check.id, "outcome": SafetyOutcome.SILENT.value}
            )
            person = await repos.participants.get(check.participant_id)
            if person is None:
                continue
            outcome = await crisis_alert(repos, person, now)
            alerted = outcome.alerted.payload() if outcome.alerted is not None else None
            await repos.outbox.add(
                [
                    NewMessage(f"safety:{check.id}", MessageKind.SAFETY_FOLLOW_UP, now, participant_id=person.id,
                               payload={"check_id": check.id, "alerted": alerted}, urgent=True)
                ]
            )  # fmt: skip
            report.extra["safety_checks_unanswered"] = report.extra.get("safety_checks_unanswered", 0) + 1

    async def _urgent_referrals(self, repos: Repositories, now: datetime, report: PlanReport) -> None:
        """An urgent referral nobody has taken: every `urgent_referral_within` one more counsellor on duty at the
        person's point is alerted, in a fixed order (the next on duty); when none is left, the officers. Keys make
        each alert once; a referral taken in the meantime alerts nobody (the renderer skips it)."""
        within = self.policy.urgent_referral_within
        for referral, since in await repos.referrals.urgent_waiting(now - within):
            person = await repos.participants.get(referral.participant_id)
            if person is None:
                continue
            payload = {"participant_id": person.id, "referral_id": referral.id}
            on_duty, _ = await relay.answerers(repos, referral.point_id)
            prefix = relay.urgent_alert_prefix(referral.id, since)  # this episode's round of alerts
            alerted = await repos.outbox.staff_keyed(prefix)
            due = 1 + int((now - since) / within)  # how many on-duty counsellors should know by now
            nxt = [m for m in on_duty if m.id not in alerted][: max(0, due - len(alerted & {m.id for m in on_duty}))]
            await repos.outbox.add(
                [
                    NewMessage(f"{prefix}{member.id}", MessageKind.CRISIS_ALERT, now,
                               staff_id=member.id, payload={**payload, "next": True}, urgent=True)
                    for member in nxt
                ]
            )  # fmt: skip
            if due > max(len(on_duty), 1):  # every one on duty has had their turn (or there was nobody on duty)
                minutes = int((now - since).total_seconds() // 60)
                waited = {**payload, "to": "officer", "officer_why": OfficerWhy.NOT_TAKEN.value, "minutes": minutes,
                          "since": since.isoformat()}  # fmt: skip
                await tell_officers(repos, person.unit_id, f"{prefix}sla", MessageKind.CRISIS_ALERT, now, waited, True)
            report.extra["urgent_referrals_waiting"] = report.extra.get("urgent_referrals_waiting", 0) + 1
        # Taken, but the counsellor has not answered a crisis within the same time: the officers, once per episode.
        for referral, since in await repos.referrals.urgent_in_relay():
            if since > now - within or not await repos.relay.unanswered_since(referral.id, since.isoformat()):
                continue
            person = await repos.participants.get(referral.participant_id)
            if person is None:
                continue
            minutes = int((now - since).total_seconds() // 60)
            waited = {"participant_id": person.id, "referral_id": referral.id, "to": "unanswered",
                      "since": since.isoformat(), "minutes": minutes}  # fmt: skip
            key = f"referral:{referral.id}:unanswered:{since:%Y%m%d%H%M%S}"
            await tell_officers(repos, person.unit_id, key, MessageKind.CRISIS_ALERT, now, waited, True)

    async def _purge(self, now: datetime, report: PlanReport) -> bool:
        """Once a day: every record of people who left the list `retention` ago (bot/services/retention.py, in
        bounded batches, at most `_PURGE_BATCHES` per tick: a backlog goes on at the next tick), and records of
        handled updates after `INBOUND_RETENTION`; every purge audited with how much went, never what. True when
        today's purge is finished (by this process or another)."""
        async with self._store.transaction() as repos:
            forgotten = await repos.inbound.forget_before(now - INBOUND_RETENTION)  # also after a purge by the CLI
            if forgotten:
                await repos.audit.record(
                    actor_type="scheduler", actor_id=None, action="inbound_updates_purged", outcome="ok",
                    subject_type=None, subject_id=None, detail={"updates": forgotten},
                )  # fmt: skip
                report.extra["inbound_updates_purged"] = forgotten
            if await retention.ran_today(repos, now, self._tz):
                return True
        purged = await retention.purge(
            self._store, now=now, tz=self._tz, days=self.policy.retention.days, actor_type="scheduler",
            max_batches=_PURGE_BATCHES,
        )  # fmt: skip
        if purged.participants:
            report.extra["participants_purged"] = len(purged.participants)
        if purged.staff:
            report.extra["staff_purged"] = len(purged.staff)
        return purged.done
