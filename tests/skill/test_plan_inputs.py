"""Inputs the job will not have (issue 10 item 4): Snowflake objects, the local pool, files outside the project."""

from __future__ import annotations

import textwrap
from pathlib import Path

from _skill_builders import facts

from mljobs.analyzers import analyze
from mljobs.skill.plan import plan_job
from mljobs.skill.preflight import Severity

SNOWPARK = '''
from snowflake.snowpark import Session
import xgboost

session = Session.builder.getOrCreate()
trips = session.table("ML.RAW.TRIPS").to_pandas()
session.write_pandas(trips, "ML.OUT.SCORES", auto_create_table=True)
'''


def _write(tmp_path: Path, text: str, name: str = "train.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def test_plan__snowpark_script_on_local_pool__not_ready_before_any_install(tmp_path: Path, rules) -> None:
    """Issue 10: a Snowpark script on the local pool downloaded 483 MB before failing; now preflight stops it."""
    analysis = analyze(_write(tmp_path, SNOWPARK), rules=rules)
    assert [(f.detail, f.privilege) for f in analysis.io.snowflake_objects] == [
        ("ML.RAW.TRIPS", "SELECT"), ("ML.OUT.SCORES", "INSERT (or CREATE TABLE on the schema when the job creates it)")]
    result = plan_job(analysis, facts(backend="local", installed_packages=frozenset()))
    errors = {i.code: i for i in result.preflight if i.severity is Severity.ERROR}
    assert "snowpark.local_pool" in errors and not result.ready
    assert "ML.RAW.TRIPS" in errors["snowpark.local_pool"].message
    assert "Session.builder.getOrCreate()" in errors["snowpark.local_pool"].message


def test_plan__snowpark_script_on_snowflake__privileges_named_with_grants(tmp_path: Path, rules) -> None:
    analysis = analyze(_write(tmp_path, SNOWPARK), rules=rules)
    result = plan_job(analysis, facts())
    issue = next(i for i in result.preflight if i.code == "snowflake.object_privileges")
    assert issue.severity is Severity.WARNING and "SELECT for ML.RAW.TRIPS" in issue.message
    assert "GRANT SELECT ON TABLE ML.RAW.TRIPS TO ROLE DS" in issue.fix
    assert "GRANT INSERT ON TABLE ML.OUT.SCORES TO ROLE DS" in issue.fix


def test_plan__file_outside_the_project__warned(tmp_path: Path, rules) -> None:
    analysis = analyze(_write(tmp_path, "import pandas as pd\ndf = pd.read_csv('data/train.csv')\n"), rules=rules)
    result = plan_job(analysis, facts())
    issue = next(i for i in result.preflight if i.code == "inputs.not_in_project")
    assert "data/train.csv" in issue.message and "stage" in issue.fix
