"""SKILL.md and skill/reference/*.md: Agent Skills format, size, every tool and CLI verb named, links that
resolve, and tables generated from the knowledge catalogs so the prose and the code never disagree.

The generated blocks sit between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`; rewrite them with
MLJOBS_UPDATE_SNAPSHOTS=1 after a catalog change, and review the diff."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
import yaml
from mljobs.skill.knowledge import load_table

REPO = Path(__file__).resolve().parents[1]
SKILL = REPO / "SKILL.md"
REFERENCE = REPO / "skill" / "reference"
UPDATE_FLAG = "MLJOBS_UPDATE_SNAPSHOTS"
CLI_COMMANDS = (
    "mljobs analyze PATH --json",
    "mljobs pools PATH",
    "mljobs eais PATH",
    "mljobs plan PATH",
    "mljobs generate PATH --method",
    "mljobs submit PATH --yes",
    "mljobs status JOB",
    "mljobs wait JOB",
    "mljobs logs JOB",
    "mljobs result JOB",
    "mljobs cancel JOB",
    "mljobs jobs",
    "mljobs delete JOB",
    "mljobs diagnose JOB",
    "mljobs pipeline",
    "mljobs local-eais add NAME --host",
)


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def render_troubleshooting() -> str:
    """One row per error catalog entry, in catalog order (the order diagnosis tries them)."""
    rows = ["| id | the log says (first pattern) | cause | fix | plan change |", "|---|---|---|---|---|"]
    for e in load_table("error_catalog")["entries"]:
        rows.append(
            f"| `{e['id']}` | `{_cell(e['patterns'][0])}` | {_cell(e['cause'])} | {_cell(e['fix'])} "
            f"| `{e['change']}` |"
        )
    return "\n".join(rows)


def render_hosts() -> str:
    """One row per network category with the hosts an EAI must allow."""
    rows = ["| category | hosts an EAI must allow | why |", "|---|---|---|"]
    for name, cat in load_table("network_catalog")["categories"].items():
        hosts = ", ".join(f"`{h}`" for h in cat.get("hosts") or ())
        if not hosts:  # hosts differ per service: list what the catalog's rules name
            rules = (*cat.get("calls", ()), *cat.get("methods", ()))
            named = dict.fromkeys(re.sub(r"\{[a-z]*\}", "<region>", h) for r in rules for h in r.get("hosts") or ())
            named.update(dict.fromkeys(t.replace("{region}", "<region>") for t in (cat.get("aws_services") or {}).values()))
            # Only the kind of host is named here, so a new service is a change to the catalog alone.
            if named and all(r.get("hosts") for r in rules):
                hosts = "each service's API host (the `hosts` of its rule in the catalog)"
            elif named:
                hosts = "the host in the code (URL or env var), or the service's API host (its rule in the catalog)"
            else:
                hosts = "the host in the code (URL or env var)"
        rows.append(f"| `{name}` | {hosts} | {_cell(cat.get('reason', ''))} |")
    return "\n".join(rows)


def render_families() -> str:
    """Instance families with their node shape and indicative cost."""
    table = load_table("instance_families")
    rows = [
        "| family | kind | vCPU | memory GiB | GPUs | credits/hour (indicative) |",
        "|---|---|---|---|---|---|",
    ]
    for name, f in table["families"].items():
        gpus = f"{f.get('gpu_count', 0)}x{f.get('gpu_type')}" if f.get("gpu_count") else "0"
        rows.append(
            f"| `{name}` | {f.get('kind', '')} | {f.get('vcpu')} | {f.get('memory_gib')} | {gpus} | "
            f"{f.get('credits_per_hour', '–')} |"
        )
    return "\n".join(rows)


GENERATED: dict[str, tuple[Path, Callable[[], str]]] = {
    "troubleshooting": (REFERENCE / "troubleshooting.md", render_troubleshooting),
    "hosts": (REFERENCE / "external-access.md", render_hosts),
    "families": (REFERENCE / "compute-and-pools.md", render_families),
}


def _frontmatter(text: str) -> tuple[dict, str]:
    match = re.match(r"^---\n(.*?)\n---\n(.*)$", text, re.DOTALL)
    assert match, "SKILL.md must start with YAML frontmatter between --- lines"
    return yaml.safe_load(match.group(1)), match.group(2)


def _all_docs() -> str:
    return SKILL.read_text(encoding="utf-8") + "".join(
        p.read_text(encoding="utf-8") for p in sorted(REFERENCE.glob("*.md"))
    )


def test_skill_md__frontmatter__agent_skills_format():
    """name (lowercase, <=64, the repo folder's name), description (what + when, <=1024), compatibility (<=500)."""
    meta, body = _frontmatter(SKILL.read_text(encoding="utf-8"))
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", meta["name"]) and len(meta["name"]) <= 64
    assert meta["name"] in {"mljobs", "ml-jobs"}
    assert 1 <= len(meta["description"]) <= 1024 and "Use when" in meta["description"]
    assert "run this on Snowflake" in meta["description"]
    assert 1 <= len(meta["compatibility"]) <= 500
    assert body.count("\n") < 500


def test_skill_md__names_every_mcp_tool_and_cli_command():
    """Each tool the server serves and each CLI verb of the workflow appears in SKILL.md."""
    from mcp import Client
    from mljobs.server.mcp import build_server
    from mljobs.server.settings import Settings

    async def names() -> set[str]:
        async with Client(build_server(Settings(backend="local"))) as client:
            return {t.name for t in (await client.list_tools()).tools}

    text = SKILL.read_text(encoding="utf-8")
    missing_tools = sorted(n for n in anyio.run(names) if f"`{n}" not in text)
    assert not missing_tools, f"SKILL.md does not mention: {missing_tools}"
    missing_cli = [c for c in CLI_COMMANDS if c not in text]
    assert not missing_cli, f"SKILL.md does not show: {missing_cli}"


def test_skill_md__workflow__stop_points_and_mandatory_confirmation():
    """Every decision step ends in a STOP, and the submission has the MANDATORY one."""
    text = SKILL.read_text(encoding="utf-8")
    assert text.count("**STOP**") >= 4 and "MANDATORY STOP" in text
    steps = re.findall(r"^### Step (\d+)", text, re.MULTILINE)
    assert steps == [str(i) for i in range(1, 10)]


def test_skill_md__relative_links__resolve():
    """Every relative markdown link in SKILL.md and the references points at a file that exists."""
    for doc in [SKILL, *REFERENCE.glob("*.md")]:
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", doc.read_text(encoding="utf-8")):
            if "://" in target:
                continue
            base = REPO if doc == SKILL else doc.parent
            assert (base / target).exists(), f"{doc.name}: broken link {target}"


def test_references__every_error_id_and_network_category__mentioned():
    """The troubleshooting and network references cover the whole catalogs (ids and categories)."""
    docs = _all_docs()
    ids = [e["id"] for e in load_table("error_catalog")["entries"]]
    assert not [i for i in ids if f"`{i}`" not in docs]
    categories = list(load_table("network_catalog")["categories"])
    assert not [c for c in categories if f"`{c}`" not in docs]


@pytest.mark.parametrize("block", sorted(GENERATED))
def test_references__generated_tables__match_the_catalogs(block: str):
    """The tables between generated markers equal what the catalogs render today."""
    path, render = GENERATED[block]
    start, end = f"<!-- generated:{block} -->", f"<!-- /generated:{block} -->"
    text = path.read_text(encoding="utf-8")
    assert start in text and end in text, f"{path.name} lacks the {block} markers"
    head, rest = text.split(start, 1)
    current, tail = rest.split(end, 1)
    expected = f"\n{render()}\n"
    if os.environ.get(UPDATE_FLAG) == "1" and current != expected:
        path.write_text(head + start + expected + end + tail, encoding="utf-8")
        current = expected
    assert current == expected, (
        f"{path.name} is out of date with the catalog; regenerate with {UPDATE_FLAG}=1"
    )


def test_skill_md__short_core_with_notebooks_local_eais_timeouts_and_cross_checks():
    """The core stays short and says what the conversion study found missing: the notebook path, local EAIs,
    short waits for client timeouts, and cross-checking a finding against the code (never forbidding it)."""
    _, body = _frontmatter(SKILL.read_text(encoding="utf-8"))
    assert body.count("\n") <= 170
    assert ".ipynb" in body and "nbconvert" in body  # notebooks go in as they are
    assert "add_local_eai" in body and "re-read" in body
    assert "`wait_for_job(job_id)` (it answers within 30 s)" in body and "short" in body
    assert "cross-check" in body
    assert "by reading the code yourself" not in body and "Do not infer" not in body
