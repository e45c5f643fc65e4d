"""Diagnosis: every catalog entry matches a realistic log excerpt and proposes a concrete plan change."""

from __future__ import annotations

import textwrap

import pytest

from mljobs.analyzers.model import SubmitMethod
from mljobs.skill.diagnosis import diagnose, load_error_catalog, parse_catalog
from mljobs.skill.facts import AccountFacts, ComputePool, ExternalAccessIntegration, NetworkRuleInfo
from mljobs.skill.jobplan import JobPlan
from mljobs.skill.knowledge import KnowledgeError

PLAN = JobPlan(
    backend="snowflake", method=SubmitMethod.SUBMIT_FILE, source="/p/train.py", entrypoint="train.py",
    compute_pool="CPU_POOL", stage_name="@DB.SCH.PAYLOAD", name="TRAIN", database="DB", schema="SCH",
    instance_family="CPU_X64_S",
)
FACTS = AccountFacts(
    backend="snowflake", role="DATA_SCIENTIST",
    pools=(ComputePool("CPU_POOL", "ACTIVE", "CPU_X64_S"), ComputePool("BIG_MEM", "IDLE", "HIGHMEM_X64_S"),
           ComputePool("GPU_POOL", "IDLE", "GPU_NV_S")),
    eais=(
        ExternalAccessIntegration("PYPI_EAI", True, (NetworkRuleInfo("SNOWFLAKE.EXTERNAL_ACCESS.PYPI_RULE",
                                                                      ("pypi.org", "files.pythonhosted.org")),)),
        ExternalAccessIntegration("HF_EAI", True, (NetworkRuleInfo("DB.SCH.HF", ("huggingface.co", "*.huggingface.co")),)),
    ),
)

PIP_LOG = """\
Collecting catboost==1.2.5
  WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError('<pip._vendor.urllib3.connection.HTTPSConnection object at 0x7f>: Failed to establish a new connection: [Errno -3] Temporary failure in name resolution')': /simple/catboost/
ERROR: Could not find a version that satisfies the requirement catboost==1.2.5 (from versions: none)
ERROR: No matching distribution found for catboost==1.2.5
"""
MODULE_LOG = """\
--------------------------------
ML job started
--------------------------------
Traceback (most recent call last):
  File "/mnt/job_stage/app/train.py", line 4, in <module>
    import cv2
ModuleNotFoundError: No module named 'cv2'
"""
HF_LOG = """\
Traceback (most recent call last):
  File "/mnt/job_stage/app/train.py", line 12, in <module>
    tok = AutoTokenizer.from_pretrained("bert-base-uncased")
requests.exceptions.ConnectionError: (MaxRetryError("HTTPSConnectionPool(host='huggingface.co', port=443): Max retries exceeded with url: /bert-base-uncased/resolve/main/config.json (Caused by NameResolutionError(\\"<urllib3.connection.HTTPSConnection object>: Failed to resolve 'huggingface.co' ([Errno -3] Temporary failure in name resolution)\\"))"), '(Request ID: 1)')
"""
WANDB_LOG = "wandb: Network error (ConnectionError), entering retry loop.\nrequests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.wandb.ai', port=443): Max retries exceeded with url: /graphql\n"
OOM_LOG = "Epoch 3/10\nKilled\n"
GPU_OOM_LOG = "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 22.19 GiB\n"
CUDA_LOG = '  File "train.py", line 30, in <module>\n    model.cuda()\nAssertionError: Torch not compiled with CUDA enabled\n'
GRANT_LOG = "snowflake.snowpark.exceptions.SnowparkSQLException: (1304): 003001 (42501): SQL access control error: Insufficient privileges to operate on schema 'ML_DB.PUBLIC'\n"
FILE_LOG = "Traceback (most recent call last):\n  File \"/mnt/job_stage/app/train.py\", line 9\nFileNotFoundError: [Errno 2] No such file or directory: 'data/train.csv'\n"
VERSION_LOG = "snowflake.ml.jobs._interop.protocols.VersionMismatchError: Load failed due to incompatibility: cloudpickle version mismatch: payload=3.1.1, current=2.2.1; Python version mismatch: payload=3.10, current=3.11\n"
IMAGE_LOG = "Failed to retrieve image /snowflake/images/snowflake_images/st_plat/runtime/x86/runtime_image/snowbooks:1.8.0 from the image repository\n"
NODES_LOG = "ValueError: The requested min_instances (8) exceeds the max_nodes (4) of compute pool 'CPU_POOL'. Reduce min_instances or increase max_nodes.\n"
CONDA_LOG = "Custom conda environments not currently supported\n"
GUARD_LOG = "ConnectionRefusedError: [Errno 111] mljobs network guard: outbound connection to api.openai.com:443 blocked (job EAIs: PYPI_EAI); no local EAI allows it\n"


