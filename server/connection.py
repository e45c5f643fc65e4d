"""A lazily opened Snowpark session, configured the way the Snowflake CLI and Snowflake's MCP server are.

Which connection: `--connection-name` (Settings.connection_name), else `$SNOWFLAKE_DEFAULT_CONNECTION_NAME`,
else `default_connection_name` in config.toml, else `"default"`.

Where its parameters come from, later sources winning:
1. `[<name>]` in `$SNOWFLAKE_HOME/connections.toml`, else `[connections.<name>]` in `$SNOWFLAKE_HOME/config.toml`
   (`$SNOWFLAKE_HOME` defaults to `~/.snowflake`, then `~/.config/snowflake` like the connector on Linux);
2. `SNOWFLAKE_CONNECTIONS_<NAME>_<KEY>` environment variables (the connector's per-connection overrides);
3. `SNOWFLAKE_<KEY>` environment variables (`SNOWFLAKE_ACCOUNT`, `SNOWFLAKE_USER`, `SNOWFLAKE_PASSWORD`, ...);
4. database / schema / warehouse / role from Settings (command-line flags).

Nothing here ever puts a password, token, passphrase or private key into a message or a log line.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mljobs.skill.redact import redact

from .errors import ConfigurationError, ConnectionError
from .settings import Settings

log = logging.getLogger(__name__)

REDACTED = "***"

#: Connection parameters read from `SNOWFLAKE_<KEY>` / `SNOWFLAKE_CONNECTIONS_<NAME>_<KEY>` (connector names).
PARAM_KEYS = (
    "account", "user", "password", "role", "warehouse", "database", "schema", "authenticator",
    "private_key_file", "private_key_file_pwd", "token", "token_file_path", "host", "port", "protocol",
    "region", "passcode", "passcode_in_password", "oauth_client_id", "oauth_client_secret",
    "oauth_token_request_url", "oauth_authorization_url", "client_store_temporary_credential",
    "client_request_mfa_token", "login_timeout", "network_timeout", "workload_identity_provider",
)  # fmt: skip
#: Older or CLI spellings -> the connector's parameter name.
ALIASES = {
    "private_key_path": "private_key_file",
    "private_key_passphrase": "private_key_file_pwd",
    "username": "user",
    "accountname": "account",
}
SECRET_KEYS = frozenset(
    {"password", "token", "private_key_file_pwd", "private_key", "passcode", "oauth_client_secret",
     "private_key_passphrase"}  # fmt: skip
)
#: Keys whose presence means "a way to authenticate was configured" besides a password.
_AUTH_KEYS = ("password", "authenticator", "private_key_file", "private_key", "token", "token_file_path")


@dataclass(frozen=True)
class ConnectionConfig:
    """The resolved parameters of one named connection and where each came from."""

    name: str
    params: dict[str, Any] = field(repr=False)
    sources: dict[str, str] = field(default_factory=dict)  # key -> "connections.toml [dev]" / "env SNOWFLAKE_USER"

    def redacted(self) -> dict[str, Any]:
        """The parameters with every secret replaced by ***, safe to show or log."""
        return {k: (REDACTED if k in SECRET_KEYS else v) for k, v in sorted(self.params.items())}

    def secret_values(self) -> tuple[str, ...]:
        return tuple(str(v) for k, v in self.params.items() if k in SECRET_KEYS and v not in (None, ""))


def snowflake_home(env: Mapping[str, str] | None = None) -> Path:
    """`$SNOWFLAKE_HOME`, else `~/.snowflake` if it exists, else `~/.config/snowflake` if it exists, else ~/.snowflake."""
    env = os.environ if env is None else env
    explicit = env.get("SNOWFLAKE_HOME")
    if explicit:
        return Path(explicit).expanduser()
    default = Path.home() / ".snowflake"
    xdg = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "snowflake"
    if not default.exists() and xdg.exists():
        return xdg
    return default


def _parse_toml(text: str) -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the connector's own TOML dependency
        import tomlkit

        return dict(tomlkit.loads(text).unwrap())
    return tomllib.loads(text)


def _read_toml(path: Path) -> dict[str, Any]:
    """The parsed file, {} when it does not exist.

    Raises:
        ConfigurationError: the file exists but is not valid TOML or cannot be read.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigurationError(f"{path} could not be read: {exc.strerror}. Check its permissions.") from exc
    try:
        return _parse_toml(text)
    except Exception as exc:  # tomllib.TOMLDecodeError or tomlkit's ParseError
        # The decode message carries a line/column, never the value, so it is safe to repeat.
        raise ConfigurationError(f"{path} could not be read: {exc}. Fix the file or move it aside.") from exc


