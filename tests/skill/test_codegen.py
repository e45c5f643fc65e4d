"""Code generation: parses, passes every plan field, keeps credentials out, refuses unsafe input."""

from __future__ import annotations

import ast
import dataclasses

import pytest

from mljobs.analyzers.model import SubmitMethod
from mljobs.skill.codegen import Generated, NotGenerated, generate_code
from mljobs.skill.jobplan import JobPlan

BASE = JobPlan(
    backend="snowflake",
    method=SubmitMethod.SUBMIT_FILE,
    source="/home/me/proj/01-train model.py",
    entrypoint="01-train model.py",
    compute_pool="GPU_POOL",
    stage_name="@ML.PUBLIC.MLJOBS_PAYLOAD",
    name="JOB_01_TRAIN_MODEL",
    database="ML",
    schema="PUBLIC",
    args=("--output-dir", "$MLRS_STAGE_RESULT_PATH"),
    pip_requirements=("xgboost==2.0.3",),
    external_access_integrations=("PYPI_EAI",),
    env_vars=(("EPOCHS", "3"),),
    target_instances=2,
    min_instances=1,
    runtime_environment="2.10",
    query_warehouse="ML_WH",
)


def gen(plan: JobPlan = BASE, **kw) -> Generated:
    out = generate_code(plan, **kw)
    assert isinstance(out, Generated), out
    ast.parse(out.code)
    return out


def call_kwargs(code: str) -> tuple[list, dict]:
    """Positional and keyword arguments (as Python values where literal) of the submit call in the code."""
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in {
                "submit_file", "submit_directory", "submit_from_stage", "remote"}:
            pos = [ast.literal_eval(a) for a in node.args]
            kw = {}
            for k in node.keywords:
                try:
                    kw[k.arg] = ast.literal_eval(k.value)
                except ValueError:
                    kw[k.arg] = ast.unparse(k.value)
            return pos, kw
    raise AssertionError("no submit call in:\n" + code)


@pytest.mark.parametrize("method", [SubmitMethod.SUBMIT_FILE, SubmitMethod.SUBMIT_DIRECTORY,
                                    SubmitMethod.SUBMIT_FROM_STAGE, SubmitMethod.REMOTE])
def test_generate__each_method__every_plan_field_passed(method: SubmitMethod) -> None:
    """The call carries every plan field, with a unique name per run (like the backend), never a fixed name
    with overwrite=True."""
    plan = dataclasses.replace(BASE, method=method, function_name="train" if method is SubmitMethod.REMOTE else None,
                               source="@ML.PUBLIC.SRC/proj" if method is SubmitMethod.SUBMIT_FROM_STAGE else BASE.source)
    out = gen(plan, connection_name="dev")
    pos, kw = call_kwargs(out.code)
    expected = {
        "stage_name": "@ML.PUBLIC.MLJOBS_PAYLOAD", "target_instances": 2, "min_instances": 1,
        "pip_requirements": ["xgboost==2.0.3"], "external_access_integrations": ["PYPI_EAI"],
        "env_vars": {"EPOCHS": "3"}, "spec_overrides": None, "runtime_environment": "2.10",
        "query_warehouse": "ML_WH", "name": "'JOB_01_TRAIN_MODEL_' + uuid.uuid4().hex[:8]", "database": "ML",
        "schema": "PUBLIC", "artifact_repositories": None, "comment": None, "session": "session",
    }
    for key, value in expected.items():
        assert kw[key] == value, key
    assert "overwrite" not in kw
    assert pos[0] == "GPU_POOL" if method is SubmitMethod.REMOTE else pos == [plan.source, "GPU_POOL"]
    if method is SubmitMethod.REMOTE:
        assert "args" not in kw and "train_job('--output-dir', '$MLRS_STAGE_RESULT_PATH')" in out.code
        assert "runpy.run_path('/home/me/proj/01-train model.py'" in out.code
    else:
        assert kw["args"] == ["--output-dir", "$MLRS_STAGE_RESULT_PATH"]
    assert ("entrypoint" in kw) == (method in {SubmitMethod.SUBMIT_DIRECTORY, SubmitMethod.SUBMIT_FROM_STAGE})
    assert "Session.builder.config('connection_name', 'dev').create()" in out.code
    assert "session.use_database('ML')" in out.code and "session.use_schema('PUBLIC')" in out.code
    assert 'print("Job ID:", job.id)' in out.code


