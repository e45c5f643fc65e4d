"""How big a model is, from its id, and what that means for the GPU verdict.

One table (gpu_patterns.yaml `model_sizes`) drives it: a size tag in the id wins (`llama-7b`, `opt-350m`,
`gemma3_instruct_1b`); otherwise the first family pattern that matches gives a size (`minilm` ~20M,
`bert-base` ~110M, `resnet50` a vision model). The decision the issue asks for: training a model at or above
`train_min_millions`, or any vision model, is GPU work; training a tiny one is not; running a model without
training it is GPU work only when it is large (large_models).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .model import Confidence, Evidence, GpuFinding, Location

#: A size tag: 7b, 1.3B, 8x7b, 350m (not inside a longer token such as "b16" or "m3").
SIZE_TAG = re.compile(r"(?:(\d+)x)?(\d+(?:\.\d+)?)([bm])(?![a-z0-9])")


@dataclass(frozen=True, slots=True)
class ModelSizeRules:
    train_min_millions: float
    families: tuple[tuple[re.Pattern[str], float, str], ...]  # (pattern, millions, kind)

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | None) -> ModelSizeRules:
        data = data or {}
        families = tuple(
            (re.compile(str(f["match"])), float(f["millions"]), str(f.get("kind", "text")))
            for f in data.get("families", ())
        )
        return cls(float(data.get("train_min_millions", 60)), families)


@dataclass(frozen=True, slots=True)
class ModelHint:
    """A model the code builds or loads: its id, size in millions of parameters (None: unknown) and kind."""

    name: str
    millions: float | None
    kind: str  # "text" | "vision"
    location: Location
    evidence: str


def size_tag_millions(low: str) -> float | None:
    """Largest size tag of a lower-cased id, in millions of parameters."""
    best: float | None = None
    for match in SIZE_TAG.finditer(low):
        start = match.start()
        if start and low[start - 1] in ".0123456789":
            continue
        experts, number, unit = match.groups()
        value = float(number) * (int(experts) if experts else 1)
        value = value * 1000 if unit == "b" else value
        best = value if best is None else max(best, value)
    return best


def model_size(name: str, rules: ModelSizeRules) -> tuple[float | None, str] | None:
    """(millions or None, kind) for a model id the table knows, None for a string that is not a model id."""
    low = name.strip().lower()
    if not low or len(low) > 200 or any(c.isspace() for c in low) or "://" in low:
        return None
    family = next(((m, k) for pattern, m, k in rules.families if pattern.search(low)), None)
    tag = size_tag_millions(low)
    if tag is not None:
        return tag, family[1] if family else "text"
    return family


def is_vision_name(name: str, rules: ModelSizeRules) -> bool:
    """A bare identifier that names a vision architecture (`resnet18`, `efficientnet_b0`)."""
    found = model_size(name, rules)
    return found is not None and found[1] == "vision"


def training_findings(
    hints: Sequence[ModelHint], training: Sequence[Evidence], rules: ModelSizeRules
) -> list[GpuFinding]:
    """GPU findings for models the program trains that are too big (or too image-heavy) for a CPU."""
    if not training:
        return []
    out = []
    for hint in hints:
        if hint.kind == "vision":
            reason = f"trains {hint.name!r}, a vision model (convolutions or attention over images), which needs a GPU"
        elif hint.millions is not None and hint.millions >= rules.train_min_millions:
            reason = f"trains {hint.name!r}, a ~{_millions_text(hint.millions)}-parameter model, which needs a GPU"
        else:
            continue
        out.append(GpuFinding("large_model", hint.location, hint.evidence, reason, Confidence.LIKELY))
    return out


def small_models_only(hints: Sequence[ModelHint], rules: ModelSizeRules) -> ModelHint | None:
    """The largest model when every model the program names is known and small (none is a vision model)."""
    if not hints or any(h.millions is None or h.kind == "vision" for h in hints):
        return None
    biggest = max(hints, key=lambda h: h.millions or 0.0)
    return biggest if (biggest.millions or 0.0) < rules.train_min_millions else None


def _millions_text(millions: float) -> str:
    return f"{millions / 1000:g}B" if millions >= 1000 else f"{millions:g}M"
