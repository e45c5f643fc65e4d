"""spec_overrides for ML Jobs: builders for common needs and a validator against the SPCS service spec.

The server merges `spec_overrides` into the spec it generates (lists of dicts merged by `name`; the job's
container is `main`). snowflake-ml-python 2.6.0 rejects overrides of its managed volumes and warns about any
`spec` key other than `containers` and any container key other than `name`/`secrets` (research mljobs-api
§2.5); the service-spec rules (names, units, GPUs, secrets, memory volumes) come from the SPCS specification
reference (seed 003).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from .identifiers import InvalidIdentifier, validate_env_name, validate_qualified

MAIN_CONTAINER = "main"
MANAGED_VOLUMES = frozenset({"stage-volume", "result-volume"})
#: Container, endpoint and volume names: <= 63 chars of lowercase alphanumerics or '-', starting with a letter
#: and ending with an alphanumeric.
NAME_RE = re.compile(r"^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$")
MEMORY_RE = re.compile(r"^(?:\d+(?:\.\d+)?)(?:Ki|Mi|Gi|Ti|k|M|G|T)?$")
CPU_RE = re.compile(r"^(?:\d+(?:\.\d+)?|\d+m)$")
GPU_KEY = "nvidia.com/gpu"

_TOP_KEYS = {"spec", "serviceRoles", "platformMonitor", "capabilities"}
_SPEC_KEYS = {"containers", "endpoints", "volumes", "logExporters"}
_CONTAINER_KEYS = {"name", "image", "command", "args", "env", "readinessProbe", "volumeMounts", "resources",
                   "secrets"}
_LIBRARY_CONTAINER_KEYS = {"name", "secrets"}  # what snowflake-ml-python 2.6.0 accepts without a warning
_RESOURCE_KEYS = {"memory", "cpu", GPU_KEY}
_SECRET_KEYS = {"snowflakeSecret", "secretKeyRef", "envVarName", "directoryPath"}
_VOLUME_KEYS = {"name", "source", "size", "uid", "gid", "stageConfig", "blockConfig"}
_VOLUME_SOURCES = {"local", "memory", "stage", "block"}
_ENDPOINT_KEYS = {"name", "port", "portRange", "public", "protocol"}


@dataclass(frozen=True, slots=True)
class SpecIssue:
    """One problem in a spec_overrides dict. `path` names the field, e.g. `spec.containers[0].resources`."""

    severity: str  # "error" (the library or Snowflake rejects it) | "warning" (accepted, but check it)
    path: str
    message: str


# ------------------------------------------------------------------------------------------------ builders


def secret_env_override(secret: str, env_var: str = "PIP_INDEX_URL", key: str = "secret_string") -> dict[str, Any]:
    """Mount a Snowflake secret into the `main` container as an environment variable.

    Typical use: a private package index URL with credentials (`PIP_INDEX_URL`), kept out of code and job env.

    Raises:
        InvalidIdentifier: `secret` is not a plain `[db.][schema.]name`, or `env_var` is not a valid name.
    """
    name = validate_qualified(secret, "secret")
    env = validate_env_name(env_var)
    if not re.match(r"^[a-z_][a-z0-9_]*$", key):
        raise InvalidIdentifier(f"secretKeyRef {key!r} must be a secret key such as secret_string, username, password")
    return {"spec": {"containers": [{"name": MAIN_CONTAINER, "secrets": [
        {"snowflakeSecret": name, "secretKeyRef": key, "envVarName": env}]}]}}


def resources_override(*, gpus: int | None = None, memory: str | None = None, cpu: str | float | None = None
                       ) -> dict[str, Any]:
    """Requests and limits for the `main` container (GPU requests always equal limits).

    Raises:
        ValueError: a negative GPU count or a value in units the spec does not accept.
    """
    requests: dict[str, Any] = {}
    limits: dict[str, Any] = {}
    if gpus is not None:
        if isinstance(gpus, bool) or not isinstance(gpus, int) or gpus < 0:
            raise ValueError(f"gpus must be a non-negative integer, got {gpus!r}")
        requests[GPU_KEY] = limits[GPU_KEY] = gpus
    if memory is not None:
        if not MEMORY_RE.match(str(memory)):
            raise ValueError(f"memory {memory!r} must be bytes or a number with Ki/Mi/Gi/Ti or k/M/G/T")
        requests["memory"] = limits["memory"] = str(memory)
    if cpu is not None:
        if not CPU_RE.match(str(cpu)):
            raise ValueError(f"cpu {cpu!r} must be a number of vCPUs (0.5) or millicores (500m)")
        requests["cpu"] = cpu
    resources: dict[str, Any] = {}
    if requests:
        resources["requests"] = requests
    if limits:
        resources["limits"] = limits
    return {"spec": {"containers": [{"name": MAIN_CONTAINER, "resources": resources}]}}


def shm_volume_override(size: str, name: str = "dshm") -> dict[str, Any]:
    """A memory-backed volume mounted at /dev/shm (PyTorch DataLoader workers need more than the default).

    The size counts against the container's memory.

    Raises:
        ValueError: `size` has bad units, `name` breaks the volume-name rules, or names a managed volume.
    """
    if not MEMORY_RE.match(str(size)):
        raise ValueError(f"size {size!r} must be bytes or a number with Ki/Mi/Gi/Ti or k/M/G/T")
    if not NAME_RE.match(name) or name in MANAGED_VOLUMES:
        raise ValueError(f"volume name {name!r} must be lowercase alphanumerics or '-', start with a letter, "
                         "end alphanumeric, <= 63 chars, and not stage-volume/result-volume")
    return {"spec": {
        "containers": [{"name": MAIN_CONTAINER, "volumeMounts": [{"name": name, "mountPath": "/dev/shm"}]}],
        "volumes": [{"name": name, "source": "memory", "size": str(size)}],
    }}


def merge_overrides(*overrides: dict[str, Any] | None) -> dict[str, Any] | None:
    """Deep-merge overrides the way the server merges them into the spec (lists of dicts merged by `name`).

    Returns None when every input is empty. Inputs are not modified.
    """
    out: dict[str, Any] = {}
    for item in overrides:
        if item:
            out = _merge(out, copy.deepcopy(item))
    return out or None


def _merge(base: Any, patch: Any) -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            merged[key] = _merge(base[key], value) if key in base else value
        return merged
    if isinstance(base, list) and isinstance(patch, list) and all(
            isinstance(x, dict) and "name" in x for x in base + patch):
        merged_list = list(base)
        for item in patch:
            idx = next((i for i, x in enumerate(merged_list) if x["name"] == item["name"]), None)
            if idx is None:
                merged_list.append(item)
            else:
                merged_list[idx] = _merge(merged_list[idx], item)
        return merged_list
    if isinstance(base, list) and isinstance(patch, list):
        return base + [x for x in patch if x not in base]
    return patch


# ------------------------------------------------------------------------------------------------ validation


class _Checker:
    def __init__(self) -> None:
        self.issues: list[SpecIssue] = []

    def error(self, path: str, message: str) -> None:
        self.issues.append(SpecIssue("error", path, message))

    def warn(self, path: str, message: str) -> None:
        self.issues.append(SpecIssue("warning", path, message))

    def unknown(self, path: str, data: dict[str, Any], known: set[str]) -> None:
        for key in sorted(set(data) - known, key=str):
            self.warn(f"{path}.{key}" if path else str(key), f"unknown key {key!r}; expected one of {sorted(known)}")

    def name(self, path: str, value: Any) -> None:
        if not isinstance(value, str) or not NAME_RE.match(value):
            self.error(path, f"name {value!r} must be <= 63 lowercase alphanumerics or '-', start with a letter "
                             "and end with an alphanumeric")

    def items(self, path: str, value: Any) -> list[tuple[str, dict[str, Any]]]:
        if not isinstance(value, list):
            self.error(path, "must be a list")
            return []
        out = []
        for i, item in enumerate(value):
            if isinstance(item, dict):
                out.append((f"{path}[{i}]", item))
            else:
                self.error(f"{path}[{i}]", "must be a mapping")
        return out


def _quantity_ok(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if key == GPU_KEY:
        return isinstance(value, int) and value >= 0
    if isinstance(value, (int, float)):
        return value >= 0 and (key == "cpu" or float(value).is_integer())
    pattern = MEMORY_RE if key == "memory" else CPU_RE
    return isinstance(value, str) and pattern.match(value) is not None


def _check_resources(c: _Checker, path: str, resources: Any) -> None:
    if not isinstance(resources, dict):
        c.error(path, "must be a mapping with requests and/or limits")
        return
    c.unknown(path, resources, {"requests", "limits"})
    for part in ("requests", "limits"):
        values = resources.get(part)
        if values is None:
            continue
        if not isinstance(values, dict):
            c.error(f"{path}.{part}", "must be a mapping")
            continue
        c.unknown(f"{path}.{part}", values, _RESOURCE_KEYS)
        for key in _RESOURCE_KEYS & set(values):
            if not _quantity_ok(key, values[key]):
                units = {"memory": "bytes or a number with Ki/Mi/Gi/Ti or k/M/G/T (e.g. 16Gi)",
                         "cpu": "vCPUs (0.5, 2) or millicores (500m)", GPU_KEY: "a non-negative integer"}[key]
                c.error(f"{path}.{part}.{key}", f"{values[key]!r} is not {units}")
    raw_req, raw_lim = resources.get("requests"), resources.get("limits")
    req: dict[str, Any] = raw_req if isinstance(raw_req, dict) else {}
    lim: dict[str, Any] = raw_lim if isinstance(raw_lim, dict) else {}
    if GPU_KEY in req or GPU_KEY in lim:
        if req.get(GPU_KEY) != lim.get(GPU_KEY):
            c.error(f"{path}.limits.{GPU_KEY}", f"GPU requests ({req.get(GPU_KEY)!r}) must equal limits "
                                                f"({lim.get(GPU_KEY)!r}); without both the container sees no GPU")


def _check_secret(c: _Checker, path: str, secret: dict[str, Any]) -> None:
    c.unknown(path, secret, _SECRET_KEYS)
    ref = secret.get("snowflakeSecret")
    if ref is None:
        c.error(f"{path}.snowflakeSecret", "is required (the Snowflake secret object name)")
    else:
        name = ref.get("objectName") if isinstance(ref, dict) else ref
        try:
            validate_qualified(name, "snowflakeSecret")
        except InvalidIdentifier as exc:
            c.error(f"{path}.snowflakeSecret", str(exc))
    has_env, has_dir = "envVarName" in secret, "directoryPath" in secret
    if has_env == has_dir:
        c.error(path, "specify exactly one of envVarName or directoryPath")
    if has_env:
        try:
            validate_env_name(secret["envVarName"])
        except InvalidIdentifier as exc:
            c.error(f"{path}.envVarName", str(exc))
    if has_dir:
        if not isinstance(secret["directoryPath"], str) or not secret["directoryPath"].startswith("/"):
            c.error(f"{path}.directoryPath", "must be an absolute path in the container")
        if "secretKeyRef" in secret:
            c.error(f"{path}.secretKeyRef", "must not be set with directoryPath (every key becomes a file)")


def _check_container(c: _Checker, path: str, container: dict[str, Any]) -> None:
    c.unknown(path, container, _CONTAINER_KEYS)
    if "name" not in container:
        c.error(f"{path}.name", f"is required; the job's container is {MAIN_CONTAINER!r}")
    else:
        c.name(f"{path}.name", container["name"])
        if container["name"] != MAIN_CONTAINER and "image" not in container:
            c.error(f"{path}.name", f"container {container['name']!r} is not the job's {MAIN_CONTAINER!r} "
                                    "container, so it would be added and needs an image")
    extra = sorted(set(container) & _CONTAINER_KEYS - _LIBRARY_CONTAINER_KEYS)
    if extra:
        c.warn(path, f"snowflake-ml-python 2.6.0 warns that container keys {extra} are not officially supported; "
                     "the server still merges them")
    env = container.get("env")
    if env is not None:
        if not isinstance(env, dict):
            c.error(f"{path}.env", "must be a mapping of NAME: value")
        else:
            for key, value in env.items():
                try:
                    validate_env_name(key)
                except InvalidIdentifier as exc:
                    c.error(f"{path}.env.{key}", str(exc))
                if not isinstance(value, (str, int, float, bool)):
                    c.error(f"{path}.env.{key}", "must be a string or number")
    if "resources" in container:
        _check_resources(c, f"{path}.resources", container["resources"])
    if "secrets" in container:
        for p, secret in c.items(f"{path}.secrets", container["secrets"]):
            _check_secret(c, p, secret)
    if "volumeMounts" in container:
        for p, mount in c.items(f"{path}.volumeMounts", container["volumeMounts"]):
            c.unknown(p, mount, {"name", "mountPath"})
            c.name(f"{p}.name", mount.get("name"))
            if not isinstance(mount.get("mountPath"), str) or not mount["mountPath"].startswith("/"):
                c.error(f"{p}.mountPath", "must be an absolute path in the container")
    for key in ("command", "args"):
        if key in container and not (isinstance(container[key], list)
                                     and all(isinstance(x, str) for x in container[key])):
            c.error(f"{path}.{key}", "must be a list of strings")
        elif key in container:
            c.warn(f"{path}.{key}", f"overriding {key} replaces the ML Job launcher; the job may not start")


def _check_volume(c: _Checker, path: str, volume: dict[str, Any]) -> None:
    c.unknown(path, volume, _VOLUME_KEYS)
    name = volume.get("name")
    c.name(f"{path}.name", name)
    if name in MANAGED_VOLUMES:
        c.error(f"{path}.name", f"may not override the managed volume {name!r} (snowflake-ml-python rejects it)")
    source = volume.get("source")
    if not isinstance(source, str) or not (source in _VOLUME_SOURCES or source.startswith("@")):
        c.error(f"{path}.source", f"{source!r} must be local, memory, block, stage or @<stage>")
    if source == "memory":
        if "size" not in volume:
            c.error(f"{path}.size", "a memory volume needs a size (e.g. 8Gi); it counts against container memory")
        elif not _quantity_ok("memory", volume["size"]):
            c.error(f"{path}.size", f"{volume['size']!r} is not bytes or a number with Ki/Mi/Gi/Ti or k/M/G/T")


def validate_spec_overrides(overrides: Any) -> list[SpecIssue]:
    """Check a spec_overrides dict against the service spec and snowflake-ml-python's own checks.

    Returns:
        Every issue found, each naming its field path; an empty list means nothing to report. Errors are what
        the library or Snowflake rejects (bad names/units, GPU requests != limits, secrets without exactly one of
        envVarName/directoryPath, memory volumes without size, managed volumes); warnings are accepted but
        suspicious (unknown keys, keys the library calls unsupported, overriding command/args).
    """
    c = _Checker()
    if overrides is None:
        return []
    if not isinstance(overrides, dict):
        return [SpecIssue("error", "", "spec_overrides must be a mapping like {'spec': {'containers': [...]}}")]
    c.unknown("", overrides, _TOP_KEYS)
    spec = overrides.get("spec")
    if spec is None:
        c.error("spec", "is required")
        return c.issues
    if not isinstance(spec, dict):
        c.error("spec", "must be a mapping")
        return c.issues
    c.unknown("spec", spec, _SPEC_KEYS)
    extra = sorted(set(spec) & _SPEC_KEYS - {"containers"})
    if extra:
        c.warn("spec", f"snowflake-ml-python 2.6.0 warns that spec keys {extra} are not officially supported; "
                       "the server still merges them")
    for key, kind, check in (("containers", "container", _check_container), ("volumes", "volume", _check_volume)):
        if key not in spec:
            continue
        seen: set[str] = set()
        for p, item in c.items(f"spec.{key}", spec[key]):
            name = item.get("name")
            if isinstance(name, str):
                if name in seen:
                    c.error(f"{p}.name", f"duplicate {kind} name {name!r}")
                seen.add(name)
            check(c, p, item)
    if "endpoints" in spec:
        for p, endpoint in c.items("spec.endpoints", spec["endpoints"]):
            c.unknown(p, endpoint, _ENDPOINT_KEYS)
            c.name(f"{p}.name", endpoint.get("name"))
            port = endpoint.get("port")
            if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535):
                c.error(f"{p}.port", f"{port!r} must be a TCP port 1-65535")
    return c.issues
