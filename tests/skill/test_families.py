"""The instance-family table: shapes from research §2.1, credits §2.3, system pools §2.4."""

from __future__ import annotations

import pytest

from mljobs.skill.facts import AccountFacts, ComputePool, FamilyKind, InstanceFamily
from mljobs.skill.families import (
    family_clouds,
    family_table,
    infer_cloud,
    lookup_family,
    system_pools,
)
from mljobs.skill.knowledge import KnowledgeError


@pytest.mark.parametrize(
    ("name", "vcpu", "mem", "gpus", "kind", "credits"),
    [
        pytest.param("CPU_X64_XS", 1, 6, 0, FamilyKind.CPU, 0.06, id="cpu_xs"),
        pytest.param("CPU_X64_S", 3, 13, 0, FamilyKind.CPU, 0.11, id="cpu_s"),
        pytest.param("CPU_X64_L", 28, 116, 0, FamilyKind.CPU, 0.83, id="cpu_l"),
        pytest.param("HIGHMEM_X64_L", 124, 984, 0, FamilyKind.HIGHMEM, 4.44, id="highmem_l"),
        pytest.param("GPU_NV_S", 6, 28, 1, FamilyKind.GPU, 0.57, id="gpu_nv_s"),
        pytest.param("GPU_NV_M", 44, 178, 4, FamilyKind.GPU, 2.68, id="gpu_nv_m"),
        pytest.param("GPU_NV_SM", 32, 424, 1, FamilyKind.GPU, 1.70, id="azure_gpu_nv_sm"),
        pytest.param("GPU_GCP_NV_L4_4_24G", 44, 178, 4, FamilyKind.GPU, 1.94, id="gcp_l4_x4"),
        pytest.param("GEN_ARM_G1_8", 6, 28, 0, FamilyKind.ARM, None, id="arm"),
        pytest.param("MEM_X64_G2_192", 188, 1436, 0, FamilyKind.HIGHMEM, None, id="mem_g2_unknown_credits"),
        pytest.param("GPU_R6K_G1_192", 188, 1843, 8, FamilyKind.GPU, None, id="r6k"),
    ],
)
def test_family_table__known_family__has_research_shape(name, vcpu, mem, gpus, kind, credits) -> None:
    """Each family carries the vCPU, memory, GPU count, kind and credits the research tables give."""
    fam = family_table()[name]
    assert (fam.vcpu, fam.memory_gib, fam.gpu_count, fam.kind, fam.credits_per_hour) == (vcpu, mem, gpus, kind, credits)
    assert fam.source == "table"


def test_family_table__every_family__is_consistent() -> None:
    """GPU families have a GPU type and total memory; no other family has GPUs; shapes are positive."""
    table = family_table()
    assert len(table) >= 45
    for fam in table.values():
        assert fam.vcpu > 0 and fam.memory_gib > 0, fam
        if fam.kind is FamilyKind.GPU:
            assert fam.gpu_count > 0 and fam.gpu_type and fam.gpu_memory_gib, fam
        else:
            assert fam.gpu_count == 0 and fam.gpu_type is None and fam.gpu_memory_gib is None, fam


def test_family_table__gpu_memory__is_total_per_node() -> None:
    """GPU memory is the node total (4 x 24 GB L4 = 96), not per GPU."""
    assert family_table()["GPU_GCP_NV_L4_4_24G"].gpu_memory_gib == 96
    assert family_table()["GPU_NV_L"].gpu_memory_gib == 320


@pytest.mark.parametrize(
    ("cloud", "present", "absent"),
    [
        pytest.param("aws", "GPU_NV_S", "GPU_NV_SM", id="aws"),
        pytest.param("azure", "GPU_NV_SM", "GPU_NV_S", id="azure"),
        pytest.param("gcp", "GPU_GCP_NV_L4_1_24G", "GEN_X64_G2_2", id="gcp_has_no_g2"),
    ],
)
def test_family_table__per_cloud__keeps_only_that_clouds_families(cloud, present, absent) -> None:
    """Filtering by cloud keeps the cloud's families and drops the others."""
    table = family_table(cloud)
    assert present in table and absent not in table


def test_family_table__per_cloud_override__applies() -> None:
    """HIGHMEM_X64_SL is 60/492 on Azure and 92/654 on GCP."""
    assert (family_table("azure")["HIGHMEM_X64_SL"].vcpu, family_table("azure")["HIGHMEM_X64_SL"].memory_gib) == (60, 492)
    assert (family_table("gcp")["HIGHMEM_X64_SL"].vcpu, family_table("gcp")["HIGHMEM_X64_SL"].memory_gib) == (92, 654)


def test_family_table__unknown_cloud__raises() -> None:
    """A cloud name outside aws/azure/gcp is a programming error."""
    with pytest.raises(KnowledgeError, match="unknown cloud"):
        family_table("oracle")


def test_family_clouds__names__case_insensitive() -> None:
    """Cloud lookup accepts any case and returns () for unknown families."""
    assert family_clouds("gpu_nv_s") == ("aws",)
    assert family_clouds("NOPE") == ()


@pytest.mark.parametrize(
    ("cloud", "cpu", "gpu"),
    [
        pytest.param("aws", "CPU_X64_S", "GPU_NV_S", id="aws"),
        pytest.param("azure", "CPU_X64_S", "GPU_NV_SM", id="azure"),
        pytest.param("gcp", "CPU_X64_S", None, id="gcp_no_gpu_pool"),
        pytest.param(None, "CPU_X64_S", "GPU_NV_S", id="unknown_assumes_aws"),
    ],
)
def test_system_pools__by_cloud__families(cloud, cpu, gpu) -> None:
    """System pools use CPU_X64_S everywhere and a cloud-specific GPU family (none on GCP)."""
    pools = {p.name: p for p in system_pools(cloud)}
    assert pools["SYSTEM_COMPUTE_POOL_CPU"].family == cpu
    assert pools["SYSTEM_COMPUTE_POOL_GPU"].family == gpu
    assert pools["SYSTEM_COMPUTE_POOL_CPU"].max_nodes == 150 and pools["SYSTEM_COMPUTE_POOL_GPU"].max_nodes == 50


def test_lookup_family__account_row__wins_and_gets_table_credits() -> None:
    """A live family row is preferred; credits are filled from the table when the account has none."""
    live = InstanceFamily("CPU_X64_S", vcpu=3, memory_gib=12.5, source="account")
    facts = AccountFacts(backend="snowflake", families=(live,))
    fam = lookup_family("cpu_x64_s", facts)
    assert fam is not None and fam.memory_gib == 12.5 and fam.credits_per_hour == 0.11 and fam.source == "account"
    assert lookup_family("NOT_A_FAMILY", facts) is None


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        pytest.param(AccountFacts(backend="snowflake", cloud="azure"), "azure", id="explicit"),
        pytest.param(AccountFacts(backend="snowflake", pools=(ComputePool("P", "IDLE", "GPU_GCP_NV_L4_1_24G"),)),
                     "gcp", id="from_pool_family"),
        pytest.param(AccountFacts(backend="snowflake", pools=(ComputePool("P", "IDLE", "CPU_X64_S"),)),
                     None, id="ambiguous"),
    ],
)
def test_infer_cloud__facts__cloud_or_none(facts, expected) -> None:
    """The cloud comes from the facts, else from a cloud-specific family name, else is unknown."""
    assert infer_cloud(facts) == expected
