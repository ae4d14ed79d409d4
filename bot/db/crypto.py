"""Field encryption for sensitive personal data (names, national ID numbers, free-text notes, test results).

AES-256-GCM with a random 96-bit nonce per value; the column name is bound as associated data so a ciphertext moved
to another column does not decrypt. Stored as `v1:<base64(nonce || ciphertext)>` so keys can rotate later.
"""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_PREFIX = "v1:"
_NONCE = 12


def derive_key(master: bytes, purpose: str) -> bytes:
    """Separate keys per use, so the hashing key is never the encryption key."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(master)


class FieldCipher:
    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ValueError("the encryption key must be 32 bytes")
        self._aead = AESGCM(derive_key(master_key, "aftercare/field-encryption/v1"))

    def encrypt(self, plaintext: str, column: str) -> str:
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), column.encode())
        return _PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, stored: str, column: str) -> str:
        if not stored.startswith(_PREFIX):
            raise ValueError("unknown ciphertext format")
        raw = base64.b64decode(stored[len(_PREFIX) :])
        return self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], column.encode()).decode("utf-8")

    def encrypt_optional(self, plaintext: str | None, column: str) -> str | None:
        return None if plaintext is None else self.encrypt(plaintext, column)

    def decrypt_optional(self, stored: str | None, column: str) -> str | None:
        return None if stored is None else self.decrypt(stored, column)
