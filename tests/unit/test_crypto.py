import base64

import pytest

from bot.db.crypto import FieldCipher, Keyring, SealBroken, row_ref

KEY = bytes(range(32))
NAME = "participant.name"


def test_round_trip_with_vietnamese_text() -> None:
    cipher = FieldCipher(KEY)
    stored = cipher.encrypt("Nguyễn Văn An", NAME, row_ref(id=7))
    assert stored.startswith("v3:")
    assert "Nguy" not in stored
    assert cipher.decrypt(stored, NAME, row_ref(id=7)) == "Nguyễn Văn An"


def test_each_encryption_is_different() -> None:
    cipher = FieldCipher(KEY)
    assert cipher.encrypt("An", "c", "id=1") != cipher.encrypt("An", "c", "id=1")


def test_a_value_moved_to_another_column_does_not_decrypt() -> None:
    cipher = FieldCipher(KEY)
    stored = cipher.encrypt("001099012345", "participant.national_id", row_ref(id=7))
    with pytest.raises(SealBroken):
        cipher.decrypt(stored, NAME, row_ref(id=7))


def test_a_value_moved_to_another_row_does_not_decrypt() -> None:
    cipher = FieldCipher(KEY)
    stored = cipher.encrypt("Nguyễn Văn An", NAME, row_ref(id=7))
    with pytest.raises(SealBroken) as caught:
        cipher.decrypt(stored, NAME, row_ref(id=8))
    assert "Nguy" not in str(caught.value) and "participant.name" in str(caught.value)  # the place, not the value


def test_a_row_re_pointed_at_another_person_does_not_decrypt() -> None:
    cipher = FieldCipher(KEY)
    stored = cipher.encrypt('{"outcome": "positive"}', "test_result.result", row_ref(id=3, participant=1))
    with pytest.raises(SealBroken):
        cipher.decrypt(stored, "test_result.result", row_ref(id=3, participant=2))


def test_a_value_moved_to_another_table_does_not_decrypt() -> None:
    cipher = FieldCipher(KEY)
    stored = cipher.encrypt("ghi chú", "escalation.note", row_ref(id=3, participant=1))
    with pytest.raises(SealBroken):
        cipher.decrypt(stored, "referral.note", row_ref(id=3, participant=1))


def test_references_do_not_run_into_each_other() -> None:
    """`id=1` + `2` must not equal `id=12`: the parts are named and separated."""
    cipher = FieldCipher(KEY)
    stored = cipher.encrypt("x", "c", row_ref(id=1, participant=23))
    with pytest.raises(SealBroken):
        cipher.decrypt(stored, "c", row_ref(id=12, participant=3))


def test_the_column_only_format_v1_is_refused() -> None:
    """An old ciphertext an attacker kept (bound only to its column) is not accepted any more."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from bot.db.crypto import derive_key

    nonce = bytes(12)
    v1 = AESGCM(derive_key(KEY, "aftercare/field-encryption/v1")).encrypt(nonce, b"An", NAME.encode())
    stored = "v1:" + base64.b64encode(nonce + v1).decode()
    with pytest.raises(SealBroken):
        FieldCipher(KEY).decrypt(stored, NAME, row_ref(id=1))
    with pytest.raises(SealBroken):  # relabelled as v2 it does not open either
        FieldCipher(KEY).decrypt("v2:" + stored[3:], NAME, row_ref(id=1))


@pytest.mark.parametrize("stored", ["", "v2:", "v2:!!!", "v2:" + base64.b64encode(b"short").decode(), "plain text"])
def test_garbage_is_refused_cleanly(stored: str) -> None:
    with pytest.raises(SealBroken):
        FieldCipher(KEY).decrypt(stored, NAME, "id=1")


def test_another_key_cannot_read_it() -> None:
    stored = FieldCipher(KEY).encrypt("An", "c", "id=1")
    with pytest.raises(SealBroken):
        FieldCipher(bytes(32)).decrypt(stored, "c", "id=1")


def test_key_must_be_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        FieldCipher(b"short")


def test_a_chat_is_stored_as_a_keyed_hash_and_an_id_sealed_for_its_person() -> None:
    keyring = Keyring(KEY)
    key, sealed = keyring.seal_chat("telegram", "123456789", participant_id=4, staff_id=None)
    assert key == keyring.chat_key("telegram", "123456789") and "123456789" not in key + sealed
    assert keyring.open_chat(sealed, key, 4, None) == "123456789"
    with pytest.raises(SealBroken):  # the chat re-pointed at another person, or at a staff member
        keyring.open_chat(sealed, key, 5, None)
    with pytest.raises(SealBroken):
        keyring.open_chat(sealed, key, None, 4)
    other = keyring.chat_key("zalo", "123456789")
    with pytest.raises(SealBroken):  # copied onto another chat's row
        keyring.open_chat(sealed, other, 4, None)
