"""Routing by model name and fallback at launch, with the real claude against mocks on 127.0.0.1.

Each profile has its own mock. Routing: the profile serving the `--model` gets claude's requests,
the other mock gets nothing. Fallback: the first profile's endpoint is refused, answers 500 or
401, or is too slow; the probe (user-agent `ccswitch-test`) finds it, and claude's own requests
reach the healthy fallback. All down: nothing is started (a wrapper would record it).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support.mock_anthropic import MockAnthropic, Recorded, closed_port_url
from support.processes import subprocess_env

TOKEN = "route-token-0123456789abcdef"

PROFILES = """\
[profiles.alpha]
base_url = "{alpha}"
token = "env:ROUTE_TOKEN"
model = "alpha-main"
serves = ["alpha-*"]
fallback = ["beta"]
{alpha_extra}
[profiles.alpha.models]
haiku = "alpha-haiku"

[profiles.beta]
base_url = "{beta}"
token = "env:ROUTE_TOKEN"
model = "beta-main"
serves = ["beta-*"]
[profiles.beta.models]
haiku = "beta-haiku"

[profiles.kimi]
extends = "kimi"
base_url = "{alpha}"
token = "env:ROUTE_TOKEN"
"""


def is_probe(request: Recorded) -> bool:
    return "ccswitch-test" in request.headers.get("user-agent", "")


def from_claude(mock: MockAnthropic) -> list[Recorded]:
    return [r for r in mock.messages if not is_probe(r)]


def probes(mock: MockAnthropic) -> list[Recorded]:
    return [r for r in mock.messages if is_probe(r)]


@pytest.fixture
def healthy():
    with MockAnthropic(reply="from-beta") as mock:
        yield mock


def setup(profiles_file, claude_env, claude_bin, alpha: str, beta: str, alpha_extra: str = "", **extra: str) -> dict[str, str]:
    profiles_file(PROFILES.format(alpha=alpha, beta=beta, alpha_extra=alpha_extra))
    return subprocess_env(**claude_env, CCSWITCH_CLAUDE=str(claude_bin), ROUTE_TOKEN=TOKEN,
                          CCSWITCH_PROBE_TIMEOUT="1", **extra)


def ccswitch(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ccswitch", "run", *args], cwd=cwd, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)


# --- routing -----------------------------------------------------------------------------------


@pytest.mark.parametrize("model_args", [["--model", "beta-large-2"], ["--model=beta-large-2"]])
def test_run_without_a_name_routes_by_model(profiles_file, claude_env, claude_bin, project, healthy, model_args):
    with MockAnthropic(reply="from-alpha") as other:
        env = setup(profiles_file, claude_env, claude_bin, other.url, healthy.url)
        result = ccswitch(["--", "claude", "-p", "hi", *model_args], env, project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "from-beta" in result.stdout
    assert other.requests == []
    assert healthy.messages and {r.model for r in healthy.messages} == {"beta-large-2"}
    assert all(r.headers.get("authorization") == f"Bearer {TOKEN}" for r in healthy.messages)
    assert probes(healthy) == []  # no --fallback: no probe


def test_user_profile_extending_a_preset_serves_the_presets_models(profiles_file, claude_env, claude_bin, project, healthy):
    """`kimi-k2-0905-preview` matches the kimi preset's `kimi-k2*`; the user's kimi (pointed at a
    mock) is the profile that serves it, and beta's mock hears nothing."""
    with MockAnthropic(reply="from-kimi") as kimi:
        env = setup(profiles_file, claude_env, claude_bin, kimi.url, healthy.url)
        dry = ccswitch(["--dry-run", "--", "claude", "--model", "kimi-k2-0905-preview"], env, project)
        result = ccswitch(["--", "claude", "-p", "hi", "--model", "kimi-k2-0905-preview"], env, project)
    assert "profile: kimi (routed by model 'kimi-k2-0905-preview': user profile 'kimi' serves 'kimi-k2*'" in dry.stdout
    assert result.returncode == 0, result.stdout + result.stderr
    assert {r.model for r in kimi.messages} == {"kimi-k2-0905-preview"}
    assert healthy.requests == []


