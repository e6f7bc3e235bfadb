"""Fixtures of the gateway's tests (registered in tests/conftest.py): mock upstreams named kimi, glm
and deepseek (gateway_kit.MockUpstream), and `no_errors_logged` for a module to use on every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


def _mock(name: str) -> Iterator:
    from support.gateway_kit import (
        MockUpstream,  # aiohttp: only for the tests that start a gateway
    )

    with MockUpstream(name) as mock:
        yield mock


@pytest.fixture
def kimi() -> Iterator:
    yield from _mock("kimi")


@pytest.fixture
def glm() -> Iterator:
    yield from _mock("glm")


@pytest.fixture
def deepseek() -> Iterator:
    yield from _mock("deepseek")


@pytest.fixture
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """aiohttp logs a handler's unexpected exception as an error: none may happen, whatever the test."""
    yield
    errors = [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    assert not errors, caplog.text
