"""The tables people read, at 80 columns: `list`, `presets`, `restore --list`, `test` and `doctor`
print one line per row with every name (and backup id) whole, no line wider than 80 and no trailing
space; a terminal (rich) shows the same characters as a pipe; `--wide` shows what was left out."""

from __future__ import annotations

import io
import re

import pytest
from typer.testing import CliRunner

from ccswitch.cli.app import app
from ccswitch.commands import health, profiles
from ccswitch.console import Output
from ccswitch.findings import FAIL, OK, WARN, Finding

WIDTH = 80
LONG = "my-company-gateway-eu-west-1-primary"  # 36 characters: longer than any preset's name
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def invoke(*args: str, width: int | None = WIDTH):
    env = {"COLUMNS": str(width)} if width else {}
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)


def assert_fits(text: str, names: list[str], width: int = WIDTH) -> list[str]:
    lines = text.splitlines()
    assert lines
    for line in lines:
        assert len(line) <= width, line
        assert line == line.rstrip(), repr(line)
    for name in names:  # one line each, the name whole
        assert [line for line in lines if line.split(" ", 1)[0] == name], name
    return lines


@pytest.fixture
def many_profiles(profiles_file):
    profiles_file(f"""default = "{LONG}"
[profiles.{LONG}]
base_url = "https://gateway.internal.example.com/anthropic/v2/claude-code"
token = "env:MY_COMPANY_GATEWAY_EU_WEST_1_PRIMARY_TOKEN"
[profiles.{LONG}.models]
opus = "bedrock/anthropic.claude-opus-4-5-20251101-v1:0"
sonnet = "bedrock/anthropic.claude-sonnet-4-5-20250929-v1:0"
haiku = "bedrock/anthropic.claude-haiku-4-5-20251001-v1:0"
""")


def test_list_at_80_columns(many_profiles):
    result = invoke("list")
    assert result.exit_code == 0
    names = [row.split()[0] for row in invoke("list", "--wide").stdout.splitlines()[1:]]
    assert len(names) > 25 and LONG in names
    lines = assert_fits(result.stdout, names)
    assert len(lines) == len(names) + 1  # a header, then one line per profile
    assert "qwen-coding-intl" in result.stdout and "siliconflow-intl" in result.stdout


def test_list_wide_shows_every_column_whole(many_profiles):
    result = invoke("list", "--wide")
    line = next(line for line in result.stdout.splitlines() if line.startswith(LONG))
    for whole in ("user", "gateway.internal.example.com", "bedrock/anthropic.claude-haiku-4-5-20251001-v1:0",
                  "missing ($MY_COMPANY_GATEWAY_EU_WEST_1_PRIMARY_TOKEN unset)"):
        assert whole in line


def test_piped_list_has_no_trailing_spaces_and_json_is_unchanged(many_profiles):
    result = invoke("list", width=None)
    assert all(line == line.rstrip() for line in result.stdout.splitlines())
    import json

    rows = json.loads(invoke("list", "--json", width=None).stdout)
    assert {"name", "from", "endpoint", "models", "token", "active", "default"} <= set(rows[0])


def test_presets_at_80_columns():
    result = invoke("presets")
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.stdout.splitlines()[1:]]
    assert_fits(result.stdout, names)
    # A docs URL is whole or absent, never cut; --wide shows every one.
    assert "…" not in "".join(re.findall(r"https?://\S+", result.stdout))
    assert "https://docs.bigmodel.cn/cn/guide/develop/claude" in invoke("presets", "--wide").stdout


def test_restore_list_at_80_columns(setup, monkeypatch, tmp_path):
    deep = tmp_path / "a-rather-long-directory-name" / "and-another-one-below-it" / "claude-config"
    deep.mkdir(parents=True)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(deep))
    for name in ("alpha", "beta", "alpha"):
        assert invoke("use", name).exit_code == 0
    result = invoke("restore", "--list")
    ids = [row["id"] for row in __import__("json").loads(invoke("restore", "--list", "--json").stdout)]
    assert len(ids) == 3
    lines = assert_fits(result.stdout, ids)
    assert any("settings.json" in line for line in lines)  # a path keeps its end


