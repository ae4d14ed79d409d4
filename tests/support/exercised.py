"""A database exercised by many flows, for the checks that must touch every sealed value (the sealed-column registry,
key rotation, backup and restore): the seeded commune, chats linked through the conversation engine as Telegram
delivers them (text, and buttons pressed by their opaque references), and a person's field records written through
the repositories. Nothing here asserts; the tests do."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date

from bot.app import Application
from bot.core.channel_names import TELEGRAM
from bot.core.messages import InboundMessage, OutboundMessage
from bot.db.sealed import SEALED, page
from bot.db.store import Store
from bot.domain.entities import RiskLevel
from bot.domain.escalations import EscalationKind
from bot.domain.fieldwork import ObservationCategory, SubstanceGroup, TestOutcome
from tests.support.factories import Commune, add_person, seed_commune

_UPDATES = itertools.count(1)


@dataclass
class EngineChat:
    """One Telegram chat talking straight to the engine: what it was last offered, to press by label."""

    app: Application
    external_id: str
    last: list[OutboundMessage] = field(default_factory=list)

    async def say(self, text: str) -> list[OutboundMessage]:
        return await self._send(text=text)

    def ref(self, label: str) -> str:
        """The opaque reference Telegram carries back for the button labelled `label` in the last replies."""
        for reply in self.last:
            for button in reply.buttons:
                if button.label == label:
                    return self.app.store.keyring.button_ref(TELEGRAM, self.external_id, button.action)
        offered = [b.label for r in self.last for b in r.buttons]
        raise AssertionError(f"no button {label!r} among {offered}")

    async def press(self, label: str) -> list[OutboundMessage]:
        return await self._send(action_ref=self.ref(label))

    async def press_ref(self, ref: str) -> list[OutboundMessage]:
        return await self._send(action_ref=ref)

    async def _send(self, **what: str) -> list[OutboundMessage]:
        msg = InboundMessage(
            channel=TELEGRAM, external_user_id=self.external_id, dedupe_key=f"telegram:{next(_UPDATES)}", **what
        )
        self.last = await self.app.conversation.handle(msg)
        return self.last


def texts(replies: list[OutboundMessage]) -> str:
    return "\n".join(reply.text for reply in replies)


@dataclass
class Exercised:
    commune: Commune
    an: EngineChat
    cadre: EngineChat
    unused_code: str  # Bích's invite code, issued and never used
    extra_id: int  # Phan Văn Khoa, with a national ID, a phone and field records


async def exercise(app: Application) -> Exercised:
    """The commune seeded; An linked (three consents, Vietnamese), her cadre, officer and counsellor linked; An asks
    to talk to a counsellor; a person with a national ID gets a test result, an observation and an escalation note."""
    commune = await seed_commune(app)
    an = EngineChat(app, "7001")
    await an.say(commune.an_code)
    for _ in range(3):
        await an.press("Tôi đồng ý")
    await an.press("Tiếng Việt")
    cadre = EngineChat(app, "7002")
    await cadre.say(commune.cadre_code)
    await EngineChat(app, "7003").say(commune.officer_code)
    await EngineChat(app, "7004").say(commune.counsellor_code)
    await an.say("giúp")
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        khoa, _ = await add_person(
            service, "Phan Văn Khoa", cadre_id=commune.cadre_id, risk=RiskLevel.HIGH, national_id="001099012345"
        )
        await repos.participants.set_phone(khoa.id, "0912345678")
        await repos.fieldwork.add_test_result(
            khoa.id, None, TestOutcome.POSITIVE, SubstanceGroup.STIMULANTS, "Trạm y tế", date(2026, 2, 1),
            commune.cadre_id,
        )  # fmt: skip
        await repos.fieldwork.add_observation(
            khoa.id, commune.cadre_id, ObservationCategory.FAMILY, "gia đình ủng hộ", False
        )
        unit = await repos.units.by_code("HD")
        assert unit is not None
        escalation = await repos.escalations.add(
            "test:khoa", participant_id=khoa.id, unit_id=unit.id, kind=EscalationKind.MISSED_CHECKIN, cadre_id=None
        )
        assert escalation is not None
        await repos.escalations.add_note(escalation.id, commune.cadre_id, "đã gọi điện")
    return Exercised(commune, an, cadre, commune.binh_code, khoa.id)


async def opened_values(store: Store) -> dict[str, int]:
    """Every value SEALED finds, opened where it is (raises `SealBroken` otherwise); how many per column."""
    counts: dict[str, int] = {}
    for spec in SEALED:
        after = 0
        while True:
            async with store.transaction() as repos:
                found = await page(repos.session, spec, after_id=after, limit=7)
            for _, sealed, ref in found.values:
                store.keyring.cipher.decrypt(sealed, spec.sealed_for, ref)
                counts[spec.name] = counts.get(spec.name, 0) + 1
            if found.last_id is None:
                break
            after = found.last_id
    return counts
