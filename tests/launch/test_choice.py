"""`ccswitch run` picking its profile from claude's --model, and the fallback check's pieces (the
probe is faked here; tests/test_run_routing_fallback.py runs the real one and the real claude)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support.mock_anthropic import MockAnthropic

from ccswitch.claude.argv import claude_model_option
from ccswitch.errors import CcswitchError, UsageError
from ccswitch.health import probe as probes
from ccswitch.health.outcomes import FAIL_OVER, Outcome
from ccswitch.health.probe_cache import ProbeCache
from ccswitch.launch import fallback as launch_fallback
from ccswitch.launch import front_door
from ccswitch.launch.choice import choose_profile
from ccswitch.launch.plan import prepare
from ccswitch.profiles.tokens import TokenResolver

PROFILES = """\
{default}
[profiles.alpha]
base_url = "{alpha}"
token = "env:ALPHA_TOKEN"
model = "alpha-main"
serves = ["alpha-*"]
fallback = ["nokey", "beta"]
[profiles.alpha.models]
haiku = "alpha-haiku"
opus = "alpha-opus"

[profiles.beta]
base_url = "{beta}"
token = "env:ALPHA_TOKEN"
model = "beta-main"
serves = ["beta-*", "shared-*"]

[profiles.nokey]
base_url = "http://127.0.0.1:9/nokey"
token = "env:NOKEY_TOKEN"

[profiles.tie1]
base_url = "http://127.0.0.1:9/t1"
token = "env:ALPHA_TOKEN"
serves = ["tie-*"]