@pytest.mark.parametrize(
    ("logs", "entry", "field", "value"),
    [
        pytest.param(PIP_LOG, "pip_no_index_access", "external_access_integrations", "PYPI_EAI", id="pip_without_pypi__adds_pypi_eai"),
        pytest.param(MODULE_LOG, "module_not_found", "pip_requirements", "opencv-python", id="module_not_found__adds_distribution"),
        pytest.param(HF_LOG, "dns_failure", "external_access_integrations", "HF_EAI", id="huggingface_dns__adds_covering_eai"),
        pytest.param(WANDB_LOG, "connection_failure", "external_access_integrations", "API_WANDB_AI_EAI", id="wandb_uncovered__asks_admin"),
        pytest.param(OOM_LOG, "out_of_memory", "instance_family", "HIGHMEM_X64_S", id="oom_killed__highmem_family"),
        pytest.param(GPU_OOM_LOG, "gpu_out_of_memory", "instance_family", None, id="gpu_oom__larger_gpu"),
        pytest.param(CUDA_LOG, "cuda_unavailable", "compute_pool", "GPU_POOL", id="cuda_on_cpu_pool__gpu_pool"),
        pytest.param(FILE_LOG, "local_file_missing", "method", "submit_directory", id="local_file__submit_directory"),
        pytest.param(VERSION_LOG, "version_mismatch", "client_python", "3.11", id="pickle_mismatch__client_python"),
        pytest.param(NODES_LOG, "not_enough_nodes", "target_instances", 1, id="min_instances__fewer_nodes"),
        pytest.param(CONDA_LOG, "conda_environment", "payload", "environment.yml", id="conda__remove_environment_yml"),
        pytest.param(GUARD_LOG, "network_blocked_local", "external_access_integrations", "API_OPENAI_COM_EAI", id="local_guard__names_host"),
    ],
)
def test_diagnose__realistic_log__matches_entry_and_proposes_change(logs, entry, field, value) -> None:
    """Each failure kind is recognised from its real-world text and fixed by a plan change."""
    result = diagnose("FAILED", logs, plan=PLAN, facts=FACTS,
                      distribution_of=lambda m: {"cv2": "opencv-python"}.get(m.split(".")[0]))
    assert result.matched == entry, result
    fields = {c.field: c.value for c in result.changes}
    assert field in fields, result.changes
    if value is not None:
        assert fields[field] == value
    assert result.evidence and result.evidence[0].startswith("line ")


@pytest.mark.parametrize("module", ["TaxiFareModel.utils", "zz_unknown_lib"])
def test_diagnose__module_nobody_knows__never_proposes_installing_it(module: str, rules) -> None:
    """Issue 10: a missing local module (or any name no table knows) is not answered with `pip install <name>`."""
    from mljobs.analyzers.packages import distribution_of

    logs = f"Traceback (most recent call last):\nModuleNotFoundError: No module named '{module}'\n"
    result = diagnose("FAILED", logs, plan=PLAN, facts=FACTS,
                      distribution_of=lambda m: distribution_of(m, rules.packages))
    assert result.matched == "module_not_found"
    assert not [c for c in result.changes if c.field == "pip_requirements"]
    top = module.split(".")[0]
    assert f"add {top} to" not in result.fix and "confirm the real name" in result.fix


