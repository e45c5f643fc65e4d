"""The conversion study (issue 10, item 9): real public projects converted the way an assistant would, through
`mljobs serve --transport http` and a client nobody here wrote (the MCP Inspector CLI), jobs on the local pool.

Why a driver and not a test: the outcome is a table to judge (was the plan's reason right, was the diagnosis
right against the real log), not a pass/fail. The driver only gathers the facts, in the order SKILL.md gives:
analyze_script -> check_external_access -> plan_job(backend="local") -> submit_job with the plan's token ->
wait_for_job in short slices (capped; over the cap the job is cancelled through cancel_job, token path) ->
diagnose_job on FAILED. A plan refused only for uncovered hosts (for one project, or all with
--local-eais-for-all) gets the local EAIs its preflight fix names (the `add_local_eai` tool, preview then token;
the CLI `mljobs local-eais add` where the server lacks the tool), is planned again with them and run, so the
"allowed but does not resolve" branch of diagnosis is exercised too; --follow-diagnosis turns a diagnosis' plain
plan changes into one more plan and run.

The projects are studied in place under a study folder (default /tmp/study; never copied into the repo).
Each call's full answer is written to OUT/<project>/NN_<tool>.json and a digest to OUT/study.json.

    .venv/bin/python bench/conversion_study/run_study.py [--study /tmp/study] [--out /tmp/mljobs-study]
        [--inspector PATH] [--only NAME ...] [--cap-minutes 8] [--parallel 3]

Exits 0 with a "skipped:" line when the study folder or the Inspector is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_INSPECTOR = "/tmp/tools/node_modules/.bin/mcp-inspector"
CLIENT_TIMEOUT = 60  # the Inspector's default request timeout


@dataclass(frozen=True)
class Project:
    name: str
    kind: str
    path: str  # relative to the study folder: a file, a notebook or a folder
    entrypoint: str | None = None
    choices: dict[str, Any] = field(default_factory=dict)


PROJECTS = [
    Project("pytorch_mnist", "torch script, torchvision download", "pytorch_mnist", "main.py"),
    Project("accelerate_nlp", "HF accelerate GLUE (datasets/hub)", "accelerate_nlp/nlp_example.py"),
    Project("optuna_quickstart", "notebook (optuna + sklearn)", "optuna_quickstart/quickstart.ipynb"),
    Project("optuna_sklearn", "folder + requirements.txt", "optuna_sklearn", "sklearn_simple.py"),
    Project("taxifare", "multi-file package, GCS, mlflow, setup.py", "taxifare", "TaxiFareModel/trainer.py"),
    Project("sf_e2e_jobs", "Snowpark ML project (needs an account)", "sf_e2e_jobs", "02_model_training.py"),
    Project("st_sts", "sentence-transformers training (hub)", "st_sts/training_stsbenchmark.py"),
    Project("lgbm_simple", "LightGBM + local data files", "lgbm_simple", "simple_example.py"),
    Project("fabric_image", "Lightning Fabric image classifier", "fabric_image/train_fabric.py"),
    Project("fastai_saving", "fastai notebook", "fastai_saving/02-saving-a-basic-fastai-model.ipynb"),
    Project("wandb_xgb", "xgboost + W&B + local data", "wandb_xgb", "train.py"),
    Project("wandb_sklearn", "sklearn + W&B", "wandb_sklearn/sklearn_regression.py"),
]


class Client:
    """One Inspector CLI process per call (a new MCP session each time, as the opt-in Inspector test does)."""

    def __init__(self, inspector: str, url: str, out: Path) -> None:
        self.inspector, self.url, self.out = inspector, url, out
        self._lock = threading.Lock()

    def call(self, project: str, tool: str, **args: Any) -> dict[str, Any]:
        cmd = [self.inspector, "--cli", self.url, "--transport", "http", "--method", "tools/call",
               "--tool-name", tool]
        for key, value in args.items():
            cmd += ["--tool-arg", f"{key}={value if isinstance(value, str) else json.dumps(value)}"]
        start = time.monotonic()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=CLIENT_TIMEOUT + 60)
            raw, err, rc = proc.stdout, proc.stderr, proc.returncode
        except subprocess.TimeoutExpired:
            raw, err, rc = "", "client timed out", -1
        took = round(time.monotonic() - start, 1)
        answer: dict[str, Any]
        if rc != 0:
            answer = {"cli_error": (err + raw).strip()[-2000:]}
        else:
            full = json.loads(raw)
            answer = full.get("structuredContent") or {"content": full.get("content"), "isError": full.get("isError")}
            if full.get("isError"):
                answer = {"tool_error": _text(full)}
        answer_bytes = len(raw.encode())
        folder = self.out / project
        folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            n = len(list(folder.glob("*.json")))
        (folder / f"{n:02d}_{tool}.json").write_text(json.dumps(
            {"args": args, "took_s": took, "bytes": answer_bytes, "answer": answer}, indent=1))
        answer["_took_s"], answer["_bytes"] = took, answer_bytes
        return answer


def _text(full: dict[str, Any]) -> str:
    return " ".join(c.get("text", "") for c in full.get("content") or [] if isinstance(c, dict))[:2000]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(state: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "MLJOBS_STATE_DIR": str(state / "state"), "SNOWFLAKE_HOME": str(state / "snowflake")}
    mljobs = Path(sys.executable).parent / "mljobs"
    log = (state / "serve.log").open("wb")
    proc = subprocess.Popen([str(mljobs), "serve", "--transport", "http", "--port", str(port), "--backend", "local"],
                            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"http://127.0.0.1:{port}/mcp"
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("mljobs serve did not start; see serve.log") from None
            time.sleep(0.3)


def follow(client: Client, name: str, job_id: str, cap_s: float, row: dict[str, Any]) -> dict[str, Any]:
    """wait_for_job in default (30 s) slices until the job ends or the cap passes; over the cap, cancel it."""
    start = time.monotonic()
    waited: dict[str, Any] = {}
    while time.monotonic() - start < cap_s:
        waited = client.call(name, "wait_for_job", job_id=job_id)
        row["waits"] = row.get("waits", 0) + 1
        if "cli_error" in waited or "tool_error" in waited or not waited.get("timed_out"):
            break
    row["wall_s"] = round(time.monotonic() - start)
    job = waited.get("job") or {}
    if waited.get("timed_out") or not job:
        preview = client.call(name, "cancel_job", job_id=job_id)
        token = (preview.get("confirmation") or {}).get("token")
        row["cancel"] = "previewed"
        if token:
            done = client.call(name, "cancel_job", job_id=job_id, confirmation_token=token)
            row["cancel"] = "done" if done.get("done") else f"refused: {str(done)[:200]}"
        time.sleep(5)
        job = client.call(name, "job_status", job_id=job_id).get("job") or client.call(name, "job_status", job_id=job_id)
    return job


def run_project(client: Client, study: Path, p: Project, cap_s: float,
                retry_state: Path | None = None, follow_diagnosis: bool = False) -> dict[str, Any]:
    """One conversion, as SKILL.md orders it; with `retry_state`, a plan refused only for uncovered hosts gets
    the local EAI its preflight fix names (the user's yes is the study's), then is planned and run again; with
    `follow_diagnosis`, a failure whose diagnosis changes are plain plan choices is planned and run once more."""
    row: dict[str, Any] = {"project": p.name, "kind": p.kind}
    path = str(study / p.path)
    where: dict[str, Any] = {"path": path}
    if p.entrypoint:
        where["entrypoint"] = p.entrypoint
    analysis = client.call(p.name, "analyze_script", **where)
    row["analyze_bytes"] = analysis["_bytes"]
    row["problems"] = [str(x)[:300] for x in analysis.get("problems") or []]
    coverage = client.call(p.name, "check_external_access", backend="local", **where)
    row["uncovered"] = [h for entry in coverage.get("hosts") or [] if entry.get("status") != "covered"
                        for h in entry.get("hosts") or []]
    plan = client.call(p.name, "plan_job", backend="local", choices=p.choices, **where)
    row.update(plan_bytes=plan["_bytes"], ready=plan.get("ready"), plan_errors=plan.get("errors") or plan.get("tool_error"),
               preflight=[f"{x.get('severity')}: {x.get('code')}: {x.get('message')}"[:400]
                          for x in plan.get("preflight") or []],
               settings={k: (plan.get("settings") or {}).get(k)
                         for k in ("method", "entrypoint", "args", "pip_requirements", "requirements_file",
                                   "external_access_integrations")},
               script_diff=bool(plan.get("script_diff")))
    if not plan.get("ready"):
        if retry_state is not None and set(plan.get("errors") or ()) == {"network.uncovered"}:
            row["local_eai_round"] = add_local_eai_and_replan(client, study, p, plan, retry_state, cap_s,
                                                              follow_diagnosis)
        return row
    confirmation = plan.get("confirmation") or {}
    row["confirmation"] = confirmation.get("method")
    submitted = client.call(p.name, "submit_job", plan_hash=plan["plan_hash"], confirmation_token=confirmation.get("token", ""))
    job_id = submitted.get("job_id")
    row["job_id"] = job_id
    if not job_id:
        row["submit_error"] = str(submitted)[:400]
        return row
    job = follow(client, p.name, job_id, cap_s, row)
    row["status"] = job.get("status")
    row["error"] = str(job.get("error") or "")[:400]
    if job.get("status") == "FAILED":
        diagnosis = client.call(p.name, "diagnose_job", job_id=job_id)
        row["diagnose_bytes"] = diagnosis["_bytes"]
        row["diagnosis"] = {k: diagnosis.get(k) for k in ("cause", "fix", "next_step", "changes", "admin_sql")}
    logs = client.call(p.name, "job_logs", job_id=job_id, tail_lines=25)
    row["log_tail"] = (logs.get("text") or "")[-2500:]
    if follow_diagnosis and not p.name.endswith("_fix"):
        choices = choices_from_changes(p.choices, (row.get("diagnosis") or {}).get("changes") or [])
        if choices is not None:
            again = Project(p.name + "_fix", p.kind, p.path, p.entrypoint, choices)
            row["diagnosis_round"] = run_project(client, study, again, cap_s)
    return row


def choices_from_changes(choices: dict[str, Any], changes: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The plan_job choices after a diagnosis' plan changes, as SKILL.md step 9 says ("turn `changes` into a new
    plan_job"); None when a change needs more than a choice (a local EAI, an admin) or there is none."""
    out = dict(choices)
    for change in changes:
        field_, op, value = change.get("field"), change.get("op"), change.get("value")
        if (field_, op) == ("pip_requirements", "add"):
            out["extra_pip_requirements"] = [*out.get("extra_pip_requirements", []), value]
        elif (field_, op) == ("env_vars", "set") and isinstance(value, dict):
            out["env_vars"] = {**out.get("env_vars", {}), **value}
        elif (field_, op) == ("method", "set"):
            out["method"] = value
        else:
            return None
    return out if changes else None


