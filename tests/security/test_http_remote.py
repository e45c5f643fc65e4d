"""Reproduction 10: HTTP with --allow-remote keeps Host/Origin checks (explicit allow-list) and needs a token.

The server binds to loopback only; the allow-list names a host that resolves nowhere, sent as a Host header.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
from collections.abc import Iterator

import pytest

from tests.serving import free_port, http_server

TOKEN = "t" * 16 + "0123456789abcdefXYZ"
INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "probe", "version": "0"}}}


@pytest.fixture
def server(tmp_path) -> Iterator[int]:
    port = free_port()
    env = {**os.environ, "MLJOBS_HTTP_TOKEN": TOKEN, "MLJOBS_STATE_DIR": str(tmp_path / "state")}
    argv = [sys.executable, "-c", "import sys; from mljobs.server.cli import main; sys.exit(main())", "serve",
            "--transport", "http", "--host", "127.0.0.1", "--port", str(port), "--allow-remote", "--allowed-host",
            f"mljobs.invalid:{port}", "--backend", "local"]
    with http_server(argv, port, env, startup_seconds=30, capture_stderr=True):
        yield port


def _post(port: int, headers: dict[str, str]) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/mcp", body=json.dumps(INIT), headers={
            "Content-Type": "application/json", "Accept": "application/json, text/event-stream", **headers})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def test_remote_http__token_and_host_checks(server: int) -> None:
    good_host = f"mljobs.invalid:{server}"
    tried = held = 0
    attacks = [
        {"Host": good_host},  # no token
        {"Host": good_host, "Authorization": "Bearer wrong"},
        {"Host": good_host, "Authorization": f"Bearer {TOKEN[:-1]}"},
        {"Host": good_host, "Authorization": f"bearer {TOKEN}"},
        {"Host": good_host, "Authorization": TOKEN},
        {"Host": f"127.0.0.1:{server}", "Authorization": f"Bearer {TOKEN}"},  # host not on the list
        {"Host": f"evil.example:{server}", "Authorization": f"Bearer {TOKEN}"},
        {"Host": good_host, "Authorization": f"Bearer {TOKEN}", "Origin": "http://evil.example"},
    ]
    for headers in attacks:
        tried += 1
        status = _post(server, headers)
        held += status in (400, 401, 403, 421)
    assert (tried, held) == (len(attacks), len(attacks))
    assert _post(server, {"Host": good_host, "Authorization": f"Bearer {TOKEN}"}) == 200


@pytest.mark.parametrize("extra_env, argv, message", [
    ({}, ["--allowed-host", "mljobs.invalid"], "MLJOBS_HTTP_TOKEN"),
    ({"MLJOBS_HTTP_TOKEN": "short"}, ["--allowed-host", "mljobs.invalid"], "at least 32"),
    ({"MLJOBS_HTTP_TOKEN": TOKEN}, [], "--allowed-host"),
])
def test_remote_http__refused_without_token_or_allow_list(monkeypatch, capsys, extra_env, argv, message) -> None:
    from mljobs.server.cli import main

    monkeypatch.delenv("MLJOBS_HTTP_TOKEN", raising=False)
    for key, value in extra_env.items():
        monkeypatch.setenv(key, value)
    assert main(["serve", "--transport", "http", "--host", "0.0.0.0", "--allow-remote", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "short" not in err.replace("shorter", "")
