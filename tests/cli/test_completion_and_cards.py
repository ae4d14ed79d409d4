"""`participant complete` (and its Mẫu 54 certificate) and `participant cards`, against a real database: the term's
end moved by unreported absences, reminders stopped, new codes on the cards that link the right person and revoke
the old ones, and what each leaves in the audit trail."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.app import Application
from bot.db.models import OutboxRow
from bot.db.repositories.outbox import NewMessage
from bot.domain.entities import ParticipantStatus, Role
from bot.domain.invites import hash_code, normalize_code
from bot.domain.planning import MessageKind
from bot.services.absences import record_absence
from tests.fakes.telegram_api import BOT_USERNAME, FakeTelegram, running_in_thread
from tests.support.cli import call, ok_json
from tests.support.factories import add_hanoi, add_person, add_ward
from tests.support.pdfs import qr_codes, reader, text
from tests.support.records import audit_trail

TOKEN = "123456789:AAE-test-token-for-the-fake-bot-api"


async def _cli_json(env: dict[str, str], *args: str) -> dict[str, Any]:  # the CLI runs its own event loop
    return await asyncio.to_thread(ok_json, env, *args)


async def _cli(env: dict[str, str], *args: str) -> Any:
    return await asyncio.to_thread(call, env, *args)


async def _owner(app: Application, code: str) -> int | None:
    """Whom a printed code links (spending it, as a person sending it to the bot would); None if it does not work."""
    compact = normalize_code(code)
    assert compact is not None
    async with app.store.transaction() as repos:
        target = await repos.invites.redeem(hash_code(app.store.keyring.code_key, compact))
    return target.participant_id if target else None


async def test_completion_waits_for_the_moved_end_stops_reminders_and_prints_the_certificate(
    app: Application, env: dict[str, str], tmp_path: Path
) -> None:
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await add_hanoi(service)
        an, _ = await add_person(service, "Nguyễn Văn An", start=date(2020, 1, 15), national_id="001090012345")
        # Not yet at the end of the term (the CLI's clock is the wall clock): refused whatever day is asked.
        binh, _ = await add_person(service, "Đỗ Thị Bích", start=date.today() - timedelta(days=30))
        # Ten days away without telling anyone: the term ends ten days later (2021-01-25, not 2021-01-15).
        await record_absence(
            repos, an.id, date(2020, 6, 1), date(2020, 6, 10), reported=False, reason=None, by_staff=None
        )
        await repos.outbox.add([NewMessage(f"reminder:{an.id}:x", MessageKind.REMINDER, app.clock.now(), an.id)])
    pid = str(an.id)

    early = await _cli(env, "participant", "complete", "--id", pid, "--on", "2021-01-20", "--json")
    assert early.exit_code == 1 and "2021-01-25" in early.stdout
    assert (await _cli(env, "participant", "complete", "--id", pid, "--on", "20/01/2021", "--json")).exit_code == 1
    future = (date.today() + timedelta(days=2)).isoformat()
    assert (await _cli(env, "participant", "complete", "--id", pid, "--on", future, "--json")).exit_code == 1
    assert (await _cli(env, "participant", "complete", "--id", "999", "--json")).exit_code == 1
    not_yet = await _cli(env, "participant", "complete", "--id", str(binh.id), "--json")
    assert not_yet.exit_code == 1 and "cannot be completed before" in not_yet.stdout
    assert (await _cli(env, "participant", "certificate", "--id", pid, "--out", str(tmp_path / "x.pdf"))).exit_code
    assert not (tmp_path / "x.pdf").exists()

    paper = tmp_path / "mau54.pdf"
    done = await _cli_json(
        env, "participant", "complete", "--id", pid, "--on", "2021-01-25", "--certificate", str(paper)
    )
    assert done == {"id": an.id, "completed_on": "2021-01-25", "status": "completed", "certificate": str(paper)}
    certificate = " ".join(text(paper.read_bytes()).split())
    assert len(reader(paper.read_bytes()).pages) == 1
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in certificate and "GIẤY CHỨNG NHẬN" in certificate
    assert "NGUYỄN VĂN AN" in certificate and "001090012345" in certificate and "PHƯỜNG HÀ ĐÔNG" in certificate
    assert "từ ngày 15/01/2020 đến ngày 25/01/2021" in certificate

    again = await _cli(env, "participant", "complete", "--id", pid, "--json")
    assert again.exit_code == 1 and "not on the list" in again.stdout
    human = await _cli(env, "participant", "certificate", "--id", pid, "--out", str(tmp_path / "copy.pdf"))
    assert human.exit_code == 0 and "copy.pdf" in human.stdout
    assert text((tmp_path / "copy.pdf").read_bytes()) == text(paper.read_bytes())  # the same certificate again

    async with app.store.transaction() as repos:
        person = await repos.participants.get(an.id)
        assert person is not None
        assert (person.status, person.completed_on) == (ParticipantStatus.COMPLETED, date(2021, 1, 25))
        rows = (await repos.session.execute(select(OutboxRow).where(OutboxRow.participant_id == an.id))).scalars()
        by_kind = {row.kind: row.status for row in rows}
    assert by_kind == {"reminder": "cancelled", "completion": "pending"}  # reminders stop; told once
    [completed] = await audit_trail(app, "term_completed", subject_id=an.id)
    assert completed.actor_type == "operator" and completed.detail["end"] == "2021-01-25"
    assert len(await audit_trail(app, "certificate_printed", subject_id=an.id)) == 2
    listed = await _cli_json(env, "participant", "completions", "--unit", "HD")
    assert [p["id"] for p in listed["completed"]] == [an.id]


async def test_cards_issue_new_codes_that_link_each_person_and_revoke_the_old_ones(
    app: Application, env: dict[str, str], tmp_path: Path
) -> None:
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await add_hanoi(service)
        await add_ward(service, "KH", "Phường Kiến Hưng")
        people = [await add_person(service, f"Người số {n}", language="vi" if n % 3 else "en") for n in range(9)]
        other, _ = await add_person(service, "Người xã khác", unit="KH")
        done, _ = await add_person(service, "Đã xong", start=date(2019, 1, 1))
        await repos.participants.update(done.id, status=ParticipantStatus.COMPLETED, completed_on=date(2020, 1, 1))
        await service.add_staff("Trần Thị Bình", Role.CADRE, "HD", None, "vi")
    old_codes = {person.id: invite.code for person, invite in people}

    with running_in_thread(lambda: FakeTelegram(token=TOKEN)) as fake:
        telegram = {**env, "AFTERCARE_TELEGRAM_TOKEN": TOKEN, "AFTERCARE_TELEGRAM_API_URL": fake.base_url}
        out = tmp_path / "the" / "cards.pdf"
        assert (await _cli(telegram, "participant", "cards", "--unit", "HD", "--out", str(out), "--json")).exit_code
        out = tmp_path / "cards.pdf"
        printed = await _cli_json(telegram, "participant", "cards", "--unit", "HD", "--out", str(out))
    assert printed == {"pages": 2, "cards": 9, "file": str(out)}  # the commune's nine on its list, nobody else
    pdf = out.read_bytes()
    assert len(reader(pdf).pages) == 2
    links = qr_codes(pdf)
    assert len(links) == 9 and all(link.startswith(f"https://t.me/{BOT_USERNAME}?start=") for link in links)
    content = text(pdf)
    assert "Mã kết nối" in content and "Connection code" in content and "Người số 8" in content
    assert "Người xã khác" not in content and "Đã xong" not in content
    for person_id, code in old_codes.items():
        assert await _owner(app, code) is None, person_id  # the old code stopped working
    owners = [await _owner(app, link.rsplit("=", 1)[1]) for link in links]
    assert sorted(owners) == sorted(old_codes)  # each QR links its own person, once
    [entry] = await audit_trail(app, "invite_cards_printed")
    assert entry.detail["count"] == 9 and entry.detail["with_qr"] == 9 and entry.subject_type == "unit"
    assert sorted(entry.detail["participants"]) == sorted(old_codes)

    # Without Telegram: no QR code, the code to type is still there; names by id, each once.
    a, b = (str(person.id) for person, _ in people[:2])
    plain = tmp_path / "plain.pdf"
    two = await _cli_json(env, "participant", "cards", "--id", a, "--id", b, "--id", a, "--out", str(plain))
    assert two == {"pages": 1, "cards": 2, "file": str(plain)}
    assert qr_codes(plain.read_bytes()) == [] and "Mở Zalo và tìm Đồng Hành." in text(plain.read_bytes())
    human = await _cli(env, "participant", "cards", "--id", a, "--out", str(tmp_path / "one.pdf"))
    assert human.exit_code == 0 and "1 card(s) on 1 page(s)" in human.stdout

    # Refused as a whole, nothing issued: an unknown id, someone who left the list, both --id and --unit, neither.
    before = len(await audit_trail(app, "invite_issued"))
    for bad in (
        ["--id", a, "--id", "999"],
        ["--id", a, "--id", str(done.id)],
        ["--id", a, "--unit", "HD"],
        [],
        ["--unit", "NOPE"],
    ):
        refused = await _cli(env, "participant", "cards", *bad, "--out", str(tmp_path / "bad.pdf"), "--json")
        assert refused.exit_code == 1 and "error" in refused.stdout, bad
    assert len(await audit_trail(app, "invite_issued")) == before
    assert not (tmp_path / "bad.pdf").exists()
    assert other.id not in entry.detail["participants"]
