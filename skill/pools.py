"""Rank the compute pools an account offers for one job, with a score and the reasons behind it.

The base is the guided skill's formula, `idle_nodes*10 + (max_nodes - active_nodes) + state bonus`
(3 ACTIVE, 1 IDLE, 0 otherwise). It is then filtered (usability: state, grants, ARM, node count, node size,
GPU when the code needs one) and refined (GPU vs CPU fit, large memory, wasted GPUs, indicative cost, cold
start, capped headroom). Every candidate, rejected or not, keeps its score and the reasons, so the choice
can be checked by a person.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mljobs.analyzers.model import ComputeTarget, ComputeVerdict, Confidence

from .facts import AccountFacts, ComputePool, FamilyKind, InstanceFamily
from .families import infer_cloud, lookup_family, system_pools
from .identifiers import InvalidIdentifier, validate_identifier

#: States in which a pool schedules a job right away (snowflake-facts §1.3/§1.4).
USABLE_STATES = frozenset({"ACTIVE", "IDLE", "RESIZING"})
#: Free nodes beyond `target_instances + HEADROOM_SLACK` do not raise the score: a 150-node system pool should
#: not beat a warm dedicated pool on size alone (the job needs `target_instances` nodes, not 150).
HEADROOM_SLACK = 4
#: A node with at least this much memory counts as "large memory" (HIGHMEM_X64_S / MEM_X64_G2_8 size).
LARGE_MEMORY_GIB = 58.0

_PENALTY_GPU_FOR_CPU = -100.0  # only when nothing else is usable
_PENALTY_CPU_FOR_GPU_PREFERRED = -30.0
_BONUS_LARGE_MEMORY = 8.0
_PENALTY_SMALL_MEMORY = -8.0
_PENALTY_PER_EXTRA_GPU = -4.0
_PENALTY_COLD_START = -5.0
_PENALTY_UNKNOWN_FAMILY = -3.0
_PENALTY_USAGE_UNCONFIRMED = -60.0  # like an assumed pool: any pool with confirmed USAGE wins, this one stays usable
_PENALTY_ASSUMED_POOL = -60.0  # a fallback: any listed usable pool of the right kind wins
_COST_WEIGHT = -2.0  # per indicative credit per node-hour
_COST_CAP = 20.0


@dataclass(frozen=True, slots=True)
class PoolNeeds:
    """What the job needs from one node and from the pool.

    `gpu_required`: the code needs a GPU (a CPU node is unusable). `gpu_preferred`: the code uses a GPU when
    there is one but can fall back (a CPU node is usable, with a penalty). Neither: CPU work (a GPU pool is
    taken only when nothing else is usable). Minimums of None are not checked.
    """

    gpu_required: bool = False
    gpu_preferred: bool = False
    needs_large_memory: bool = False
    target_instances: int = 1
    min_instances: int = 1
    min_gpus: int = 1
    min_vcpu: float | None = None
    min_memory_gib: float | None = None
    why: str = ""

    @property
    def wants_gpu(self) -> bool:
        return self.gpu_required or self.gpu_preferred

    @classmethod
    def from_verdict(cls, verdict: ComputeVerdict, *, target_instances: int = 1, min_instances: int | None = None
                     ) -> PoolNeeds:
        """Needs from the analyzer's compute verdict: a certain GPU verdict requires a GPU, a likely one prefers it."""
        gpu = verdict.recommendation is ComputeTarget.GPU
        return cls(
            gpu_required=gpu and verdict.confidence is Confidence.CERTAIN,
            gpu_preferred=gpu and verdict.confidence is not Confidence.CERTAIN,
            needs_large_memory=verdict.needs_large_memory,
            target_instances=target_instances,
            min_instances=min_instances if min_instances is not None else target_instances,
            why=verdict.reason,
        )


@dataclass(frozen=True, slots=True)
class PoolCandidate:
    """One pool as the ranking saw it. `assumed` pools were not listed by the account (system fallbacks)."""

    name: str
    instance_family: str
    family: InstanceFamily | None
    state: str
    idle_nodes: int
    active_nodes: int
    max_nodes: int
    base_score: float  # the guided skill's formula, verbatim
    score: float  # base + refinements (each one listed in `reasons`)
    usable: bool
    reasons: tuple[str, ...]
    credits_per_hour: float | None  # indicative, per node-hour
    is_system: bool = False
    assumed: bool = False
    cold_start: bool = False

    def shape(self) -> str:
        """`vCPU/memGiB/GPUs` of one node, or `?` when the family is unknown."""
        if self.family is None:
            return "?"
        gpu = f"{self.family.gpu_count}x{self.family.gpu_type}" if self.family.gpu_count else "0"
        return f"{_num(self.family.vcpu)}/{_num(self.family.memory_gib)}G/{gpu}"