def test_diagnose__gpu_oom__picks_family_with_more_gpu_memory() -> None:
    """A GPU OOM on GPU_NV_S (24 GB) proposes a family with more GPU memory."""
    plan = JobPlan.from_dict({**PLAN.to_dict(), "instance_family": "GPU_NV_S"})
    result = diagnose("FAILED", GPU_OOM_LOG, plan=plan)
    family = next(c.value for c in result.changes if c.field == "instance_family")
    from mljobs.skill.families import lookup_family
    assert lookup_family(family).gpu_memory_gib > 24


def test_diagnose__privileges__gives_grant_sql_for_the_role() -> None:
    """A 3001 on a schema yields the GRANTs an admin must run, for the current role."""
    result = diagnose("FAILED", GRANT_LOG, plan=PLAN, facts=FACTS)
    assert result.matched == "insufficient_privileges"
    assert any("CREATE SERVICE" in s and "ML_DB.PUBLIC" in s and "DATA_SCIENTIST" in s for s in result.admin_sql)


def test_diagnose__image_repository__admin_setup_sql() -> None:
    """The legacy image-repository error suggests creating one."""
    result = diagnose("FAILED", IMAGE_LOG)
    assert result.matched == "image_repository_missing" and "CREATE IMAGE REPOSITORY" in result.admin_sql[0]


def test_diagnose__uncovered_host__admin_sql_quotes_only_the_host() -> None:
    """The proposed network rule holds exactly the host the job needed."""
    result = diagnose("FAILED", WANDB_LOG, facts=FACTS)
    assert "VALUE_LIST = ('api.wandb.ai')" in result.admin_sql[0]


def test_diagnose__pip_failure_with_pypi_already_granted__no_duplicate_change() -> None:
    """When the plan already has the PyPI EAI, diagnosis does not propose it again."""
    plan = JobPlan.from_dict({**PLAN.to_dict(), "external_access_integrations": ["PYPI_EAI"]})
    result = diagnose("FAILED", PIP_LOG, plan=plan, facts=FACTS)
    assert result.matched == "pip_no_index_access"
    assert not [c for c in result.changes if c.value == "PYPI_EAI"]


def test_diagnose__no_pypi_eai__offers_artifact_repository() -> None:
    """Without any PyPI EAI the shared artifact repository is the fix that needs no admin."""
    result = diagnose("FAILED", PIP_LOG, facts=AccountFacts(backend="snowflake"))
    assert result.changes[0].field == "artifact_repositories"


def test_diagnose__done__nothing_to_fix() -> None:
    """A successful job is not diagnosed."""
    assert diagnose("DONE", "").matched is None


def test_diagnose__unknown_failure__quotes_last_error_line() -> None:
    """Unmatched failures still point at the last error line."""
    result = diagnose("FAILED", "step 1\nValueError: learning rate must be positive\n")
    assert result.matched is None and "learning rate must be positive" in result.cause


def test_diagnose__secret_in_log__redacted_in_evidence() -> None:
    """A token printed by pip never reaches the diagnosis."""
    log = "Looking in indexes: https://bob:t0ps3cret@pkgs.example.com/simple\nERROR: No matching distribution found for mylib\n"
    result = diagnose("FAILED", log)
    assert "t0ps3cret" not in repr(result)


