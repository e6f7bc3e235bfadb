"""profiles/environment.py pieces with no other home in the tests."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from ccswitch.profiles.environment import url_host


@pytest.mark.parametrize("url", [
    "https://api.anthropic.com", "https://API.Anthropic.com/", "http://127.0.0.1:9/api", "https://user:pw@host.example:8443/x",
    "http://[::1]:8080/v1", "http://[FE80::1]/", "https://open.bigmodel.cn/api/anthropic?x=1#y", "https://h.example#frag",
    "https://h.example?q=a/b", "api.anthropic.com", "", "https://", "https://a@b@c.example/",
])
def test_url_host_agrees_with_urlsplit(url):
    assert url_host(url) == (urlsplit(url).hostname or "")


def test_url_host_of_a_broken_ipv6_url_is_empty_where_urlsplit_raises():
    assert url_host("http://[::1") == ""
