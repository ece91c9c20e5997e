from __future__ import annotations

import pytest

from push.links import policy_page_url, read_token_payload, tracked_link

SECRET = "test-secret"


def test_tracked_link_round_trip() -> None:
    link = tracked_link("https://zc.example.gov.cn/", 12345, SECRET)
    assert link.startswith("https://zc.example.gov.cn/r/")
    token = link.rsplit("/", 1)[1]
    assert read_token_payload(token, SECRET) == 12345


@pytest.mark.parametrize("mangle", [lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), lambda t: "x" + t, lambda t: ""])
def test_tampered_token_is_rejected(mangle) -> None:  # type: ignore[no-untyped-def]
    token = tracked_link("https://a", 7, SECRET).rsplit("/", 1)[1]
    assert read_token_payload(mangle(token), SECRET) is None


def test_token_signed_with_another_key_or_salt_is_rejected() -> None:
    from itsdangerous import URLSafeSerializer

    token = tracked_link("https://a", 7, "other-secret").rsplit("/", 1)[1]
    assert read_token_payload(token, SECRET) is None
    unsalted = URLSafeSerializer(SECRET).dumps(7)
    assert read_token_payload(unsalted, SECRET) is None
    not_an_id = URLSafeSerializer(SECRET, salt="read").dumps("7")
    assert read_token_payload(not_an_id, SECRET) is None


def test_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        tracked_link("https://a", 1, "")


def test_policy_page_url() -> None:
    assert policy_page_url("http://127.0.0.1:8080/", 42) == "http://127.0.0.1:8080/p/42"
