import pytest
from cryptography.exceptions import InvalidTag

from bot.db.crypto import FieldCipher

KEY = bytes(range(32))


def test_round_trip_with_vietnamese_text() -> None:
    cipher = FieldCipher(KEY)
    stored = cipher.encrypt("Nguyễn Văn An", "participant.name")
    assert stored.startswith("v1:")
    assert "Nguy" not in stored
    assert cipher.decrypt(stored, "participant.name") == "Nguyễn Văn An"


def test_each_encryption_is_different() -> None:
    cipher = FieldCipher(KEY)
    assert cipher.encrypt("An", "c") != cipher.encrypt("An", "c")


def test_a_value_moved_to_another_column_does_not_decrypt() -> None:
    cipher = FieldCipher(KEY)
    stored = cipher.encrypt("001099012345", "participant.national_id")
    with pytest.raises(InvalidTag):
        cipher.decrypt(stored, "participant.name")


def test_another_key_cannot_read_it() -> None:
    stored = FieldCipher(KEY).encrypt("An", "c")
    with pytest.raises(InvalidTag):
        FieldCipher(bytes(32)).decrypt(stored, "c")


def test_key_must_be_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        FieldCipher(b"short")