@dataclass(frozen=True, slots=True)
class PoolRanking:
    """Every candidate, best first (usable before unusable, then score, cost, name), and the choice.

    `chosen` is None when no pool is usable; `reason` then says why and what to do.
    """

    needs: PoolNeeds
    candidates: tuple[PoolCandidate, ...]
    chosen: PoolCandidate | None
    reason: str
    notes: tuple[str, ...] = field(default=())

    def candidate(self, name: str) -> PoolCandidate | None:
        upper = name.upper()
        return next((c for c in self.candidates if c.name.upper() == upper), None)

    def render_table(self) -> str:
        """A fixed-width table like a cost optimizer's, then the choice and notes."""
        header = ("pool", "family", "vCPU/mem/GPU", "state", "idle/active/max", "credits/h", "score", "chosen")
        rows = [header]
        for c in self.candidates:
            mark = "✔" if self.chosen is not None and c.name == self.chosen.name else ("" if c.usable else "✘")
            rows.append((
                c.name + (" (assumed)" if c.assumed else ""),
                c.instance_family,
                c.shape(),
                c.state,
                f"{c.idle_nodes}/{c.active_nodes}/{c.max_nodes}",
                "–" if c.credits_per_hour is None else f"{c.credits_per_hour:g}",
                f"{c.score:g}",
                mark,
            ))
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)).rstrip() for row in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        lines.append("")
        lines.append(("Chosen: " + self.chosen.name if self.chosen else "No pool chosen") + f" — {self.reason}")
        for c in self.candidates:
            lines.append(f"- {c.name}: " + "; ".join(c.reasons))
        lines.extend(f"Note: {n}" for n in self.notes)
        return "\n".join(lines)


def _num(value: float) -> str:
    return f"{value:g}"


def _kind(name: str, family: InstanceFamily | None) -> FamilyKind | None:
    if family is not None:
        return family.kind
    upper = name.upper()
    if upper.startswith("GPU"):
        return FamilyKind.GPU
    if "ARM" in upper:
        return FamilyKind.ARM
    return None


def _grant_text(pool: str, facts: AccountFacts) -> str:
    role = facts.grants.role or facts.role or "<role>"
    return f"GRANT USAGE ON COMPUTE POOL {pool} TO ROLE {role}"


def _has_usage(pool: ComputePool, facts: AccountFacts) -> bool | None:
    if pool.has_usage is not None:
        return pool.has_usage
    listed = facts.grants.pool_usage
    if listed is None:
        return None
    if pool.name.upper() in {p.upper() for p in listed}:
        return True
    # System pools are usable through PUBLIC's default grant, which a role-level grant list does not show.
    return None if pool.is_system else False


