"""A local-pool plan as the Snowflake account equivalent: what it would be with an account, placeholders named.

A plan made on the local pool names things that exist only there (pool LOCAL, database LOCAL, this machine's
instance family). To show the task graph or Airflow DAG before anyone has an account, those are replaced by
the account's system pool for the same compute kind and by placeholders a person fills in (YOUR_DATABASE,
YOUR_SCHEMA). EAI names stay: the local EAIs are the account's EAIs to create, under the same names, and their
hosts give the CREATE statements.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .diagnosis_network import eai_sql
from .jobplan import JobPlan

DATABASE_PLACEHOLDER = "YOUR_DATABASE"
SCHEMA_PLACEHOLDER = "YOUR_SCHEMA"
STAGE_NAME = "MLJOBS_PAYLOAD"
CPU_POOL, GPU_POOL = "SYSTEM_COMPUTE_POOL_CPU", "SYSTEM_COMPUTE_POOL_GPU"


@dataclass(frozen=True, slots=True)
class Placeholder:
    """A value in the generated code that a person must check or replace before deploying."""

    value: str
    meaning: str

    def describe(self) -> str:
        return f"{self.value}: {self.meaning}"


def account_equivalent(plan: JobPlan, *, database: str | None = None, schema: str | None = None
                       ) -> tuple[JobPlan, tuple[Placeholder, ...]]:
    """The Snowflake plan a local plan stands for, and the placeholders in it (none for a Snowflake plan).

    `database`/`schema` (e.g. from the command line) replace the placeholders when given.
    """
    if plan.backend != "local":
        return plan, ()
    gpu = (plan.instance_family or "").upper().endswith("_GPU")
    pool = GPU_POOL if gpu else CPU_POOL
    db, sch = database or DATABASE_PLACEHOLDER, schema or SCHEMA_PLACEHOLDER
    placeholders = [Placeholder(pool, f"the account's system {'GPU' if gpu else 'CPU'} pool; use your own pool if "
                                      "you have one")]
    if not database:
        placeholders.append(Placeholder(DATABASE_PLACEHOLDER, "the database the jobs and the graph live in"))
    if not schema:
        placeholders.append(Placeholder(SCHEMA_PLACEHOLDER, "the schema the jobs and the graph live in"))
    placeholders.append(Placeholder(f"@{db}.{sch}.{STAGE_NAME}", "the payload stage (CREATE STAGE it once)"))
    target = dataclasses.replace(
        plan, backend="snowflake", compute_pool=pool, instance_family=None, database=db, schema=sch,
        stage_name=f"@{db}.{sch}.{STAGE_NAME}",
    )
    return target, tuple(placeholders)


def eai_setup_sql(eais: Sequence[str], hosts_by_eai: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """CREATE statements for the account equivalents of the local EAIs `eais`, under the same names."""
    out: list[str] = []
    for name in dict.fromkeys(e.upper() for e in eais):
        hosts = hosts_by_eai.get(name)
        if hosts:
            out.extend(eai_sql(name, tuple(hosts), facts=None, plan=None))
    return tuple(out)