def _normalise(table: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            continue  # nested tables are not connection parameters
        name = str(key).lower()
        out[ALIASES.get(name, name)] = value
    return out


def connection_name(settings: Settings, env: Mapping[str, str] | None = None) -> str:
    """The connection to use: flag, then $SNOWFLAKE_DEFAULT_CONNECTION_NAME, then config.toml, then "default"."""
    env = os.environ if env is None else env
    if settings.connection_name:
        return settings.connection_name
    if env.get("SNOWFLAKE_DEFAULT_CONNECTION_NAME"):
        return env["SNOWFLAKE_DEFAULT_CONNECTION_NAME"]
    config = _read_toml(snowflake_home(env) / "config.toml")
    name = config.get("default_connection_name")
    return name if isinstance(name, str) and name else "default"


def _explicitly_named(settings: Settings, env: Mapping[str, str]) -> bool:
    if settings.connection_name or env.get("SNOWFLAKE_DEFAULT_CONNECTION_NAME"):
        return True
    return bool(_read_toml(snowflake_home(env) / "config.toml").get("default_connection_name"))


def load_connection(settings: Settings, env: Mapping[str, str] | None = None) -> ConnectionConfig:
    """Resolve the connection's parameters from files, environment and flags.

    Returns:
        The merged configuration (it may lack `account`; `SessionFactory` checks that).

    Raises:
        ConfigurationError: a config file is unreadable, or a connection named explicitly (flag, env or
            config.toml) is defined nowhere.
    """
    env = os.environ if env is None else env
    home = snowflake_home(env)
    name = connection_name(settings, env)
    params: dict[str, Any] = {}
    sources: dict[str, str] = {}

    connections = _read_toml(home / "connections.toml")
    config = _read_toml(home / "config.toml")
    table = connections.get(name)
    where = f"{home / 'connections.toml'} [{name}]"
    if not isinstance(table, dict):
        table = (config.get("connections") or {}).get(name)
        where = f"{home / 'config.toml'} [connections.{name}]"
    found_in_file = isinstance(table, dict)
    if isinstance(table, dict):
        for key, value in _normalise(table).items():
            params[key] = value
            sources[key] = where

    env_prefix = f"SNOWFLAKE_CONNECTIONS_{name.upper()}_"
    for var, value in env.items():
        if var.startswith(env_prefix) and value:
            key = var[len(env_prefix):].lower()
            key = ALIASES.get(key, key)
            params[key], sources[key] = value, f"env {var}"
    for key in (*PARAM_KEYS, *ALIASES):
        var = f"SNOWFLAKE_{key.upper()}"
        if env.get(var):
            target = ALIASES.get(key, key)
            params[target], sources[target] = env[var], f"env {var}"

    if not found_in_file and _explicitly_named(settings, env) and not any(s.startswith("env ") for s in sources.values()):
        raise ConfigurationError(
            f"Snowflake connection '{name}' is not defined: add a [{name}] table to {home / 'connections.toml'} "
            f"(or [connections.{name}] to config.toml), or pick another with --connection-name."
        )

    for key in ("database", "schema", "warehouse", "role"):
        value = getattr(settings, key)
        if value:
            params[key], sources[key] = value, "command line"
    return ConnectionConfig(name, params, sources)


def is_configured(settings: Settings, env: Mapping[str, str] | None = None) -> bool:
    """True when a Snowflake connection is configured (or asked for) and the Snowflake backend should be used.

    A broken config file or an explicitly named but missing connection counts as configured: the user meant
    Snowflake, and the Snowflake backend then reports what to fix instead of silently running jobs locally.
    """
    try:
        config = load_connection(settings, env)
    except ConfigurationError:
        return True
    return bool(config.params.get("account"))


def _default_create(params: dict[str, Any]) -> Any:
    from snowflake.snowpark import Session

    return Session.builder.configs(params).create()


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 3:
            text = text.replace(secret, REDACTED)
    return redact(text)


class SessionFactory:
    """Opens the Snowpark session on first use and hands out the same one afterwards (thread-safe).

    `create` builds a session from connector parameters (default: `Session.builder.configs(...).create()`);
    tests inject their own. Calling the factory returns the session.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        create: Callable[[dict[str, Any]], Any] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self._create = create or _default_create
        self._env = env
        self._session: Any = None
        self._lock = threading.Lock()

    def config(self) -> ConnectionConfig:
        """The resolved configuration (see module docstring). Raises ConfigurationError like load_connection."""
        return load_connection(self.settings, self._env)

    def __call__(self) -> Any:
        """The open session, created now if needed.

        Raises:
            ConfigurationError: no account configured, or a config file / named connection is broken.
            ConnectionError: Snowflake rejected the login or could not be reached.
        """
        with self._lock:
            if self._session is None:
                self._session = self._open()
            return self._session

    def _open(self) -> Any:
        config = self.config()
        params = dict(config.params)
        missing = [k for k in ("account", "user") if not params.get(k)]
        if "user" in missing and str(params.get("authenticator", "")).lower() in {"oauth", "workload_identity"}:
            missing.remove("user")
        if missing:
            home = snowflake_home(self._env)
            raise ConfigurationError(
                f"No Snowflake connection is configured (missing {', '.join(missing)} for connection "
                f"'{config.name}'). Set SNOWFLAKE_ACCOUNT and SNOWFLAKE_USER plus SNOWFLAKE_PASSWORD, "
                "SNOWFLAKE_AUTHENTICATOR or SNOWFLAKE_PRIVATE_KEY_FILE; or add a "
                f"[{config.name}] connection to {home / 'connections.toml'}; or choose one with --connection-name. "
                "Without an account, use the local pool (--backend local)."
            )
        if not any(params.get(k) for k in _AUTH_KEYS):
            log.info("connection %r has no password, key or authenticator; the connector will decide", config.name)
        log.info("opening Snowflake session: connection=%s params=%s", config.name, config.redacted())
        try:
            session = self._create(params)
        except Exception as exc:  # every login failure, whatever connector class it comes as
            detail = _scrub(str(exc) or type(exc).__name__, config.secret_values())
            raise ConnectionError(
                f"Could not open a Snowflake session with connection '{config.name}' "
                f"(account {params.get('account')}, user {params.get('user')}): {detail}. "
                "Check the account identifier, user and credentials, and network access to Snowflake."
            ) from None  # the connector exception may carry the parameters; do not chain it
        return session

    @property
    def is_open(self) -> bool:
        return self._session is not None

    def close(self) -> None:
        """Close the session if one was opened (errors while closing are logged, not raised)."""
        with self._lock:
            session, self._session = self._session, None
        if session is not None:
            try:
                session.close()
            except Exception as exc:  # closing is best effort
                log.info("closing the Snowflake session failed: %s", _scrub(str(exc), ()))
