"""Several keys: the first writes `v3:<key id>:…`, every configured one reads; `v2` values open with whichever fits;
keyed hashes are offered under every key, the writing one first; previous keys come from the setting or, for local
runs, from the data directory, and `rotate_local_key` moves the data-dir key aside."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, previous_keys, resolve_secrets, rotate_local_key
from bot.db.crypto import LEGACY, FieldCipher, Keyring, SealBroken, key_id

OLD, NEW, OTHER = bytes(range(32)), bytes(range(32, 64)), bytes(range(64, 96))


def test_a_value_names_the_key_that_wrote_it_and_the_id_tells_nothing() -> None:
    stored = FieldCipher(NEW, [OLD]).encrypt("An", "c", "id=1")
    assert stored.startswith(f"v3:{key_id(NEW)}:") and FieldCipher.key_of(stored) == key_id(NEW)
    assert len(key_id(NEW)) == 12 and key_id(NEW) != key_id(OLD)
    assert base64.b64encode(NEW).decode()[:8] not in key_id(NEW) and NEW.hex()[:8] not in key_id(NEW)


def test_old_values_open_with_the_old_key_configured_and_only_then() -> None:
    old = FieldCipher(OLD).encrypt("An", "c", "id=1")
    assert FieldCipher(NEW, [OLD]).decrypt(old, "c", "id=1") == "An"
    with pytest.raises(SealBroken):
        FieldCipher(NEW).decrypt(old, "c", "id=1")
    assert not FieldCipher(NEW, [OLD]).is_current(old) and FieldCipher(OLD).is_current(old)


def test_a_v2_value_opens_with_whichever_configured_key_fits() -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from bot.db.crypto import derive_key

    nonce = bytes(12)
    body = AESGCM(derive_key(OLD, "aftercare/field-encryption/v2")).encrypt(nonce, b"An", b"v2|c|id=1")
    v2 = "v2:" + base64.b64encode(nonce + body).decode()
    assert FieldCipher.key_of(v2) == LEGACY
    assert FieldCipher(NEW, [OTHER, OLD]).decrypt(v2, "c", "id=1") == "An"
    with pytest.raises(SealBroken):
        FieldCipher(NEW, [OTHER]).decrypt(v2, "c", "id=1")


def test_a_relabelled_key_id_does_not_open() -> None:
    stored = FieldCipher(OLD).encrypt("An", "c", "id=1")
    forged = stored.replace(key_id(OLD), key_id(NEW), 1)
    with pytest.raises(SealBroken):
        FieldCipher(NEW, [OLD]).decrypt(forged, "c", "id=1")


def test_hashes_are_offered_under_every_key_the_writing_one_first() -> None:
    both, old = Keyring(NEW, [OLD]), Keyring(OLD)
    assert both.chat_keys("telegram", "42") == [both.chat_key("telegram", "42"), old.chat_key("telegram", "42")]
    assert both.button_refs("telegram", "42", "menu")[1] == old.button_ref("telegram", "42", "menu")
    assert both.code_keys == [both.code_key, old.code_key] and both.lookup_keys[1] == old.lookup_key
    assert both.audit_keys[1] == old.audit_key and both.token_keys[1] == old.token_key
    assert Keyring(NEW, [NEW]).key_ids == (key_id(NEW),)  # the writing key listed again is not a second key


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, **values)  # type: ignore[call-arg, arg-type]


def test_previous_keys_from_the_setting_and_a_bad_one_names_the_setting(tmp_path: Path) -> None:
    text = ",".join(base64.urlsafe_b64encode(k).decode() for k in (OLD, OTHER))
    assert previous_keys(_settings(tmp_path, previous_encryption_keys=text)) == (OLD, OTHER)
    with pytest.raises(ConfigError, match="AFTERCARE_PREVIOUS_ENCRYPTION_KEYS"):
        previous_keys(_settings(tmp_path, previous_encryption_keys="short"))


def test_a_local_rotation_moves_the_data_dir_key_aside(tmp_path: Path) -> None:
    first = resolve_secrets(_settings(tmp_path))
    fresh = rotate_local_key(_settings(tmp_path))
    after = resolve_secrets(_settings(tmp_path))
    assert after.encryption_key == base64.urlsafe_b64decode(fresh) != first.encryption_key
    assert after.previous_keys == (first.encryption_key,)
    assert (tmp_path / "encryption.previous").stat().st_mode & 0o777 == 0o600


def test_a_local_rotation_is_refused_when_the_key_comes_from_the_environment(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="AFTERCARE_PREVIOUS_ENCRYPTION_KEYS"):
        rotate_local_key(_settings(tmp_path, encryption_key=base64.urlsafe_b64encode(NEW).decode()))