def test_diagnose__status_message__is_searched_too() -> None:
    """The backend's status message (e.g. OOMKilled) counts as evidence."""
    result = diagnose("FAILED", "", message="Container main terminated: OOMKilled (last_exit_code: 137)")
    assert result.matched == "out_of_memory"


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param({"entries": [{"id": "x", "patterns": ["("], "cause": "", "fix": "", "change": "resubmit"}]}, id="bad_regex"),
        pytest.param({"entries": [{"id": "x", "patterns": ["a"], "cause": "", "fix": "", "change": "explode"}]}, id="unknown_change"),
        pytest.param({"entries": [{"id": "x", "patterns": ["a"]}]}, id="missing_field"),
    ],
)
def test_catalog__malformed__rejected(bad) -> None:
    """A broken catalog entry is a KnowledgeError naming the entry, at load time."""
    with pytest.raises(KnowledgeError, match="'x'"):
        parse_catalog(bad)


def test_catalog__every_entry_is_exercised_by_a_test() -> None:
    """Guards against catalog entries that no realistic excerpt covers (here or in the diagnosis corpus)."""
    source = textwrap.dedent(open(__file__).read())
    from pathlib import Path

    import yaml

    corpus = Path(__file__).resolve().parent.parent / "diagnosis_corpus"
    accounts = yaml.safe_load((corpus / "labels.yaml").read_text(encoding="utf-8"))["accounts"]
    from test_diagnosis_corpus import (  # type: ignore[import-not-found]
        CASES,
        HOLDOUT_ACCOUNTS,
        HOLDOUT_CASES,
        run_case,
    )

    source += " ".join(f'"{run_case(case, accounts).matched}"' for case in CASES)
    source += " ".join(f'"{run_case(case, HOLDOUT_ACCOUNTS).matched}"' for case in HOLDOUT_CASES)
    for entry in load_error_catalog():
        if entry.id in {"insufficient_privileges", "image_repository_missing"}:
            continue
        if entry.id in {"object_missing", "capacity_error", "maintenance_cancel"}:
            continue  # covered in test_diagnose__more_entries below
        assert f'"{entry.id}"' in source, entry.id


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        pytest.param("002003 (02000): SQL compilation error: Compute pool 'GPU_POOLX' does not exist or not authorized.", "object_missing", id="missing_pool"),
        pytest.param("Compute pool is starting for the last 3 minutes. We have observed CAPACITY_ERROR.", "capacity_error", id="capacity"),
        pytest.param("Job was cancelled during a maintenance window; resubmit.", "maintenance_cancel", id="maintenance"),
        pytest.param("Timed out after 720s waiting for 4 instances, only 2 available", "not_enough_nodes", id="multi_node_timeout"),
    ],
)
def test_diagnose__more_entries(text: str, entry: str) -> None:
    """Status messages from the platform map to their entries."""
    assert diagnose("FAILED", text).matched == entry


def test_diagnose__missing_module_is_a_project_folder__ship_it_never_install(tmp_path) -> None:
    """`datasets` is a curated PyPI name, but here it is the project's own folder: ship the folder (issue 10)."""
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "__init__.py").write_text("")
    (tmp_path / "train.py").write_text("import datasets\n")
    plan = JobPlan.from_dict({**PLAN.to_dict(), "source": str(tmp_path / "train.py")})
    logs = "ModuleNotFoundError: No module named 'datasets'\n"
    result = diagnose("FAILED", logs, plan=plan, facts=FACTS, distribution_of=lambda m: "datasets")
    assert [(c.field, c.value) for c in result.changes] == [("method", "submit_directory")]


def test_diagnose__fix_phrased_for_each_caller__no_cli_command_through_mcp() -> None:
    """The same fix reads as a tool call for MCP and as a command for the CLI; each caller sees only its own."""
    result = diagnose("FAILED", HF_LOG, plan=PLAN, facts=FACTS, job_id="DB.SCH.TRAIN_1")
    mcp, cli = result.for_caller("mcp"), result.for_caller("cli")
    assert mcp.next_step.startswith("plan_job(") and 'choices={"eais": ["HF_EAI"]}' in mcp.next_step
    assert "mljobs" not in mcp.next_step and mcp.next_command == ""
    assert cli.next_step == "mljobs submit /p/train.py --eai HF_EAI" and cli.next_tool_call == ""
    unknown = diagnose("FAILED", "something odd happened", job_id="DB.SCH.TRAIN_1").for_caller("mcp")
    assert unknown.next_step == "job_logs(job_id='DB.SCH.TRAIN_1', verbose=True)"
    assert "mljobs" not in unknown.fix + unknown.cause


