"""The gateway process's environment: what it needs to run, and no token
(docs/gateway.md, "The gateway's environment")."""

from __future__ import annotations

from ccswitch.claude.variables import CREDENTIAL_VARIABLES, MANAGED_VARIABLES
from ccswitch.gateway.spawn import (
    GATEWAY_VARIABLES,
    config_secrets,
    gateway_environment,
)

NEEDED = {
    "PATH": "/usr/bin:/bin", "HOME": "/home/u", "PYTHONPATH": "/src", "PYTHONHOME": "/py", "PYTHONUTF8": "1",
    "HTTPS_PROXY": "http://user:pw@proxy:3128", "https_proxy": "http://proxy:3128", "HTTP_PROXY": "http://proxy:3128",
    "http_proxy": "http://proxy:3128", "NO_PROXY": "localhost,127.0.0.1", "no_proxy": "localhost", "ALL_PROXY": "socks5://p",
    "SSL_CERT_FILE": "/etc/ssl/ca.pem", "SSL_CERT_DIR": "/etc/ssl/certs", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
    "TMPDIR": "/tmp/u", "TZ": "UTC", "LD_LIBRARY_PATH": "/opt/py/lib", "NETRC": "/home/u/.netrc",
}
WINDOWS = {"SYSTEMROOT": "C:\\Windows", "USERPROFILE": "C:\\Users\\u", "APPDATA": "C:\\Users\\u\\AppData\\Roaming",
           "TEMP": "C:\\Temp", "PATHEXT": ".COM;.EXE"}


def test_the_gateway_keeps_what_python_the_proxy_and_tls_need() -> None:
    assert gateway_environment({**NEEDED, **WINDOWS}) == {**NEEDED, **WINDOWS}


def test_no_token_no_provider_variable_and_nothing_else_of_the_shell() -> None:
    shell = {
        **dict.fromkeys(MANAGED_VARIABLES, "x"), **dict.fromkeys(CREDENTIAL_VARIABLES, "sk-shell-credential"),
        "KIMI_T": "kimi-token-0123456789", "MOONSHOT_API_KEY": "sk-moon", "GITHUB_TOKEN": "ghp_x",
        "AWS_SECRET_ACCESS_KEY": "aws", "AWS_SESSION_TOKEN": "aws2", "OPENAI_API_KEY": "sk-o", "DATABASE_URL": "pg://u:pw@h",
        "SSH_AUTH_SOCK": "/run/ssh", "CCSWITCH_HOME": "/c", "PWD": "/w", "EDITOR": "vi",
    }
    assert gateway_environment({**NEEDED, **shell}, ["kimi-token-0123456789"]) == NEEDED


def test_an_allowed_name_that_says_secret_or_a_value_holding_a_token_is_dropped() -> None:
    env = {**NEEDED, "PYTHON_INDEX_TOKEN": "t", "PYTHON_KEYRING_PASSWORD": "p", "LC_AUTH": "a",
           "HTTPS_PROXY": "http://user:kimi-token-0123456789@proxy:3128", "TZ": "kimi-token-0123456789"}
    kept = gateway_environment(env, ["kimi-token-0123456789", "", "ollama"])
    assert kept == {k: v for k, v in NEEDED.items() if k not in ("HTTPS_PROXY", "TZ")}


def test_a_short_dummy_token_only_matches_a_whole_value() -> None:
    env = {"HOME": "/home/ollama", "LANG": "ollama"}
    assert gateway_environment(env, ["ollama"]) == {"HOME": "/home/ollama"}


def test_the_allowlist_names_no_credential_or_managed_variable() -> None:
    assert not GATEWAY_VARIABLES & {*MANAGED_VARIABLES, *CREDENTIAL_VARIABLES}


def test_the_secrets_of_a_config_are_its_key_and_every_token() -> None:
    config = {"key": "session-key-0123456789", "upstreams": {"a": {"token": "ta"}, "b": {"auth": "none"}, "c": {"token": "tc"}}}
    assert config_secrets(config) == ["session-key-0123456789", "ta", "tc"]


def test_every_key_of_a_pool_is_a_secret_of_the_config() -> None:
    config = {"key": "session-key-0123456789",
              "upstreams": {"a": {"tokens": [[0, "pool-a-0123456789"], [2, "pool-c-0123456789"]]}, "b": {"token": "tb"}}}
    assert config_secrets(config) == ["session-key-0123456789", "pool-a-0123456789", "pool-c-0123456789", "tb"]
    env = {**NEEDED, "HTTPS_PROXY": "http://u:pool-c-0123456789@proxy:3128"}  # the pool's second key, under an allowed name
    assert "HTTPS_PROXY" not in gateway_environment(env, config_secrets(config))
