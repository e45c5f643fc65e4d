"""Compute-pool ranking: the seed formula, filters, refinements, fallbacks and invariants."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mljobs.analyzers.model import ComputeTarget, ComputeVerdict, Confidence
from mljobs.skill.facts import AccountFacts, ComputePool, Grants
from mljobs.skill.pools import PoolNeeds, rank_compute_pools

CPU = PoolNeeds()
GPU = PoolNeeds(gpu_required=True)
SYSTEM = (
    ComputePool("SYSTEM_COMPUTE_POOL_CPU", "SUSPENDED", "CPU_X64_S", max_nodes=150, is_system=True),
    ComputePool("SYSTEM_COMPUTE_POOL_GPU", "SUSPENDED", "GPU_NV_S", max_nodes=50, is_system=True),
)


def facts(*pools: ComputePool, backend: str = "snowflake", **kw) -> AccountFacts:
    return AccountFacts(backend=backend, pools=tuple(pools), role="ML_ROLE", **kw)


def pool(name: str = "P", state: str = "IDLE", family: str = "CPU_X64_S", **kw) -> ComputePool:
    kw.setdefault("max_nodes", 3)
    return ComputePool(name, state, family, **kw)


def test_rank__seed_formula__is_base_score() -> None:
    """base_score is idle*10 + (max - active) + 3 for ACTIVE."""
    ranking = rank_compute_pools(CPU, facts(pool("A", "ACTIVE", idle_nodes=2, active_nodes=1, max_nodes=5), *SYSTEM))
    cand = ranking.candidate("A")
    assert cand is not None and cand.base_score == 2 * 10 + (5 - 1) + 3


def test_rank__warm_cpu_pool__beats_suspended_system_pool() -> None:
    """An idle dedicated CPU pool wins over the cold system pool despite its 150 nodes."""
    ranking = rank_compute_pools(CPU, facts(pool("MY_POOL", "IDLE", idle_nodes=1, max_nodes=2), *SYSTEM))
    assert ranking.chosen is not None and ranking.chosen.name == "MY_POOL"


def test_rank__gpu_work__takes_gpu_pool_and_rejects_cpu() -> None:
    """GPU work never lands on a CPU pool; the CPU pool says why."""
    ranking = rank_compute_pools(GPU, facts(pool("CPU_P", idle_nodes=5), pool("GPU_P", family="GPU_NV_S")))
    assert ranking.chosen is not None and ranking.chosen.name == "GPU_P"
    cpu = ranking.candidate("CPU_P")
    assert cpu is not None and not cpu.usable and any("needs a GPU" in r for r in cpu.reasons)


def test_rank__gpu_preferred__cpu_usable_with_penalty() -> None:
    """A likely-GPU job may fall back to CPU but still prefers the GPU pool."""
    needs = PoolNeeds(gpu_preferred=True)
    ranking = rank_compute_pools(needs, facts(pool("CPU_P"), pool("GPU_P", family="GPU_NV_S")))
    assert ranking.chosen is not None and ranking.chosen.name == "GPU_P"
    assert ranking.candidate("CPU_P").usable  # type: ignore[union-attr]


def test_rank__cpu_work__gpu_pool_only_when_nothing_else() -> None:
    """CPU work takes a GPU pool only when no CPU pool is usable, and the reason says so."""
    both = rank_compute_pools(CPU, facts(pool("CPU_P"), pool("GPU_P", family="GPU_NV_S", idle_nodes=3)))
    assert both.chosen is not None and both.chosen.name == "CPU_P"
    only_gpu = rank_compute_pools(CPU, facts(pool("GPU_P", family="GPU_NV_S"), backend="local"))
    assert only_gpu.chosen is not None and only_gpu.chosen.name == "GPU_P"
    assert "GPU pool" in only_gpu.reason


def test_rank__small_gpu_job__does_not_waste_gpu_nv_m() -> None:
    """A one-GPU job prefers GPU_NV_S to a 4-GPU GPU_NV_M with the same availability."""
    ranking = rank_compute_pools(GPU, facts(pool("BIG", family="GPU_NV_M"), pool("SMALL", family="GPU_NV_S")))
    assert ranking.chosen is not None and ranking.chosen.name == "SMALL"
    assert any("3 idle" in r for r in ranking.candidate("BIG").reasons)  # type: ignore[union-attr]


def test_rank__large_memory__prefers_highmem() -> None:
    """needs_large_memory favours a HIGHMEM node over a small CPU node."""
    needs = PoolNeeds(needs_large_memory=True)
    ranking = rank_compute_pools(needs, facts(pool("SMALL", family="CPU_X64_S"), pool("HM", family="HIGHMEM_X64_S")))
    assert ranking.chosen is not None and ranking.chosen.name == "HM"


@pytest.mark.parametrize(
    ("p", "needle"),
    [
        pytest.param(pool(state="SUSPENDED", auto_resume=False), "ALTER COMPUTE POOL P RESUME", id="suspended_no_resume"),
        pytest.param(pool(state="STOPPING"), "STOPPING", id="stopping"),
        pytest.param(pool(state="UNKNOWN"), "UNKNOWN", id="unknown_state"),
        pytest.param(pool(family="GEN_ARM_G1_8"), "ARM", id="arm"),
        pytest.param(pool(has_usage=False), "GRANT USAGE ON COMPUTE POOL P TO ROLE ML_ROLE", id="no_usage"),
        pytest.param(pool(max_nodes=1), "SET MAX_NODES = 2", id="too_few_nodes"),
        pytest.param(pool(name='P"; DROP'), "not a plain Snowflake identifier", id="hostile_name"),
    ],
)
def test_rank__unusable_pool__rejected_with_fix(p: ComputePool, needle: str) -> None:
    """Each unusable pool keeps a score and a reason that says what to do."""
    ranking = rank_compute_pools(PoolNeeds(target_instances=2), facts(p, backend="local"))
    cand = ranking.candidates[0]
    assert not cand.usable and ranking.chosen is None
    assert any(needle in r for r in cand.reasons), cand.reasons
    assert needle.split()[0] in ranking.reason


def test_rank__suspended_auto_resume__usable_cold_start() -> None:
    """A suspended pool with auto_resume is usable but flagged as a cold start."""
    ranking = rank_compute_pools(CPU, facts(pool(state="SUSPENDED"), backend="local"))
    assert ranking.chosen is not None and ranking.chosen.cold_start and "cold start" in ranking.reason


def test_rank__grants_list_without_pool__no_usage() -> None:
    """A known grant list that lacks a non-system pool means no USAGE."""
    f = facts(pool("P"), backend="local", grants=Grants(role="R", pool_usage=("OTHER",)))
    cand = rank_compute_pools(CPU, f).candidate("P")
    assert cand is not None and not cand.usable and any("TO ROLE R" in r for r in cand.reasons)


def test_rank__system_pools_not_listed__added_as_assumed_fallbacks() -> None:
    """On Snowflake, missing system pools are offered as assumed fallbacks; locally they are not."""
    ranking = rank_compute_pools(CPU, facts())
    assert ranking.chosen is not None and ranking.chosen.name == "SYSTEM_COMPUTE_POOL_CPU" and ranking.chosen.assumed
    assert rank_compute_pools(CPU, facts(backend="local")).chosen is None


def test_rank__gcp_gpu_work__no_gpu_system_pool_note() -> None:
    """On Google Cloud no GPU system pool is assumed, and a note says so."""
    ranking = rank_compute_pools(GPU, facts(cloud="gcp"))
    assert ranking.chosen is None
    assert any("does not exist on gcp" in n for n in ranking.notes)


def test_rank__no_pools_local__reason() -> None:
    """No pools at all is a value with a reason, not an exception."""
    ranking = rank_compute_pools(CPU, facts(backend="local"))
    assert ranking.chosen is None and "no compute pools" in ranking.reason


def test_render_table__columns_and_mark() -> None:
    """The table has the optimizer columns and marks the chosen pool."""
    text = rank_compute_pools(CPU, facts(pool("MY_POOL", idle_nodes=1), *SYSTEM)).render_table()
    header = text.splitlines()[0]
    for col in ("pool", "family", "vCPU/mem/GPU", "state", "idle/active/max", "credits/h", "score", "chosen"):
        assert col in header
    assert "✔" in next(line for line in text.splitlines() if line.startswith("MY_POOL"))
    assert "3/13G/0" in text and "0.11" in text


def test_from_verdict__certain_gpu__required() -> None:
    """A certain GPU verdict requires a GPU; a likely one only prefers it."""
    v = ComputeVerdict(ComputeTarget.GPU, Confidence.CERTAIN, "cuda", ())
    assert PoolNeeds.from_verdict(v, target_instances=2).gpu_required
    assert PoolNeeds.from_verdict(dataclasses.replace(v, confidence=Confidence.LIKELY)).gpu_preferred


# --------------------------------------------------------------------------------------------- properties

STATES = ["ACTIVE", "IDLE", "SUSPENDED", "STARTING", "STOPPING", "RESIZING", "UNKNOWN"]
FAMILIES = ["CPU_X64_XS", "CPU_X64_S", "HIGHMEM_X64_M", "GPU_NV_S", "GPU_NV_M", "GEN_ARM_G1_2", "MYSTERY_X"]

pools_st = st.builds(
    lambda i, state, fam, mx, active, idle, auto, usage: ComputePool(
        f"POOL_{i}", state, fam, max_nodes=mx, active_nodes=min(active, mx), idle_nodes=idle,
        auto_resume=auto, has_usage=usage),
    st.integers(0, 50), st.sampled_from(STATES), st.sampled_from(FAMILIES), st.integers(1, 200),
    st.integers(0, 200), st.integers(0, 10), st.booleans(), st.sampled_from([True, False, None]),
)
needs_st = st.builds(PoolNeeds, gpu_required=st.booleans(), needs_large_memory=st.booleans(),
                     target_instances=st.integers(1, 8))
facts_st = st.builds(
    lambda ps, backend: AccountFacts(backend=backend, pools=tuple({p.name: p for p in ps}.values())),
    st.lists(pools_st, max_size=6), st.sampled_from(["snowflake", "local"]),
)


@settings(max_examples=150, deadline=None)
@given(needs_st, facts_st)
def test_rank__property__chosen_is_usable_and_best(needs: PoolNeeds, f: AccountFacts) -> None:
    """The chosen pool is always usable and no usable pool scores higher."""
    ranking = rank_compute_pools(needs, f)
    if ranking.chosen is not None:
        assert ranking.chosen.usable
        assert all(c.score <= ranking.chosen.score for c in ranking.candidates if c.usable)
    else:
        assert not any(c.usable for c in ranking.candidates) and ranking.reason


@settings(max_examples=150, deadline=None)
@given(needs_st, facts_st, st.data())
def test_rank__property__idle_node_never_lowers_score(needs: PoolNeeds, f: AccountFacts, data) -> None:
    """Adding an idle node to a pool never lowers that pool's score."""
    if not f.pools:
        return
    i = data.draw(st.integers(0, len(f.pools) - 1))
    target = f.pools[i]
    more = dataclasses.replace(target, idle_nodes=target.idle_nodes + 1)
    f2 = dataclasses.replace(f, pools=f.pools[:i] + (more,) + f.pools[i + 1:])
    before = rank_compute_pools(needs, f).candidate(target.name)
    after = rank_compute_pools(needs, f2).candidate(target.name)
    assert before is not None and after is not None and after.score >= before.score