HOST_RE = re.compile(r"add_local_eai\(name='([A-Z0-9_]+)', hosts=\[([^\]]*)\]")
CLI_RE = re.compile(r"mljobs local-eais add ([A-Z0-9_]+)((?: --host [^ ,)]+)+)")


def add_local_eai_and_replan(client: Client, study: Path, p: Project, plan: dict[str, Any], state: Path,
                             cap_s: float, follow_diagnosis: bool = False) -> dict[str, Any]:
    """Follow the `network.uncovered` preflight fixes as given: add each local EAI they name (CLI, confirmed),
    plan again with all of them, run."""
    fixes = " ".join(str(x.get("fix")) for x in plan.get("preflight") or [] if x.get("code") == "network.uncovered")
    named = [(m.group(1), m.group(2).split(" --host ")[1:]) for m in CLI_RE.finditer(fixes)]
    if not named:
        return {"skipped": f"the preflight fix names no local EAI command: {fixes[:200]}"}
    env = {**os.environ, "MLJOBS_STATE_DIR": str(state / "state"), "SNOWFLAKE_HOME": str(state / "snowflake")}
    added = [_add_local_eai(client, p.name, env, name, [h.strip() for h in hosts]) for name, hosts in named]
    eais = (plan.get("settings") or {}).get("external_access_integrations") or []
    out: dict[str, Any] = {"added": added}
    again = Project(p.name + "_eai", p.kind, p.path, p.entrypoint,
                    {**p.choices, "eais": sorted(set(eais) | {name for name, _ in named})})
    out.update(run_project(client, study, again, cap_s, follow_diagnosis=follow_diagnosis))
    return out


