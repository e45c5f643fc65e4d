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


def test_source__file_edited__reread_without_restart() -> None:
    """A running server sees an edited local EAI file on its next read (mtime/size change), not after a restart."""
    from mljobs.server.local_eais import LocalEaiSource

    settings = Settings()
    source = LocalEaiSource(settings)
    assert source.current().get("API_EAI") is None
    path = _write(settings, "eais:\n  API_EAI: [api.example.com]\n")
    assert source.current().get("API_EAI").hosts == ("api.example.com",)  # type: ignore[union-attr]
    path.write_text("eais:\n  API_EAI: [api.example.com, 'data.example.org:80']\n", encoding="utf-8")
    import os

    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert source.current().get("API_EAI").hosts == ("api.example.com", "data.example.org:80")  # type: ignore[union-attr]


def test_service_facts__local_eai_added__next_plan_sees_it(tmp_path: Path) -> None:
    """Adding a local EAI through the service (confirmed) changes the local facts the service hands out."""
    from mljobs.server.errors import NotConfirmedError
    from mljobs.server.service import Service

    svc = Service(Settings())
    before = {e.name for e in svc.facts("local").eais}
    change = svc.preview_local_eai("wandb_eai", ["api.wandb.ai"], "experiment tracking")
    assert change.created and change.added_hosts == ("api.wandb.ai",)
    assert not change.path.exists()  # a preview writes nothing
    with pytest.raises(NotConfirmedError):
        svc.add_local_eai(change, svc.confirm("add_local_eai", "another subject", method="cli_yes"))
    svc.add_local_eai(change, svc.confirm("add_local_eai", change.subject, method="cli_yes"))
    after = {e.name: e for e in svc.facts("local").eais}
    assert set(after) == before | {"WANDB_EAI"}
    assert after["WANDB_EAI"].rules[0].values == ("api.wandb.ai",)
    assert load_local_eais(Settings()).get("PYPI_EAI") is not None  # the defaults are kept


def test_plan_local_eai__bad_input__one_line_errors() -> None:
    from mljobs.server.local_eais import plan_local_eai

    with pytest.raises(ConfigurationError, match="not a valid EAI name"):
        plan_local_eai(Settings(), "1bad", ["a.example.com"])
    with pytest.raises(ConfigurationError, match="wildcard"):
        plan_local_eai(Settings(), "OK", ["*.com"])
    with pytest.raises(ConfigurationError, match="at least one host"):
        plan_local_eai(Settings(), "OK", [])


def test_local_coverage_sql__account_equivalent_with_the_local_name() -> None:
    """On the local pool, the SQL for an uncovered host is the account equivalent of the local EAI to add."""
    from mljobs.analyzers.model import Confidence, NetworkCategory, NetworkNeed
    from mljobs.skill.eai import check_coverage

    facts = load_local_eais(Settings()).to_facts()
    from mljobs.skill.facts import AccountFacts

    need = NetworkNeed(NetworkCategory.HTTP, ("data.example.org:80",), (), Confidence.CERTAIN)
    coverage = check_coverage([need], AccountFacts(backend="local", database="LOCAL", schema="JOBS", eais=facts))
    assert coverage.admin_sql[0].startswith("/* Snowflake account equivalent of the local EAI DATA_EXAMPLE_ORG_EAI;")
    assert "VALUE_LIST = ('data.example.org:80')" in coverage.admin_sql[0]
    assert "LOCAL.JOBS" not in " ".join(coverage.admin_sql)
    assert any("mljobs local-eais add DATA_EXAMPLE_ORG_EAI --host data.example.org:80" in n for n in coverage.notes)
