"""How secrets are shown: a token masked, a credential written into a URL replaced."""

from __future__ import annotations

import pytest

from ccswitch.redact import mask, url


@pytest.mark.parametrize(("given", "shown"), [
    ("http://user:sk-CANARY@127.0.0.1:9", "http://***@127.0.0.1:9"),
    ("https://sk-CANARY@h.example/api?x=1#y", "https://***@h.example/api?x=1#y"),
    ("https://a:b@c@h.example/p@q", "https://***@h.example/p@q"),  # the last @ of the authority ends the userinfo
    ("https://h.example/p@q?u=a@b", "https://h.example/p@q?u=a@b"),  # an @ after the host is no credential
    ("http://[::1]:8080/x", "http://[::1]:8080/x"),
    ("not a url", "not a url"),
    ("", ""),
])
def test_a_credential_in_a_url_is_never_shown(given, shown):
    assert url(given) == shown


def test_a_token_is_never_shown_whole():
    assert mask("sk-0123456789abcdef") == "sk-…cdef" and mask("short") == "****" and mask(None) == ""