def test_generate__no_connection__default_builder() -> None:
    """Without a connection name the default connection is used."""
    assert "Session.builder.create()" in gen().code


def test_generate__credentials__read_from_env_not_embedded() -> None:
    """Credentials in pip requirements, args and env vars never reach the code; warnings say where they went."""
    plan = dataclasses.replace(
        BASE,
        pip_requirements=("--index-url=https://user:S3CRET@pkgs.example.com/simple", "mypkg==1.0"),
        args=("--db", "postgres://u:PW123@db.example.com/x"),
        env_vars=(("HF_TOKEN", "hf_abcdef"), ("PLAIN", "ok")),
    )
    out = gen(plan)
    for secret in ("S3CRET", "PW123", "hf_abcdef"):
        assert secret not in out.code
    assert "'--index-url=' + _secret('MLJOBS_PIP_INDEX_URL')" in out.code
    assert "_secret('MLJOBS_ARG_1')" in out.code and "'HF_TOKEN': _secret('HF_TOKEN')" in out.code
    assert "'PLAIN': 'ok'" in out.code
    text = " ".join(out.warnings)
    assert "MLJOBS_PIP_INDEX_URL" in text and "***" in text and "S3CRET" not in text and "hf_abcdef" not in text


def test_generate__hostile_strings__escaped_by_repr() -> None:
    """Quotes and newlines in paths and args are literals, not code."""
    plan = dataclasses.replace(BASE, source="/tmp/x'); import os; os.system('rm -rf /')#.py",
                               args=('"""', "\n__import__('os')"))
    out = gen(plan)
    pos, kw = call_kwargs(out.code)
    assert pos[0] == plan.source and kw["args"] == list(plan.args)
    imported = {a.name for n in ast.walk(ast.parse(out.code)) if isinstance(n, ast.Import) for a in n.names}
    assert imported == {"uuid"}  # nothing from the hostile strings became an import


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        pytest.param({"compute_pool": "pool; drop"}, "compute pool", id="pool"),
        pytest.param({"stage_name": "@st'age"}, "stage", id="stage"),
        pytest.param({"external_access_integrations": ("E-1",)}, "external access integration", id="eai"),
        pytest.param({"env_vars": (("BAD NAME", "x"),)}, "environment variable", id="env_name"),
        pytest.param({"runtime_environment": "1.0', 'x"}, "runtime_environment", id="runtime_injection"),
        pytest.param({"database": "ML", "schema": None}, "schema", id="db_without_schema"),
        pytest.param({"min_instances": 3}, "min_instances", id="min_gt_target"),
        pytest.param({"spec_overrides": {"spec": {"containers": [{"name": "main", "env": {
            "URL": "https://u:tok@h/simple"}}]}}}, "credential", id="secret_in_spec"),
        pytest.param({"spec_overrides": {"spec": object()}}, "literals", id="non_literal_spec"),
        pytest.param({"method": SubmitMethod.REMOTE, "function_name": None}, "function_name", id="remote_no_func"),
        pytest.param({"backend": "local"}, "local", id="local_backend"),
    ],
)
def test_generate__unsafe_plan__not_generated(change: dict, needle: str) -> None:
    """Inputs that cannot be written safely give NotGenerated with a reason."""
    out = generate_code(dataclasses.replace(BASE, **change))
    assert isinstance(out, NotGenerated) and needle in out.reason


def test_generate__hostile_connection_name__not_generated() -> None:
    """The connection name is validated too."""
    assert isinstance(generate_code(BASE, connection_name="dev')\nimport os#"), NotGenerated)


def test_generate__spec_overrides__literal_dict() -> None:
    """spec_overrides is written as a literal dict equal to the plan's."""
    so = {"spec": {"containers": [{"name": "main", "secrets": [
        {"snowflakeSecret": "ML.PUBLIC.FEED", "secretKeyRef": "secret_string", "envVarName": "PIP_INDEX_URL"}]}]}}
    _, kw = call_kwargs(gen(dataclasses.replace(BASE, spec_overrides=so)).code)
    assert kw["spec_overrides"] == so


def test_generate__unqualified_stage__warns() -> None:
    """A stage without database and schema works but is flagged."""
    out = gen(dataclasses.replace(BASE, stage_name="@PAYLOAD"))
    assert any("not fully qualified" in w for w in out.warnings)