def test_diagnose__port_kept_in_admin_sql() -> None:
    """host:80 stays host:80 in the network rule, so the fix does not fail the same way on retry."""
    log = "urllib3.exceptions.MaxRetryError: HTTPConnectionPool(host='data.example.org', port=80): Max retries " \
          "exceeded with url: /x.csv (Caused by NameResolutionError(\"Failed to resolve 'data.example.org'\"))"
    result = diagnose("FAILED", log, plan=PLAN, facts=FACTS)
    assert "VALUE_LIST = ('data.example.org:80')" in result.admin_sql[0]
    assert result.admin_sql[0].startswith("CREATE NETWORK RULE DB.SCH.DATA_EXAMPLE_ORG_RULE")


def test_diagnose__unknown_failure__final_exception_and_user_frame() -> None:
    """No catalog entry: the last traceback names the exception and the user's frame, not a library's."""
    log = textwrap.dedent('''\
        Traceback (most recent call last):
          File "/mnt/job_stage/app/train.py", line 88, in <module>
            main()
          File "/mnt/job_stage/app/train.py", line 74, in main
            clf.fit(X, y)
          File "/opt/conda/lib/python3.10/site-packages/sklearn/base.py", line 1389, in wrapper
            return fit_method(estimator, *args, **kwargs)
        ValueError: Input X contains NaN.
        ''')
    result = diagnose("FAILED", log)
    assert result.matched == "code_error"
    assert "ValueError: Input X contains NaN." in result.cause and "train.py:74" in result.cause
    assert result.changes == () and result.admin_sql == ()


def test_diagnose__dns_on_host_the_job_already_allows__no_eai_proposed() -> None:
    plan = JobPlan.from_dict({**PLAN.to_dict(), "external_access_integrations": ["HF_EAI"]})
    result = diagnose("FAILED", HF_LOG, plan=plan, facts=FACTS)
    assert result.matched == "dns_failure" and result.changes == () and result.admin_sql == ()
    assert "already allows" in result.cause


def test_diagnose__anthropic_client__host_from_the_library() -> None:
    """An LLM client error names no host; the library's API host is meant (entry "anthropic_api_connection")."""
    log = "anthropic.APIConnectionError: Connection error.\n"
    result = diagnose("FAILED", log, plan=PLAN, facts=FACTS)
    assert result.matched == "anthropic_api_connection"
    assert any("VALUE_LIST = ('api.anthropic.com')" in sql for sql in result.admin_sql)


def test_diagnose__job_eais_unreadable__no_eai_proposed_sql_offered() -> None:
    """Without account facts the job's own EAI cannot be checked: say so, offer SQL, never add a new EAI blindly."""
    plan = JobPlan.from_dict({**PLAN.to_dict(), "external_access_integrations": ["HF_EAI"]})
    result = diagnose("FAILED", HF_LOG, plan=plan, facts=None)
    assert result.changes == ()
    assert "cannot be told" in result.cause and "HF_EAI" in result.fix
    assert "VALUE_LIST = ('huggingface.co')" in result.admin_sql[0]


