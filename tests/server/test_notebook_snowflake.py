"""A notebook plan submitted to Snowflake through the real snowflake-ml-python (fake session): the payload's
entrypoint is the converted script, and the user's folder is untouched."""

from __future__ import annotations

import shutil
from pathlib import Path

from mljobs.analyzers import analyze
from mljobs.server.backends.snowflake import SnowflakeBackend
from mljobs.server.notebook_payload import annotate_logs, keep_notebook_script
from mljobs.skill.facts import AccountFacts, ComputePool, Grants
from mljobs.skill.plan import plan_job
from tests.fakes import FakeSession

ROOT = Path(__file__).resolve().parents[2]


def test_notebook_plan__snowflake_submit_file__uploads_converted_script(tmp_path: Path, rules) -> None:
    notebook = tmp_path / "nb" / "iris_quickstart.ipynb"
    notebook.parent.mkdir()
    shutil.copy(ROOT / "examples" / "iris_quickstart.ipynb", notebook)
    facts = AccountFacts(backend="snowflake", pools=(ComputePool("CPU_POOL", "IDLE", "CPU_X64_S", idle_nodes=1),),
                         grants=Grants(), database="ML_DB", schema="PUBLIC", role="DS")
    result = plan_job(analyze(notebook, rules=rules), facts)
    plan = result.plan
    assert plan is not None and plan.notebook == "iris_quickstart.ipynb" and plan.entrypoint == "iris_quickstart.py"
    assert result.notebook_script is not None

    session = FakeSession()
    session.add_pool("CPU_POOL", max_nodes=2)
    backend = SnowflakeBackend(lambda: session, sleep=lambda _: None, token=lambda: "ab12cd34")
    keep_notebook_script(plan, tmp_path / "state")  # what the service does before backend.submit
    job_id = backend.submit(plan)

    sub = session.submissions[-1]
    assert job_id == sub["job_id"]
    assert sub["spec_options"]["ARGS"][-1] == "/mnt/job_stage/app/iris_quickstart.py"
    uploaded = next(v for k, v in session.stage_files.items() if k.endswith("/app/iris_quickstart.py"))
    assert uploaded.decode() == result.notebook_script.script
    assert not any(k.endswith(".ipynb") for k in session.stage_files)
    assert sorted(p.name for p in notebook.parent.iterdir()) == ["iris_quickstart.ipynb"]

    # logs of that job map a traceback frame of the converted script back to the notebook cell
    failing = 'Traceback (most recent call last):\n  File "/mnt/job_stage/app/iris_quickstart.py", line 40, in <module>\n'
    mapped = annotate_logs(failing, plan.to_dict(), plan.plan_hash(), tmp_path / "state")
    assert "[notebook cell" in mapped