[profiles.tie2]
base_url = "http://127.0.0.1:9/t2"
token = "env:ALPHA_TOKEN"
serves = ["tie-*"]
"""

TOKEN = "alpha-secret-token-0123456789"


@pytest.fixture
def make_env(profiles_file, fake_claude):
    def make(default: str = "", alpha: str = "http://127.0.0.1:9/alpha", beta: str = "http://127.0.0.1:9/beta") -> dict[str, str]:
        profiles_file(PROFILES.format(default=default, alpha=alpha, beta=beta))
        environ = dict(os.environ)
        environ["PATH"] = f"{fake_claude.parent}{os.pathsep}{environ.get('PATH', '')}"
        environ["ALPHA_TOKEN"] = TOKEN
        return environ

    return make


def choose(env, name=None, model=None, cwd=None):
    return choose_profile(name, cwd or os.getcwd(), front_door.load_profiles(env), model, env)


# --- which profile -----------------------------------------------------------------------------


def test_order_is_name_then_pin_then_routing_then_default(make_env, tmp_path):
    env = make_env(default='default = "beta"')
    assert choose(env, model="alpha-x") == ("alpha", "routed by model 'alpha-x': user profile 'alpha' serves 'alpha-*' (token found)")
    assert choose(env, "beta", model="alpha-x")[0] == "beta"
    assert choose(env)[0] == "beta"
    (tmp_path / ".ccswitch").write_text("nokey\n")
    assert choose(env, model="alpha-x", cwd=str(tmp_path)) == ("nokey", f"pinned in {tmp_path / '.ccswitch'}")


@pytest.mark.parametrize("alias", ["opus", "sonnet[1m]", "haiku"])
def test_an_alias_does_not_route(make_env, alias):
    env = make_env(default='default = "beta"')
    assert choose(env, model=alias)[0] == "beta"


def test_a_model_nobody_serves_falls_to_default_and_says_so(make_env):
    env = make_env(default='default = "beta"')
    name, reason = choose(env, model="zzz-1")
    assert name == "beta" and reason.endswith("; no profile serves model 'zzz-1'")


def test_a_model_nobody_serves_without_default_is_an_error_naming_it(make_env):
    env = make_env()
    with pytest.raises(UsageError, match="no profile whose `serves` matches model 'zzz-1'"):
        choose(env, model="zzz-1")


def test_a_tie_is_broken_not_an_error(make_env):
    assert choose(make_env(), model="tie-9") == (
        "tie1", "routed by model 'tie-9': user profile 'tie1' serves 'tie-*' (token found); chosen over 'tie2', "
        "which matches as well: its name comes first")
    assert choose(make_env(default='default = "tie2"'), model="tie-9")[0] == "tie2"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["claude", "-p", "hi", "--model", "m1"], "m1"),
        (["claude", "--model=m2", "-p", "hi"], "m2"),
        (["claude", "--model", "m1", "--model", "m3"], "m3"),  # the last wins, as in claude
        (["claude", "-p", "--", "--model", "m1"], None),  # after claude's own --, it is the prompt
        (["claude", "-p", "hi"], None),
        (["aider", "--model", "m1"], None),  # not claude: its --model is its own business
        ([], None),
    ],
)
def test_claude_model_option(command, expected):
    assert claude_model_option(command, {}) == expected


def test_dry_run_says_why_and_the_routed_profiles_tiers_apply(make_env, capsys):
    env = make_env()
    assert front_door.run(None, ["claude", "--model", "alpha-large"], dry_run=True, env=env, cwd=os.getcwd()) == 0
    out = capsys.readouterr().out
    assert "profile: alpha (routed by model 'alpha-large': user profile 'alpha' serves 'alpha-*' (token found))" in out
    assert '"ANTHROPIC_DEFAULT_HAIKU_MODEL": "alpha-haiku"' in out
    assert "--model alpha-large" in out and "alpha-main" not in out.split("settings file")[0]


def test_a_routed_profile_without_its_token_says_how_it_was_picked(make_env):
    env = make_env()
    env["NOKEY_TOKEN"] = ""
    profiles = Path(os.environ["CCSWITCH_HOME"]) / "profiles.toml"
    profiles.write_text(profiles.read_text().replace('[profiles.nokey]\n', '[profiles.nokey]\nserves = ["nk-*"]\n'))
    with pytest.raises(CcswitchError, match=r"NOKEY_TOKEN is not set .*chosen because: routed by model 'nk-1'"):
        prepare(None, ["claude", "--model", "nk-1"], profile_set=front_door.load_profiles(env), env=env, cwd=os.getcwd())


def test_parse_run_knows_fallback():
    name, command, options = front_door.parse_run(["glm", "--fallback", "--dry-run", "--", "claude", "--fallback"])
    assert (name, command, options.fallback, options.dry_run) == ("glm", ["claude", "--fallback"], True, True)
    with pytest.raises(UsageError, match="unknown option '--fallbak'"):
        front_door.parse_run(["--fallbak"])


# --- the fallback check's pieces ---------------------------------------------------------------


def test_only_provider_failures_fall_back():
    assert FAIL_OVER == {Outcome.REFUSED, Outcome.TIMEOUT, Outcome.DNS, Outcome.TLS, Outcome.SERVER, Outcome.RATE_LIMIT,
                         Outcome.AUTH, Outcome.TOKEN_MISSING, Outcome.TOKEN_INVALID}


def test_health_of_a_probe_result_names_the_status():
    result = probes.ProbeResult(ok=False, reason=Outcome.SERVER, url="u", model="m", stream=False, status=502, detail="bad gateway")
    health = launch_fallback.health_of(result)
    assert (health.ok, health.outcome, health.detail) == (False, Outcome.SERVER, "HTTP 502: bad gateway")
    assert launch_fallback.describe(health) == "server error (HTTP 502: bad gateway)"


def test_model_to_probe_is_the_model_the_launch_sends(make_env):
    profile = front_door.load_profiles(make_env()).get("alpha")
    assert launch_fallback.model_to_probe(profile, None) == "alpha-main"
    assert launch_fallback.model_to_probe(profile, "x-model[1m]") == "x-model"
    assert launch_fallback.model_to_probe(profile, "haiku") == "alpha-haiku"
    assert launch_fallback.model_to_probe(profile, "opusplan") == "alpha-opus"
    assert launch_fallback.model_to_probe(profile.replace(model=None), None) == "alpha-opus"  # claude's default tier
    assert launch_fallback.model_to_probe(profile.replace(model="sonnet"), None) == "claude-haiku-4-5"  # unmapped alias


def test_a_fallback_drops_a_model_it_does_not_serve(make_env):
    beta = front_door.load_profiles(make_env()).get("beta")
    assert launch_fallback.command_for(beta, ["claude", "-p", "hi", "--model", "alpha-x"], {}) == ["claude", "-p", "hi"]
    assert launch_fallback.command_for(beta, ["claude", "--model=shared-1"], {}) == ["claude", "--model=shared-1"]
    assert launch_fallback.command_for(beta, ["claude", "--model", "haiku"], {}) == ["claude", "--model", "haiku"]


def fake_probe(results: dict[str, tuple[str, int | None]], calls: list[tuple[str, str]]):
    def probe(base_url, auth_variable, token, model, timeout, stream, *, headers, env, api="anthropic", options=None):
        calls.append((base_url, model))
        reason, status = results[base_url]
        return probes.ProbeResult(ok=reason == Outcome.OK, reason=reason, url=base_url, model=model, stream=stream, status=status)

    return probe


def check(env, name, results, calls, command=("claude",), tmp_path=None):
    profile_set = front_door.load_profiles(env)
    tokens = TokenResolver(env)
    plan = prepare(name, list(command), profile_set=profile_set, env=env, cwd=os.getcwd(), tokens=tokens)
    return launch_fallback.check_launch(plan, list(command), profile_set=profile_set, env=env, cwd=os.getcwd(), tokens=tokens,
                                        probe=fake_probe(results, calls), cache=ProbeCache(str(tmp_path / "probe.json"), 0))


def test_a_fallback_without_its_token_is_skipped_and_the_next_one_launched(make_env, tmp_path):
    env = make_env()
    calls: list = []
    results = {"http://127.0.0.1:9/alpha": (Outcome.AUTH, 401), "http://127.0.0.1:9/beta": (Outcome.OK, 200)}
    outcome = check(env, "alpha", results, calls, tmp_path=tmp_path)
    assert outcome.launch.profile.name == "beta"
    assert outcome.launch.reason == "fallback for 'alpha' (auth rejected), which was named on the command line"
    assert outcome.lines == [
        "profile 'alpha' failed its check: auth rejected (HTTP 401)",
        "profile 'nokey' failed its check: token missing ($NOKEY_TOKEN is not set)",
        "launching fallback profile 'beta' instead",
    ]
    assert calls == [("http://127.0.0.1:9/alpha", "alpha-main"), ("http://127.0.0.1:9/beta", "beta-main")]


def test_a_failure_every_provider_would_share_launches_the_first_profile(make_env, tmp_path):
    env = make_env()
    calls: list = []
    outcome = check(env, "alpha", {"http://127.0.0.1:9/alpha": (Outcome.MODEL, 404)}, calls, tmp_path=tmp_path)
    assert outcome.launch.profile.name == "alpha" and len(calls) == 1
    assert outcome.lines == ["profile 'alpha': the check found model not found (HTTP 404); launching it anyway "
                             "(another provider would not fix that)"]


def test_a_healthy_profile_launches_silently(make_env, tmp_path):
    env = make_env()
    outcome = check(env, "beta", {"http://127.0.0.1:9/beta": (Outcome.OK, 200)}, [], tmp_path=tmp_path)
    assert outcome.launch.profile.name == "beta" and outcome.lines == [] and outcome.error is None


def test_down_without_a_fallback_list(make_env, tmp_path):
    env = make_env()
    outcome = check(env, "beta", {"http://127.0.0.1:9/beta": (Outcome.REFUSED, None)}, [], tmp_path=tmp_path)
    assert outcome.launch is None
    assert outcome.error == "profile 'beta' is down and has no `fallback` list; launched nothing"


@pytest.mark.parametrize("variable", ["CCSWITCH_PROBE_TIMEOUT", "CCSWITCH_PROBE_CACHE_SECONDS"])
def test_bad_seconds_setting_is_a_usage_error(make_env, variable, capsys, monkeypatch):
    env = make_env()
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv(variable, "soon")
    assert front_door.main(["run", "alpha", "--fallback", "--", "claude"]) == 2
    assert f"{variable}='soon': must be a number of seconds" in capsys.readouterr().err


def test_dry_run_with_fallback_probes_and_reports_the_decision(make_env, capsys):
    with MockAnthropic(status=500) as alpha, MockAnthropic() as beta:
        env = make_env(alpha=alpha.url, beta=beta.url)
        code = front_door.run("alpha", ["claude"], dry_run=True, fallback=True, env=env, cwd=os.getcwd())
    captured = capsys.readouterr()
    assert code == 0
    assert len(alpha.messages) == 1 and len(beta.messages) == 1  # probes only: nothing was launched
    assert captured.out.startswith("profile: beta (fallback for 'alpha' (server error), which was named on the command line)")
    assert "fallback check: alpha: server error (HTTP 500: mock 500)" in captured.out
    assert "fallback check: nokey: token missing" in captured.out
    assert "fallback check: beta: ok" in captured.out
    assert "ccswitch: profile 'alpha' failed its check: server error" in captured.err


def test_dry_run_with_everything_down_exits_1(make_env, capsys):
    with MockAnthropic(status=500) as alpha, MockAnthropic(status=503) as beta:
        env = make_env(alpha=alpha.url, beta=beta.url)
        with pytest.raises(CcswitchError, match="all down; launched nothing") as caught:
            front_door.run("alpha", ["claude"], dry_run=True, fallback=True, env=env, cwd=os.getcwd())
    assert caught.value.exit_status == 1
    assert "fallback check: beta: server error (HTTP 503: mock 503)" in capsys.readouterr().out


def test_run_routes_a_glm_model_with_both_glm_and_zai_tokens_set(profiles_file, fake_claude, monkeypatch, capsys):
    profiles_file("")
    monkeypatch.setenv("ZHIPU_API_KEY", "zhipu-0123456789abcdef")
    monkeypatch.setenv("ZAI_API_KEY", "zai-0123456789abcdef")
    monkeypatch.setenv("CCSWITCH_CLAUDE", str(fake_claude))
    assert front_door.main(["run", "--dry-run", "--", "claude", "--model", "glm-5.1"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("profile: glm (routed by model 'glm-5.1'") and "chosen over 'zai'" in first


def test_env_without_a_name_hints_env_not_run(profiles_file, capsys):
    profiles_file("")
    assert front_door.main(["env"]) == 2
    err = capsys.readouterr().err
    assert "name one (ccswitch env NAME) or pin one (ccswitch pin NAME)" in err and "ccswitch run" not in err
    assert front_door.main(["run", "--dry-run"]) == 2
    assert "name one (ccswitch run NAME)" in capsys.readouterr().err
