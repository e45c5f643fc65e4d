"""Network guard: Snowflake HOST_PORT matching as a pure function, and the installed socket wrappers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mljobs.server.runner import netguard
from mljobs.server.runner.netguard import GuardPolicy, RuleSyntaxError, host_allowed, parse_rule


@pytest.mark.parametrize(
    ("rule", "host", "port", "allowed"),
    [
        pytest.param("pypi.org", "pypi.org", 443, True, id="exact_host_default_port__allowed"),
        pytest.param("pypi.org", "PyPI.org", 443, True, id="case_insensitive__allowed"),
        pytest.param("pypi.org", "pypi.org", 80, False, id="no_port_means_443_only__blocked"),
        pytest.param("pypi.org", "evil-pypi.org", 443, False, id="other_host__blocked"),
        pytest.param("pypi.org", "sub.pypi.org", 443, False, id="subdomain_not_implied__blocked"),
        pytest.param("api.example.com:8443", "api.example.com", 8443, True, id="explicit_port__allowed"),
        pytest.param("api.example.com:8443", "api.example.com", 443, False, id="explicit_port_only__blocked"),
        pytest.param("db.example.com:0", "db.example.com", 5432, True, id="port_zero_any_port__allowed"),
        pytest.param("x.example.com:8000-8100", "x.example.com", 8050, True, id="port_range_inside__allowed"),
        pytest.param(
            "x.example.com:8000-8100", "x.example.com", 8101, False, id="port_range_outside__blocked"
        ),
        pytest.param("*.hf.co", "cdn-lfs.hf.co", 443, True, id="wildcard_one_label__allowed"),
        pytest.param("*.hf.co", "a.b.hf.co", 443, False, id="wildcard_never_spans_dots__blocked"),
        pytest.param("*.hf.co", "hf.co", 443, False, id="wildcard_needs_a_label__blocked"),
        pytest.param(
            "snowflake-*.google.com", "snowflake-eu1.google.com", 443, True, id="infix_wildcard__allowed"
        ),
        pytest.param(
            "snowflake-*.google.com", "other.google.com", 443, False, id="infix_wildcard_prefix__blocked"
        ),
        pytest.param("0.0.0.0", "anything.example.org", 443, True, id="all_hosts_on_443__allowed"),
        pytest.param("0.0.0.0", "anything.example.org", 22, False, id="all_hosts_not_other_ports__blocked"),
        pytest.param("0.0.0.0:80", "anything.example.org", 80, True, id="all_hosts_port_80__allowed"),
        pytest.param("10.1.2.3", "10.1.2.3", 443, True, id="ip_literal_rule__allowed"),
    ],
)
def test_rule_allows__table__expected(rule: str, host: str, port: int, allowed: bool) -> None:
    """Each VALUE_LIST entry matches hosts and ports the way Snowflake's network rules do."""
    assert netguard.rule_allows(parse_rule(rule), host, port) is allowed


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("", id="empty"),
        pytest.param("*.com", id="wildcard_second_level"),
        pytest.param("*.*.example.com", id="two_wildcards"),
        pytest.param("example.com:70000", id="port_too_big"),
        pytest.param("example.com:90-80", id="reversed_range"),
        pytest.param("0.0.0.0:22", id="all_hosts_other_port"),
        pytest.param("exa mple.com", id="space"),
    ],
)
def test_parse_rule__invalid_value__raises(value: str) -> None:
    """Values Snowflake would reject are rejected with RuleSyntaxError."""
    with pytest.raises(RuleSyntaxError):
        parse_rule(value)


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.0.0.2", "::1", "[::1]"])
def test_host_allowed__loopback__always_allowed(host: str) -> None:
    """Loopback never leaves the machine, so it is allowed with no rules at all."""
    assert host_allowed([], host, 8080)


def test_host_allowed__dns_lookup_without_port__any_rule_port() -> None:
    """A bare lookup (port None) is allowed when some rule names the host on any port."""
    rules = [parse_rule("api.example.com:8443")]
    assert host_allowed(rules, "api.example.com", None)
    assert not host_allowed(rules, "other.example.com", None)


def _policy(job: dict[str, list[str]], known: dict[str, list[str]]) -> GuardPolicy:
    return GuardPolicy.from_config({"job_eais": job, "known_eais": known})


def test_refusal__known_eai_allows__names_it() -> None:
    """The refusal names the host, the job's EAIs and the local EAI that would allow the host."""
    policy = _policy(
        {"PYPI_EAI": ["pypi.org"]}, {"PYPI_EAI": ["pypi.org"], "HUGGINGFACE_EAI": ["huggingface.co"]}
    )
    assert not policy.allows("huggingface.co", 443)
    message = policy.refusal("huggingface.co", 443)
    assert "huggingface.co:443" in message
    assert "job EAIs: PYPI_EAI" in message
    assert "HUGGINGFACE_EAI" in message


def test_refusal__no_eai_allows__says_none_does() -> None:
    """When no local EAI covers the host, the message says so and where to add one."""
    message = _policy({}, {"PYPI_EAI": ["pypi.org"]}).refusal("example.com", 443)
    assert "no local EAI allows it" in message
    assert "job EAIs: none" in message


_CHILD = """
import json, socket, sys
from mljobs.server.runner import netguard
netguard.install(netguard.GuardPolicy.from_config(json.loads(sys.argv[1])))
out = {}
def attempt(name, fn):
    try:
        fn()
        out[name] = "ok"
    except OSError as exc:
        out[name] = type(exc).__name__ + ": " + str(exc)
attempt("create_connection", lambda: socket.create_connection(("example.com", 443), timeout=2))
attempt("getaddrinfo", lambda: socket.getaddrinfo("example.com", 443))
attempt("connect_ip", lambda: socket.socket().connect(("203.0.113.9", 443)))
s = socket.socket()
out["connect_ex"] = s.connect_ex(("203.0.113.9", 443))
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
attempt("loopback", lambda: socket.create_connection(srv.getsockname(), timeout=2).close())
print(json.dumps(out))
"""


def test_install__blocked_hosts__refused_before_dns(tmp_path: Path) -> None:
    """Installed in a process: create_connection/getaddrinfo/connect refuse other hosts, loopback works."""
    config = {
        "job_eais": {"PYPI_EAI": ["pypi.org"]},
        "known_eais": {"PYPI_EAI": ["pypi.org"], "WEB": ["example.com"]},
    }
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_CHILD), json.dumps(config)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    out = json.loads(proc.stdout)
    assert out["create_connection"].startswith("ConnectionRefusedError")
    assert "example.com:443 blocked" in out["create_connection"]
    assert "WEB" in out["create_connection"]
    assert out["getaddrinfo"].startswith("gaierror") and "example.com" in out["getaddrinfo"]
    assert out["connect_ip"].startswith("ConnectionRefusedError") and "203.0.113.9" in out["connect_ip"]
    assert out["connect_ex"] != 0 and "203.0.113.9" in proc.stderr
    assert out["loopback"] == "ok"


def test_install_from_env__no_variable__not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without $MLJOBS_NETGUARD nothing is patched (the guard only runs inside job processes)."""
    monkeypatch.delenv(netguard.CONFIG_ENV, raising=False)
    before = socket.getaddrinfo
    assert netguard.install_from_env() is False
    assert socket.getaddrinfo is before
    assert os.environ.get(netguard.CONFIG_ENV) is None
