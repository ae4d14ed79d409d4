"""Telegram `Update` → core `InboundMessage`, or a deliberate ignore. Pure: no I/O, no rules.

aiogram's validation has already checked every field's type; what remains hostile is content: strings with lone
surrogates (valid JSON, not Unicode) are made well-formed so they can be stored, compared and sent, and bounded
(`well_formed`: linear, no normalisation; the engine cleans and composes a bounded start)."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.types import CallbackQuery, Chat, Message, Update, User

from bot.channels.text import well_formed
from bot.core.messages import ChatType, InboundMessage, MediaKind

CHANNEL = "telegram"

# Update kinds the bot asks for (getUpdates / setWebhook allowed_updates).
ALLOWED_UPDATES = ["message", "callback_query", "channel_post", "my_chat_member"]

_CHAT_TYPES = {"private": ChatType.PRIVATE, "group": ChatType.GROUP, "supergroup": ChatType.GROUP}


@dataclass(frozen=True, slots=True)
class Inbound:
    msg: InboundMessage
    chat_id: int
    callback_id: str | None = None  # answered at once, whatever happens next
    callback_message_id: int | None = None  # the message whose keyboard was pressed, if it still has one


@dataclass(frozen=True, slots=True)
class Reachability:
    """The person blocked (or unblocked) the bot in their private chat."""

    external_id: str
    reachable: bool


def to_inbound(update: Update) -> Inbound | Reachability | None:
    if update.message is not None:
        return _message(update.update_id, update.message)
    if update.callback_query is not None:
        return _callback(update.update_id, update.callback_query)
    if update.channel_post is not None:
        return _message(update.update_id, update.channel_post)
    if update.my_chat_member is not None and update.my_chat_member.chat.type == "private":
        status = update.my_chat_member.new_chat_member.status
        return Reachability(str(update.my_chat_member.from_user.id), status not in ("kicked", "left"))
    return None  # edited messages, reactions, polls, inline queries, …: nothing the bot acts on


def _chat_type(chat: Chat) -> ChatType:
    return _CHAT_TYPES.get(chat.type, ChatType.CHANNEL)


def _sender(user: User | None, chat: Chat) -> str:
    return str(user.id if user is not None else chat.id)


def _message(update_id: int, message: Message) -> Inbound | None:
    user = message.from_user
    if user is not None and user.is_bot:
        return None
    chat_type = _chat_type(message.chat)
    text = well_formed(message.text) if message.text is not None else None
    media = _media(message) if text is None else None
    if text is None and media is None and chat_type is ChatType.PRIVATE:
        media = MediaKind.OTHER  # dice, polls, service messages: answered politely
    return Inbound(
        InboundMessage(
            channel=CHANNEL,
            external_user_id=_sender(user, message.chat),
            chat_type=chat_type,
            text=text,
            media=media,
            message_id=str(message.message_id),
            external_chat_id=str(message.chat.id),
            language_hint=_language(user),
            dedupe_key=f"{CHANNEL}:{update_id}",
        ),
        chat_id=message.chat.id,
    )


def _callback(update_id: int, query: CallbackQuery) -> Inbound:
    message = query.message
    chat_id = message.chat.id if message is not None else query.from_user.id
    chat_type = _chat_type(message.chat) if message is not None else ChatType.PRIVATE
    return Inbound(
        InboundMessage(
            channel=CHANNEL,
            external_user_id=str(query.from_user.id),
            chat_type=chat_type,
            action_ref=well_formed(query.data or ""),
            message_id=str(message.message_id) if message is not None else None,
            external_chat_id=str(chat_id),
            language_hint=_language(query.from_user),
            dedupe_key=f"{CHANNEL}:{update_id}",
        ),
        chat_id=chat_id,
        callback_id=query.id if query.id.isascii() and query.id.isprintable() else None,
        callback_message_id=message.message_id if _has_keyboard(message) else None,
    )


def _has_keyboard(message: object) -> bool:
    """Telegram shows the pressed message as it is now: without a keyboard there is nothing to remove (editing it
    would be refused as "message is not modified"); an inaccessible (old) message has no markup at all."""
    markup = getattr(message, "reply_markup", None)
    return markup is not None and any(markup.inline_keyboard)


def _language(user: User | None) -> str | None:
    code = user.language_code if user is not None else None
    return code if code is not None and code.isascii() and code.isprintable() and len(code) <= 35 else None


def _media(message: Message) -> MediaKind | None:
    if message.sticker is not None:
        return MediaKind.STICKER
    if message.photo:
        return MediaKind.PHOTO
    if message.voice is not None or message.audio is not None:
        return MediaKind.VOICE
    if message.video is not None or message.video_note is not None or message.animation is not None:
        return MediaKind.VIDEO
    if message.document is not None:
        return MediaKind.FILE
    if message.location is not None or message.venue is not None:
        return MediaKind.LOCATION
    if message.contact is not None:
        return MediaKind.CONTACT
    return None
