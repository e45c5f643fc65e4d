"""Local EAI config: defaults without a file, the YAML format, overrides, and clear errors for bad files."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mljobs.server.errors import ConfigurationError
from mljobs.server.local_eais import CONFIG_ENV, FILE_NAME, config_path, load_local_eais
from mljobs.server.runner.netguard import host_allowed, parse_rule
from mljobs.server.settings import Settings


def _write(settings: Settings, text: str) -> Path:
    settings.ensure_state_dir()
    path = settings.state_dir / FILE_NAME
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_load__no_file__defaults_cover_pypi_and_hf() -> None:
    """Without a file the defaults hold PYPI_EAI (the 4 documented hosts) and a Hugging Face EAI."""
    config = load_local_eais(Settings())
    assert config.path is None
    pypi = config.get("pypi_eai")
    assert pypi is not None
    assert set(pypi.hosts) == {"pypi.org", "pypi.python.org", "pythonhosted.org", "files.pythonhosted.org"}
    hf_rules = [parse_rule(h) for h in config.get("HUGGINGFACE_EAI").hosts]  # type: ignore[union-attr]
    assert host_allowed(hf_rules, "huggingface.co") and host_allowed(hf_rules, "cdn-lfs.hf.co")


def test_load__file_with_defaults__merges_and_overrides() -> None:
    """Entries add to the defaults; a same-named entry replaces the default (names are upper-cased)."""
    settings = Settings()
    path = _write(
        settings,
        """
        eais:
          my_api:
            hosts: [api.example.com, "*.storage.example.com:0"]
            comment: internal API
          PYPI_EAI: [pypi.org]
        """,
    )
    config = load_local_eais(settings)
    assert config.path == path
    assert config.get("MY_API").hosts == ("api.example.com", "*.storage.example.com:0")  # type: ignore[union-attr]
    assert config.get("PYPI_EAI").hosts == ("pypi.org",)  # type: ignore[union-attr]
    assert config.get("HUGGINGFACE_EAI") is not None


def test_load__defaults_false__only_file_entries() -> None:
    """`defaults: false` makes the file the complete list."""
    settings = Settings()
    _write(settings, "defaults: false\neais:\n  ONLY: [only.example.com]\n")
    assert sorted(load_local_eais(settings).eais) == ["ONLY"]


def test_to_facts__rules_readable__source_config() -> None:
    """Each EAI becomes an enabled ExternalAccessIntegration with one readable rule from "config"."""
    facts = load_local_eais(Settings()).to_facts()
    pypi = next(e for e in facts if e.name == "PYPI_EAI")
    assert pypi.enabled and pypi.described
    assert pypi.rules[0].source == "config" and "pypi.org" in (pypi.rules[0].values or ())


def test_config_path__env_override__used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """$MLJOBS_LOCAL_EAIS points at another file, which is then read."""
    other = tmp_path / "eais.yaml"
    other.write_text("eais:\n  ELSEWHERE: [x.example.com]\n", encoding="utf-8")
    monkeypatch.setenv(CONFIG_ENV, str(other))
    assert config_path(Settings()) == other
    assert load_local_eais(Settings()).get("ELSEWHERE") is not None


def test_config_path__env_names_missing_file__error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An explicit path that does not exist is an error, not a silent fallback to defaults."""
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "missing.yaml"))
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_local_eais(Settings())


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        pytest.param("eais: [a, b]\n", "must map EAI names", id="eais_not_mapping"),
        pytest.param("- just a list\n", "must be a mapping", id="top_level_list"),
        pytest.param("eais:\n  X: {hosts: [a.example.com]\n", "not valid YAML", id="broken_yaml"),
        pytest.param("eais:\n  BAD-NAME: [a.example.com]\n", "not a valid EAI name", id="bad_name"),
        pytest.param("eais:\n  X: []\n", "non-empty list", id="no_hosts"),
        pytest.param("eais:\n  X: ['*.com']\n", "second-level", id="bad_wildcard"),
        pytest.param("eais:\n  X: [a.example.com:99999]\n", "65535", id="bad_port"),
        pytest.param("eais:\n  X: [1]\n", "non-string host", id="number_host"),
        pytest.param("eais:\n  X: [a.example.com]\n  x: [b.example.com]\n", "defined twice", id="duplicate"),
        pytest.param("colour: blue\n", "unknown keys", id="unknown_key"),
        pytest.param("defaults: maybe\n", "true or false", id="defaults_not_bool"),
    ],
)
def test_load__invalid_file__configuration_error(text: str, needle: str) -> None:
    """A bad file raises ConfigurationError naming the file and what is wrong."""
    settings = Settings()
    path = _write(settings, text)
    with pytest.raises(ConfigurationError) as info:
        load_local_eais(settings)
    assert needle in info.value.message
    assert str(path) in info.value.message
