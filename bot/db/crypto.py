"""Field encryption for sensitive personal data (names, national ID numbers, free-text notes, test results) and the
keys derived from the one master key.

A value is sealed for ONE place: AES-256-GCM with a random 96-bit nonce, and as associated data the table, the column
and the row it belongs to (`v2|participant.name|id=7`). Stored as `v2:<base64(nonce || ciphertext)>`. Someone with
write access to the database who copies a ciphertext into another row, column or table gets a value that does not
open (`SealBroken`), never another person's name or result shown as genuine.

The row reference (`row_ref`) is the row's identity that never changes, plus the person it belongs to wherever the row
carries one, so re-pointing a row's clear `participant_id` at someone else breaks it too:

- the primary key, where the row is inserted through the ORM: it is flushed first and sealed right after, in the same
  transaction (participant, test_result, observation, field_report, absence, relay_message, escalation, referral);
- a unique natural key known before the insert, where the row is upserted or inserted with ON CONFLICT:
  conversation_state (the chat identity), checkin_response (the obligation), in_person_check (person + month),
  quarterly_review (person + quarter), inbound_update (the dedupe key), channel_identity (the keyed hash of the chat
  and the person or staff member it is linked to: a chat re-pointed at another person does not open).

The former format `v1:` (bound to the column only) is not accepted: migration 0008 re-seals every value, so an old
ciphertext an attacker kept cannot be moved back in. Chat platform ids are stored as a keyed hash (`Keyring.chat_key`,
for lookups) plus the sealed id (to write to the chat).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "v2:"
_NONCE = 12


class SealBroken(ValueError):
    """A stored value that does not open where it is read: moved from another row or column, altered, an old format,
    or another key. The message names the place, never the content."""

    def __init__(self, column: str, row: str) -> None:
        super().__init__(f"sealed value does not belong to {column} ({row})")
        self.column = column
        self.row = row


def derive_key(master: bytes, purpose: str) -> bytes:
    """Separate keys per use, so the hashing key is never the encryption key."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(master)


def row_ref(**parts: object) -> str:
    """`row_ref(id=7, participant=3)` → "id=7,participant=3": the row a value is sealed for (order as given)."""
    return ",".join(f"{name}={value}" for name, value in parts.items())


class FieldCipher:
    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ValueError("the encryption key must be 32 bytes")
        self._aead = AESGCM(derive_key(master_key, "aftercare/field-encryption/v2"))

    @staticmethod
    def _aad(column: str, row: str) -> bytes:
        return f"v2|{column}|{row}".encode()

    def encrypt(self, plaintext: str, column: str, row: str) -> str:
        """Seal `plaintext` for `column` ("table.column") of the row `row` (see `row_ref`)."""
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), self._aad(column, row))
        return PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, stored: str, column: str, row: str) -> str:
        """The plaintext, or `SealBroken` if the value was not sealed for exactly this column and row."""
        if not isinstance(stored, str) or not stored.startswith(PREFIX):
            raise SealBroken(column, row)
        try:
            raw = base64.b64decode(stored[len(PREFIX) :], validate=True)
            return self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], self._aad(column, row)).decode("utf-8")
        except (InvalidTag, ValueError, binascii.Error) as exc:
            raise SealBroken(column, row) from exc

    def encrypt_optional(self, plaintext: str | None, column: str, row: str) -> str | None:
        return None if plaintext is None else self.encrypt(plaintext, column, row)

    def decrypt_optional(self, stored: str | None, column: str, row: str) -> str | None:
        return None if stored is None else self.decrypt(stored, column, row)


class Keyring:
    """Keys derived from the one master key: field encryption and keyed hashes (codes, chat keys, button refs)."""

    def __init__(self, master_key: bytes) -> None:
        self.cipher = FieldCipher(master_key)
        self._code_key = derive_key(master_key, "aftercare/invite-code-hash/v1")
        self._chat_key = derive_key(master_key, "aftercare/chat-key/v1")
        self._button_key = derive_key(master_key, "aftercare/button-ref/v1")
        self.audit_key = derive_key(master_key, "aftercare/audit-chain/v1")  # entry MACs and the audit hash chain
        self.lookup_key = derive_key(master_key, "aftercare/lookup/v1")  # keyed hashes of national IDs (duplicates)
        self.token_key = derive_key(master_key, "aftercare/console-token/v1")  # login links, sessions, CSRF tokens

    @property
    def code_key(self) -> bytes:
        return self._code_key

    def chat_key(self, channel: str, external_id: str) -> str:
        return hmac.new(self._chat_key, f"{channel}:{external_id}".encode(), hashlib.sha256).hexdigest()

    def button_ref(self, channel: str, external_id: str, action: str) -> str:
        """Opaque, unforgeable stand-in for an action in one chat (16 characters, 96 bits): nothing to edit or
        guess, and another chat's reference never matches."""
        mac = hmac.new(self._button_key, f"{channel}:{external_id}:{action}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:12]).decode()

    def seal_chat(
        self, channel: str, external_id: str, *, participant_id: int | None, staff_id: int | None
    ) -> tuple[str, str]:
        """(chat key, sealed platform id) of a chat linked to one person: what `channel_identity` stores."""
        key = self.chat_key(channel, external_id)
        return key, self.cipher.encrypt(external_id, IDENTITY_COLUMN, identity_ref(key, participant_id, staff_id))

    def open_chat(self, sealed: str, chat_key: str, participant_id: int | None, staff_id: int | None) -> str:
        return self.cipher.decrypt(sealed, IDENTITY_COLUMN, identity_ref(chat_key, participant_id, staff_id))


IDENTITY_COLUMN = "channel_identity.external_id"


def national_id_key(key: bytes, national_id: str) -> str:
    """The same number written with spaces or dots finds the same person; the number itself is not stored here."""
    digits = "".join(ch for ch in national_id if ch.isalnum()).upper()
    return hmac.new(key, digits.encode(), hashlib.sha256).hexdigest()


def identity_ref(chat_key: str, participant_id: int | None, staff_id: int | None) -> str:
    return row_ref(chat=chat_key, participant=participant_id) if participant_id is not None else row_ref(
        chat=chat_key, staff=staff_id
    )