def _add_local_eai(client: Client, project: str, env: dict[str, str], name: str, hosts: list[str]) -> dict[str, Any]:
    """The `add_local_eai` tool (preview, then the token), as SKILL.md says; the CLI where the server lacks it."""
    preview = client.call(project, "add_local_eai", name=name, hosts=hosts)
    token = (preview.get("confirmation") or {}).get("token")
    if token:
        done = client.call(project, "add_local_eai", name=name, hosts=hosts, confirmation_token=token)
        return {"eai": name, "hosts": hosts, "via": "mcp", "done": done.get("done"), "bytes": done["_bytes"]}
    cmd = [str(Path(sys.executable).parent / "mljobs"), "local-eais", "add", name, "--yes", "--json"]
    for h in hosts:
        cmd += ["--host", h]
    added = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    return {"eai": name, "hosts": hosts, "via": "cli", "done": added.returncode == 0, "bytes": len(added.stdout),
            "mcp_answer": str(preview)[:200]}


def _add_and_rerun(client: Client, study: Path, p: Project, state: Path, cap_s: float, name: str,
                   hosts: list[str], eais: list[str]) -> dict[str, Any]:
    env = {**os.environ, "MLJOBS_STATE_DIR": str(state / "state"), "SNOWFLAKE_HOME": str(state / "snowflake")}
    out: dict[str, Any] = {"added": [_add_local_eai(client, p.name, env, name, hosts)]}
    again = Project(p.name + "_eai", p.kind, p.path, p.entrypoint, {**p.choices, "eais": sorted(set(eais) | {name})})
    out.update(run_project(client, study, again, cap_s))
    return out


