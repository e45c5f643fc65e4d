"""spec_overrides: builders produce valid overrides; the validator names every bad field."""

from __future__ import annotations

import pytest

from mljobs.skill.identifiers import InvalidIdentifier
from mljobs.skill.spec import (
    merge_overrides,
    resources_override,
    secret_env_override,
    shm_volume_override,
    validate_spec_overrides,
)


def main(**fields) -> dict:
    return {"spec": {"containers": [{"name": "main", **fields}]}}


def issues_of(overrides) -> list[tuple[str, str]]:
    return [(i.severity, i.path) for i in validate_spec_overrides(overrides)]


def errors_of(overrides) -> list[str]:
    return [i.path for i in validate_spec_overrides(overrides) if i.severity == "error"]


def test_secret_env_override__pip_index_url__valid_shape() -> None:
    """The private-feed secret is mounted as PIP_INDEX_URL in the main container and validates clean."""
    o = secret_env_override("ml.public.pypi_feed")
    assert o == {"spec": {"containers": [{"name": "main", "secrets": [
        {"snowflakeSecret": "ML.PUBLIC.PYPI_FEED", "secretKeyRef": "secret_string", "envVarName": "PIP_INDEX_URL"}]}]}}
    assert validate_spec_overrides(o) == []


@pytest.mark.parametrize(("secret", "env"), [("a'; drop", "PIP_INDEX_URL"), ("S", "1BAD"), ("S", "PIP INDEX")])
def test_secret_env_override__hostile__raises(secret: str, env: str) -> None:
    """Secret and variable names are validated."""
    with pytest.raises(InvalidIdentifier):
        secret_env_override(secret, env)


def test_resources_override__gpu__requests_equal_limits_and_valid() -> None:
    """GPU requests equal limits; the override only warns (library calls resources unsupported)."""
    o = resources_override(gpus=2, memory="100Gi", cpu="500m")
    res = o["spec"]["containers"][0]["resources"]
    assert res["requests"]["nvidia.com/gpu"] == res["limits"]["nvidia.com/gpu"] == 2
    assert all(sev == "warning" for sev, _ in issues_of(o))


@pytest.mark.parametrize("kw", [{"gpus": -1}, {"memory": "12GB"}, {"cpu": "2 cores"}])
def test_resources_override__bad_units__raise(kw) -> None:
    """Units outside the spec's vocabulary are refused by the builder."""
    with pytest.raises(ValueError):
        resources_override(**kw)


def test_shm_volume_override__has_size_and_mount() -> None:
    """/dev/shm is a memory volume with a size, mounted in main."""
    o = shm_volume_override("8Gi")
    assert o["spec"]["volumes"] == [{"name": "dshm", "source": "memory", "size": "8Gi"}]
    assert o["spec"]["containers"][0]["volumeMounts"] == [{"name": "dshm", "mountPath": "/dev/shm"}]
    assert errors_of(o) == []
    with pytest.raises(ValueError):
        shm_volume_override("8Gi", name="stage-volume")


