"""The local pool's external access integrations: EAI name -> allowed hosts, from a YAML file or defaults.

On Snowflake an EAI is an account object whose network rules list the hosts a job may reach. The local
pool has no account, so the same names live in `<state_dir>/local_eais.yaml` (or the file named by
`$MLJOBS_LOCAL_EAIS`). Format (documented in docs/local-pool.md):

    # which hosts each local EAI opens; values use Snowflake's HOST_PORT syntax
    defaults: true            # keep the built-in EAIs below (entries here override same-named ones)
    eais:
      PYPI_EAI: [pypi.org, pypi.python.org, pythonhosted.org, files.pythonhosted.org]
      MY_API_EAI:
        hosts: [api.example.com, "*.storage.example.com:0"]
        comment: our internal API

Without a file the built-in defaults apply. A file that cannot be parsed or holds a bad name or host value
raises `ConfigurationError` naming the file and the entry.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from mljobs.skill.facts import ExternalAccessIntegration, NetworkRuleInfo

from .errors import ConfigurationError
from .runner.netguard import RuleSyntaxError, parse_rule
from .settings import Settings

log = logging.getLogger(__name__)

CONFIG_ENV = "MLJOBS_LOCAL_EAIS"
FILE_NAME = "local_eais.yaml"
RULE_SCHEMA = "LOCAL.JOBS"  # where the local network rules "live", for fully qualified rule names
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,254}$")

# The hosts Snowflake documents for hand-made rules equivalent to its managed ones (snowflake-facts §3.5);
# Hugging Face also redirects downloads to its Xet/CDN hosts, which a real rule needs as well.
DEFAULT_EAIS: dict[str, tuple[tuple[str, ...], str]] = {
    "PYPI_EAI": (
        ("pypi.org", "pypi.python.org", "pythonhosted.org", "files.pythonhosted.org"),
        "PyPI (like SNOWFLAKE.EXTERNAL_ACCESS.PYPI_RULE): pip install",
    ),
    "HUGGINGFACE_EAI": (
        (
            "huggingface.co",
            "cdn-lfs.huggingface.co",
            "cdn-lfs-us-1.huggingface.co",
            "hf.co",
            "*.hf.co",
            "cas-bridge.xethub.hf.co",
            "cas-server.xethub.hf.co",
            "transfer.xethub.hf.co",
        ),
        "Hugging Face Hub (like SNOWFLAKE.EXTERNAL_ACCESS.HUGGINGFACE_RULE) and its download CDNs",
    ),
    "PYTORCH_EAI": (("download.pytorch.org",), "PyTorch wheel index (not part of PyPI)"),
    "GITHUB_EAI": (
        (
            "github.com",
            "api.github.com",
            "codeload.github.com",
            "raw.githubusercontent.com",
            "objects.githubusercontent.com",
        ),
        "GitHub repositories, releases and raw files",
    ),
}


@dataclass(frozen=True, slots=True)
class LocalEai:
    name: str  # upper-case, as an unquoted Snowflake identifier resolves
    hosts: tuple[str, ...]
    comment: str | None = None


@dataclass(frozen=True)
class LocalEaiConfig:
    """The local EAIs by upper-case name, and where they came from (`path=None`: built-in defaults)."""

    eais: Mapping[str, LocalEai]
    path: Path | None = None

    def get(self, name: str) -> LocalEai | None:
        return self.eais.get(name.upper())

    def hosts_by_name(self, names: tuple[str, ...] | None = None) -> dict[str, list[str]]:
        """{name: [host values]} for `names` (all EAIs when None); unknown names are skipped."""
        selected = self.eais.values() if names is None else [e for n in names if (e := self.get(n))]
        return {eai.name: list(eai.hosts) for eai in selected}

    def to_facts(self) -> tuple[ExternalAccessIntegration, ...]:
        """Each EAI as an enabled `ExternalAccessIntegration` with one readable rule (source "config")."""
        origin = str(self.path) if self.path else "built-in defaults"
        return tuple(
            ExternalAccessIntegration(
                name=eai.name,
                enabled=True,
                rules=(
                    NetworkRuleInfo(name=f"{RULE_SCHEMA}.{eai.name}_RULE", values=eai.hosts, source="config"),
                ),
                comment=f"{eai.comment + '; ' if eai.comment else ''}local EAI from {origin}",
            )
            for eai in sorted(self.eais.values(), key=lambda e: e.name)
        )


def config_path(settings: Settings) -> Path:
    """`$MLJOBS_LOCAL_EAIS` when set, else `<state_dir>/local_eais.yaml`."""
    explicit = os.environ.get(CONFIG_ENV)
    return Path(explicit).expanduser() if explicit else settings.state_dir / FILE_NAME


def default_config() -> LocalEaiConfig:
    return LocalEaiConfig(
        {name: LocalEai(name, hosts, comment) for name, (hosts, comment) in DEFAULT_EAIS.items()}
    )


def load_local_eais(settings: Settings) -> LocalEaiConfig:
    """Read the local EAI config, or the defaults when the file does not exist.

    Raises:
        ConfigurationError: the file exists but is unreadable, not YAML, or holds a bad name or host value
            (the message names the file and the entry). `$MLJOBS_LOCAL_EAIS` naming a missing file is
            also an error, because an explicit setting should not silently fall back.
    """
    path = config_path(settings)
    if not path.exists():
        if os.environ.get(CONFIG_ENV):
            raise ConfigurationError(
                f"${CONFIG_ENV} names {path}, which does not exist; create it or unset it"
            )
        return default_config()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read the local EAI config {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"the local EAI config {path} is not valid YAML: {exc}") from exc
    return parse_local_eais(data, path)


def parse_local_eais(data: object, path: Path) -> LocalEaiConfig:
    """Validate the YAML document of a local EAI config (see the module docstring for the format).

    Raises:
        ConfigurationError: wrong shapes, duplicate names (case-insensitive), invalid identifiers or
            host values Snowflake's HOST_PORT syntax would reject.
    """
    where = f"the local EAI config {path}"
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigurationError(f"{where} must be a mapping with an `eais:` key (see docs/local-pool.md)")
    unknown = set(data) - {"defaults", "eais"}
    if unknown:
        raise ConfigurationError(
            f"{where} has unknown keys {sorted(map(str, unknown))}; expected `defaults`, `eais`"
        )
    use_defaults = data.get("defaults", True)
    if not isinstance(use_defaults, bool):
        raise ConfigurationError(f"{where}: `defaults` must be true or false")
    entries = data.get("eais") or {}
    if not isinstance(entries, dict):
        raise ConfigurationError(f"{where}: `eais` must map EAI names to host lists")
    eais: dict[str, LocalEai] = dict(default_config().eais) if use_defaults else {}
    seen: set[str] = set()
    for raw_name, body in entries.items():
        name = str(raw_name)
        if not _NAME_RE.match(name):
            raise ConfigurationError(f"{where}: {name!r} is not a valid EAI name (letters, digits, _ and $)")
        upper = name.upper()
        if upper in seen:
            raise ConfigurationError(f"{where}: EAI {upper} is defined twice (names are case-insensitive)")
        seen.add(upper)
        comment, host_list = None, body
        if isinstance(body, dict):
            extra = set(body) - {"hosts", "comment"}
            if extra:
                raise ConfigurationError(f"{where}: EAI {upper} has unknown keys {sorted(map(str, extra))}")
            comment = body.get("comment")
            host_list = body.get("hosts")
        if not isinstance(host_list, list) or not host_list:
            raise ConfigurationError(f"{where}: EAI {upper} needs a non-empty list of hosts")
        hosts = []
        for value in host_list:
            if not isinstance(value, str):
                raise ConfigurationError(f"{where}: EAI {upper} has a non-string host {value!r}; quote it")
            try:
                parse_rule(value)
            except RuleSyntaxError as exc:
                raise ConfigurationError(f"{where}: EAI {upper}: {exc}") from exc
            hosts.append(value.strip())
        eais[upper] = LocalEai(upper, tuple(hosts), str(comment) if comment is not None else None)
    log.debug("loaded %d local EAIs from %s", len(eais), path)
    return LocalEaiConfig(eais, path)


class LocalEaiSource:
    """The local EAI config, re-read when its file changes (size or mtime), so edits need no server restart.

    `current()` is cheap when nothing changed (one stat); `stamp()` identifies the version it returns, for
    callers that cache what they derived from it (the service's account facts).
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._stamp: tuple[str, int, int] | None = None
        self._config: LocalEaiConfig | None = None

    def stamp(self) -> tuple[str, int, int]:
        path = config_path(self._settings)
        try:
            st = path.stat()
        except OSError:
            return (str(path), -1, -1)
        return (str(path), st.st_mtime_ns, st.st_size)

    def current(self) -> LocalEaiConfig:
        """The config as the file says now.

        Raises:
            ConfigurationError: as `load_local_eais`.
        """
        with self._lock:
            stamp = self.stamp()
            if self._config is None or stamp != self._stamp:
                self._config = load_local_eais(self._settings)
                self._stamp = stamp
                log.debug("local EAI config (re)loaded from %s", stamp[0])
            return self._config


@dataclass(frozen=True, slots=True)
class LocalEaiChange:
    """What adding a local EAI does: the file it writes and the entry after the change."""

    path: Path
    eai: LocalEai
    created: bool  # a new EAI (False: hosts added to an existing one)
    added_hosts: tuple[str, ...]

    @property
    def subject(self) -> str:
        """What a confirmation is bound to: the file, the EAI and exactly the hosts."""
        return f"{self.path}|{self.eai.name}|{','.join(self.added_hosts)}"


def plan_local_eai(settings: Settings, name: str, hosts: list[str] | tuple[str, ...], comment: str | None = None
                   ) -> LocalEaiChange:
    """Validate adding `hosts` to the local EAI `name` (created when missing); nothing is written.

    Raises:
        ConfigurationError: a bad name or host value (Snowflake's HOST_PORT syntax), no hosts, or a config file
            that cannot be read.
    """
    if not _NAME_RE.match(name or ""):
        raise ConfigurationError(f"{name!r} is not a valid EAI name (letters, digits, _ and $; not starting with a digit)")
    if not hosts:
        raise ConfigurationError("give at least one host (host or host:port)")
    clean: list[str] = []
    for value in hosts:
        try:
            parse_rule(value)
        except RuleSyntaxError as exc:
            raise ConfigurationError(f"local EAI {name.upper()}: {exc}") from exc
        if value.strip() not in clean:
            clean.append(value.strip())
    config = load_local_eais(settings)
    existing = config.get(name)
    have = existing.hosts if existing else ()
    added = tuple(h for h in clean if h not in have)
    eai = LocalEai(name.upper(), (*have, *added), comment if comment is not None else (existing.comment if existing else None))
    return LocalEaiChange(config_path(settings), eai, existing is None, added)


def write_local_eai(change: LocalEaiChange) -> None:
    """Write the change into the local EAI file (created with the defaults kept when missing), atomically.

    Other entries and the `defaults` switch are kept as they are; comments in the file are not (YAML is
    rewritten). Raises ConfigurationError when the file cannot be read or written.
    """
    path = change.path
    data: dict[str, object] = {}
    if path.exists():
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ConfigurationError(f"cannot read the local EAI config {path}: {exc}") from exc
        data = loaded if isinstance(loaded, dict) else {}
    entries = data.get("eais")
    entries = dict(entries) if isinstance(entries, dict) else {}
    key = next((k for k in entries if str(k).upper() == change.eai.name), change.eai.name)
    body: dict[str, object] = {"hosts": list(change.eai.hosts)}
    if change.eai.comment:
        body["comment"] = change.eai.comment
    entries[key] = body
    data["eais"] = entries
    data.setdefault("defaults", True)
    parse_local_eais(data, path)  # never write a file the loader would refuse
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text("# mljobs local EAIs (see docs/local-pool.md); written by `mljobs local-eais add`\n"
                       + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise ConfigurationError(f"cannot write the local EAI config {path}: {exc}") from exc
