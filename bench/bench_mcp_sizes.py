"""How much an assistant reads per MCP answer: bytes per tool on the examples, and the size of tools/list.

    .venv/bin/python bench/bench_mcp_sizes.py [--json]

Drives the in-memory client (token path, local pool) through a conversion of each example (analyze, rank,
check, plan, submit, wait, status, logs, list), then a failing job (wait, status, logs, diagnose). For every
answer it counts the bytes of the text content and of the structured content as JSON; "model-facing" is their
sum, what a client that passes both to the model spends. tools/list counts name, title, description and both
schemas as sent. Reports the median per tool over the examples and the largest repeated line block per answer
(0 means no block of 3+ lines, nor any single line of 80+ characters, appears twice).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import anyio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.server.mcp_helpers import answer_text, repeated_block  # noqa: E402 - the same check the tests apply

EXAMPLES = [ROOT / "examples" / "train_classifier.py", ROOT / "examples" / "finetune_gpu.py", ROOT / "examples" / "project"]
FAILING = """\
import sys

def load(path):
    for i in range(60):
        print(f"epoch {i}: loss {1.0 / (i + 1):.4f}")
    raise ValueError(f"cannot read {path}: the columns do not match")

if __name__ == "__main__":
    load("data/train.csv")
"""


def sizes(result: Any) -> tuple[int, int]:
    text = sum(len(getattr(c, "text", "").encode()) for c in result.content)
    structured = len(json.dumps(result.structured_content or {}, separators=(",", ":")).encode())
    return text, structured


async def run() -> dict[str, Any]:
    from mcp import Client
    from mljobs.server.mcp import build_server
    from mljobs.server.settings import Settings

    per_tool: dict[str, list[tuple[int, int, int]]] = {}

    def record(name: str, result: Any) -> Any:
        assert not result.is_error, f"{name}: {[getattr(c, 'text', '') for c in result.content]}"
        text, structured = sizes(result)
        per_tool.setdefault(name, []).append((text, structured, len(repeated_block(answer_text(result)))))
        return result.structured_content

    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "state"
        server = build_server(Settings(backend="local", state_dir=state))
        async with Client(server) as client:
            tools = (await client.list_tools()).tools
            listing = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]
            tools_list_bytes = len(json.dumps(listing, separators=(",", ":")).encode())
            facing = [{k: t.get(k) for k in ("name", "description", "inputSchema")} for t in listing]
            tools_facing_bytes = len(json.dumps(facing, separators=(",", ":")).encode())
            for example in EXAMPLES:
                path = {"path": str(example)}
                record("analyze_script", await client.call_tool("analyze_script", path))
                record("rank_pools", await client.call_tool("rank_pools", path))
                record("check_external_access", await client.call_tool("check_external_access", path))
                plan = record("plan_job", await client.call_tool("plan_job", {**path, "backend": "local"}))
            failing = Path(tmp) / "proj" / "fail.py"
            failing.parent.mkdir()
            failing.write_text(textwrap.dedent(FAILING), encoding="utf-8")
            plan = record("plan_job", await client.call_tool("plan_job", {"path": str(failing), "backend": "local"}))
            token = (plan.get("confirmation") or {}).get("token")
            sub = record(
                "submit_job",
                await client.call_tool("submit_job", {"plan_hash": plan["plan_hash"], "confirmation_token": token}),
            )
            job = {"job_id": sub["job_id"]}
            record("wait_for_job", await client.call_tool("wait_for_job", {**job, "timeout_seconds": 120}))
            record("job_status", await client.call_tool("job_status", job))
            record("job_logs", await client.call_tool("job_logs", job))
            record("job_logs(verbose)", await client.call_tool("job_logs", {**job, "verbose": True}))
            record("diagnose_job", await client.call_tool("diagnose_job", job))
            record("list_jobs", await client.call_tool("list_jobs", {}))
    table = {
        name: {
            "calls": len(rows),
            "text_bytes": int(statistics.median(r[0] for r in rows)),
            "structured_bytes": int(statistics.median(r[1] for r in rows)),
            "model_facing_bytes": int(statistics.median(r[0] + r[1] for r in rows)),
            "max_repeated_block": max(r[2] for r in rows),
        }
        for name, rows in per_tool.items()
    }
    return {"tools_list_bytes": tools_list_bytes, "tools_list_model_facing_bytes": tools_facing_bytes,
            "tools": len(listing), "per_tool": table}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    figures = anyio.run(run)
    if args.json:
        json.dump(figures, sys.stdout, indent=2)
        print()
        return 0
    print(f"tools/list: {figures['tools']} tools, {figures['tools_list_bytes']} bytes "
          f"({figures['tools_list_model_facing_bytes']} in name, description and input schema)")
    print(f"{'tool':24} {'calls':>5} {'text':>7} {'struct':>7} {'total':>7} {'repeat':>7}")
    for name, row in figures["per_tool"].items():
        print(
            f"{name:24} {row['calls']:>5} {row['text_bytes']:>7} {row['structured_bytes']:>7} "
            f"{row['model_facing_bytes']:>7} {row['max_repeated_block']:>7}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
