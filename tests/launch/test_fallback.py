"""Launch-time fallback decisions and the probe cache (the probe itself is faked here; the real
probe against mock servers is tested with `run --fallback`)."""

from __future__ import annotations

import os

from ccswitch.health.outcomes import Outcome
from ccswitch.health.probe_cache import Health, ProbeCache
from ccswitch.launch.fallback import choose_healthy


def prober(results: dict[str, Health], calls: list[str]):
    def check(name: str):
        def run():
            calls.append(name)
            return results[name]

        return f"key-{name}", run

    return check


def test_healthy_first_profile_is_launched_without_trying_others():
    calls: list[str] = []
    decision = choose_healthy("a", ["b"], prober({"a": Health(True, Outcome.OK, "200")}, calls), None)
    assert decision.profile == "a" and calls == ["a"]


def test_falls_back_past_provider_specific_failures():
    calls: list[str] = []
    results = {"a": Health(False, Outcome.REFUSED, "connection refused"), "b": Health(False, Outcome.SERVER, "HTTP 500"),
               "c": Health(True, Outcome.OK, "200")}
    decision = choose_healthy("a", ["b", "c"], prober(results, calls), None)
    assert decision.profile == "c" and calls == ["a", "b", "c"]
    assert [(n, h.outcome) for n, h in decision.attempts] == [("a", Outcome.REFUSED), ("b", Outcome.SERVER), ("c", Outcome.OK)]


def test_a_failure_another_provider_would_share_does_not_fall_back():
    calls: list[str] = []
    decision = choose_healthy("a", ["b"], prober({"a": Health(False, Outcome.BAD_REQUEST, "HTTP 400")}, calls), None)
    assert decision.profile == "a" and calls == ["a"]


def test_all_down_launches_nothing():
    results = {n: Health(False, Outcome.TIMEOUT, "no answer in 2s") for n in "ab"}
    decision = choose_healthy("a", ["b"], prober(results, []), None)
    assert decision.profile is None and len(decision.attempts) == 2


def test_cache_spares_the_probe_within_its_ttl_and_expires(tmp_path):
    clock = [1000.0]
    cache = ProbeCache(str(tmp_path / "c" / "probe.json"), 30, now=lambda: clock[0])
    calls: list[str] = []
    results = {"a": Health(False, Outcome.REFUSED, "x"), "b": Health(True, Outcome.OK, "200")}
    choose_healthy("a", ["b"], prober(results, calls), cache)
    assert calls == ["a", "b"]
    decision = choose_healthy("a", ["b"], prober(results, calls), cache)
    assert calls == ["a", "b"] and decision.profile == "b"
    assert all(h.cached for _, h in decision.attempts)
    assert oct(os.stat(cache.path).st_mode & 0o777) == "0o600"
    clock[0] += 31
    choose_healthy("a", ["b"], prober(results, calls), cache)
    assert calls == ["a", "b", "a", "b"]


def test_corrupt_cache_is_a_miss(tmp_path):
    path = tmp_path / "probe.json"
    path.write_text("{not json")
    cache = ProbeCache(str(path), 30)
    assert cache.get("x") is None
    cache.put("x", Health(True, Outcome.OK, "200"))
    assert cache.get("x").ok
