"""The knowledge every pass needs, as frozen types built from skill/data (see mljobs.skill.knowledge).

Passes take their part of `Rules` as an argument, so tests can hand them tiny inline tables.
"""

from __future__ import annotations

from dataclasses import dataclass

from .compute import ComputeRules
from .extras import ExtraRules
from .network import NetworkRules
from .packages import PackageRules
from .removed_apis import RemovedApiRules


@dataclass(frozen=True, slots=True)
class Rules:
    packages: PackageRules
    compute: ComputeRules
    network: NetworkRules
    removed_apis: RemovedApiRules = RemovedApiRules()
    extras: ExtraRules = ExtraRules()  # APIs that import a distribution their library does not install