def _score(pool: ComputePool, needs: PoolNeeds, facts: AccountFacts, assumed: bool) -> PoolCandidate:
    reasons: list[str] = []
    usable = True
    family = lookup_family(pool.instance_family, facts)
    kind = _kind(pool.instance_family, family)
    state = (pool.state or "UNKNOWN").upper()
    bonus = 3 if state == "ACTIVE" else 1 if state == "IDLE" else 0
    headroom = pool.max_nodes - pool.active_nodes
    base = pool.idle_nodes * 10 + headroom + bonus
    cap = needs.target_instances + HEADROOM_SLACK
    score = float(pool.idle_nodes * 10 + min(headroom, cap) + bonus)
    reasons.append(f"base {base:g} = idle {pool.idle_nodes}×10 + free {headroom} + state {bonus}")
    if headroom > cap:
        reasons.append(f"free nodes beyond {cap} not counted (-{headroom - cap})")
    cold_start = False

    def reject(text: str) -> None:
        nonlocal usable
        usable = False
        reasons.append("unusable: " + text)

    def adjust(delta: float, text: str) -> None:
        nonlocal score
        score += delta
        reasons.append(f"{delta:+g}: {text}")

    try:
        validate_identifier(pool.name, "compute pool")
    except InvalidIdentifier as exc:
        reject(str(exc))

    # --- state
    if state in USABLE_STATES:
        reasons.append(f"{state}: schedules now" + (" (idle node ready)" if pool.idle_nodes > 0 else ""))
    elif state == "SUSPENDED":
        if pool.auto_resume:
            cold_start = True
            adjust(_PENALTY_COLD_START, "SUSPENDED with auto_resume: cold start, minutes to provision a node")
        else:
            reject(f"SUSPENDED without auto_resume; ALTER COMPUTE POOL {pool.name} RESUME (needs OPERATE)")
    elif state == "STARTING":
        cold_start = True
        adjust(_PENALTY_COLD_START, "STARTING: the first node is being provisioned; the job waits for it")
    elif state == "STOPPING":
        reject(f"STOPPING: wait until it is SUSPENDED, then ALTER COMPUTE POOL {pool.name} RESUME")
    else:
        reject(f"state {state} is not one a job can be scheduled in")

    # --- grants
    usage = _has_usage(pool, facts)
    if usage is False and not facts.grants.usage_certain:
        # Secondary roles (ALL by default) or part of a role hierarchy could not be read: USAGE may be held
        # there (research mljobs-api.md §10.8), so this is a doubt, never a refusal.
        adjust(_PENALTY_USAGE_UNCONFIRMED, "USAGE not found in the grants read, but not every active role could be "
               f"read; it may still be held (else: {_grant_text(pool.name, facts)})")
    elif usage is False:
        reject(f"the role lacks USAGE on the pool; {_grant_text(pool.name, facts)}")
    elif usage is None:
        reasons.append(
            "USAGE through PUBLIC's default grant assumed" if pool.is_system else "USAGE could not be verified"
        )

    # --- family kind and shape
    if family is None:
        adjust(_PENALTY_UNKNOWN_FAMILY, f"family {pool.instance_family} unknown: node size not checked"
               + (f", kind guessed {kind.value} from its name" if kind else ""))
    if kind is FamilyKind.ARM:
        reject(f"{pool.instance_family} is ARM; the ML Container Runtime needs x86 (linux/amd64) nodes")
    elif needs.wants_gpu:
        if kind is FamilyKind.GPU:
            gpus = family.gpu_count if family else None
            if gpus is not None and gpus < needs.min_gpus:
                reject(f"{gpus} GPU(s) per node; the job needs {needs.min_gpus}")
            elif gpus is not None and gpus > needs.min_gpus:
                adjust(_PENALTY_PER_EXTRA_GPU * (gpus - needs.min_gpus),
                       f"{gpus} GPUs per node, the job uses {needs.min_gpus}: {gpus - needs.min_gpus} idle")
            else:
                reasons.append("GPU node for GPU work")
        elif needs.gpu_required:
            reject("the code needs a GPU and this is a CPU family")
        else:
            adjust(_PENALTY_CPU_FOR_GPU_PREFERRED, "the code prefers a GPU but falls back to CPU")
    elif kind is FamilyKind.GPU:
        adjust(_PENALTY_GPU_FOR_CPU, "GPU pool for CPU work: chosen only when no CPU pool is usable")

    if family is not None:
        if needs.min_memory_gib is not None and family.memory_gib < needs.min_memory_gib:
            reject(f"{_num(family.memory_gib)} GiB per node; the job needs {_num(needs.min_memory_gib)}")
        if needs.min_vcpu is not None and family.vcpu < needs.min_vcpu:
            reject(f"{_num(family.vcpu)} vCPU per node; the job needs {_num(needs.min_vcpu)}")
        if needs.needs_large_memory:
            if family.kind is FamilyKind.HIGHMEM or family.memory_gib >= LARGE_MEMORY_GIB:
                adjust(_BONUS_LARGE_MEMORY, f"{_num(family.memory_gib)} GiB per node for a large-memory job")
            else:
                adjust(_PENALTY_SMALL_MEMORY, f"only {_num(family.memory_gib)} GiB per node for a large-memory job")
        if family.credits_per_hour is not None:
            cost = min(family.credits_per_hour, _COST_CAP)
            adjust(round(_COST_WEIGHT * cost, 3), f"indicative {family.credits_per_hour:g} credits per node-hour")

    # --- node count
    if pool.max_nodes < needs.target_instances:
        reject(f"max_nodes {pool.max_nodes} < {needs.target_instances} instances; "
               f"ALTER COMPUTE POOL {pool.name} SET MAX_NODES = {needs.target_instances}")
    elif needs.target_instances > 1:
        reasons.append(f"max_nodes {pool.max_nodes} fits {needs.target_instances} instances")

    if assumed:
        adjust(_PENALTY_ASSUMED_POOL, "not listed by SHOW COMPUTE POOLS; Snowflake creates it in every account "
               "with USAGE for PUBLIC unless revoked (assumed)")

    return PoolCandidate(
        name=pool.name,
        instance_family=pool.instance_family,
        family=family,
        state=state,
        idle_nodes=pool.idle_nodes,
        active_nodes=pool.active_nodes,
        max_nodes=pool.max_nodes,
        base_score=float(base),
        score=round(score, 3),
        usable=usable,
        reasons=tuple(reasons),
        credits_per_hour=family.credits_per_hour if family else None,
        is_system=pool.is_system,
        assumed=assumed,
        cold_start=cold_start,
    )