# torchvision's MNIST download tries its mirrors in turn and reports each (torchvision/datasets/mnist.py,
# `download`); seen in the conversion study (bench/conversion_study) on the local pool with the S3 mirror allowed.
MIRRORS_LOG = """\
mljobs network guard: outbound connection to yann.lecun.com:80 blocked (job EAIs: OSSCI_EAI, PYPI_EAI); no local EAI allows it: add the host to an EAI in the local EAI config (see docs/local-pool.md) or create one in Snowflake
Traceback (most recent call last):
  File "/jobs/MAIN_3a3673fc/app/main.py", line 120, in main
    dataset1 = datasets.MNIST('../data', train=True, download=True,
  File "/envs/x/lib/python3.11/site-packages/torchvision/datasets/mnist.py", line 197, in download
    raise RuntimeError(s)
RuntimeError: Error downloading train-images-idx3-ubyte.gz:
Tried https://ossci-datasets.s3.amazonaws.com/mnist/, got:
<urlopen error [Errno -2] Name or service not known>
Tried http://yann.lecun.com/exdb/mnist/, got:
<urlopen error [Errno 111] mljobs network guard: outbound connection to yann.lecun.com:80 blocked (job EAIs: OSSCI_EAI, PYPI_EAI); no local EAI allows it: add the host to an EAI in the local EAI config (see docs/local-pool.md) or create one in Snowflake>
"""
LOCAL_PLAN = JobPlan(
    backend="local", method=SubmitMethod.SUBMIT_DIRECTORY, source="/p", entrypoint="main.py", compute_pool="LOCAL",
    stage_name="@LOCAL.JOBS.PAYLOAD", name="MAIN", external_access_integrations=("OSSCI_EAI", "PYPI_EAI"),
)
LOCAL_FACTS = AccountFacts(
    backend="local",
    eais=(
        ExternalAccessIntegration("PYPI_EAI", True, (NetworkRuleInfo("LOCAL.JOBS.PYPI", ("pypi.org", "files.pythonhosted.org")),)),
        ExternalAccessIntegration("OSSCI_EAI", True, (NetworkRuleInfo("LOCAL.JOBS.OSSCI",
                                                                       ("ossci-datasets.s3.amazonaws.com",)),)),
    ),
)


def test_diagnose__fallback_blocked_after_allowed_mirror_did_not_resolve__the_first_failure_is_fixed() -> None:
    result = diagnose("FAILED", MIRRORS_LOG, plan=LOCAL_PLAN, facts=LOCAL_FACTS)
    assert result.matched == "network_blocked_local"
    assert result.changes == () and result.admin_sql == ()  # no EAI for the dead fallback
    assert "ossci-datasets.s3.amazonaws.com did not resolve" in result.cause and "OSSCI_EAI" in result.cause
    assert "yann.lecun.com:80" in result.cause and "ossci-datasets.s3.amazonaws.com" in result.fix


def test_diagnose__fallback_blocked_and_first_mirror_not_allowed__the_blocked_host_gets_its_eai() -> None:
    """Without an EAI for the first mirror, nothing was allowed-but-unresolved: the blocked host is the fix."""
    plan = JobPlan.from_dict({**LOCAL_PLAN.to_dict(), "external_access_integrations": ["PYPI_EAI"]})
    result = diagnose("FAILED", MIRRORS_LOG.replace("OSSCI_EAI, ", ""), plan=plan, facts=LOCAL_FACTS)
    assert result.changes[0].field == "local_eais"
    assert result.changes[0].value == {"name": "YANN_LECUN_COM_EAI", "hosts": ["yann.lecun.com:80"]}


# uv's resolver output, as the local pool's installer prints it (seen in the conversion study: taxifare's pins).
UV_NO_VERSION_LOG = """\
mljobs: uv pip install --python /envs/f61b/bin/python -r /envs/f61b/mljobs-requirements.txt
Using Python 3.11.7 environment at: /envs/f61b
error: No solution found when resolving dependencies
  cause: Because there is no version of numpy==1.18.5 and you require numpy==1.18.5, we can conclude that your requirements are unsatisfiable.
"""
UV_CONFLICT_LOG = """\
error: No solution found when resolving dependencies
  cause: Because pandas==1.2.0 depends on numpy>=1.16.5,<1.20 and you require numpy==2.1.0, we can conclude that your requirements are unsatisfiable.
"""


