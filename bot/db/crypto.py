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

Several keys (rotation, bot/services/keys.py): the first master key writes, the others only read. A value written
now is `v3:<key id>:<base64>`, the key id a fingerprint derived from the key (`key_id`) that says which key opens it
and reveals nothing about the key; a `v2:` value (written before key ids) opens with whichever configured key fits.
Keyed hashes are looked up under every configured key (`chat_keys`, `code_keys`, ...), written under the first.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "v2:"  # written before key ids; still read
PREFIX_V3 = "v3:"
SEALED_PREFIXES = (PREFIX, PREFIX_V3)
LEGACY = "v2"  # what `FieldCipher.key_of` says of a value without a key id
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


def key_id(master_key: bytes) -> str:
    """A short public name for a master key (12 hex characters): derived one way, so it tells nothing about the key,
    and two different keys never share it in practice."""
    return hmac.new(derive_key(master_key, "aftercare/key-id/v1"), b"key id", hashlib.sha256).hexdigest()[:12]


def _checked(master_key: bytes) -> bytes:
    if len(master_key) != 32:
        raise ValueError("the encryption key must be 32 bytes")
    return master_key


class FieldCipher:
    """Seals with the first key (`v3:<key id>:...`); opens values of any of the keys given, and `v2` values."""

    def __init__(self, master_key: bytes, previous: Sequence[bytes] = ()) -> None:
        self.key_id = key_id(_checked(master_key))
        self._aeads: dict[str, AESGCM] = {}
        for key in (master_key, *previous):
            self._aeads.setdefault(key_id(_checked(key)), AESGCM(derive_key(key, "aftercare/field-encryption/v2")))
        self._aead = self._aeads[self.key_id]

    @property
    def key_ids(self) -> tuple[str, ...]:
        """The writing key's id first, then the keys that only read."""
        return tuple(self._aeads)

    def encrypt(self, plaintext: str, column: str, row: str) -> str:
        """Seal `plaintext` for `column` ("table.column") of the row `row` (see `row_ref`)."""
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), f"v3|{column}|{row}".encode())
        return f"{PREFIX_V3}{self.key_id}:" + base64.b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, stored: str, column: str, row: str) -> str:
        """The plaintext, or `SealBroken` if the value was not sealed for exactly this column and row (or under a key
        not configured)."""
        kid = self.key_of(stored)
        if kid is None:
            raise SealBroken(column, row)
        if kid == LEGACY:
            body, aad, aeads = stored[len(PREFIX) :], f"v2|{column}|{row}".encode(), list(self._aeads.values())
        else:
            body, aad = stored[len(PREFIX_V3) + len(kid) + 1 :], f"v3|{column}|{row}".encode()
            aeads = [self._aeads[kid]] if kid in self._aeads else []
        try:
            raw = base64.b64decode(body, validate=True)
        except (ValueError, binascii.Error) as exc:
            raise SealBroken(column, row) from exc
        for aead in aeads:
            try:
                return aead.decrypt(raw[:_NONCE], raw[_NONCE:], aad).decode("utf-8")
            except (InvalidTag, ValueError):
                continue
        raise SealBroken(column, row)

    @staticmethod
    def key_of(stored: object) -> str | None:
        """The key id a stored value names (`LEGACY` for a `v2` value), None when it is not a sealed value."""
        if not isinstance(stored, str):
            return None
        if stored.startswith(PREFIX):
            return LEGACY
        if stored.startswith(PREFIX_V3):
            kid, sep, _ = stored[len(PREFIX_V3) :].partition(":")
            return kid if sep and kid else None
        return None

    def is_current(self, stored: str) -> bool:
        """Sealed under the writing key (nothing left for a rotation to do)."""
        return stored.startswith(f"{PREFIX_V3}{self.key_id}:")

    def encrypt_optional(self, plaintext: str | None, column: str, row: str) -> str | None:
        return None if plaintext is None else self.encrypt(plaintext, column, row)

    def decrypt_optional(self, stored: str | None, column: str, row: str) -> str | None:
        return None if stored is None else self.decrypt(stored, column, row)


@dataclass(frozen=True)
class _Hashing:
    """The hashing keys derived from one master key."""

    code: bytes
    chat: bytes
    button: bytes
    audit: bytes
    lookup: bytes
    token: bytes

    @classmethod
    def of(cls, master_key: bytes) -> _Hashing:
        return cls(
            derive_key(master_key, "aftercare/invite-code-hash/v1"),
            derive_key(master_key, "aftercare/chat-key/v1"),
            derive_key(master_key, "aftercare/button-ref/v1"),
            derive_key(master_key, "aftercare/audit-chain/v1"),
            derive_key(master_key, "aftercare/lookup/v1"),
            derive_key(master_key, "aftercare/console-token/v1"),
        )


