"""Reproductions 3, 4 and 6 (answers): what changes execution is refused or shown; secrets never shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mljobs.server.service import Service
from mljobs.server.settings import Settings
from mljobs.skill.jobplan import summary_lines
from mljobs.skill.plan import PlanChoices
from mljobs.skill.runner_inputs import requirement_problem, runner_env_reason

HF = "hf_SuperSecretValue123"


@pytest.fixture
def service(tmp_path: Path) -> Service:
    return Service(Settings(state_dir=tmp_path / "state", backend="local"))


@pytest.fixture
def script(write_tree) -> Path:
    return write_tree({"proj/train.py": "import json\nprint('ok')\n"}) / "proj" / "train.py"


@pytest.mark.parametrize("name", ["PIP_INDEX_URL", "PIP_TRUSTED_HOST", "PYTHONPATH", "PYTHONSTARTUP", "LD_PRELOAD",
                                  "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "MLJOBS_NETGUARD", "PIP_CONFIG_FILE"])
def test_runner_env_names__refused_value_not_echoed(service: Service, script: Path, name: str) -> None:
    value = "http://10.99.99.1:8080/simple/"
    result = service.plan(script, choices=PlanChoices(env_vars={name: value}, eais=("PYPI_EAI",)))
    assert result.plan is None and any(name in e for e in result.errors)
    assert value not in json.dumps([result.reason, *result.errors, *result.explanations])


def test_harmless_env__allowed_and_shown_masked(service: Service, script: Path) -> None:
    result = service.plan(script, choices=PlanChoices(env_vars={"HF_TOKEN": HF, "PYTHONHASHSEED": "0"}))
    assert result.plan is not None
    lines = "\n".join(summary_lines(result.plan))
    assert "Environment: HF_TOKEN=***, PYTHONHASHSEED=***" in lines and HF not in lines
    shown = result.plan.to_dict(redacted=True)
    assert shown["env_vars"] == {"HF_TOKEN": "***", "PYTHONHASHSEED": "***"}
    assert result.plan.to_dict()["env_vars"]["HF_TOKEN"] == HF  # the job still gets the value


@pytest.mark.parametrize("req", [
    "tinypkg\x1c-r/outside/.env", "tinypkg\u2028-r x", "tinypkg\r\n-r x", "-r /outside/.env", "--index-url=http://x/",
    "git+http://127.0.0.1:9/repo.git", "https://127.0.0.1/pkg.whl", "file:///etc/passwd", "pkg @ file:///tmp/x",
    "pkg @ git+https://github.com/a/b", "../outside", "not a requirement!!",
])
def test_requirements__only_plain_specs(service: Service, script: Path, req: str) -> None:
    result = service.plan(script, choices=PlanChoices(extra_pip_requirements=(req,), eais=("PYPI_EAI",)))
    assert result.plan is None, req
    assert "pip requirement #1" in " ".join(result.errors)
    assert req not in json.dumps([result.reason, *result.errors])


@pytest.mark.parametrize("req", ["requests", "numpy>=1.26,<3", "torch[cuda]==2.3.0; python_version>='3.9'"])
def test_requirements__plain_specs_pass(req: str) -> None:
    assert requirement_problem(req) is None


def test_direct_requirements__only_when_allowed_never_control_chars() -> None:
    assert requirement_problem("pkg @ git+https://github.com/a/b") is not None
    assert requirement_problem("pkg @ git+https://github.com/a/b", allow_direct=True) is None
    assert requirement_problem("git+https://github.com/a/b#egg=b", allow_direct=True) is None
    assert requirement_problem("pkg\x1c-r /x", allow_direct=True) is not None
    assert requirement_problem("-r /x", allow_direct=True) is not None


def test_travelling_requirements_file_with_vcs__refused(service: Service, write_tree) -> None:
    root = write_tree({"vcs/main.py": "import json\n", "vcs/requirements.txt": "git+http://127.0.0.1:9/x.git#egg=x\n"})
    result = service.plan(root / "vcs", "main.py", choices=PlanChoices(eais=("PYPI_EAI",)))
    assert result.plan is None and any("requirements.txt:1" in e for e in result.errors)


def test_pip_url_credential__not_in_explanations(service: Service, script: Path) -> None:
    req = "pkg @ https://user:TOPSECRET@pkgs.example.com/pkg-1.0-py3-none-any.whl"
    result = service.plan(script, choices=PlanChoices(extra_pip_requirements=(req,), allow_direct_requirements=True,
                                                      eais=("PYPI_EAI",)))
    text = json.dumps([result.reason, *result.errors, *result.explanations])
    assert "TOPSECRET" not in text
    if result.plan is not None:
        assert "TOPSECRET" not in "\n".join(summary_lines(result.plan))
        assert "TOPSECRET" not in json.dumps(result.plan.to_dict(redacted=True))


def test_runner_env_reason__table() -> None:
    assert runner_env_reason("HF_TOKEN") is None and runner_env_reason("WANDB_API_KEY") is None
    assert runner_env_reason("PYTHONHASHSEED") is None
    assert runner_env_reason("no_proxy") and runner_env_reason("DYLD_INSERT_LIBRARIES")
