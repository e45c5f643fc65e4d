"""depcheck: the real resolver (uv) against a local wheel index built here, the image's versions as
preferences; install set, sizes, replaced preinstalled packages, "not checked", and the cache."""

from __future__ import annotations

import os
import socket
import zipfile
from pathlib import Path

import pytest

from mljobs.server.depcheck import DependencyChecker, DepStatus, find_uv, parse_compiled

pytestmark = pytest.mark.skipif(find_uv() is None, reason="uv is a dependency of mljobs; not installed here")


def make_wheel(folder: Path, name: str, version: str, requires: tuple[str, ...] = (), padding: int = 0) -> Path:
    """A minimal valid pure-Python wheel (METADATA, WHEEL, RECORD), as pip and uv read them."""
    dist = name.replace("-", "_")
    path = folder / f"{dist}-{version}-py3-none-any.whl"
    info = f"{dist}-{version}.dist-info"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {r}\n" for r in requires)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{dist}/__init__.py", "#" * padding + "\n")
        zf.writestr(f"{info}/METADATA", meta)
        zf.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: mljobs-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        zf.writestr(f"{info}/RECORD", "")
    return path


@pytest.fixture
def index(tmp_path: Path) -> Path:
    """A tiny index: an optuna-like package with transitive deps, and two torch releases."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    make_wheel(wheels, "optuna", "4.0.0", ("alembic>=1.5", "colorlog", "numpy", "sqlalchemy>=1.4"), padding=5000)
    make_wheel(wheels, "alembic", "1.13.0", ("sqlalchemy>=1.4", "mako"))
    make_wheel(wheels, "mako", "1.3.0")
    make_wheel(wheels, "colorlog", "6.8.0")
    make_wheel(wheels, "sqlalchemy", "2.0.30")
    make_wheel(wheels, "sqlalchemy", "2.0.36")
    make_wheel(wheels, "numpy", "1.26.4")
    make_wheel(wheels, "numpy", "2.2.6")
    make_wheel(wheels, "torch", "1.13.1", ("nvidia-cudnn-cu11",), padding=20000)
    make_wheel(wheels, "torch", "2.13.0", ("nvidia-cudnn-cu12",))
    make_wheel(wheels, "nvidia-cudnn-cu11", "8.5.0.96")
    make_wheel(wheels, "nvidia-cudnn-cu12", "9.1.0")
    make_wheel(wheels, "oldlib", "1.0", ("numpy<2",))
    return wheels


IMAGE = {"numpy": "2.2.6", "torch": "2.13.0+cpu", "sqlalchemy": "2.0.30"}


def checker(index: Path, tmp_path: Path) -> DependencyChecker:
    return DependencyChecker(cache_dir=tmp_path / "cache", find_links=(str(index),), offline_index=True)


def test_depcheck__optuna__transitive_install_set_and_size(index: Path, tmp_path: Path) -> None:
    """alembic, colorlog and mako come with optuna; numpy and sqlalchemy stay at the image's versions."""
    result = checker(index, tmp_path).check(["optuna"], IMAGE, image="2.10-cpu-py3.11", python="3.11")
    assert result.status is DepStatus.CHECKED, result.reason
    assert [i.name for i in result.install] == ["alembic", "colorlog", "mako", "optuna"]
    assert result.conflicts == ()
    by_name = {i.name: i for i in result.install}
    assert by_name["optuna"].direct and not by_name["alembic"].direct and by_name["mako"].via == ("alembic",)
    sizes = {p.name.split("-")[0]: p.stat().st_size for p in index.iterdir()}
    assert by_name["optuna"].size == sizes["optuna"]
    assert result.download_bytes == sum(i.size or 0 for i in result.install) > 0
    assert "4 to install" in result.summary()


def test_depcheck__torch_pin__conflict_names_both_versions(index: Path, tmp_path: Path) -> None:
    """Done-when: torch==1.13.1 against the image's 2.x names both versions, the size and the fix."""
    result = checker(index, tmp_path).check(["torch==1.13.1"], IMAGE, image="2.10-cpu-py3.11", python="3.11")
    (conflict,) = result.conflicts
    assert conflict.name == "torch" and conflict.image_version == "2.13.0+cpu" and conflict.wanted == "==1.13.1"
    assert "2.13.0+cpu" in conflict.message and "1.13.1" in conflict.message and "drop the pin" in conflict.fix
    assert conflict.size and conflict.size > 20000
    # the old torch's own CUDA dependency comes with it; the image torch's (cu12) does not
    assert {i.name for i in result.install} == {"torch", "nvidia-cudnn-cu11"}