TEST_ROWS = [
    {"profile": LONG, "model": "bedrock/anthropic.claude-sonnet-4-5-20250929-v1:0", "tiers": ["opus", "sonnet"],
     "result": "fail", "reason": "DNS", "detail": "[Errno -2] Name or service not known", "http_status": None,
     "connect_ms": None, "first_byte_ms": None, "total_ms": 12.0},
    {"profile": "glm", "model": "glm-4.5-air", "tiers": ["haiku"], "result": "fail", "reason": "other",
     "detail": "HTTP 431 page: 431 Request Header Fields Too Large", "http_status": 431,
     "connect_ms": 40.0, "first_byte_ms": 80.0, "total_ms": 81.0},
    {"profile": "kimi", "model": "kimi-k2.5", "tiers": ["opus", "sonnet", "haiku"], "result": "ok", "reason": "ok",
     "detail": "", "http_status": 200, "connect_ms": 100.0, "first_byte_ms": 900.0, "total_ms": 950.0},
]


@pytest.mark.parametrize("terminal", [False, True])
def test_test_table_at_80_columns(terminal):
    buffer = io.StringIO()
    health_out = Output("stdout", terminal=terminal, width=WIDTH, file=buffer)
    health_out.print(health.test_table(TEST_ROWS))
    text = ANSI.sub("", buffer.getvalue())
    lines = assert_fits(text, [LONG, "glm", "kimi"])
    assert len(lines) == 4
    dns = next(line for line in lines if line.startswith(LONG))
    assert "FAIL" in dns and "DNS: Name or" in dns and "Errno" not in dns


def test_doctor_at_80_columns(monkeypatch, tmp_path):
    long_path = "/home/someone/" + "/".join(["a-long-directory-name"] * 5) + "/.claude/settings.json"
    checks = [
        Finding("claude", OK, "claude 2.1.330 at /usr/local/lib/node_modules/@anthropic-ai/claude-code/cli.js"),
        Finding("user-settings", WARN, f"{long_path}: readable by others", f"chmod 600 {long_path}", check="user settings"),
        Finding("profiles", FAIL, f"{long_path}:3: unknown key 'bas_url' (did you mean \"base_url\"?)", "edit the file",
                check="profiles file"),
    ]
    for terminal in (False, True):
        buffer = io.StringIO()
        health.print_doctor(checks, out=Output("stdout", terminal=terminal, width=WIDTH, file=buffer))
        lines = assert_fits(ANSI.sub("", buffer.getvalue()), [])
        assert [line.split()[0] for line in lines if not line.startswith(" ")] == ["OK", "WARN", "FAIL"]
        assert sum("fix:" in line for line in lines) == 2
    result = invoke("doctor")  # the real checks, in the test's home
    assert_fits(result.stdout, [])


def test_list_in_a_terminal_is_the_same_text_in_colour(many_profiles, monkeypatch):
    monkeypatch.setenv("COLUMNS", str(WIDTH))
    piped, terminal = io.StringIO(), io.StringIO()
    profiles.list_profiles(out=Output("stdout", terminal=False, width=WIDTH, file=piped))
    profiles.list_profiles(out=Output("stdout", terminal=True, width=WIDTH, file=terminal))
    assert "\x1b[" in terminal.getvalue()
    assert ANSI.sub("", terminal.getvalue()) == piped.getvalue()


def test_list_puts_your_profiles_first_and_shows_where_each_comes_from_at_80_columns(profiles_file):
    """Every preset and three of yours: your own profiles are the ones you look for, so they come
    first, in the order of your file, and a `from` column tells them from the presets without --wide."""
    from support.profiles_data import EXAMPLE

    from ccswitch.profiles.presets import preset_names, presets_dir

    presets = len(preset_names(presets_dir()))

    profiles_file(EXAMPLE + f'\n[profiles.{LONG}]\nbase_url = "https://gw.example.com"\ntoken = "env:LONG_TOKEN"\n')
    result = invoke("list")
    assert result.exit_code == 0
    header, *rows = result.stdout.splitlines()
    assert len(rows) == 3 + presets
    names = [row.split()[0] for row in rows]
    assert_fits(result.stdout, names)
    assert names[:3] == ["work", "myglm", LONG]
    column = header.index("from")
    origins = [row[column:].split()[0] for row in rows]
    assert origins == ["user"] * 3 + ["preset"] * presets
    assert [row["name"] for row in __import__("json").loads(invoke("list", "--json").stdout)] == names
    wide = invoke("list", "--wide").stdout.splitlines()
    assert wide[0].split()[:2] == ["name", "from"] and wide[2].split()[1:4] == ["user", "extends", "glm"]
