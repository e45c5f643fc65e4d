"""Command lines the code runs but the analyzer cannot read: notebook `!` lines and subprocess strings.

`!python run_glue.py --model_name_or_path bert-base-uncased --do_train --fp16`, `torchrun --nproc_per_node 4
train.py`, `!pip install torch==2.1+cu121`: the program is out of sight, but its command line says whether
it trains, which model, whether it asks for a GPU, and whether a CUDA build is installed for it. The words
that decide are data (gpu_patterns.yaml `commands`); this module only reads them.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_PYTHON = re.compile(r"^(?:.*/)?python(?:\d+(?:\.\d+)?)?$|^\{sys\.executable\}$|^\$\{?sys\.executable\}?$")
_INSTALLERS = frozenset({"pip", "pip3", "uv", "conda", "mamba", "micromamba"})
#: Options whose value names a model (a Hugging Face id, a timm / torchvision architecture).
_MODEL_FLAG = re.compile(r"^--?(?:model(?:_name(?:_or_path)?|_id|_path|_type)?|base_model|"
                         r"pretrained_model_name_or_path|teacher_model|arch|backbone|network)(?:=(.*))?$")


@dataclass(frozen=True, slots=True)
class CommandRules:
    launchers: tuple[str, ...] = ()
    train_words: frozenset[str] = frozenset()
    gpu_flags: Mapping[str, Any] = field(default_factory=dict)  # "" presence, "positive", or allowed values
    cuda_builds: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | None) -> CommandRules:
        data = data or {}
        flags: dict[str, Any] = {}
        for flag, spec in (data.get("gpu_flags") or {}).items():
            flags[str(flag)] = tuple(str(v).lower() for v in spec) if isinstance(spec, list) else str(spec)
        return cls(
            launchers=tuple(str(w) for w in data.get("launchers", ())),
            train_words=frozenset(str(w) for w in data.get("train_words", ())),
            gpu_flags=flags,
            cuda_builds=tuple(re.compile(str(p)) for p in data.get("cuda_builds", ())),
        )


@dataclass(slots=True)
class CommandFacts:
    """What one command line says. `gpu` holds (signal, reason) pairs; `models` the model ids it names."""

    runs_program: bool = False
    trains: bool = False
    gpu: list[tuple[str, str]] = field(default_factory=list)
    models: list[str] = field(default_factory=list)


def _tokens(text: str) -> list[str]:
    text = text.strip().lstrip("!%").strip()
    try:
        return shlex.split(text, comments=True)
    except ValueError:
        return text.split()


def read_command(text: str, rules: CommandRules) -> CommandFacts:
    """Read one shell command line (several commands joined by && or ; are read together)."""
    facts = CommandFacts()
    tokens = _tokens(text)
    if not tokens:
        return facts
    joined = " ".join(tokens)
    if any(t in _INSTALLERS for t in tokens[:3]) and "install" in tokens:
        for pattern in rules.cuda_builds:
            found = pattern.search(joined)
            if found:
                facts.gpu.append(("gpu_library", f"installs CUDA builds of its packages ({found.group(0)})"))
                break
        return facts
    for launcher in rules.launchers:
        if re.search(rf"(?:^|\s|/|-m\s){re.escape(launcher)}(?:\s|$)", joined):
            facts.runs_program = True
            facts.gpu.append(("data_parallel", f"starts its program with the distributed launcher `{launcher}`"))
            break
    for i, token in enumerate(tokens):
        base = token.rsplit("/", 1)[-1]
        if _PYTHON.match(token) or base.endswith((".py", ".sh")):
            facts.runs_program = True
        if token in rules.train_words or base in rules.train_words:
            facts.trains = True
        flag, eq, inline = token.partition("=")
        value = inline if eq else (tokens[i + 1] if i + 1 < len(tokens) else "")
        spec = rules.gpu_flags.get(flag)
        if spec is not None:
            if spec == "" and not eq:
                facts.gpu.append(("half_precision" if "16" in flag else "accelerator", f"passes {flag}"))
            elif spec == "positive" and value.isdigit() and int(value) > 0:
                facts.gpu.append(("accelerator", f"passes {flag} {value}"))
            elif isinstance(spec, tuple) and value.lower() in spec:
                facts.gpu.append(("accelerator", f"passes {flag} {value}"))
        match = _MODEL_FLAG.match(token)
        if match:
            name = (match.group(1) if match.group(1) is not None else value).strip("'\"")
            if name and not name.startswith(("$", "{", "-", "/", ".")):
                facts.models.append(name)
    return facts
