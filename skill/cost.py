"""What a plan costs before it is confirmed: credits per hour for the family x nodes, and whether the job
waits for a cold start.

Credits per node-hour come from the instance-family table (indicative: Snowflake's Service Consumption
Table; research snowflake-facts §2.3). Each ML-job instance takes a whole node, so the rate is
family rate x target instances. A node is ready at once only when the pool has an idle one; otherwise
the pool resumes or grows first, which takes minutes.
"""

from __future__ import annotations

from dataclasses import dataclass

from .facts import AccountFacts
from .families import lookup_family
from .jobplan import JobPlan


@dataclass(frozen=True, slots=True)
class CostEstimate:
    """Credits per hour and start-up wait of one plan; `local_seconds` is filled by the server when a
    local run of the same script exists (a duration hint, not a prediction)."""

    backend: str
    family: str | None
    nodes: int
    credits_per_node_hour: float | None
    cold_start: bool | None  # None: the pool's state is unknown
    start_reason: str
    local_seconds: float | None = None

    @property
    def credits_per_hour(self) -> float | None:
        if self.credits_per_node_hour is None:
            return None
        return self.credits_per_node_hour * self.nodes

    def lines(self) -> list[str]:
        """Lines for the confirmation summary."""
        if self.backend == "local":
            out = ["Cost: none (the local pool is this machine)"]
        elif self.credits_per_node_hour is None:
            out = [f"Cost: unknown credits/hour ({self.family or 'unknown family'} is not in the family table)"]
        else:
            out = [f"Cost: about {self.credits_per_hour:.2f} credits/hour ({self.family}: "
                   f"{self.credits_per_node_hour:g}/node-hour x {self.nodes} node{'s' if self.nodes != 1 else ''}; "
                   "indicative rates)"]
        if self.backend != "local":
            out.append(f"Start: {self.start_reason}")
        if self.local_seconds is not None:
            out.append(f"Hint: a local run of this script took {_duration(self.local_seconds)}")
        return out


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def estimate_cost(plan: JobPlan, facts: AccountFacts) -> CostEstimate:
    """Credits per hour and cold-start likelihood of `plan` on the pool `facts` describe.

    Returns:
        A CostEstimate. An unknown family gives no rate; a pool not in `facts` gives `cold_start=None`.
    """
    pool = next((p for p in facts.pools if p.name.upper() == plan.compute_pool.upper()), None)
    family_name = plan.instance_family or (pool.instance_family if pool else None)
    family = lookup_family(family_name, facts) if family_name else None
    rate = family.credits_per_hour if family is not None else None
    nodes = plan.target_instances
    if pool is None:
        cold, why = None, f"unknown: {plan.compute_pool} is not visible to this role"
    elif pool.idle_nodes >= nodes:
        cold, why = False, f"no cold start expected: {pool.idle_nodes} idle node(s) on {pool.name}"
    elif pool.state.upper() == "SUSPENDED":
        cold, why = True, (f"cold start likely: {pool.name} is suspended; resuming provisions nodes (minutes)"
                           + ("" if pool.auto_resume else " and AUTO_RESUME is off, so it must be resumed first"))
    else:
        cold, why = True, (f"cold start likely: {pool.name} has {pool.idle_nodes} idle node(s) for {nodes} "
                           "instance(s); new nodes take minutes to provision")
    return CostEstimate(plan.backend, family_name, nodes, rate, cold, why)