def _system_fallbacks(facts: AccountFacts, needs: PoolNeeds) -> tuple[list[ComputePool], list[str]]:
    """System pools missing from the listing, with Snowflake's defaults (initially suspended, auto-resume)."""
    if facts.backend != "snowflake":
        return [], []
    listed = {p.name.upper() for p in facts.pools}
    cloud = infer_cloud(facts)
    pools, notes = [], []
    for spec in system_pools(cloud):
        if spec.name in listed:
            continue
        if spec.family is None:
            if "GPU" in spec.name and needs.wants_gpu:
                notes.append(f"{spec.name} does not exist on {cloud}; create a GPU pool for this job")
            continue
        if cloud is None and "GPU" in spec.name and needs.wants_gpu:
            notes.append(f"cloud unknown: {spec.name} assumed to run {spec.family} (AWS); on Azure it runs GPU_NV_SM, "
                         "and Google Cloud and some regions have no GPU system pool")
        pools.append(ComputePool(
            name=spec.name, state="SUSPENDED", instance_family=spec.family, min_nodes=spec.min_nodes,
            max_nodes=spec.max_nodes, auto_resume=True, owner="ACCOUNTADMIN", is_system=True,
        ))
    return pools, notes


def _sort_key(c: PoolCandidate) -> tuple:
    return (not c.usable, -c.score, c.credits_per_hour if c.credits_per_hour is not None else float("inf"), c.name)


def rank_compute_pools(needs: PoolNeeds, facts: AccountFacts) -> PoolRanking:
    """Score every pool in `facts` (plus missing system pools on Snowflake) for `needs` and pick the best.

    Args:
        needs: what the job needs (from `PoolNeeds.from_verdict` or user choices).
        facts: the account's pools, families and grants.

    Returns:
        A `PoolRanking` with every candidate and its reasons. `chosen` is the usable candidate with the highest
        score (ties: fewer credits, then name); None with a reason when no candidate is usable or none exist.
        The result depends only on the inputs (no clock, no randomness), so equal inputs rank equally.
    """
    extra, notes = _system_fallbacks(facts, needs)
    listed = [(p, False) for p in facts.pools] + [(p, True) for p in extra]
    candidates = tuple(sorted((_score(p, needs, facts, assumed) for p, assumed in listed), key=_sort_key))
    usable = [c for c in candidates if c.usable]
    if not candidates:
        return PoolRanking(needs, (), None, "no compute pools are visible to this role; create one "
                           "(CREATE COMPUTE POOL ... INSTANCE_FAMILY = ...) or grant USAGE on an existing one",
                           tuple(notes))
    if not usable:
        first = {c.name: next((r for r in c.reasons if r.startswith("unusable")), "") for c in candidates}
        detail = "; ".join(f"{n}: {r.removeprefix('unusable: ')}" for n, r in first.items())
        return PoolRanking(needs, candidates, None, f"no usable pool — {detail}", tuple(notes))
    best = usable[0]
    kind = "GPU" if needs.wants_gpu else "CPU"
    why = f"highest score {best.score:g} among {len(usable)} usable pool(s) for {kind} work"
    if best.family is not None and best.family.kind is FamilyKind.GPU and not needs.wants_gpu:
        why += "; it is a GPU pool, taken only because no CPU pool is usable"
    if best.cold_start:
        why += "; cold start: expect minutes before the job runs"
    return PoolRanking(needs, candidates, best, why, tuple(notes))