@settings(max_examples=100, deadline=None)
@given(needs_st, facts_st, st.randoms())
def test_rank__property__deterministic_and_order_independent(needs: PoolNeeds, f: AccountFacts, rnd) -> None:
    """Ranking the same pools in any order gives the same result."""
    shuffled = list(f.pools)
    rnd.shuffle(shuffled)
    a = rank_compute_pools(needs, f)
    b = rank_compute_pools(needs, dataclasses.replace(f, pools=tuple(shuffled)))
    assert a == b
    assert a.render_table() == b.render_table()


def test_rank__assumed_system_pool__loses_to_listed_pool_of_right_kind() -> None:
    """A listed GPU pool (even oversized) beats the assumed, unlisted GPU system pool."""
    ranking = rank_compute_pools(GPU, facts(pool("GPU_POOL", "ACTIVE", "GPU_NV_M", active_nodes=1, max_nodes=2)))
    assert ranking.chosen is not None and ranking.chosen.name == "GPU_POOL"
    assert ranking.candidate("SYSTEM_COMPUTE_POOL_GPU").assumed  # type: ignore[union-attr]


def test_rank__usage_not_found_but_secondary_roles_unknown__candidate_not_rejected() -> None:
    """USAGE missing from grants read without the secondary roles is a doubt: the pool stays usable, ranked
    below a pool whose USAGE is confirmed, and the reason carries the GRANT in case it really is missing."""
    unsure = Grants(role="R", pool_usage=("SURE",), secondary_roles=None)
    ranking = rank_compute_pools(CPU, facts(pool("MAYBE", idle_nodes=3), pool("SURE"), backend="local", grants=unsure))
    maybe = ranking.candidate("MAYBE")
    assert maybe is not None and maybe.usable and any("may still be held" in r and "TO ROLE R" in r
                                                      for r in maybe.reasons)  # fmt: skip
    assert ranking.chosen is not None and ranking.chosen.name == "SURE"
    certain = Grants(role="R", pool_usage=("SURE",), secondary_roles=("TEAM",))
    assert not rank_compute_pools(CPU, facts(pool("MAYBE"), backend="local", grants=certain)).candidate("MAYBE").usable
