"""Extras: library calls that import a distribution the library does not install.

`keras.utils.plot_model(model)` imports pydot, `optuna.visualization.plot_*` imports plotly,
`df.to_parquet(...)` imports pyarrow: the script's imports are all planned, yet the job fails at the call.
The table (skill/data/extras.yaml) names such APIs and what they need. Their uses are found by the
removed-APIs walk (analyzers/removed_apis.py reads both tables in one pass per file, so a file is walked once);
this module holds the table and turns the uses into `ExtraNeed`s, which the packages step
(`classify_packages(extras=...)`) adds as package findings unless the job already requires the distribution.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from packaging.utils import canonicalize_name

from .model import Confidence, Evidence
from .removed_apis import ApiKind, ApiUse, api_row


@dataclass(frozen=True, slots=True)
class ExtraApi:
    """One table row: an API, the distributions it imports at call time, and programs it runs."""

    api: str
    kind: ApiKind  # ATTRIBUTE or METHOD
    needs: tuple[str, ...]
    note: str
    source: str
    binaries: tuple[str, ...] = ()

    @property
    def display(self) -> str:
        return f"{self.api}()" if self.kind is ApiKind.METHOD else self.api


@dataclass(frozen=True, slots=True)
class ExtraRules:
    """The table, validated. Build with `from_data`."""

    apis: tuple[ExtraApi, ...] = ()

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ExtraRules:
        """Validate the parsed YAML.

        Raises:
            ValueError: a row misses a field, has an unknown kind or key, a non-canonical or empty `needs`,
                a method not written module.Class.method, or repeats an api.
        """
        rows = data.get("apis") if isinstance(data, Mapping) else None
        if not isinstance(rows, list):
            raise ValueError("extras: expected a top-level 'apis' list")
        allowed = {"api", "kind", "needs", "binaries", "note", "source"}
        out: list[ExtraApi] = []
        seen: set[str] = set()
        for i, row in enumerate(rows):
            where, kind = api_row(f"extras[{i}]", row, allowed, ("api", "kind", "note", "source"))
            if kind is ApiKind.KEYWORD:
                raise ValueError(f"{where}: kind keyword is not supported here (attribute or method)")
            if row["api"].count(".") < (2 if kind is ApiKind.METHOD else 1):
                raise ValueError(f"{where}: {row['api']!r} is too short (module.name, or module.Class.method)")
            needs = row.get("needs")
            if not isinstance(needs, list) or not needs:
                raise ValueError(f"{where}: 'needs' must be a non-empty list of distributions")
            for dist in needs:
                if not isinstance(dist, str) or canonicalize_name(dist) != dist:
                    raise ValueError(f"{where}: distribution {dist!r} is not canonical")
            binaries = row.get("binaries", [])
            if not isinstance(binaries, list) or not all(isinstance(b, str) and b for b in binaries):
                raise ValueError(f"{where}: 'binaries' must be a list of program names")
            if row["api"] in seen:
                raise ValueError(f"{where}: {row['api']} is listed twice")
            seen.add(row["api"])
            out.append(ExtraApi(row["api"], kind, tuple(needs), row["note"], row["source"], tuple(binaries)))
        return cls(tuple(out))


@dataclass(frozen=True, slots=True)
class ExtraNeed:
    """A distribution one API use imports at run time, with the use as evidence."""

    distribution: str
    evidence: Evidence
    confidence: Confidence
    hint: str | None = None  # system programs to mention (never installed)
    optional: bool = False  # the use is inside an import guard: the code copes without it


def extra_needs(uses: Iterable[ApiUse], rules: ExtraRules) -> tuple[ExtraNeed, ...]:
    """One need per (extras use, distribution it needs), in the order of the uses (source order per file)."""
    out: list[ExtraNeed] = []
    for use in uses:
        if not use.extra:
            continue
        api = rules.apis[use.index]
        hint = None
        if api.binaries:
            programs = ", ".join(f"`{b}`" for b in api.binaries)
            hint = (f"{api.display} also runs {programs} (a system program pip does not install; "
                    "the image must provide it)")
        for dist in api.needs:
            reason = f"{api.display} needs {dist} at run time: {api.note}"
            out.append(ExtraNeed(dist, Evidence(use.location, use.code, reason), use.confidence, hint,
                                 use.optional))
    return tuple(out)
