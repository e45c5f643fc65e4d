"""The `mljobs` job verbs end to end on the local pool, in-process, with real job processes."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from mljobs.server.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = str(ROOT / "examples" / "train_classifier.py")
pytestmark = pytest.mark.slow


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write_script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / "proj" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(textwrap.dedent(body).lstrip(), encoding="utf-8")
    return str(path)


def test_cli__submit_wait_status_result_logs_delete__round_trip(capsys) -> None:
    """The example trains on the local pool; every follow-up verb sees the same job."""
    code, out, _ = run(capsys, "submit", EXAMPLE, "--backend", "local", "--yes", "--json")
    assert code == 0
    submitted = json.loads(out)
    job = submitted["job_id"]
    assert submitted["status"] in {"PENDING", "RUNNING"} and len(submitted["plan_hash"]) == 64

    code, out, err = run(capsys, "wait", job, "--timeout", "120")
    assert (code, out.strip()) == (0, "DONE"), err
    assert "RUNNING" in err or "DONE" in err  # progress on stderr

    code, out, _ = run(capsys, "status", job, "--json")
    view = json.loads(out)
    assert view["status"] == "DONE" and view["result"]["value"]["accuracy"] > 0.8

    code, out, _ = run(capsys, "result", job, "--json")
    result = json.loads(out)
    assert result["success"] and any(a.endswith("model.pkl") for a in result["artifacts"])

    code, out, _ = run(capsys, "logs", job)
    assert code == 0 and "accuracy" in out

    code, out, _ = run(capsys, "jobs", "--json")
    assert [j["job_id"] for j in json.loads(out)] == [job]

    code, out, _ = run(capsys, "delete", job, "--yes")
    assert code == 0
    code, out, _ = run(capsys, "jobs", "--json")
    assert json.loads(out) == []


def test_cli__submit_without_confirmation__exits_4_and_submits_nothing(capsys, monkeypatch) -> None:
    """No --yes and no terminal: the side effect does not happen."""
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    code, _, err = run(capsys, "submit", EXAMPLE, "--backend", "local")
    assert code == 4 and "--yes" in err
    code, out, _ = run(capsys, "jobs", "--json")
    assert json.loads(out) == []


def test_cli__interactive_no__declines(capsys, monkeypatch) -> None:
    """Answering anything but yes at the prompt cancels the submission."""
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    code, _, err = run(capsys, "submit", EXAMPLE, "--backend", "local")
    assert code == 4 and "nothing was done" in err


def test_cli__cancel_sleeping_job__cancelled_and_wait_exits_1(capsys, tmp_path) -> None:
    """Cancel stops the whole job; wait's exit code reflects the CANCELLED outcome."""
    script = write_script(tmp_path, "sleeper.py", """
        import time
        time.sleep(120)
    """)
    code, out, _ = run(capsys, "submit", script, "--backend", "local", "--yes")
    job = out.strip()
    code, out, _ = run(capsys, "cancel", job, "--yes")
    assert code == 0 and out.strip() in {"CANCELLING", "CANCELLED"}
    code, out, _ = run(capsys, "wait", job, "--timeout", "30")
    assert (code, out.strip()) == (1, "CANCELLED")


def test_cli__failed_job__diagnose_names_the_missing_file(capsys, tmp_path) -> None:
    """A job that reads a file that was not shipped fails, and diagnose says to ship it."""
    script = write_script(tmp_path, "reader.py", """
        import json
        with open("data/features.json") as fh:
            print(json.load(fh))
    """)
    code, out, _ = run(capsys, "submit", script, "--backend", "local", "--yes")
    job = out.strip()
    code, out, _ = run(capsys, "wait", job, "--timeout", "60")
    assert (code, out.strip()) == (1, "FAILED")
    code, out, _ = run(capsys, "diagnose", job, "--json")
    diagnosis = json.loads(out)
    assert diagnosis["matched"] == "local_file_missing"
    assert {"field": "method", "op": "set", "value": "submit_directory"}.items() <= diagnosis["changes"][0].items()


def test_cli__script_args_after_double_dash__reach_the_script(capsys, tmp_path) -> None:
    """Arguments after `--` are passed to the job untouched."""
    script = write_script(tmp_path, "echo_args.py", """
        import sys
        __return__ = sys.argv[1:]
    """)
    code, out, _ = run(capsys, "submit", script, "--backend", "local", "--yes", "--", "--epochs", "3")
    job = out.strip()
    assert run(capsys, "wait", job, "--timeout", "60")[0] == 0
    code, out, _ = run(capsys, "result", job, "--json")
    assert json.loads(out)["value"] == ["--epochs", "3"]


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["status", "LOCAL.JOBS.NOPE_1"], id="status_unknown_job"),
        pytest.param(["submit", "/nonexistent/train.py", "--yes"], id="submit_missing_path"),
        pytest.param(["submit", EXAMPLE, "--yes", "--pool", 'X"; DROP TABLE T; --'], id="hostile_pool"),
        pytest.param(["plan", EXAMPLE, "--env", "NOVALUE"], id="bad_env"),
    ],
)
def test_cli__bad_input__clear_error_exit_2(capsys, argv) -> None:
    """Bad input is a one-line error and exit 2, never a traceback."""
    code, _, err = run(capsys, *argv, "--backend", "local")
    assert code == 2, err
    assert err.startswith("mljobs: error:") and "Traceback" not in err


def test_cli__plan_json__ready_with_hash_and_code(capsys, tmp_path) -> None:
    """`plan --json` is the stable form: plan, hash, ranking, coverage, code; --out writes it too."""
    out_file = tmp_path / "plan.json"
    code, out, _ = run(capsys, "plan", EXAMPLE, "--backend", "local", "--json", "--out", str(out_file))
    payload = json.loads(out)
    assert code == 0 and payload["ready"] is True
    assert payload["plan"]["compute_pool"] == "LOCAL"
    assert payload["plan"]["args"] == ["--output-dir", "$MLRS_STAGE_RESULT_PATH"]
    # The derived $MLRS_STAGE_RESULT_PATH arg runs through the payload's entry wrapper (Snowflake passes args
    # verbatim), so the code uploads the payload folder with the wrapper as the launcher's script.
    assert payload["plan"]["entry_wrapper"] is True
    assert "submit_directory(" in payload["code"] and "mljobs_entry.py" in payload["code"]
    assert payload["payload"]["entrypoint"] == "/mnt/job_stage/app/mljobs_entry.py"
    assert payload["payload"]["args"] == [
        "/mnt/job_stage/app/train_classifier.py", "--output-dir", "$MLRS_STAGE_RESULT_PATH"]
    assert json.loads(out_file.read_text())["plan_hash"] == payload["plan_hash"]


def test_cli__pools_and_eais__for_a_huggingface_script(capsys, tmp_path) -> None:
    """The local pool ranks itself; Hugging Face hosts are covered by the default local EAI."""
    script = write_script(tmp_path, "hf.py", """
        from transformers import AutoTokenizer
        tok = AutoTokenizer.from_pretrained("bert-base-uncased")
    """)
    code, out, _ = run(capsys, "pools", script, "--backend", "local", "--json")
    assert json.loads(out)["ranking"]["chosen"]["name"] == "LOCAL"
    code, out, _ = run(capsys, "eais", script, "--backend", "local", "--json")
    coverage = json.loads(out)["coverage"]
    assert code == 0 and "HUGGINGFACE_EAI" in coverage["suggested_eais"]
    assert any(h["host"] == "huggingface.co" and h["status"] == "covered" for h in coverage["hosts"])