def test_diagnose__uv_has_no_such_version__names_the_requirement() -> None:
    plan = JobPlan.from_dict({**LOCAL_PLAN.to_dict(), "external_access_integrations": ["PYPI_EAI"]})
    result = diagnose("FAILED", UV_NO_VERSION_LOG, plan=plan, facts=LOCAL_FACTS)
    assert result.matched == "pip_no_such_distribution" and "numpy==1.18.5" in result.cause
    assert result.changes == ()  # never guess another package


def test_diagnose__uv_conflict__is_a_conflict_not_an_unknown_failure() -> None:
    plan = JobPlan.from_dict({**LOCAL_PLAN.to_dict(), "external_access_integrations": ["PYPI_EAI"]})
    result = diagnose("FAILED", UV_CONFLICT_LOG, plan=plan, facts=LOCAL_FACTS)
    assert result.matched == "pip_conflict"


# wandb's own error when `wandb.init()` runs with no login and no WANDB_API_KEY (wandb/sdk/lib/wbauth/authenticate.py).
WANDB_NO_KEY_LOG = """\
Traceback (most recent call last):
  File "/jobs/TRAIN_0959b2c2/app/train.py", line 7, in <module>
    wandb.init()
  File "/envs/x/lib/python3.11/site-packages/wandb/sdk/lib/wbauth/authenticate.py", line 135, in authenticate_session
    raise UsageError(
wandb.errors.errors.UsageError: No API key configured. Use `wandb login` to log in.
"""


def test_diagnose__wandb_without_a_key__setup_not_code__offline_for_a_dry_run() -> None:
    plan = JobPlan.from_dict({**LOCAL_PLAN.to_dict(), "env_vars": {"SEED": "1"}})
    result = diagnose("FAILED", WANDB_NO_KEY_LOG, plan=plan, facts=LOCAL_FACTS).for_caller("mcp")
    assert result.matched == "wandb_no_api_key" and "not an error in your code" in result.cause
    assert result.changes[0].field == "env_vars"
    assert result.changes[0].value == {"SEED": "1", "WANDB_MODE": "offline"}
    assert '"env_vars": {"SEED": "1", "WANDB_MODE": "offline"}' in result.next_step


def test_diagnose__wandb_without_a_key_on_an_account__a_secret_never_a_plan_value() -> None:
    result = diagnose("FAILED", WANDB_NO_KEY_LOG, plan=PLAN, facts=FACTS)
    assert result.matched == "wandb_no_api_key" and result.changes == ()
    assert "Snowflake secret" in result.fix


# LightGBM's simple_example.py reads Path(__file__).absolute().parents[1] / "regression": above the code folder.
ESCAPING_FILE_LOG = """\
Traceback (most recent call last):
  File "/mnt/job_stage/app/simple_example.py", line 12, in <module>
    df_train = pd.read_csv(str(regression_example_dir / "regression.train"), header=None, sep="\\t")
FileNotFoundError: [Errno 2] No such file or directory: '/mnt/job_stage/regression/regression.train'
"""


def test_diagnose__file_path_leaves_the_code_folder__shipping_the_folder_is_not_proposed() -> None:
    result = diagnose("FAILED", ESCAPING_FILE_LOG, plan=PLAN, facts=FACTS)
    assert result.matched == "local_file_missing" and result.changes == ()
    assert "outside the folder the job's code runs from" in result.cause and "Path(__file__).parent" in result.fix


def test_diagnose__file_missing_after_the_folder_was_shipped__no_same_method_again() -> None:
    plan = JobPlan.from_dict({**PLAN.to_dict(), "method": "submit_directory", "source": "/p"})
    result = diagnose("FAILED", FILE_LOG, plan=plan, facts=FACTS)
    assert result.matched == "local_file_missing" and result.changes == ()
    assert "already shipped" in result.cause
