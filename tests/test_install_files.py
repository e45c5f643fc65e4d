"""The files that make mljobs installable the way MCP servers are: server.json for the MCP registry (schema
2025-12-11) and manifest.json for an .mcpb bundle (manifest 0.4), checked against the package's real entry point,
name and version, and the version the running server reports."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from importlib import import_module
from pathlib import Path

import anyio
import mljobs

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
SERVER_JSON = json.loads((ROOT / "server.json").read_text(encoding="utf-8"))
MANIFEST = json.loads((ROOT / "manifest.json").read_text(encoding="utf-8"))
#: Top-level keys the MCPB manifest 0.4 schema allows (it sets additionalProperties: false).
MANIFEST_KEYS = {
    "$schema", "manifest_version", "name", "display_name", "version", "description", "long_description", "author",
    "repository", "homepage", "documentation", "support", "icon", "icons", "screenshots", "localization", "server",
    "tools", "tools_generated", "prompts", "prompts_generated", "keywords", "license", "privacy_policies",
    "compatibility", "user_config", "_meta",
}


def _entry_point() -> object:
    """The console script the package installs, imported for real."""
    module, _, attr = PROJECT["scripts"][PROJECT["name"]].partition(":")
    return getattr(import_module(module), attr)


def test_versions__one_version_everywhere() -> None:
    """pyproject, the package, server.json (server and package) and the bundle manifest agree."""
    version = PROJECT["version"]
    assert mljobs.__version__ == version
    assert SERVER_JSON["version"] == version and SERVER_JSON["packages"][0]["version"] == version
    assert MANIFEST["version"] == version


def test_server_json__registry_schema_2025_12_11__fields_and_limits() -> None:
    assert SERVER_JSON["$schema"] == "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
    assert re.fullmatch(r"[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+", SERVER_JSON["name"]) and SERVER_JSON["name"].count("/") == 1
    assert 1 <= len(SERVER_JSON["description"]) <= 100
    (package,) = SERVER_JSON["packages"]
    assert package["registryType"] == "pypi" and package["registryBaseUrl"] == "https://pypi.org"
    assert package["identifier"] == PROJECT["name"] and package["version"] not in ("", "latest")
    assert package["transport"] == {"type": "stdio"}


def test_server_json__launch__runs_the_real_serve_verb() -> None:
    """uvx runs the console script named like the package; its first argument is the real `serve` verb."""
    (package,) = SERVER_JSON["packages"]
    assert package["runtimeHint"] == "uvx" and PROJECT["name"] in PROJECT["scripts"]
    args = [a["value"] for a in package["packageArguments"]]
    assert args == ["serve"]
    main = _entry_point()
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from mljobs.server.cli import main; sys.exit(main(sys.argv[1:]))",
         *args, "--help"],
        capture_output=True, text=True, timeout=120,
    )
    assert callable(main) and proc.returncode == 0 and "--transport" in proc.stdout


def test_server_json__environment_variables__read_by_the_code() -> None:
    """Every variable server.json offers is one the server really reads."""
    code = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "server").rglob("*.py"))
    for var in SERVER_JSON["packages"][0]["environmentVariables"]:
        assert f'"{var["name"]}"' in code, var["name"]


def test_readme__mcp_name_marker__matches_server_json() -> None:
    """PyPI ownership for the registry: the README carries the server name in an mcp-name marker."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"<!-- mcp-name: {SERVER_JSON['name']} -->" in readme


def test_manifest__mcpb_0_4__fields() -> None:
    assert MANIFEST["manifest_version"] == "0.4" and set(MANIFEST) <= MANIFEST_KEYS
    assert MANIFEST["name"] == PROJECT["name"] and MANIFEST["author"]["name"]
    assert MANIFEST["description"] == SERVER_JSON["description"]
    server = MANIFEST["server"]
    assert server["type"] == "uv" and (ROOT / server["entry_point"]).is_file()
    for ref in re.findall(r"\$\{user_config\.(\w+)\}", json.dumps(server)):
        assert ref in MANIFEST["user_config"]
        assert {"type", "title", "description"} <= set(MANIFEST["user_config"][ref])


def test_manifest__launch_command__serves_mcp_over_stdio() -> None:
    """The bundle's command (without the uv wrapper) answers an MCP handshake with the package's version."""
    args = MANIFEST["server"]["mcp_config"]["args"]
    python_args = args[args.index("python") + 1 :]
    assert python_args == ["-m", "mljobs.server", "serve"]

    async def handshake() -> str:
        from mcp import Client, StdioServerParameters

        params = StdioServerParameters(command=sys.executable, args=[*python_args, "--backend", "local"])
        async with Client(params) as client:
            assert {t.name for t in (await client.list_tools()).tools} >= {"plan_job", "wait_for_job"}
            info = client.server_info
            assert info is not None
            return info.version

    assert anyio.run(handshake) == PROJECT["version"]