def test_depcheck__kept_preinstalled__its_deps_not_installed(index: Path, tmp_path: Path) -> None:
    """Requiring torch (satisfied by the image's build) installs nothing, though its index metadata lists CUDA libs."""
    result = checker(index, tmp_path).check(["torch>=2"], IMAGE, image="img", python="3.11")
    assert result.status is DepStatus.CHECKED and result.install == () and result.conflicts == ()


def test_depcheck__transitive_conflict__requested_by_the_package(index: Path, tmp_path: Path) -> None:
    result = checker(index, tmp_path).check(["oldlib"], IMAGE, image="img", python="3.11")
    (conflict,) = result.conflicts
    assert (conflict.name, conflict.image_version, conflict.wanted, conflict.requested_by) == (
        "numpy", "2.2.6", "==1.26.4", ("oldlib",))


def test_depcheck__unresolvable__explained_with_direct_conflicts(index: Path, tmp_path: Path) -> None:
    result = checker(index, tmp_path).check(["torch==0.4.0"], IMAGE, image="img", python="3.11")
    assert result.status is DepStatus.UNRESOLVABLE and "torch" in (result.reason or "")
    assert [(c.name, c.image_version, c.wanted) for c in result.conflicts] == [("torch", "2.13.0+cpu", "==0.4.0")]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_depcheck__no_index_reachable__not_checked_and_not_cached(tmp_path: Path) -> None:
    c = DependencyChecker(cache_dir=tmp_path / "cache", index_url=f"http://127.0.0.1:{_closed_port()}/simple",
                          timeout=60)
    os.environ.pop("UV_OFFLINE", None)
    result = c.check(["optuna"], IMAGE, image="img", python="3.11")
    assert result.status is DepStatus.NOT_CHECKED and "not checked" in result.summary()
    assert not (tmp_path / "cache" / "depcheck").exists()


def test_depcheck__no_uv__not_checked(tmp_path: Path) -> None:
    c = DependencyChecker(uv=str(tmp_path / "missing-uv"))
    result = c.check(["optuna"], IMAGE, image="img", python="3.11")
    assert result.status is DepStatus.NOT_CHECKED and "could not start" in (result.reason or "")


def test_depcheck__cache__second_call_hits_and_expires(index: Path, tmp_path: Path) -> None:
    clock = [1000.0]
    c = checker(index, tmp_path)
    c.now = lambda: clock[0]
    first = c.check(["optuna"], IMAGE, image="img", python="3.11")
    again = c.check(["optuna"], IMAGE, image="img", python="3.11")
    assert not first.cached and again.cached and again.install == first.install
    other_image = c.check(["optuna"], {**IMAGE, "colorlog": "6.8.0"}, image="img", python="3.11")
    assert not other_image.cached and "colorlog" not in {i.name for i in other_image.install}
    clock[0] += 2 * 24 * 3600
    assert not c.check(["optuna"], IMAGE, image="img", python="3.11").cached


def test_depcheck__nothing_to_install() -> None:
    result = DependencyChecker().check(["", "# comment"], IMAGE, image="img", python="3.11")
    assert result.status is DepStatus.NOTHING and result.summary() == "nothing to install"


def test_parse_compiled__via_forms() -> None:
    text = ("alembic==1.20.1\n    # via optuna\noptuna==5.1.0\n    # via -r requirements.in\n"
            "sqlalchemy==2.1.9\n    # via\n    #   alembic\n    #   optuna\n")
    assert parse_compiled(text) == {
        "alembic": ("1.20.1", ("optuna",)), "optuna": ("5.1.0", ("requirements",)),
        "sqlalchemy": ("2.1.9", ("alembic", "optuna")),
    }


def test_requirement_lines__file_and_pip_requirements__pip_requirements_win_on_snowflake(tmp_path: Path) -> None:
    """The library writes pip_requirements over a travelling requirements.txt, so on Snowflake they are what pip
    installs; a local plan's pip_requirements are this machine's gaps, so its file stands for the image."""
    from types import SimpleNamespace

    from mljobs.server.depcheck import requirement_lines

    (tmp_path / "requirements.txt").write_text("lightgbm\n")
    analysis = SimpleNamespace(root=str(tmp_path))
    both = {"requirements_file": "requirements.txt", "pip_requirements": ("lightgbm", "catboost")}
    assert requirement_lines(SimpleNamespace(backend="snowflake", **both), analysis) == ("lightgbm", "catboost")
    assert requirement_lines(SimpleNamespace(backend="local", **both), analysis) == ("lightgbm",)
