"""API keys (`<prefix>.<secret>`, stored as a hash of the secret) and widget embed keys."""

import hashlib
import re

import pytest

from infra.secrets import hash_secret, new_api_key, new_embed_key, secret_matches, split_api_key


def test_a_new_key_is_its_prefix_a_dot_and_its_secret():
    prefix, secret, key = new_api_key()

    assert key == f"{prefix}.{secret}"
    assert re.fullmatch(r"[0-9a-f]{8}", prefix)
    # The secret is URL-safe base64 and never holds a dot, so the first dot always separates the two.
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", secret)


def test_a_new_key_splits_back_into_its_prefix_and_secret():
    prefix, secret, key = new_api_key()

    assert split_api_key(key) == (prefix, secret)


def test_new_keys_are_all_different():
    keys = [new_api_key()[2] for _ in range(50)]

    assert len(set(keys)) == len(keys)


def test_a_key_splits_at_its_first_dot():
    assert split_api_key("abc.def.ghi") == ("abc", "def.ghi")


@pytest.mark.parametrize("key", ["", "nodot", ".secret", "prefix.", "."])
def test_a_key_without_both_parts_does_not_split(key):
    assert split_api_key(key) is None


def test_the_stored_hash_is_the_sha256_hex_digest_of_the_secret():
    assert hash_secret("s3cret") == hashlib.sha256(b"s3cret").hexdigest()


def test_only_the_right_secret_matches_the_stored_hash():
    stored = hash_secret("right")

    assert secret_matches("right", stored)
    assert not secret_matches("wrong", stored)
    assert not secret_matches("", stored)


def test_embed_keys_are_url_safe_and_all_different():
    keys = {new_embed_key() for _ in range(50)}

    assert len(keys) == 50
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{32}", key) for key in keys)
