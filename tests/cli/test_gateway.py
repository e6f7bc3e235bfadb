"""`ccswitch gateway` before it serves: where it listens, said in one line when it cannot, and a
warning when that is beyond this machine. (Serving: tests/e2e/test_gateway_real_claude.py.)"""

from __future__ import annotations

import ipaddress
import re
import socket

import pytest
from support.processes import free_port
from typer.testing import CliRunner

from ccswitch.cli.app import app
from ccswitch.gateway import server

runner = CliRunner()

PROFILES = """\
[profiles.kimi]
base_url = "http://127.0.0.1:9/api"
token = "kimi-token-0123456789"
[profiles.kimi.models]
opus = "k-opus"
sonnet = "k-sonnet"
haiku = "k-haiku"
"""


@pytest.fixture
def served(profiles_file, monkeypatch):
    """The gateway's config and socket, as `run` would get them (nothing is served)."""
    profiles_file(PROFILES)
    seen = {}

    def run(config, parent=None, sock=None):
        seen.update(config=config, address=sock.getsockname())
        sock.close()

    monkeypatch.setattr(server, "run", run)
    return seen


def test_a_port_in_use_is_one_line_and_no_banner(served):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(app, ["gateway", "kimi", "--port", str(port)])
    assert result.exit_code == 2 and served == {}
    assert result.stderr == f"ccswitch: error: --port {port}: already in use on 127.0.0.1 (another gateway? pick a free " \
                            "port with --port)\n"


def test_a_host_that_does_not_resolve_is_one_line(served, monkeypatch):
    def getaddrinfo(host, *args, **kwargs):  # no DNS query from a test: the resolver's answer, as it comes
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    result = runner.invoke(app, ["gateway", "kimi", "--host", "bogus.invalid"])
    assert result.exit_code == 2 and served == {}
    assert result.stderr == "ccswitch: error: --host bogus.invalid: not an address of this machine (Name or service " \
                            "not known)\n"


def test_loopback_serves_without_a_warning(served):
    port = free_port()
    result = runner.invoke(app, ["gateway", "kimi", "--port", str(port)])
    assert result.exit_code == 0, result.stderr
    assert served["address"] == ("127.0.0.1", port) and "warning" not in result.stderr
    assert f"ANTHROPIC_BASE_URL=http://127.0.0.1:{port} " in result.stderr


def test_every_interface_warns_and_the_hint_names_an_address_a_client_can_use(served):
    port = free_port()
    result = runner.invoke(app, ["gateway", "kimi", "--host", "0.0.0.0", "--port", str(port)])
    assert result.exit_code == 0, result.stderr
    warning, banner, hint, *_ = result.stderr.splitlines()
    assert warning.startswith("ccswitch: warning: listening on 0.0.0.0 (every interface), beyond this machine: the "
                              "gateway's key and every prompt and answer cross the network in plain HTTP")
    url = re.search(r"ANTHROPIC_BASE_URL=http://(\S+):(\d+) ", hint)
    assert url and int(url[2]) == port and "0.0.0.0" not in banner + hint
    try:
        assert not ipaddress.ip_address(url[1]).is_unspecified
    except ValueError:
        assert url[1] == socket.gethostname()  # no route out: the machine's name


def test_a_profile_without_a_token_is_left_out_and_fallbacks_to_it_dropped(profiles_file, served):
    profiles_file(PROFILES.replace("[profiles.kimi]\n", '[profiles.kimi]\nfallback = ["notok"]\n') + """
[profiles.notok]
base_url = "http://127.0.0.1:9/n"
[profiles.notok.models]
opus = "n"
""")
    result = runner.invoke(app, ["gateway", "kimi", "--port", str(free_port())])
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith("notok: left out (profile 'notok' has no token, and the gateway must send its endpoint one")
    assert lines[1] == "kimi: fallback 'notok' dropped (not served by this gateway)"
    assert "notok" not in served["config"].upstreams and served["config"].upstreams["kimi"].fallback == ()


def test_a_profile_the_gateway_config_refuses_is_left_out_not_the_gateway(profiles_file, served):
    profiles_file(PROFILES + """
[profiles.hh]
base_url = "http://127.0.0.1:9/h"
token = "hh-token-0123456789"
[profiles.hh.headers]
x-api-key = "zz"
[profiles.hh.models]
opus = "h"
""")
    result = runner.invoke(app, ["gateway", "kimi", "--port", str(free_port())])
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[0] == ("hh: left out (profile 'hh' cannot be an upstream of the gateway: "
                                             "upstreams.hh.headers.x-api-key: the gateway sets this header itself)")
    assert "hh" not in served["config"].upstreams


def test_the_foreground_gateway_gets_every_key_of_a_pool(profiles_file, served, monkeypatch):
    profiles_file(PROFILES + '[profiles.pool]\nextends = "kimi"\ntoken = ["env:POOL_A", "env:POOL_MISSING", "env:POOL_C"]\n')
    monkeypatch.setenv("POOL_A", "pool-a-0123456789")
    monkeypatch.setenv("POOL_C", "pool-c-0123456789")
    monkeypatch.delenv("POOL_MISSING", raising=False)
    result = runner.invoke(app, ["gateway", "kimi", "--port", str(free_port())])
    assert result.exit_code == 0, result.stderr
    pool, kimi = served["config"].upstreams["pool"], served["config"].upstreams["kimi"]
    assert pool.keys == ((0, "pool-a-0123456789"), (2, "pool-c-0123456789"))  # a key that does not resolve is left out
    assert kimi.keys == ((None, "kimi-token-0123456789"),)
    assert "pool-a-0123456789" not in result.stderr + result.stdout
