"""Choices typed on a channel without buttons, against a real database: each stored label says how it is typed (no
mark inside the label any more), chats that still hold labels in the earlier format (a "▸ " before those typed by
name) are read as before, and which channels type their choices is the engine's configuration, not the message's."""

from __future__ import annotations

import itertools
import json
from datetime import date

from sqlalchemy import select

from bot.app import TYPED_CHOICES, Application
from bot.core.channel_names import TELEGRAM, ZALO
from bot.core.messages import Button, InboundMessage, OutboundMessage, TypedBy
from bot.db.crypto import row_ref
from bot.db.models import ConversationStateRow
from bot.db.repositories.conversations import ConversationState
from bot.domain.entities import ParticipantStatus, RiskLevel
from bot.flows import participant

_LABELS = "conversation_state.offered_labels"
_KEYS = itertools.count(1)
SETTINGS, INFO = participant.Verbs.SETTINGS.value, participant.Verbs.INFO.value


async def _linked(app: Application, channel: str) -> int:
    """An, linked on `channel` (chat "an") and past onboarding: her identity's id."""
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await service.add_unit("HN", "Thành phố Hà Nội", None)
        await service.add_unit("HD", "Phường Hà Đông", "HN")
        an, _ = await service.add_participant(
            name="Nguyễn Văn An", unit_code="HD", start=date(2026, 1, 15), term_months=12, cadre_id=None,
            risk=RiskLevel.MEDIUM, language="vi",
        )  # fmt: skip
        await repos.participants.update(an.id, status=ParticipantStatus.ACTIVE)
        return (await repos.identities.link(channel, "an", participant_id=an.id)).id


async def _store_labels(app: Application, identity_id: int, offered: list[str], labels: list[object]) -> None:
    """The chat's state as a version of the assistant wrote it: `labels` sealed exactly as given."""
    async with app.store.transaction() as repos:
        await repos.conversations.save(identity_id, ConversationState(offered=offered))
        row = (await repos.session.execute(select(ConversationStateRow))).scalar_one()
        plain = json.dumps(labels, ensure_ascii=False)
        row.offered_labels = [app.store.keyring.cipher.encrypt(plain, _LABELS, row_ref(identity=identity_id))]


async def _stored_labels(app: Application, identity_id: int) -> list[object]:
    async with app.store.transaction() as repos:
        row = (await repos.session.execute(select(ConversationStateRow))).scalar_one()
    [sealed] = row.offered_labels
    return list(json.loads(app.store.keyring.cipher.decrypt(sealed, _LABELS, row_ref(identity=identity_id))))


async def _say(app: Application, channel: str, text: str) -> list[OutboundMessage]:
    msg = InboundMessage(channel=channel, external_user_id="an", text=text, dedupe_key=f"{channel}:{next(_KEYS)}")
    return await app.conversation.handle(msg)


def _actions(replies: list[OutboundMessage]) -> set[str]:
    return {action for reply in replies for action in reply.actions}


def test_zalo_alone_types_its_choices() -> None:
    assert ZALO in TYPED_CHOICES and TELEGRAM not in TYPED_CHOICES


async def test_labels_in_the_earlier_format_are_read_without_their_mark(app: Application) -> None:
    identity = await _linked(app, ZALO)
    await _store_labels(app, identity, ["relay:end", SETTINGS], ["▸ Kết thúc trò chuyện", "Cài đặt"])
    async with app.store.transaction() as repos:
        found = await repos.identities.find_for_message(ZALO, "an")
        assert found is not None
        state = repos.conversations.adopt(identity, found.state)
    assert state.offered_labels == ["Kết thúc trò chuyện", "Cài đặt"]
    assert state.offered_typed_by == [TypedBy.NAME, TypedBy.NUMBER]


async def test_a_chat_in_the_earlier_format_still_chooses_as_it_did(app: Application) -> None:
    """Typed by name first (a conversation): "2" is words, not the second choice; the words still choose."""
    identity = await _linked(app, ZALO)
    await _store_labels(app, identity, [SETTINGS, INFO], ["▸ Cài đặt", "Thông tin của tôi"])
    not_understood = await _say(app, ZALO, "2")
    assert SETTINGS in _actions(not_understood) and participant.Verbs.LANGUAGES not in _actions(not_understood)
    await _store_labels(app, identity, [SETTINGS, INFO], ["▸ Cài đặt", "Thông tin của tôi"])
    assert participant.Verbs.LANGUAGES in _actions(await _say(app, ZALO, "cài đặt"))
    await _store_labels(app, identity, [INFO, SETTINGS], ["Thông tin của tôi", "Cài đặt"])  # numbered
    assert participant.Verbs.LANGUAGES in _actions(await _say(app, ZALO, "2"))


async def test_no_mark_is_stored_any_more_each_label_says_how_it_is_typed(app: Application) -> None:
    identity = await _linked(app, ZALO)
    await _store_labels(app, identity, [SETTINGS, INFO], ["▸ Cài đặt", "Thông tin của tôi"])
    await _say(app, ZALO, "cài đặt")  # the settings menu is shown and saved
    stored = await _stored_labels(app, identity)
    assert stored and all(isinstance(e, list) and e[1] == "number" for e in stored)
    assert "▸" not in json.dumps(stored, ensure_ascii=False)
    async with app.store.transaction() as repos:
        await repos.conversations.offer(identity, [Button("Kết thúc trò chuyện", "relay:end")], TypedBy.NAME)
    stored = await _stored_labels(app, identity)
    assert stored[-1] == ["Kết thúc trò chuyện", "name"]  # typed by name: last, the question's numbers kept
    assert "▸" not in json.dumps(stored, ensure_ascii=False)
    async with app.store.transaction() as repos:
        found = await repos.identities.find_for_message(ZALO, "an")
        assert found is not None
        state = repos.conversations.adopt(identity, found.state)
    assert state.offered[-1] == "relay:end" and state.offered_typed_by[-1] is TypedBy.NAME
    assert state.offered_labels[-1] == "Kết thúc trò chuyện"


async def test_a_typed_number_is_a_choice_only_on_a_channel_configured_to_type_them(app: Application) -> None:
    identity = await _linked(app, TELEGRAM)
    await _store_labels(app, identity, [INFO, SETTINGS], [["Thông tin của tôi", "number"], ["Cài đặt", "number"]])
    for words in ("2", "cài đặt"):
        replies = await _say(app, TELEGRAM, words)  # words on Telegram: not understood, the home menu
        assert SETTINGS in _actions(replies) and participant.Verbs.LANGUAGES not in _actions(replies)
