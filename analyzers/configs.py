"""GPU settings and model ids in a project's config files (YAML / JSON).

LightningCLI and Hydra keep the trainer's accelerator in a YAML file; DeepSpeed and Accelerate keep fp16 /
bf16 in JSON or YAML; training recipes name the model to fine-tune (`name_or_path: Qwen/Qwen3-1.7B`). The
keys are the same as the keyword arguments the compute pass knows (gpu_patterns.yaml `gpu_keywords`), so
the same rules judge them; a config file may be one alternative of several, so a finding here is at most
`likely`. Only project folders are read (a lone script's neighbours are not its configs).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from . import guarded
from .compute_rules import ComputeRules, ComputeScan, LargeModelHint, _large_model, _norm
from .model import Confidence, GpuFinding, ImportFinding, ImportKind, Location, NetworkCategory, NetworkFinding
from .modelsize import ModelHint, model_size

_SUFFIXES = (".yaml", ".yml", ".json")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def config_files(files: Iterable[str], rules: ComputeRules) -> list[str]:
    """The project's config files worth reading, in path order, within the configured limits."""
    settings = rules.config_files
    skip = set(settings.get("skip_dirs", ()))
    out = []
    for rel in sorted(files):
        parts = PurePosixPath(rel).parts
        if rel.endswith(_SUFFIXES) and not skip.intersection(parts[:-1]) and not parts[-1].startswith("."):
            out.append(rel)
    return out[: int(settings.get("max_files", 200))]


def read_configs(root: Path, files: Iterable[str], rules: ComputeRules) -> list[tuple[str, str, Any]]:
    """(path, text, parsed data) of each config file worth reading, read once per analysis for both the
    compute and the import step, through the guarded reader: a link leaving the project is not followed."""
    max_bytes = int(rules.config_files.get("max_bytes", 262144))
    out = []
    for rel in config_files(files, rules):
        try:
            text = guarded.read_text(root / rel, root, limit=max_bytes, encoding="utf-8")
            data = json.loads(text) if rel.endswith(".json") else yaml.load(text, Loader=_LOADER)  # noqa: S506
        except (guarded.GuardedReadError, ValueError, yaml.YAMLError):
            continue  # too big, outside the project, or not a readable config: nothing to learn from it
        out.append((rel, text, data))
    return out


def scan_configs(configs: Iterable[tuple[str, str, Any]], rules: ComputeRules) -> list[ComputeScan]:
    """One ComputeScan per config file that says something about GPUs or models."""
    scans = []
    for rel, text, data in configs:
        scan = _scan_one(rel, text, data, rules)
        if scan is not None:
            scans.append(scan)
    return scans


#: Keys whose value is a class or function the config makes the program import (LightningCLI / jsonargparse
#: `class_path`, Hydra `_target_`).
_TARGET_KEYS = frozenset({"class_path", "_target_"})
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


def config_imports(configs: Iterable[tuple[str, str, Any]]) -> list[ImportFinding]:
    """Modules the project's config files make the program import (`class_path: pkg.models.Net`)."""
    out: list[ImportFinding] = []
    for rel, text, data in configs:
        for key, value in _items(data):
            if key in _TARGET_KEYS and isinstance(value, str) and _DOTTED.match(value):
                module = value.rsplit(".", 1)[0]
                out.append(ImportFinding(ImportKind.DYNAMIC, module, (value.rsplit(".", 1)[1],),
                                         Location(rel, _line_of(text, key)), f"{key}: {value}"[:160],
                                         Confidence.LIKELY))
    return out


#: A Hugging Face Hub id: owner/name, no path segments beyond that.
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")


def config_network(scans: Iterable[ComputeScan], hub_hosts: tuple[str, ...]) -> list[NetworkFinding]:
    """Model ids in config files that are Hub ids: the program downloads them from the Hugging Face Hub."""
    out = []
    for scan in scans:
        for hint in scan.models:
            if _HUB_ID.match(hint.name) and not hint.name.startswith((".", "/")):
                out.append(NetworkFinding(NetworkCategory("huggingface"), hub_hosts, hint.location, hint.evidence,
                                          f"the config names {hint.name!r}, downloaded from the Hugging Face Hub",
                                          Confidence.LIKELY))
    return out


def _items(data: Any, depth: int = 0) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair of nested mappings and lists."""
    if depth > 20:
        return
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str):
                yield key, value
            yield from _items(value, depth + 1)
    elif isinstance(data, list):
        for value in data:
            yield from _items(value, depth + 1)


def _line_of(text: str, key: str) -> int:
    found = re.search(rf"""^\s*["']?{re.escape(key)}["']?\s*:""", text, re.M)
    return text.count("\n", 0, found.start()) + 1 if found else 1


def _scan_one(rel: str, text: str, data: Any, rules: ComputeRules) -> ComputeScan | None:
    keys = set(rules.config_files.get("keys", ()))
    gpu: list[GpuFinding] = []
    cpu: list[GpuFinding] = []
    models: dict[str, ModelHint] = {}
    larges: dict[str, LargeModelHint] = {}
    settings = dict(_items(data))
    for key, value in _items(data):
        rule = rules.keywords.get(key)
        if isinstance(value, dict) and isinstance(value.get("enabled"), bool):
            value = value["enabled"]  # DeepSpeed: "fp16": {"enabled": true}
        line = _line_of(text, key)
        loc = Location(rel, line)
        evidence = f"{key}: {value}"[:160]
        if key in keys and rule is not None and not isinstance(value, (dict, list)) or \
                key in keys and rule is not None and isinstance(value, list) and rule.gpu_positive_int:
            norm = _norm(value)
            if norm in rule.cpu_values:
                cpu.append(GpuFinding("cpu_forced", loc, evidence, f"the config turns the GPU off ({key})",
                                      Confidence.LIKELY))
            elif _gpu_value(rule, value, norm, settings, rules):
                gpu.append(GpuFinding(rule.signal.value, loc, evidence,
                                      f"{rule.reason} in the config file {rel}", Confidence.LIKELY))
        if isinstance(value, str) and any(w in key.lower() for w in rules.model_name_words):
            size = _large_model(value, rules)
            if size is not False:
                larges.setdefault(value, LargeModelHint(value, size, loc, evidence))
            known = model_size(value, rules.model_sizes)
            if known is not None and "/" in value or known is not None and known[1] == "vision":
                millions = known[0] if known[0] is not None else (float(size) * 1000 if size else None)
                models.setdefault(value, ModelHint(value, millions, known[1], loc, evidence))
    if not (gpu or cpu or models or larges):
        return None
    return ComputeScan(path=rel, gpu=tuple(gpu), cpu=tuple(cpu), large_models=tuple(larges.values()),
                       models=tuple(models.values()))


def _gpu_value(rule: Any, value: Any, norm: Any, settings: dict[str, Any], rules: ComputeRules) -> bool:
    if rule.device_value:
        return isinstance(value, str) and value.strip().lower().startswith(rules.cuda_prefixes)
    if norm in rule.gpu_values:
        return True
    if rule.gpu_any and value not in (None, False, "", "none"):
        return True
    if rule.gpu_positive_int:
        count = len(value) if isinstance(value, list) else value if isinstance(value, int) else 0
        if count and count > 0 and not isinstance(value, bool):
            # Lightning `devices: 2` means GPUs only with a GPU accelerator (or none named).
            accelerator = str(settings.get("accelerator", "gpu")).lower()
            return accelerator not in ("cpu", "mps")
    return False
