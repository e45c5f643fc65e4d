"""Connection resolution (files, environment, flags) and the lazy session factory, with temp TOML files."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from mljobs.server.connection import SessionFactory, connection_name, is_configured, load_connection
from mljobs.server.errors import ConfigurationError, ConnectionError
from mljobs.server.settings import Settings

SECRET = "hunter2-Secret!"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path


def _write(home: Path, name: str, text: str) -> None:
    (home / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


def _env(home: Path, **extra: str) -> dict[str, str]:
    return {"SNOWFLAKE_HOME": str(home), **extra}


class Recorder:
    """Stands in for Session.builder...create(): records the parameters and returns a marker object."""

    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.error = error

    def __call__(self, params: dict[str, Any]) -> object:
        self.calls.append(params)
        if self.error:
            raise self.error
        return object()


def test_load_connection__connections_toml_default__reads_the_table(home: Path) -> None:
    """With no name anywhere, the [default] table of connections.toml is used."""
    _write(home, "connections.toml", f"""
        [default]
        account = "xy12345"
        user = "ALICE"
        password = "{SECRET}"
        warehouse = "ML_WH"
    """)
    config = load_connection(Settings(), _env(home))
    assert config.name == "default"
    assert config.params == {"account": "xy12345", "user": "ALICE", "password": SECRET, "warehouse": "ML_WH"}
    assert config.sources["account"].endswith("connections.toml [default]")


@pytest.mark.parametrize(
    ("flag", "env_name", "config_default", "expected"),
    [
        pytest.param("flagged", "envname", "cfgname", "flagged", id="flag__wins"),
        pytest.param(None, "envname", "cfgname", "envname", id="env__beats_config_toml"),
        pytest.param(None, None, "cfgname", "cfgname", id="config_toml__beats_default"),
        pytest.param(None, None, None, "default", id="nothing__is_default"),
    ],
)
def test_connection_name__precedence__flag_env_config_default(
    home: Path, flag: str | None, env_name: str | None, config_default: str | None, expected: str
) -> None:
    """--connection-name, then SNOWFLAKE_DEFAULT_CONNECTION_NAME, then config.toml, then "default"."""
    if config_default:
        _write(home, "config.toml", f'default_connection_name = "{config_default}"\n')
    env = _env(home, **({"SNOWFLAKE_DEFAULT_CONNECTION_NAME": env_name} if env_name else {}))
    assert connection_name(Settings(connection_name=flag), env) == expected


def test_load_connection__only_config_toml__uses_connections_subtable(home: Path) -> None:
    """A connection defined as [connections.<name>] in config.toml is found when connections.toml lacks it."""
    _write(home, "config.toml", """
        default_connection_name = "dev"
        [connections.dev]
        account = "acme-dev"
        user = "BOB"
        private_key_path = "/keys/rsa.p8"
    """)
    config = load_connection(Settings(), _env(home))
    assert config.name == "dev"
    assert config.params["private_key_file"] == "/keys/rsa.p8"  # older spelling mapped to the connector's


def test_load_connection__env_and_flags__override_file_in_order(home: Path) -> None:
    """File < SNOWFLAKE_CONNECTIONS_<NAME>_<KEY> < SNOWFLAKE_<KEY> < command-line overrides."""
    _write(home, "connections.toml", """
        [dev]
        account = "from-file"
        user = "FILEUSER"
        role = "FILE_ROLE"
        database = "FILE_DB"
        schema = "FILE_SCHEMA"
    """)
    env = _env(home, SNOWFLAKE_CONNECTIONS_DEV_ROLE="CONN_ROLE", SNOWFLAKE_CONNECTIONS_DEV_USER="CONNUSER",
               SNOWFLAKE_USER="ENVUSER", SNOWFLAKE_WAREHOUSE="ENV_WH")  # fmt: skip
    config = load_connection(Settings(connection_name="dev", schema="FLAG_SCHEMA"), env)
    assert config.params["account"] == "from-file"
    assert config.params["role"] == "CONN_ROLE"
    assert config.params["user"] == "ENVUSER"
    assert config.params["warehouse"] == "ENV_WH"
    assert config.params["database"] == "FILE_DB"
    assert config.params["schema"] == "FLAG_SCHEMA" and config.sources["schema"] == "command line"


@pytest.mark.parametrize(
    ("files", "env", "expected"),
    [
        pytest.param({}, {}, False, id="nothing__not_configured"),
        pytest.param({}, {"SNOWFLAKE_ACCOUNT": "acme"}, True, id="env_account__configured"),
        pytest.param({"connections.toml": '[default]\naccount = "a"\n'}, {}, True, id="default_table__configured"),
        pytest.param({"connections.toml": '[other]\naccount = "a"\n'}, {}, False, id="only_other_name__not_used"),
        pytest.param({"connections.toml": "[default\naccount="}, {}, True, id="broken_toml__reported_not_hidden"),
        pytest.param({}, {"SNOWFLAKE_DEFAULT_CONNECTION_NAME": "ghost"}, True, id="named_missing__reported"),
    ],
)
def test_is_configured__cases__chooses_backend(home: Path, files: dict, env: dict, expected: bool) -> None:
    """Only a real absence of configuration selects the local pool."""
    for name, text in files.items():
        (home / name).write_text(text)
    assert is_configured(Settings(), _env(home, **env)) is expected


def test_is_configured__default_environment__reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without an explicit env mapping the process environment is used (SNOWFLAKE_HOME from conftest)."""
    assert is_configured(Settings()) is False
    monkeypatch.setenv("SNOWFLAKE_ACCOUNT", "acme")
    assert is_configured(Settings()) is True


