"""The diagnosis corpus: 49 realistic failure logs, each labelled with the right top fix (tests/diagnosis_corpus).

Every case must get the labelled fix; `bench/diagnosis_accuracy.py` loads the helpers here (``load_cases``,
``run_case``, ``score``) to print the accuracy, also against an older mljobs checkout.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from mljobs.analyzers.model import SubmitMethod
from mljobs.skill.diagnosis import diagnose
from mljobs.skill.facts import AccountFacts, ComputePool, ExternalAccessIntegration, NetworkRuleInfo
from mljobs.skill.jobplan import JobPlan

CORPUS = Path(__file__).resolve().parent.parent / "diagnosis_corpus"


@dataclass(frozen=True)
class Case:
    name: str
    log: str
    context: dict[str, Any]
    expect: dict[str, Any]


def load_cases(corpus: Path = CORPUS) -> tuple[list[Case], dict[str, Any]]:
    labels = yaml.safe_load((corpus / "labels.yaml").read_text(encoding="utf-8"))
    cases = [
        Case(name, (corpus / name).read_text(encoding="utf-8"), body, body["expect"])
        for name, body in labels["cases"].items()
    ]
    return cases, labels["accounts"]


def _facts(account: str, accounts: dict[str, Any]) -> AccountFacts:
    if account == "local":
        from mljobs.server.local_eais import default_config

        return AccountFacts(backend="local", database="LOCAL", schema="JOBS", role="LOCAL_USER",
                            pools=(ComputePool("LOCAL", "IDLE", "LOCAL_2CPU_8GIB"),),
                            eais=default_config().to_facts())
    spec = accounts[account]
    eais = tuple(
        ExternalAccessIntegration(name, True, (NetworkRuleInfo(f"DB.SCH.{name}_RULE", tuple(hosts)),))
        for name, hosts in spec["eais"].items()
    )
    pools = tuple(ComputePool(name, "IDLE", family) for name, family in spec["pools"].items())
    return AccountFacts(backend="snowflake", database="DB", schema="SCH", role="DATA_SCIENTIST", pools=pools,
                        eais=eais)


def _plan(case: Case) -> JobPlan:
    local = case.context["account"] == "local"
    entry = "train.py"
    return JobPlan(
        backend="local" if local else "snowflake", method=SubmitMethod.SUBMIT_FILE, source=f"/work/proj/{entry}",
        entrypoint=entry, compute_pool="LOCAL" if local else "CPU_POOL",
        stage_name="@LOCAL.JOBS.PAYLOAD" if local else "@DB.SCH.PAYLOAD", name="TRAIN",
        database="LOCAL" if local else "DB", schema="JOBS" if local else "SCH",
        instance_family=case.context.get("family", "LOCAL_2CPU_8GIB" if local else "CPU_X64_S"),
        args=tuple(case.context.get("args", ())),
        external_access_integrations=tuple(case.context.get("plan_eais", ())),
    )


def run_case(case: Case, accounts: dict[str, Any]) -> Any:
    """Diagnose the case the way the service does (with the analyzer's import -> distribution resolver)."""
    from mljobs.analyzers.packages import distribution_of
    from mljobs.skill.knowledge import load_rules

    rules = load_rules().packages
    return diagnose("FAILED", case.log, plan=_plan(case), facts=_facts(case.context["account"], accounts),
                    distribution_of=lambda module: distribution_of(module, rules))


def score(case: Case, diagnosis: Any) -> list[str]:
    """What is wrong with the diagnosis against the case's label; empty = the top fix is right."""
    wrong: list[str] = []
    exp = case.expect
    changes = list(diagnosis.changes)
    sql = list(diagnosis.admin_sql)
    cause = diagnosis.cause
    if "change" in exp:
        field, op, value = exp["change"]
        first = changes[0] if changes else None
        if first is None or first.field != field or first.op != op or (
                value is not None and str(first.value) != str(value)):
            got = f"{first.field} {first.op} {first.value}" if first else "no change"
            wrong.append(f"top change: expected {field} {op} {value}, got {got}")
    if "sql" in exp and not any(exp["sql"] in s for s in sql):
        wrong.append(f"no admin SQL contains {exp['sql']!r}: {sql}")
    if exp.get("no_sql") and sql:
        wrong.append(f"unexpected admin SQL: {sql}")
    if "no_add" in exp and any(c.op == "add" and c.value == exp["no_add"] for c in changes):
        wrong.append(f"proposes adding {exp['no_add']}, which the job already had")
    for field in exp.get("no_field", ()):
        if any(c.field == field for c in changes):
            wrong.append(f"touches {field}")
    for text in exp.get("cause", ()):
        if text not in cause:
            wrong.append(f"cause lacks {text!r}: {cause}")
    if "frame" in exp:
        where = cause + " " + " ".join(diagnosis.evidence)
        if exp["frame"] not in where:
            wrong.append(f"the user's frame {exp['frame']} is not named: {where[:300]}")
    if diagnosis.matched in exp.get("not_matched", ()):
        wrong.append(f"matched {diagnosis.matched}")
    return wrong


CASES, ACCOUNTS = load_cases()
HOLDOUT = CORPUS.parent / "diagnosis_corpus_holdout"
HOLDOUT_CASES, HOLDOUT_ACCOUNTS = load_cases(HOLDOUT)


def test_corpus_is_large_enough_and_labelled() -> None:
    assert len(CASES) >= 40
    assert sorted(p.name for p in CORPUS.glob("*.log")) == sorted(c.name for c in CASES)
    assert sorted(p.name for p in HOLDOUT.glob("*.log")) == sorted(c.name for c in HOLDOUT_CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name.removesuffix(".log") for c in CASES])
def test_top_fix_is_right(case: Case) -> None:
    diagnosis = run_case(case, ACCOUNTS)
    assert score(case, diagnosis) == [], (diagnosis.matched, diagnosis.cause, diagnosis.changes, diagnosis.admin_sql)


@pytest.mark.parametrize("case", HOLDOUT_CASES, ids=[c.name.removesuffix(".log") for c in HOLDOUT_CASES])
def test_top_fix_is_right__holdout(case: Case) -> None:
    """The held-out logs (labelled before diagnose ran on them; 9/12 right on that first run)."""
    diagnosis = run_case(case, HOLDOUT_ACCOUNTS)
    assert score(case, diagnosis) == [], (diagnosis.matched, diagnosis.cause, diagnosis.changes, diagnosis.admin_sql)
