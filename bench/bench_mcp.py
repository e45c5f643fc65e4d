"""MCP server figures (run on demand; loopback only, every server it starts is stopped before it exits).

    .venv/bin/python bench/bench_mcp.py [--runs N] [--calls 50]

1. stdio cold start: time from spawning `mljobs serve` to the `tools/list` answer (initialize handshake first).
2. analyze_script latency on a 500-line script through the in-memory client: median of warm calls (per-file
   analysis cache hit) and of cold ones (the file changes before each call, so it is analysed again).
3. concurrency: N tool calls at once (analyze_script, rank_pools, list_jobs, check_external_access) over
   streamable HTTP against `mljobs serve --transport http` on 127.0.0.1 and a free port; counts errors.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import anyio

ROOT = Path(__file__).resolve().parents[1]
MLJOBS = Path(sys.executable).parent / "mljobs"
EXAMPLE = ROOT / "examples" / "train_classifier.py"


def _env(state: Path) -> dict[str, str]:
    return {**os.environ, "MLJOBS_STATE_DIR": str(state), "SNOWFLAKE_HOME": str(state / "snowflake_home")}


def stdio_start(runs: int, state: Path) -> list[float]:
    """Seconds from Popen to the tools/list response, per run."""
    messages = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "bench", "version": "1"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    ]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen(
            [str(MLJOBS), "serve", "--backend", "local"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_env(state),
            text=True,
        )
        try:
            assert proc.stdin and proc.stdout
            for i, msg in enumerate(messages):
                proc.stdin.write(json.dumps(msg) + "\n")
                proc.stdin.flush()
                if i == 0:
                    json.loads(proc.stdout.readline())  # the initialize result
            reply = json.loads(proc.stdout.readline())
            elapsed = time.perf_counter() - start
            assert reply.get("id") == 2 and reply["result"]["tools"], reply
            times.append(elapsed)
        finally:
            proc.stdin.close()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return times


def script_500(path: Path) -> Path:
    """A realistic 500-line training script: imports, argparse, data loading, a torch loop, HF, outputs."""
    head = textwrap.dedent("""
        import argparse, json, os
        import numpy as np
        import pandas as pd
        import torch
        from torch import nn
        from transformers import AutoTokenizer, AutoModel
        import wandb

        def parse_args():
            p = argparse.ArgumentParser()
            p.add_argument("--output-dir", default="out")
            p.add_argument("--epochs", type=int, default=3)
            return p.parse_args()
    """).lstrip()
    blocks = [head]
    i = 0
    while sum(b.count("\n") for b in blocks) < 494:
        blocks.append(
            textwrap.dedent(f"""
            def step_{i}(model, batch, device="cuda"):
                x = torch.tensor(batch["x"]).to(device)
                y = model(x)
                loss = nn.functional.mse_loss(y, torch.zeros_like(y))
                loss.backward()
                frame = pd.DataFrame({{"loss": [float(loss)]}})
                frame.to_csv(os.path.join("out", "step_{i}.csv"))
                return float(np.mean(frame["loss"]))
        """)
        )
        i += 1
    blocks.append(
        textwrap.dedent("""
        if __name__ == "__main__":
            args = parse_args()
            tok = AutoTokenizer.from_pretrained("bert-base-uncased")
            model = AutoModel.from_pretrained("bert-base-uncased").cuda()
            wandb.init(project="bench")
            __return__ = {"done": True}
    """)
    )
    text = "".join(blocks)
    path.write_text(text, encoding="utf-8")
    return path


async def analyze_latency(script: Path, runs: int, state: Path) -> tuple[list[float], list[float], int]:
    from mcp import Client
    from mljobs.server.mcp import build_server
    from mljobs.server.settings import Settings

    warm, cold = [], []
    base = script.read_text(encoding="utf-8")
    async with Client(build_server(Settings(backend="local", state_dir=state))) as client:
        first = await client.call_tool("analyze_script", {"path": str(script)})
        assert not first.is_error, first.content
        for _ in range(runs):
            t = time.perf_counter()
            r = await client.call_tool("analyze_script", {"path": str(script)})
            warm.append(time.perf_counter() - t)
            assert not r.is_error
        for n in range(runs):
            script.write_text(base + f"# edit {n}\n", encoding="utf-8")
            t = time.perf_counter()
            r = await client.call_tool("analyze_script", {"path": str(script)})
            cold.append(time.perf_counter() - t)
            assert not r.is_error
    script.write_text(base, encoding="utf-8")
    return warm, cold, base.count("\n")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_http_server(state: Path) -> tuple[subprocess.Popen, int]:
    """`mljobs serve --transport http` on 127.0.0.1 and a free port, once it accepts connections."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            str(MLJOBS),
            "serve",
            "--transport",
            "http",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backend",
            "local",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_env(state),
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc, port
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                stop(proc)
                raise RuntimeError("the HTTP server did not start") from None
            time.sleep(0.1)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def http_concurrency(calls: int, script: Path, port: int) -> tuple[int, int, float]:
    """(calls, errors, seconds) for `calls` concurrent tool calls over streamable HTTP on loopback."""
    from mcp import Client

    requests = [
        ("analyze_script", {"path": str(script)}),
        ("rank_pools", {"path": str(EXAMPLE)}),
        ("list_jobs", {}),
        ("check_external_access", {"path": str(script)}),
    ]
    errors = 0
    url = f"http://127.0.0.1:{port}/mcp"
    start = time.perf_counter()
    with anyio.fail_after(300):
        async with Client(url, mode="legacy") as client:

            async def one(i: int) -> None:
                nonlocal errors
                name, args = requests[i % len(requests)]
                try:
                    result = await client.call_tool(name, args)
                    errors += bool(result.is_error)
                except Exception:  # noqa: BLE001 - counted, the figure is the error count
                    errors += 1

            async with anyio.create_task_group() as tg:
                for i in range(calls):
                    tg.start_soon(one, i)
    return calls, errors, time.perf_counter() - start


def main() -> int:
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="repetitions for the timings (default 5)")
    parser.add_argument("--calls", type=int, default=50, help="concurrent HTTP tool calls (default 50)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mljobs-bench-") as tmp:
        tmpdir = Path(tmp)
        starts = stdio_start(args.runs, tmpdir / "stdio")
        print(
            f"stdio: process start -> tools/list answered: median {statistics.median(starts):.2f} s "
            f"(min {min(starts):.2f}, max {max(starts):.2f}, {len(starts)} runs)"
        )
        script = script_500(tmpdir / "train_500.py")
        warm, cold, lines = anyio.run(analyze_latency, script, max(args.runs * 4, 10), tmpdir / "inmem")
        print(
            f"analyze_script on a {lines}-line script (in-memory client): median warm {statistics.median(warm) * 1000:.0f} ms, "
            f"cold {statistics.median(cold) * 1000:.0f} ms ({len(warm)} calls each)"
        )
        proc, port = start_http_server(tmpdir / "http")
        try:
            calls, errors, seconds = anyio.run(http_concurrency, args.calls, script, port)
        finally:
            stop(proc)
        print(f"streamable HTTP: {calls} concurrent tool calls, {errors} errors, {seconds:.2f} s total")
        return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