def test_load_connection__named_connection_missing__configuration_error(home: Path) -> None:
    """An explicitly named connection that exists nowhere is an error naming the file to edit."""
    with pytest.raises(ConfigurationError, match=r"'prod' is not defined.*connections\.toml"):
        load_connection(Settings(connection_name="prod"), _env(home))


def test_load_connection__broken_toml__configuration_error(home: Path) -> None:
    """A config file that is not TOML is reported with its path."""
    (home / "connections.toml").write_text("[default\n")
    with pytest.raises(ConfigurationError, match="connections.toml could not be read"):
        load_connection(Settings(), _env(home))


def test_session_factory__nothing_configured__says_what_to_set(home: Path) -> None:
    """No account anywhere: a ConfigurationError naming the variables and the file; no session attempt."""
    create = Recorder()
    factory = SessionFactory(Settings(), create=create, env=_env(home))
    with pytest.raises(ConfigurationError) as info:
        factory()
    for needle in ("SNOWFLAKE_ACCOUNT", "SNOWFLAKE_USER", "connections.toml", "--connection-name"):
        assert needle in info.value.message
    assert create.calls == []


def test_session_factory__configured__opens_once_lazily(home: Path) -> None:
    """The session is created on first call only, with the merged parameters, then reused."""
    create = Recorder()
    env = _env(home, SNOWFLAKE_ACCOUNT="acme", SNOWFLAKE_USER="ALICE", SNOWFLAKE_PASSWORD=SECRET)
    factory = SessionFactory(Settings(database="ML_DB"), create=create, env=env)
    assert create.calls == [] and not factory.is_open
    first, second = factory(), factory()
    assert first is second and len(create.calls) == 1
    assert create.calls[0] == {"account": "acme", "user": "ALICE", "password": SECRET, "database": "ML_DB"}


def test_session_factory__login_fails__connection_error_without_secret(home: Path, caplog) -> None:
    """A rejected login becomes ConnectionError; the password never appears in the message or the logs."""
    caplog.set_level("DEBUG")
    create = Recorder(RuntimeError(f"250001: Incorrect username or password was specified ({SECRET})"))
    env = _env(home, SNOWFLAKE_ACCOUNT="acme", SNOWFLAKE_USER="ALICE", SNOWFLAKE_PASSWORD=SECRET)
    factory = SessionFactory(Settings(), create=create, env=env)
    with pytest.raises(ConnectionError) as info:
        factory()
    assert "Incorrect username or password" in info.value.message and "acme" in info.value.message
    assert SECRET not in info.value.message and SECRET not in caplog.text
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_connection_config__redacted_and_repr__hide_secrets(home: Path) -> None:
    """redacted() masks passwords, tokens and key passphrases; repr() shows no parameters at all."""
    env = _env(home, SNOWFLAKE_ACCOUNT="acme", SNOWFLAKE_PASSWORD=SECRET, SNOWFLAKE_PRIVATE_KEY_FILE_PWD="pp-123",
               SNOWFLAKE_TOKEN="tok-456")  # fmt: skip
    config = load_connection(Settings(), env)
    shown = config.redacted()
    assert shown["password"] == shown["private_key_file_pwd"] == shown["token"] == "***"
    assert shown["account"] == "acme"
    assert SECRET not in repr(config) and "tok-456" not in repr(config)


def test_session_factory__close__closes_and_reopens_on_next_use(home: Path) -> None:
    """close() closes the open session; the next call opens a fresh one."""

    class Closable:
        closed = False

        def close(self) -> None:
            self.closed = True

    made: list[Closable] = []

    def create(params: dict[str, Any]) -> Closable:
        made.append(Closable())
        return made[-1]

    factory = SessionFactory(Settings(), create=create, env=_env(home, SNOWFLAKE_ACCOUNT="a", SNOWFLAKE_USER="u"))
    first = factory()
    factory.close()
    assert first.closed and factory() is not first and len(made) == 2