class Keyring:
    """Keys derived from the master keys: field encryption and keyed hashes (codes, chat keys, button refs). The
    first master key writes; `previous` keys (a rotation under way) still read and are still accepted in lookups."""

    def __init__(self, master_key: bytes, previous: Sequence[bytes] = ()) -> None:
        self.cipher = FieldCipher(master_key, previous)
        self.key_id = self.cipher.key_id
        self.key_ids = self.cipher.key_ids
        seen = {self.key_id}
        self._all = [_Hashing.of(master_key)]
        for key in previous:
            if key_id(key) not in seen:
                seen.add(key_id(key))
                self._all.append(_Hashing.of(key))
        self._code_key = derive_key(master_key, "aftercare/invite-code-hash/v1")
        self._chat_key = derive_key(master_key, "aftercare/chat-key/v1")
        self._button_key = derive_key(master_key, "aftercare/button-ref/v1")
        self.audit_key = derive_key(master_key, "aftercare/audit-chain/v1")  # entry MACs and the audit hash chain
        self.lookup_key = derive_key(master_key, "aftercare/lookup/v1")  # keyed hashes of national IDs (duplicates)
        self.token_key = derive_key(master_key, "aftercare/console-token/v1")  # login links, sessions, CSRF tokens

    @property
    def code_key(self) -> bytes:
        return self._code_key

    @property
    def code_keys(self) -> list[bytes]:
        """Every configured key's invite-code key, the writing one first (codes issued before a rotation work)."""
        return [h.code for h in self._all]

    @property
    def lookup_keys(self) -> list[bytes]:
        return [h.lookup for h in self._all]

    @property
    def token_keys(self) -> list[bytes]:
        return [h.token for h in self._all]

    @property
    def audit_keys(self) -> list[bytes]:
        return [h.audit for h in self._all]

    def chat_keys(self, channel: str, external_id: str) -> list[str]:
        """The chat's keyed hash under every configured key, the writing one first: a chat linked before a rotation
        is found until the rotation re-keys it."""
        return [hmac.new(h.chat, f"{channel}:{external_id}".encode(), hashlib.sha256).hexdigest() for h in self._all]

    def button_refs(self, channel: str, external_id: str, action: str) -> list[str]:
        """`button_ref` under every configured key: a button offered before a rotation still works."""
        return [_button(h.button, channel, external_id, action) for h in self._all]

    def chat_key(self, channel: str, external_id: str) -> str:
        return hmac.new(self._chat_key, f"{channel}:{external_id}".encode(), hashlib.sha256).hexdigest()

    def button_ref(self, channel: str, external_id: str, action: str) -> str:
        """Opaque, unforgeable stand-in for an action in one chat (16 characters, 96 bits): nothing to edit or
        guess, and another chat's reference never matches."""
        return _button(self._button_key, channel, external_id, action)

    def seal_chat(
        self, channel: str, external_id: str, *, participant_id: int | None, staff_id: int | None
    ) -> tuple[str, str]:
        """(chat key, sealed platform id) of a chat linked to one person: what `channel_identity` stores."""
        key = self.chat_key(channel, external_id)
        return key, self.cipher.encrypt(external_id, IDENTITY_COLUMN, identity_ref(key, participant_id, staff_id))

    def open_chat(self, sealed: str, chat_key: str, participant_id: int | None, staff_id: int | None) -> str:
        return self.cipher.decrypt(sealed, IDENTITY_COLUMN, identity_ref(chat_key, participant_id, staff_id))


IDENTITY_COLUMN = "channel_identity.external_id"


def _button(key: bytes, channel: str, external_id: str, action: str) -> str:
    mac = hmac.new(key, f"{channel}:{external_id}:{action}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:12]).decode()


def national_id_key(key: bytes, national_id: str) -> str:
    """The same number written with spaces or dots finds the same person; the number itself is not stored here."""
    digits = "".join(ch for ch in national_id if ch.isalnum()).upper()
    return hmac.new(key, digits.encode(), hashlib.sha256).hexdigest()


def identity_ref(chat_key: str, participant_id: int | None, staff_id: int | None) -> str:
    return (
        row_ref(chat=chat_key, participant=participant_id)
        if participant_id is not None
        else row_ref(chat=chat_key, staff=staff_id)
    )