def test_a_pin_beats_routing(profiles_file, claude_env, claude_bin, project, healthy):
    with MockAnthropic(reply="from-alpha") as alpha:
        env = setup(profiles_file, claude_env, claude_bin, alpha.url, healthy.url)
        (project / ".ccswitch").write_text("alpha\n")
        result = ccswitch(["--", "claude", "-p", "hi", "--model", "beta-large-2"], env, project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert {r.model for r in alpha.messages} == {"beta-large-2"}  # the pinned profile, the user's model
    assert healthy.requests == []


# --- fallback ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failure", "words"),
    [("refused", "refused"), ("500", "server error"), ("timeout", "timeout"), ("401", "auth rejected")],
)
def test_fallback_launches_claude_on_the_healthy_profile(profiles_file, claude_env, claude_bin, project, healthy, failure, words):
    if failure == "refused":
        failing = None
        alpha_url = closed_port_url()
    else:
        failing = MockAnthropic(status=200 if failure == "timeout" else int(failure), delay=5 if failure == "timeout" else 0)
        failing.__enter__()
        alpha_url = failing.url
    try:
        env = setup(profiles_file, claude_env, claude_bin, alpha_url, healthy.url)
        result = ccswitch(["alpha", "--fallback", "--", "claude", "-p", "hi"], env, project)
    finally:
        if failing is not None:
            failing.__exit__(None, None, None)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "from-beta" in result.stdout
    assert f"profile 'alpha' failed its check: {words}" in result.stderr
    assert "launching fallback profile 'beta' instead" in result.stderr
    assert len(probes(healthy)) == 1
    assert from_claude(healthy), "claude's request did not reach the fallback"
    assert {r.model for r in from_claude(healthy)} == {"beta-main"}
    if failing is not None:
        assert len(failing.messages) == 1 and probes(failing) == failing.messages  # only the probe, no claude


def test_fallback_check_in_the_profile_needs_no_flag(profiles_file, claude_env, claude_bin, project, healthy):
    with MockAnthropic(status=429) as limited:
        env = setup(profiles_file, claude_env, claude_bin, limited.url, healthy.url, alpha_extra="fallback_check = true")
        result = ccswitch(["alpha", "--", "claude", "-p", "hi"], env, project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "failed its check: rate limited" in result.stderr
    assert from_claude(healthy) and from_claude(limited) == []


def test_routed_model_falls_back_with_the_fallbacks_own_model(profiles_file, claude_env, claude_bin, project, healthy):
    """`alpha-large` means nothing to beta: on fallback, beta's own model is sent instead."""
    with MockAnthropic(status=503) as down:
        env = setup(profiles_file, claude_env, claude_bin, down.url, healthy.url)
        result = ccswitch(["--fallback", "--", "claude", "-p", "hi", "--model", "alpha-large"], env, project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [r.model for r in probes(down)] == ["alpha-large"]  # the model the launch would have sent
    assert {r.model for r in from_claude(healthy)} == {"beta-main"}
    assert "model 'alpha-large' is not one it serves" in result.stderr


def test_all_down_launches_nothing_and_names_each_reason(profiles_file, claude_env, claude_bin, project, tmp_path):
    started = tmp_path / "claude-started"
    wrapper = tmp_path / "claude-wrapper"
    wrapper.write_text(f'#!/bin/sh\ntouch "{started}"\nexec "{claude_bin}" "$@"\n')
    wrapper.chmod(0o755)
    with MockAnthropic(status=500) as broken:
        env = setup(profiles_file, claude_env, claude_bin, closed_port_url(), broken.url)
        env["CCSWITCH_CLAUDE"] = str(wrapper)
        result = ccswitch(["alpha", "--fallback", "--", "claude", "-p", "hi"], env, project)
    assert result.returncode == 1
    assert not started.exists()
    assert from_claude(broken) == []
    assert "profile 'alpha' failed its check: refused" in result.stderr
    assert "profile 'beta' failed its check: server error (HTTP 500: mock 500)" in result.stderr
    assert "ccswitch: error: profile 'alpha' and its fallbacks 'beta' are all down; launched nothing" in result.stderr


def test_a_second_run_within_the_ttl_does_not_probe_again(profiles_file, claude_env, claude_bin, project, healthy):
    with MockAnthropic(status=500) as broken:
        env = setup(profiles_file, claude_env, claude_bin, broken.url, healthy.url)
        first = ccswitch(["alpha", "--fallback", "--", "claude", "-p", "hi"], env, project)
        launched_first = len(from_claude(healthy))
        second = ccswitch(["alpha", "--fallback", "--", "claude", "-p", "hi"], env, project)
        assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
        assert len(broken.messages) == 1  # the dead endpoint was asked once
        assert len(probes(healthy)) == 1
        assert launched_first and len(from_claude(healthy)) > launched_first  # both runs launched claude on beta
        assert "server error (HTTP 500: mock 500), cached" in second.stderr
        # With the cache off, every run probes.
        third = ccswitch(["alpha", "--fallback", "--", "claude", "-p", "hi"], dict(env, CCSWITCH_PROBE_CACHE_SECONDS="0"), project)
        assert third.returncode == 0, third.stderr
        assert len(broken.messages) == 2
