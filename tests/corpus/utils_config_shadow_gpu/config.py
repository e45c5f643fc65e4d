"""Load the YAML run configuration (local module; unrelated to PyPI `config`)."""
from dataclasses import dataclass

import yaml


@dataclass
class RunConfig:
    model: dict
    train: dict


def load_config(path: str) -> RunConfig:
    with open(path) as fh:
        raw = yaml.safe_load(fh)
    return RunConfig(model=raw["model"], train=raw["train"])