def test_merge_overrides__lists_by_name() -> None:
    """Merging combines the main container's secrets and resources into one entry."""
    merged = merge_overrides(secret_env_override("S"), resources_override(gpus=1), None)
    assert merged is not None and len(merged["spec"]["containers"]) == 1
    assert set(merged["spec"]["containers"][0]) == {"name", "secrets", "resources"}
    assert merge_overrides(None, {}) is None


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        pytest.param(main(resources={"limits": {"memory": "4GB"}}), "spec.containers[0].resources.limits.memory",
                     id="memory_unit"),
        pytest.param(main(resources={"requests": {"cpu": "1.5 cores"}}), "spec.containers[0].resources.requests.cpu",
                     id="cpu_unit"),
        pytest.param(main(resources={"requests": {"nvidia.com/gpu": 1}}),
                     "spec.containers[0].resources.limits.nvidia.com/gpu", id="gpu_request_without_limit"),
        pytest.param(main(resources={"requests": {"nvidia.com/gpu": 1}, "limits": {"nvidia.com/gpu": 2}}),
                     "spec.containers[0].resources.limits.nvidia.com/gpu", id="gpu_request_ne_limit"),
        pytest.param(main(secrets=[{"snowflakeSecret": "S", "envVarName": "A", "directoryPath": "/s"}]),
                     "spec.containers[0].secrets[0]", id="secret_both_targets"),
        pytest.param(main(secrets=[{"snowflakeSecret": "S"}]), "spec.containers[0].secrets[0]",
                     id="secret_no_target"),
        pytest.param(main(secrets=[{"envVarName": "A"}]), "spec.containers[0].secrets[0].snowflakeSecret",
                     id="secret_no_object"),
        pytest.param(main(secrets=[{"snowflakeSecret": "S", "directoryPath": "/s", "secretKeyRef": "k"}]),
                     "spec.containers[0].secrets[0].secretKeyRef", id="secret_dir_with_key"),
        pytest.param(main(secrets=[{"snowflakeSecret": "x'y", "envVarName": "A"}]),
                     "spec.containers[0].secrets[0].snowflakeSecret", id="secret_hostile_name"),
        pytest.param({"spec": {"volumes": [{"name": "shm", "source": "memory"}]}}, "spec.volumes[0].size",
                     id="memory_volume_no_size"),
        pytest.param({"spec": {"volumes": [{"name": "stage-volume", "source": "local"}]}}, "spec.volumes[0].name",
                     id="managed_volume"),
        pytest.param({"spec": {"volumes": [{"name": "Shm_Vol", "source": "local"}]}}, "spec.volumes[0].name",
                     id="volume_name_rules"),
        pytest.param({"spec": {"volumes": [{"name": "v-", "source": "local"}]}}, "spec.volumes[0].name",
                     id="volume_name_ends_dash"),
        pytest.param({"spec": {"volumes": [{"name": "v" * 64, "source": "local"}]}}, "spec.volumes[0].name",
                     id="volume_name_too_long"),
        pytest.param({"spec": {"containers": [{"name": "sidecar"}]}}, "spec.containers[0].name",
                     id="new_container_without_image"),
        pytest.param(main(env={"BAD NAME": "x"}), "spec.containers[0].env.BAD NAME", id="env_name"),
        pytest.param(main(volumeMounts=[{"name": "dshm", "mountPath": "dev/shm"}]),
                     "spec.containers[0].volumeMounts[0].mountPath", id="relative_mount"),
        pytest.param({"spec": {"containers": {"name": "main"}}}, "spec.containers", id="containers_not_list"),
        pytest.param({"nope": 1}, "spec", id="no_spec"),
        pytest.param([1], "", id="not_a_mapping"),
    ],
)
def test_validate__bad_field__error_names_path(overrides, path: str) -> None:
    """Each rule violation is an error naming the exact field path."""
    assert path in errors_of(overrides), validate_spec_overrides(overrides)


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        pytest.param(main(colour="blue"), "spec.containers[0].colour", id="unknown_container_key"),
        pytest.param({"spec": {"containers": [], "extra": 1}}, "spec.extra", id="unknown_spec_key"),
        pytest.param(main(resources={"limits": {"tpu": 1}}), "spec.containers[0].resources.limits.tpu",
                     id="unknown_resource"),
        pytest.param(main(command=["python"]), "spec.containers[0].command", id="command_override"),
    ],
)
def test_validate__suspicious__warning_names_path(overrides, path: str) -> None:
    """Unknown keys and risky overrides are warnings with their path."""
    assert ("warning", path) in issues_of(overrides)


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param(None, id="none"),
        pytest.param(main(secrets=[{"snowflakeSecret": {"objectName": "DB.S.SEC"}, "directoryPath": "/secrets"}]),
                     id="secret_dir_object_name"),
        pytest.param(main(secrets=[{"snowflakeSecret": "SEC", "secretKeyRef": "password", "envVarName": "PW"}]),
                     id="secret_env"),
    ],
)
def test_validate__valid__no_issues(overrides) -> None:
    """Valid secrets-only overrides (what the library supports) produce no issues at all."""
    assert validate_spec_overrides(overrides) == []


@pytest.mark.parametrize("value", ["1024", "2G", "1.5Gi", "512Mi", "4k", 4096, "1Ti"])
def test_validate__memory_units__accepted(value) -> None:
    """Memory accepts plain bytes and binary/decimal suffixes."""
    assert errors_of(main(resources={"requests": {"memory": value}, "limits": {"memory": value}})) == []


@pytest.mark.parametrize("value", ["0.5", "500m", 2, 0.25, "1"])
def test_validate__cpu_units__accepted(value) -> None:
    """CPU accepts integers, decimals and millicores."""
    assert errors_of(main(resources={"requests": {"cpu": value}})) == []