def local_eai_retry(client: Client, study: Path, row: dict[str, Any], p: Project, state: Path, cap_s: float) -> dict[str, Any]:
    """The one local-EAI round: add the EAI diagnose named (CLI, after the 'user's yes'), plan with it, resubmit."""
    step = str((row.get("diagnosis") or {}).get("next_step") or "")
    found = HOST_RE.search(step)
    if not found:
        return {"skipped": f"diagnose proposed no local EAI: {step[:200]}"}
    name, hosts = found.group(1), json.loads(f"[{found.group(2)}]")
    eais = (row.get("settings") or {}).get("external_access_integrations") or []
    return _add_and_rerun(client, study, p, state, cap_s, name, hosts, eais)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--study", default="/tmp/study")
    ap.add_argument("--out", default="/tmp/mljobs-study")
    ap.add_argument("--inspector", default=os.environ.get("MLJOBS_INSPECTOR", DEFAULT_INSPECTOR))
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--cap-minutes", type=float, default=8.0)
    ap.add_argument("--parallel", type=int, default=3)
    ap.add_argument("--retry-project", default="pytorch_mnist", help="the project whose failure gets a local EAI")
    ap.add_argument("--follow-diagnosis", action="store_true",
                    help="a failure whose diagnosis changes are plain plan choices is planned and run once more")
    ap.add_argument("--local-eais-for-all", action="store_true",
                    help="every plan refused only for uncovered hosts gets the local EAIs its preflight names")
    ns = ap.parse_args(argv)
    study, out = Path(ns.study), Path(ns.out)
    if not study.is_dir():
        print(f"skipped: no study folder at {study}")
        return 0
    if not Path(ns.inspector).is_file():
        print(f"skipped: no MCP Inspector at {ns.inspector} (npm install @modelcontextprotocol/inspector)")
        return 0
    projects = [p for p in PROJECTS if (ns.only is None or p.name in ns.only) and (study / p.path).exists()]
    out.mkdir(parents=True, exist_ok=True)
    server, url = start_server(out)
    client = Client(ns.inspector, url, out)
    cap_s = ns.cap_minutes * 60
    rows: dict[str, dict[str, Any]] = {}
    try:
        with ThreadPoolExecutor(max_workers=ns.parallel) as pool:
            futures = {p.name: pool.submit(run_project, client, study, p, cap_s,
                                           out if ns.local_eais_for_all or p.name == ns.retry_project else None,
                                           ns.follow_diagnosis) for p in projects}
            for name, fut in futures.items():
                try:
                    rows[name] = fut.result()
                except Exception as exc:  # a driver fault is recorded, the study goes on
                    rows[name] = {"project": name, "driver_error": repr(exc)}
                print(json.dumps({k: rows[name].get(k) for k in ("project", "ready", "status", "wall_s")}), flush=True)
        target = next((p for p in projects if p.name == ns.retry_project), None)
        if target and rows.get(target.name, {}).get("status") == "FAILED":
            rows[target.name]["local_eai_retry"] = local_eai_retry(client, study, rows[target.name], target, out, cap_s)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
    (out / "study.json").write_text(json.dumps(list(rows.values()), indent=1))
    print(f"wrote {out / 'study.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
