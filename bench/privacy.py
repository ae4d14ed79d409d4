"""Benchmark: the privacy operations of issue 18 on a deployment with a year of records and a large audit log.

Not part of the test suite; it prints figures next to their targets. Run:
    .venv/bin/python -m bench.privacy [--people 10000] [--leavers 1000] [--audit 1000000]
        [--audit-rotation-seconds 120] [--no-rotation] [--postgres URL | --postgres ''] [--sqlite] [--keep]
National scale (slow on a 2-core machine: most of it seeding and the rotation of the audit chain):
    .venv/bin/python -m bench.privacy --people 100000 --leavers 3000 --audit 1000000 --audit-rotation-seconds 0

The PostgreSQL database in --postgres is a SCRATCH database: it is dropped and created again at the start and
dropped at the end (its name must contain "bench"; never point it at `test` or a real deployment).

Why: the retention purge (bot/services/retention.py) runs daily in batches of `retention.BATCH` people, each its own
transaction; each batch rewrites the audit entries that name its people, so the batch's cost grows with the audit
log, and a batch that holds its locks long blocks the staff and the bot. Key rotation (bot/services/keys.py) re-seals
every sealed value and re-makes the audit chain in batches. A person's export (bot/services/personal_export.py)
opens a year of their records and renders a PDF.

What is seeded (bulk Core inserts, each sealed value for its own row with the app's own keys, as bench/reports.py
does): province "P" with one commune per 1,000 people, a cadre per 250 people and an officer per commune; per person
their name, national ID (and its keyed hash), phone and address sealed, a Telegram chat, two consents, and for each of
the 12 months before they left (or before today) a check-in obligation with sealed answers (most done), an in-person
check (one in ten absent, with a sealed reason), tests by risk level with a sealed result, a sealed note each quarter,
the quarterly review (sealed) and a sent reminder in the outbox; then an audit log of `--audit` entries spread over
the year, every one with its MAC and its place in the hash chain (about one in eight names a person in its detail,
the rest as subject). `--leavers` people left the list 1–30 days more than AFTERCARE_RETENTION_DAYS ago (the day's
purge takes them all: a month of national leavers), 5 % of the others left within the year (kept).

Measured with a fixed clock (bot/core/clock.py FixedClock), through the service functions, each transaction timed
by wrapping the store's `transaction`:
1. the first daily purge: total, people/s, per transaction p50/p95/max, peak RSS, the SQL statements that cost most;
2. key rotation to a new key: `keys status` before, `keys.rotate` in bounded shares as the scheduler runs it (every
   sealed value, then the audit chain for --audit-rotation-seconds, the rest extrapolated at the rate measured;
   values/s, entries/s, per transaction p50/p95/max, peak RSS), `keys status` after;
3. one person's export (gather + audit, JSON, PDF), median of 3.
Targets: the daily purge ≤ 10 min, no transaction > 2 s (purge and rotation), `keys status` ≤ 10 s, export ≤ 3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from bench.common import (
    KEY,
    StatementTimer,
    bulk_insert,
    drop_postgres,
    ok,
    recreate_postgres,
    rss_window,
    settings_for,
    sync_sequences,
)
from bot.app import Application, build_application
from bot.config import Settings
from bot.core.clock import FixedClock
from bot.db import audit_mac
from bot.db.crypto import national_id_key, row_ref
from bot.db.models import (
    AuditChainHeadRow,
    AuditEventRow,
    ChannelIdentityRow,
    CheckinRow,
    ConsentRow,
    InPersonCheckRow,
    ObligationRow,
    ObservationRow,
    OutboxRow,
    ParticipantRow,
    QuarterlyReviewRow,
    StaffRow,
    TestResultRow,
    UnitRow,
)
from bot.domain.terms import add_months
from bot.services import keys, personal_export, retention

NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội, when the scheduler's daily jobs run
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TODAY = NOW.astimezone(TZ).date()
NEW_KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()
PEOPLE_PER_COMMUNE = 1000
PEOPLE_PER_CADRE = 250
CHUNK_PEOPLE = 1000  # people seeded per round (their rows are inserted, then dropped from memory)
AUDIT_CHUNK = 20_000
NATIONAL_PEOPLE = 100_000
NATIONAL_LEAVERS = 3_000
PURGE_TARGET_S = 600.0
TRANSACTION_TARGET_S = 2.0
STATUS_TARGET_S = 10.0
EXPORT_TARGET_S = 3.0
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/aftercare_bench_privacy"
NOTE = "Gia đình báo anh ấy đã đi làm ở xưởng mộc, ngủ đủ, không còn gặp nhóm bạn cũ ở chợ."


def table(model: Any) -> Table:
    return model.__table__  # type: ignore[no-any-return]


# ---- seeding -------------------------------------------------------------------------------------------------------


@dataclass
class Seeded:
    people: int = 0
    leavers: list[int] = field(default_factory=list)
    kept_person: int = 0  # a person on the list with a full year of records: the export's subject
    rows: dict[str, int] = field(default_factory=dict)
    sealed: int = 0
    audit: int = 0

    def add(self, name: str, count: int) -> None:
        self.rows[name] = self.rows.get(name, 0) + count


def _months_before(last: date) -> list[date]:
    """The 10th of each of the 12 months up to `last`."""
    first = add_months(date(last.year, last.month, 10), -11)
    return [add_months(first, i) for i in range(12) if add_months(first, i) <= last]


async def seed(app: Application, people: int, leavers: int, audit: int, retention_days: int) -> Seeded:
    rng = random.Random(18)
    keyring = app.store.keyring
    seal = keyring.cipher.encrypt
    out = Seeded(people=people)
    communes = max(1, -(-people // PEOPLE_PER_COMMUNE))
    step = max(1, people // leavers) if leavers else 0
    leaver_ids = set(range(1, people + 1, step)[:leavers]) if leavers else set()
    out.leavers = sorted(leaver_ids)
    async with app.engine.begin() as c:
        await bulk_insert(c, table(UnitRow), [{"id": 1, "code": "P", "name": "Tỉnh Thử", "level": "province",
                                               "parent_id": None, "created_at": NOW}])  # fmt: skip
        await bulk_insert(c, table(UnitRow), [
            {"id": 2 + i, "code": f"C{i:03d}", "name": f"Xã Thử {i}", "level": "commune", "parent_id": 1,
             "created_at": NOW} for i in range(communes)
        ])  # fmt: skip
        cadres = max(1, people // PEOPLE_PER_CADRE)
        staff = [{"id": 1 + i, "name": f"Cán bộ {i}", "role": "cadre", "unit_id": 2 + i % communes, "language": "vi",
                  "active": True, "created_at": NOW} for i in range(cadres)]  # fmt: skip
        staff += [{"id": 1 + cadres + i, "name": f"Công an xã {i}", "role": "officer", "unit_id": 2 + i,
                   "language": "vi", "active": True, "created_at": NOW} for i in range(communes)]  # fmt: skip
        await bulk_insert(c, table(StaffRow), staff)
    ids = {"obligation": 0, "result": 0, "note": 0, "check": 0, "review": 0, "outbox": 0, "consent": 0}
    for first in range(1, people + 1, CHUNK_PEOPLE):
        last = min(people, first + CHUNK_PEOPLE - 1)
        async with app.engine.begin() as c:
            await _seed_people(c, rng, seal, keyring, first, last, leaver_ids, cadres, retention_days, ids, out)
    out.kept_person = out.kept_person or next(pid for pid in range(people, 0, -1) if pid not in leaver_ids)
    await _seed_audit(app, rng, people, audit, cadres, out)
    async with app.engine.begin() as c:
        await sync_sequences(c, ["unit", "staff_member", "participant", "channel_identity", "consent", "obligation",
                                 "checkin_response", "in_person_check", "test_result", "observation",
                                 "quarterly_review", "outbox", "audit_event"])  # fmt: skip
        await c.execute(text("ANALYZE"))
    return out


async def _seed_people(
    c: AsyncConnection, rng: random.Random, seal: Any, keyring: Any, first: int, last: int, leaver_ids: set[int],
    cadres: int, retention_days: int, ids: dict[str, int], out: Seeded,
) -> None:  # fmt: skip
    persons, chats, consents, duties, checkins, checks, results, notes, reviews, outbox = ([] for _ in range(10))
    for pid in range(first, last + 1):
        unit = 2 + (pid - 1) // PEOPLE_PER_COMMUNE
        months = rng.choice((12, 24))
        if pid in leaver_ids:  # left 1–30 days more than the retention period ago: due today
            left_on = TODAY - timedelta(days=retention_days + 1 + rng.randrange(30))
            status = rng.choices(("completed", "transferred", "removed"), (85, 10, 5))[0]
        elif rng.random() < 0.05:  # left within the retention period: kept
            left_on = TODAY - timedelta(days=1 + rng.randrange(retention_days - 1))
            status = "completed"
        else:
            left_on, status = None, "active"
        end_of_records = left_on or TODAY
        start = (add_months(left_on, -months) if status == "completed" and left_on else
                 add_months(end_of_records, -rng.randrange(2, months)))  # fmt: skip
        risk = rng.choices(("low", "medium", "high"), (5, 3, 2))[0]
        if not out.kept_person and status == "active" and risk == "high" and start <= add_months(TODAY, -12):
            out.kept_person = pid  # a full year of monthly tests, check-ins and notes: the heaviest export
        nid = f"0010{pid:08d}"
        persons.append({
            "id": pid, "unit_id": unit, "name_enc": seal(f"Nguyễn Văn Thử {pid}", "participant.name", row_ref(id=pid)),
            "national_id_enc": seal(nid, "participant.national_id", row_ref(id=pid)),
            "national_id_key": national_id_key(keyring.lookup_key, nid),
            "phone_enc": seal(f"09{pid:08d}", "participant.phone", row_ref(id=pid)),
            "address_enc": seal(f"Số {pid % 300} đường Lê Lợi, thôn {pid % 9}", "participant.address", row_ref(id=pid)),
            "birth_year": 1980 + pid % 25, "sex": "male", "term_start": start, "term_months": months,
            "expected_end": add_months(start, months), "risk_level": risk, "status": status,
            "completed_on": left_on if status == "completed" else None, "left_on": left_on,
            "cadre_id": 1 + (pid - 1) % cadres, "language": "vi", "wording": "neutral", "reminder_hour": 8,
            "created_at": datetime.combine(start, datetime.min.time(), tzinfo=UTC), "updated_at": NOW,
        })  # fmt: skip
        key, sealed = keyring.seal_chat("telegram", str(1_000_000_000 + pid), participant_id=pid, staff_id=None)
        chats.append({"id": pid, "channel": "telegram", "chat_key": key, "external_id_enc": sealed,
                      "participant_id": pid, "linked_at": NOW, "unreachable": False})  # fmt: skip
        for purpose in ("reminders", "data_processing"):
            ids["consent"] += 1
            consents.append({"id": ids["consent"], "participant_id": pid, "purpose": purpose, "granted": True,
                             "text_version": "2026-01", "recorded_at": persons[-1]["created_at"]})  # fmt: skip
        for month in _months_before(end_of_records):
            if month < start:
                continue
            at = datetime.combine(month, datetime.min.time(), tzinfo=UTC) + timedelta(hours=2)
            ids["obligation"] += 1
            done = rng.random() < 0.85
            duties.append({"id": ids["obligation"], "key": f"c:{pid}:{month}", "participant_id": pid,
                           "kind": "checkin", "due_on": month, "status": "done" if done else "missed",
                           "done_at": at if done else None, "created_at": at})  # fmt: skip
            if done:
                answers = json.dumps({"mood": rng.choice(("good", "ok", "low")), "work": "yes", "use": "no"})
                checkins.append({"id": ids["obligation"], "obligation_id": ids["obligation"], "participant_id": pid,
                                 "answers_enc": seal(answers, "checkin_response.answers",
                                                     row_ref(obligation=ids["obligation"], participant=pid)),
                                 "risky": False, "started_at": at, "completed_at": at})  # fmt: skip
            ids["check"] += 1
            absent = rng.random() < 0.1
            checks.append({"id": ids["check"], "participant_id": pid, "month": f"{month:%Y-%m}",
                           "outcome": "absent" if absent else "present",
                           "reason_enc": seal("Đi làm xa ở Bình Dương", "in_person_check.reason",
                                              row_ref(participant=pid, month=f"{month:%Y-%m}")) if absent else None,
                           "checked_on": month + timedelta(days=2), "recorded_by": 1 + (pid - 1) % cadres,
                           "recorded_at": at})  # fmt: skip
            if risk == "high" or (risk == "medium" and month.month % 3 == 0):
                ids["obligation"] += 1
                ids["result"] += 1
                day = month + timedelta(days=5)
                duties.append({"id": ids["obligation"], "key": f"test:{pid}:{day}", "participant_id": pid,
                               "kind": "test", "due_on": day, "status": "done", "done_at": at,
                               "created_at": at})  # fmt: skip
                outcome = rng.choices(("negative", "positive", "refused", "no_show"), (90, 5, 2, 3))[0]
                results.append({"id": ids["result"], "participant_id": pid, "obligation_id": ids["obligation"],
                                "result_enc": seal(json.dumps({"outcome": outcome, "substance": None,
                                                               "place": "Trạm y tế xã"}),
                                                   "test_result.result", row_ref(id=ids["result"], participant=pid)),
                                "taken_on": day, "recorded_by": 1 + (pid - 1) % cadres,
                                "recorded_at": at})  # fmt: skip
            if month.month % 3 == 0:
                ids["note"] += 1
                body = json.dumps({"category": "family", "text": NOTE}, sort_keys=True, ensure_ascii=False)
                notes.append({"id": ids["note"], "participant_id": pid, "staff_id": 1 + (pid - 1) % cadres,
                              "body_enc": seal(body, "observation.body", row_ref(id=ids["note"], participant=pid)),
                              "risk_flag": False, "recorded_at": at})  # fmt: skip
                quarter = f"{month.year}-Q{(month.month - 1) // 3 + 1}"
                ids["review"] += 1
                review = json.dumps({"progress": rng.choice(("good", "fair", "concerning")), "comment": NOTE[:40]})
                reviews.append({"id": ids["review"], "participant_id": pid, "quarter": quarter,
                                "cadre_id": 1 + (pid - 1) % cadres,
                                "assessment_enc": seal(review, "quarterly_review.assessment",
                                                       row_ref(participant=pid, quarter=quarter)),
                                "written_at": at})  # fmt: skip
            ids["outbox"] += 1
            outbox.append({"id": ids["outbox"], "key": f"reminder:{pid}:{month}", "kind": "reminder",
                           "participant_id": pid, "payload": {"participant_id": pid, "obligation": ids["obligation"]},
                           "urgent": False, "due_at": at, "next_attempt_at": at, "status": "sent", "attempts": 1,
                           "sent_at": at, "created_at": at})  # fmt: skip
    batches = (("participant", ParticipantRow, persons), ("channel_identity", ChannelIdentityRow, chats),
               ("consent", ConsentRow, consents), ("obligation", ObligationRow, duties),
               ("checkin_response", CheckinRow, checkins), ("in_person_check", InPersonCheckRow, checks),
               ("test_result", TestResultRow, results), ("observation", ObservationRow, notes),
               ("quarterly_review", QuarterlyReviewRow, reviews), ("outbox", OutboxRow, outbox))  # fmt: skip
    for name, model, rows in batches:
        await bulk_insert(c, table(model), rows)
        out.add(name, len(rows))
    out.sealed += len(persons) * 4 + len(chats) + len(checkins) + len(results) + len(notes) + len(reviews)
    out.sealed += sum(1 for row in checks if row["reason_enc"])


# what the log is made of: (action, actor type, subject type, weight); a person's id goes in the subject, or for
# one entry in eight only in the detail (a relay, a list export, a staff action that names a person)
_AUDIT_KINDS = (
    ("participant_viewed", "staff", "participant", 30),
    ("reminder_sent", "scheduler", "participant", 25),
    ("checkin_completed", "participant", "participant", 15),
    ("in_person_recorded", "staff", "participant", 10),
    ("test_result_recorded", "staff", "participant", 5),
    ("report_viewed", "staff", "unit", 3),
    ("relay_message_sent", "staff", "staff", 6),
    ("people_list_exported", "staff", "unit", 1),
    ("chat_reachability", "channel", "participant", 5),
)


async def _seed_audit(app: Application, rng: random.Random, people: int, count: int, cadres: int, out: Seeded) -> None:
    """`count` sealed entries over the year before NOW, each with a valid MAC and chain link (the rotation verifies
    them; the purge's redaction MACs them again), and the chain's head."""
    key = app.store.keyring.audit_key
    kinds = [k[:3] for k in _AUDIT_KINDS]
    weights = [k[3] for k in _AUDIT_KINDS]
    start = NOW - timedelta(days=365)
    spacing = 365 * 86400 / max(1, count)
    link = audit_mac.GENESIS
    for chunk in range(1, count + 1, AUDIT_CHUNK):
        rows = []
        for entry_id in range(chunk, min(count, chunk + AUDIT_CHUNK - 1) + 1):
            action, actor_type, subject_type = rng.choices(kinds, weights)[0]
            pid = rng.randrange(1, people + 1)
            actor_id = pid if actor_type == "participant" else (None if actor_type in ("scheduler", "channel") else
                                                                 1 + pid % cadres)  # fmt: skip
            subject_id: int | None
            if subject_type == "participant":
                subject_id, detail = pid, ({"channel": "telegram"} if actor_type != "staff" else {})
            elif action == "relay_message_sent":
                subject_id, detail = 1 + pid % cadres, {"participant_id": pid, "referral": pid}
            elif action == "people_list_exported":
                subject_id = 2 + (pid - 1) // PEOPLE_PER_COMMUNE
                detail = {"participants": [rng.randrange(1, people + 1) for _ in range(5)], "format": "pdf"}
            else:
                subject_id, detail = 2 + (pid - 1) // PEOPLE_PER_COMMUNE, {"period": "2026-11"}
            at = (start + timedelta(seconds=int(entry_id * spacing))).replace(microsecond=0)
            content = audit_mac.canonical(at=at, actor_type=actor_type, actor_id=actor_id, action=action,
                                          subject_type=subject_type, subject_id=subject_id, outcome="ok",
                                          detail=detail)  # fmt: skip
            mac = audit_mac.entry_mac(key, content)
            link = audit_mac.chain_link(key, link, mac, entry_id, entry_id)
            rows.append({"id": entry_id, "at": at, "actor_type": actor_type, "actor_id": actor_id, "action": action,
                         "subject_type": subject_type, "subject_id": subject_id, "outcome": "ok", "detail": detail,
                         "entry_mac": mac, "seq": entry_id, "chain": link})  # fmt: skip
        async with app.engine.begin() as c:
            await bulk_insert(c, table(AuditEventRow), rows)
    async with app.engine.begin() as c:
        await c.execute(table(AuditChainHeadRow).delete())
        await bulk_insert(c, table(AuditChainHeadRow), [{"id": 1, "seq": count, "chain": link, "legacy_upto": 0}])
    out.audit = count


# ---- measuring -----------------------------------------------------------------------------------------------------


class TransactionTimes:
    """Wall time of every `store.transaction()` the services open (enter to commit), by wrapping the store's method on
    this instance only: what a batch holds its locks for."""

    def __init__(self) -> None:
        self.times: list[float] = []

    @contextmanager
    def on(self, app: Application) -> Iterator[TransactionTimes]:
        store = app.store
        original = store.transaction

        @asynccontextmanager
        async def timed() -> AsyncIterator[Any]:
            started = time.perf_counter()
            try:
                async with original() as repos:
                    yield repos
            finally:
                self.times.append(time.perf_counter() - started)

        store.transaction = timed  # type: ignore[method-assign]
        try:
            yield self
        finally:
            del store.transaction  # the class's method again

    def summary(self, first: int | None = None) -> str:
        """p50/p95/max of the first `first` transactions (all when None)."""
        ordered = sorted(self.times[:first] if first is not None else self.times)
        if not ordered:
            return "no transactions"
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        return (f"{len(ordered):,} transactions, p50 {statistics.median(ordered) * 1000:.0f} ms, "
                f"p95 {p95 * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms")  # fmt: skip

    @property
    def longest(self) -> float:
        return max(self.times, default=0.0)


def _top(timer: StatementTimer, n: int = 4) -> None:
    for shape, count, took in timer.top(n):
        print(f"      {took:7.1f} s  {count:7,}×  {shape}")


async def measure_purge(app: Application, seeded: Seeded, retention_days: int, audit_national: int) -> None:
    times = TransactionTimes()
    with rss_window() as window, times.on(app), StatementTimer(app.engine) as timer:
        started = time.perf_counter()
        done = await retention.purge(app.store, now=NOW, tz=TZ, days=retention_days, actor_type="scheduler")
        took = time.perf_counter() - started
    assert done.done and sorted(done.participants) == seeded.leavers, "the purge did not take exactly the leavers"
    rate = len(done.participants) / took if took else 0.0
    print(f"  1. daily purge of {len(done.participants):,} people (batches of {retention.BATCH}): {took:7.1f} s, "
          f"{rate:,.0f} people/s   (target: the whole run ≤ {PURGE_TARGET_S / 60:.0f} min: "
          f"{ok(took <= PURGE_TARGET_S)})")  # fmt: skip
    batches = -(-len(done.participants) // retention.BATCH)
    print(f"     the {batches} batches: {times.summary(batches)}; longest transaction of the run "
          f"{times.longest * 1000:.0f} ms   (target: none > {TRANSACTION_TARGET_S:.0f} s: "
          f"{ok(times.longest <= TRANSACTION_TARGET_S)})")  # fmt: skip
    print(f"     peak RSS {window.peak_mb:.0f} MB (from {window.start_mb:.0f} MB; {window.method}); "
          f"SQL {timer.seconds:.1f} s in {timer.statements:,} statements, most costly:")  # fmt: skip
    _top(timer)
    if batches and (len(done.participants), seeded.audit, seeded.people) != (NATIONAL_LEAVERS, audit_national,
                                                                             NATIONAL_PEOPLE):  # fmt: skip
        # A batch = the redaction's read of the audit log (taken as linear in the log: a full scan) + the rest. The
        # rest is per person, but its lookups may grow with the deployment (a scan for a foreign key without an
        # index does): a range, from the rest as it is here to the rest grown linearly with the people.
        scan = sum(took for shape, _, took in timer.top(10**6) if shape.startswith("SELECT audit_event"))
        read = scan / batches * audit_national / max(1, seeded.audit)
        rest = (took - scan) / batches
        grown = rest * NATIONAL_PEOPLE / seeded.people
        national_batches = -(-NATIONAL_LEAVERS // retention.BATCH)
        low, high = national_batches * (rest + read) / 60, national_batches * (grown + read) / 60
        print(f"     extrapolated to {NATIONAL_PEOPLE:,} people, {NATIONAL_LEAVERS:,} leavers, an audit log of "
              f"{audit_national:,}: {low:.1f}–{high:.1f} min, a batch {rest + read:.1f}–{grown + read:.1f} s "
              f"(audit read {scan / batches * 1000:.0f} ms a batch here; measure it with --people {NATIONAL_PEOPLE} "
              f"--leavers {NATIONAL_LEAVERS} --audit {audit_national})")  # fmt: skip


def _rotated_settings(url: str, data_dir: Path) -> Settings:
    return Settings(_env_file=None, database_url=url, data_dir=data_dir, encryption_key=NEW_KEY,  # type: ignore[call-arg,arg-type]
                    previous_encryption_keys=KEY)  # fmt: skip


async def measure_rotation(url: str, data_dir: Path, audit_seconds: float) -> None:
    app = build_application(_rotated_settings(url, data_dir), clock=FixedClock(NOW))
    try:
        await app.migrate()  # the start-up check: the new key is remembered, the old one still reads
        started = time.perf_counter()
        before = await keys.status(app.store, app.clock)
        status_before = time.perf_counter() - started
        print(f"  2. keys status, rotation not started: {status_before:6.2f} s, remaining {before.remaining:,} "
              f"({before.audit_remaining:,} of them audit entries)   (target ≤ {STATUS_TARGET_S:.0f} s: "
              f"{ok(status_before <= STATUS_TARGET_S)})", flush=True)  # fmt: skip
        times = TransactionTimes()
        values = entries = unreadable = 0
        sealed_s = audit_s = 0.0
        done = False
        with rss_window() as window, times.on(app):
            # In bounded shares, as the scheduler runs it (`continue_rotation`): every sealed value first (the
            # service's order), then the audit chain for `audit_seconds` (None: to the end).
            while not done:
                started = time.perf_counter()
                report = await keys.rotate(app.store, max_batches=50)
                took = time.perf_counter() - started
                values += sum(report.resealed.values())
                entries += report.audit_entries
                unreadable += report.unreadable
                done = report.done
                if report.audit_entries:
                    audit_s += took
                    if audit_seconds and audit_s >= audit_seconds:
                        break
                else:
                    sealed_s += took
        print(f"     re-sealed {values:,} values in {sealed_s:.1f} s ({values / max(sealed_s, 1e-9):,.0f} values/s); "
              f"re-made {entries:,} audit entries in {audit_s:.1f} s "
              f"({entries / max(audit_s, 1e-9):,.0f} entries/s); unreadable {unreadable}; batches of {keys.BATCH}",
              flush=True)  # fmt: skip
        print(f"     {times.summary()}   (target: none > {TRANSACTION_TARGET_S:.0f} s: "
              f"{ok(times.longest <= TRANSACTION_TARGET_S)}); peak RSS {window.peak_mb:.0f} MB")  # fmt: skip
        started = time.perf_counter()
        after = await keys.status(app.store, app.clock)
        status_after = time.perf_counter() - started
        print(f"     keys status, after: {status_after:6.2f} s, remaining {after.remaining:,}, done {after.done}   "
              f"(target ≤ {STATUS_TARGET_S:.0f} s: {ok(status_after <= STATUS_TARGET_S)})")  # fmt: skip
        if done:
            assert after.done, "the rotation left values behind"
            total = sealed_s + audit_s
            print(f"     the whole rotation: {total / 60:.1f} min")
        else:
            left = after.audit_remaining / max(entries / max(audit_s, 1e-9), 1e-9)
            whole = (sealed_s + audit_s + left) / 60
            print(
                f"     the whole rotation ≈ {whole:.1f} min (the {after.audit_remaining:,} audit entries left at the "
                "rate measured; --audit-rotation-seconds 0 runs it to the end)"
            )
    finally:
        await app.aclose()


async def measure_export(app: Application, participant_id: int) -> None:
    gathered, jsons, pdfs, sizes = [], [], [], (0, 0)
    for _ in range(3):
        started = time.perf_counter()
        async with app.store.transaction() as repos:
            data = await personal_export.gather(repos, participant_id, NOW, TZ)
            await personal_export.record_export(repos, participant_id, actor_type="operator", actor_id=None,
                                                via="bench", formats=["json", "pdf"])  # fmt: skip
        gathered.append(time.perf_counter() - started)
        started = time.perf_counter()
        as_json = personal_export.to_json(data)
        jsons.append(time.perf_counter() - started)
        started = time.perf_counter()
        made = await personal_export.files(data, TZ)
        pdfs.append(time.perf_counter() - started)
        sizes = (len(as_json), len(made.pdf))
    total = statistics.median(gathered) + statistics.median(jsons) + statistics.median(pdfs)
    print(f"  3. one person's export ({len(data['checkins'])} check-ins, {len(data['test_results'])} results, "
          f"{len(data['notes'])} notes): gather {statistics.median(gathered) * 1000:.0f} ms, JSON "
          f"{statistics.median(jsons) * 1000:.0f} ms ({sizes[0] / 1024:.0f} KB), PDF "
          f"{statistics.median(pdfs) * 1000:.0f} ms ({sizes[1] / 1024:.0f} KB); total {total:.2f} s   "
          f"(target ≤ {EXPORT_TARGET_S:.0f} s: {ok(total <= EXPORT_TARGET_S)}; median of 3)")  # fmt: skip


async def run(url: str, data_dir: Path, args: argparse.Namespace) -> None:
    app = build_application(settings_for(url, data_dir), clock=FixedClock(NOW))
    days = app.settings.retention_days
    try:
        await app.migrate()
        started = time.perf_counter()
        seeded = await seed(app, args.people, args.leavers, args.audit, days)
        counts = ", ".join(f"{n:,} {name}" for name, n in seeded.rows.items() if name != "participant")
        print(f"{app.engine.dialect.name}: {seeded.people:,} people ({len(seeded.leavers):,} left more than "
              f"{days} days ago), {seeded.sealed:,} sealed values, audit log {seeded.audit:,}; "
              f"seeded in {time.perf_counter() - started:.0f} s\n     ({counts})", flush=True)  # fmt: skip
        await measure_purge(app, seeded, days, args.audit_national)
        await measure_export(app, seeded.kept_person)
    finally:
        await app.aclose()
    if not args.no_rotation:
        await measure_rotation(url, data_dir, args.audit_rotation_seconds)
    print(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)


def _scratch(url: str) -> str:
    """Only a database named for a benchmark is dropped and created again."""
    name = make_url(url).database or ""
    if "bench" not in name or name in ("test", "postgres"):
        raise SystemExit(f"--postgres must name a scratch database with 'bench' in its name, not {name!r}")
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=10_000, help="people in the deployment (default 10,000)")
    parser.add_argument("--leavers", type=int, default=1_000, help="of them, due for the purge today (default 1,000)")
    parser.add_argument("--audit", type=int, default=1_000_000, help="audit log entries (default 1,000,000)")
    parser.add_argument("--audit-national", type=int, default=1_000_000,
                        help="the audit log size the extrapolation is for")  # fmt: skip
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="a SCRATCH database ('' to skip)")
    parser.add_argument("--sqlite", action="store_true", help="also on SQLite")
    parser.add_argument("--no-rotation", action="store_true", help="skip the key rotation (the longest part)")
    parser.add_argument("--audit-rotation-seconds", type=float, default=120.0,
                        help="re-make the audit chain this long, then extrapolate (0: to the end)")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="leave the PostgreSQL database (to look at)")
    args = parser.parse_args()
    if args.leavers > args.people:
        parser.error("--leavers is more than --people")
    with tempfile.TemporaryDirectory() as tmp:
        if args.sqlite:
            asyncio.run(run(f"sqlite+aiosqlite:///{tmp}/bench.db", Path(tmp) / "sqlite", args))
        if args.postgres:
            url = _scratch(args.postgres)
            asyncio.run(recreate_postgres(url))
            try:
                asyncio.run(run(url, Path(tmp) / "pg", args))
            finally:
                if not args.keep:
                    asyncio.run(drop_postgres(url))


if __name__ == "__main__":
    main()
