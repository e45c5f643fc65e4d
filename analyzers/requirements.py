"""Declared dependencies: requirements.txt (with -r includes), pyproject.toml, notebook `%pip install` lines.

Everything read here is user text that may carry credentials (private index URLs such as
`https://user:TOKEN@pkgs.example.com/simple`, `git+https://TOKEN@github.com/...`), so every string that leaves
this module goes through `redact` first. Malformed input becomes a `Problem`; user text never raises here.
"""

from __future__ import annotations

import os
import re
import shlex
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from . import guarded
from .model import DeclaredRequirement, Location, Problem
from .redact import redact

#: Deepest chain of `-r other.txt` includes followed; deeper ones are reported, not read.
MAX_INCLUDE_DEPTH = 8
REQUIREMENTS_TXT = "requirements.txt"
PYPROJECT_TOML = "pyproject.toml"

#: pip options that take a value (the value is the next token unless written `--opt=value`).
_OPTS_WITH_VALUE = frozenset(
    {
        "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
        "--extra-index-url", "-f", "--find-links", "--trusted-host", "--no-binary", "--only-binary",
        "-t", "--target", "--prefix", "--root", "--src", "--upgrade-strategy", "--platform",
        "--python-version", "--implementation", "--abi", "--progress-bar", "--cache-dir", "--log",
        "--proxy", "--retries", "--timeout", "--exists-action", "--cert", "--client-cert", "-C",
        "--config-settings", "--global-option", "--install-option", "--report", "--root-user-action",
        "--hash", "--use-feature", "--use-deprecated", "--python", "--keyring-provider",
    }
)
#: pip's comment rule: `#` at the start of a line or after whitespace starts a comment.
_COMMENT = re.compile(r"(^|\s+)#.*$")
#: Per-requirement options pip allows after a requirement on the same line.
_TRAILING_OPTS = re.compile(r"\s+--?(?:hash|global-option|install-option|config-settings|C)\b.*$")
_URL = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.\-]*\+)?[A-Za-z][A-Za-z0-9+.\-]*://")
_EGG = re.compile(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._\-]*)")
_ARCHIVE = re.compile(r"(?i)\.(?:whl|tar\.gz|tar\.bz2|tgz|zip)$")
_PIP = re.compile(r"^pip(?:\d+(?:\.\d+)?)?$")
_PYTHON = re.compile(r"^(?:.*/)?python(?:\d+(?:\.\d+)?)?$|^\{sys\.executable\}$|^\$\{?sys\.executable\}?$")
_SEPARATORS = frozenset({"&&", "||", ";", "|"})


@dataclass(frozen=True, slots=True)
class Declared:
    """What the project itself says it depends on.

    `requirements` holds every declaration in reading order (requirements.txt and its includes, then
    pyproject.toml, then notebook `%pip install` lines); `magic_requirements` is the subset that came from
    notebook magics. `requirements_file` is the root `requirements.txt` (relative POSIX path) when there is
    one. `index_urls` are `--index-url` / `--extra-index-url` values, credentials redacted.
    """

    requirements: tuple[DeclaredRequirement, ...] = ()
    requirements_file: str | None = None
    index_urls: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
    magic_requirements: tuple[DeclaredRequirement, ...] = field(default=())


@dataclass(slots=True)
class _Collector:
    requirements: list[DeclaredRequirement] = field(default_factory=list)
    index_urls: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: list[tuple[str, Location]] = field(default_factory=list)  # -r targets of notebook pip lines

    def index(self, url: str) -> None:
        safe = redact(url)
        if safe not in self.index_urls:
            self.index_urls.append(safe)


# -------------------------------------------------------------------------------------------- one requirement


def _name_from_url(url: str) -> str | None:
    """Distribution name of a URL requirement: `#egg=name`, else a wheel / sdist file name, else None."""
    egg = _EGG.search(url)
    if egg:
        return egg.group(1)
    path = unquote(urlsplit(url.split("+", 1)[1] if "+" in url.split("://", 1)[0] else url).path)
    filename = PurePosixPath(path).name
    if not _ARCHIVE.search(filename):
        return _repository_name(url, path)
    if filename.lower().endswith(".whl"):
        return filename.split("-", 1)[0]
    stem = _ARCHIVE.sub("", filename)
    name, sep, _version = stem.rpartition("-")
    return name if sep and name else None


#: Code forges whose clone URLs are <host>/<owner>/<repository>: a VCS requirement without `#egg=` is, by
#: the near-universal convention, the distribution named like the repository (pip only learns the name by
#: building it; the finding's evidence keeps the URL).
_FORGES = frozenset({"github.com", "gitlab.com", "bitbucket.org", "huggingface.co", "codeberg.org"})


def _repository_name(url: str, path: str) -> str | None:
    if not url.startswith("git+"):
        return None
    host = (urlsplit(url[4:]).hostname or "").lower()
    parts = [p for p in path.split("@", 1)[0].split("/") if p]
    if host not in _FORGES or len(parts) != 2:
        return None
    name = parts[1].removesuffix(".git")
    return name if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._\-]*", name) else None


def _looks_like_path(text: str) -> bool:
    return text.startswith((".", "/", "~")) or "/" in text or "\\" in text or text.endswith((".whl", ".zip"))


def _parse_requirement(text: str, location: Location, out: _Collector, *, editable: bool = False) -> None:
    """Add one requirement (a PEP 508 string, URL or VCS link) to `out`, or a Problem when it has no name."""
    text = text.strip()
    safe = redact(text)
    if _URL.match(text):
        name = _name_from_url(text)
        if name is None:
            out.problems.append(
                Problem(location, f"cannot tell the distribution name of {safe!r}; add '#egg=<name>' or use "
                                  "'<name> @ <url>'")
            )
            return
        out.requirements.append(DeclaredRequirement(canonicalize_name(name), safe, location))
        return
    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        if editable or _looks_like_path(text):
            out.problems.append(
                Problem(location, f"local path requirement {safe!r} is installed from the project folder; "
                                  "its distribution name is not known")
            )
        else:
            reason = redact(str(exc)).splitlines()[0] if str(exc) else "not a requirement"
            out.problems.append(Problem(location, f"malformed requirement {safe!r}: {reason}"))
        return
    out.requirements.append(DeclaredRequirement(canonicalize_name(req.name), safe, location))


# --------------------------------------------------------------------------------------------- pip arguments


def _split_option(tokens: list[str], i: int) -> tuple[str, str | None, int]:
    """(option, value, next index) for the option at tokens[i]; value None when it is missing."""
    token = tokens[i]
    if token.startswith("--") and "=" in token:
        opt, value = token.split("=", 1)
        return opt, value, i + 1
    if len(token) > 2 and token[1] != "-" and token[:2] in _OPTS_WITH_VALUE:  # -rfile.txt, -ihttps://...
        return token[:2], token[2:], i + 1
    if token in _OPTS_WITH_VALUE:
        return token, (tokens[i + 1] if i + 1 < len(tokens) else None), i + 2
    return token, None, i + 1


def _apply_pip_args(tokens: list[str], location: Location, out: _Collector) -> None:
    """Interpret the arguments after `pip install`: requirements, -r files, -e targets and index URLs."""
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if not token.startswith("-") or token == "-":
            if token.startswith(("$", "{")) or token.endswith("}"):
                out.problems.append(
                    Problem(location, f"pip argument {redact(token)!r} is a notebook variable; it cannot be "
                                      "read statically, declare the package explicitly")
                )
            else:
                _parse_requirement(token, location, out)
            i += 1
            continue
        opt, value, i = _split_option(tokens, i)
        if opt not in _OPTS_WITH_VALUE:
            continue  # a flag such as -q, -U, --upgrade, --no-deps, --pre, --user
        if value is None:
            out.problems.append(Problem(location, f"pip option {opt} has no value"))
            continue
        if opt in ("-r", "--requirement"):
            out.files.append((value, location))
        elif opt in ("-e", "--editable"):
            _parse_requirement(value, location, out, editable=True)
        elif opt in ("-i", "--index-url", "--extra-index-url"):
            out.index(value)


#: IPython expands `{expr}` in a shell line before the shell sees it: one unknown word, whatever is inside.
_INTERPOLATION = re.compile(r"\{[^{}]*\}")
_REDIRECTS = frozenset({">", ">>", "<", ">&", "&>", ">|", "<<", "<<<"})


def _strip_shell_comment(body: str) -> str:
    """Cut a shell comment: `#` at the start of a word, outside quotes (`pkg#egg=x` is not a comment)."""
    quote = ""
    for i, ch in enumerate(body):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or body[i - 1].isspace()):
            return body[:i]
    return body


def _shell_words(body: str) -> list[str]:
    """The words a POSIX shell passes to commands: quotes removed, `;`, `&&`, `|` and redirections kept apart.

    An unquoted `pkg>=1.0` is `pkg` with its output redirected to a file `=1.0`, as the shell runs it.
    """
    lexer = shlex.shlex(_strip_shell_comment(body), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    words = list(lexer)
    out: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
            continue
        if word in _REDIRECTS:
            skip = True  # the redirection target is a file name, not an argument
            if out and out[-1].isdigit():
                out.pop()  # `2>&1`: the file descriptor is not an argument either
            continue
        out.append(word)
    return out


def _pip_install_args(text: str, location: Location, out: _Collector) -> list[list[str]]:
    """Argument lists of every `pip install` in one magic / shell line (`a && pip install b; ...`)."""
    body = text.strip()
    body = body[1:] if body[:1] in "%!" else body
    body = _INTERPOLATION.sub(lambda m: m.group(0) if not re.search(r"[\s'\"]", m.group(0)) else "{expression}", body)
    try:
        tokens = _shell_words(body)
    except ValueError as exc:
        out.problems.append(Problem(location, f"cannot parse pip command {redact(text)!r}: {exc}"))
        return []
    commands: list[list[str]] = [[]]
    for token in tokens:
        if token in _SEPARATORS or token in {"&", "(", ")"}:
            commands.append([])
        elif token.endswith(";") and len(token) > 1:
            commands[-1].append(token[:-1])
            commands.append([])
        else:
            commands[-1].append(token)
    found: list[list[str]] = []
    for command in commands:
        for i, token in enumerate(command):
            is_pip = bool(_PIP.match(token)) or (
                token == "pip" and i >= 2 and command[i - 1] == "-m" and _PYTHON.match(command[i - 2])
            )
            if is_pip:
                rest = command[i + 1 :]
                if rest and rest[0] == "install":
                    found.append(rest[1:])
                break
    return found


def parse_pip_command(text: str, location: Location) -> list[DeclaredRequirement]:
    """Requirements named by one notebook line such as `%pip install -q a b==1` or `!pip install -U "c>=2"`.

    Args:
        text: the magic or shell line as written (continuations already joined).
        location: where the line is; every requirement gets it.

    Returns:
        The requirements in order, specifiers redacted. A line that is not `pip install` gives []; `-r file`
        arguments are not followed here (`read_declared` reads them relative to the project root), and
        arguments that cannot be read statically are skipped.
    """
    out = _Collector()
    for args in _pip_install_args(text, location, out):
        _apply_pip_args(args, location, out)
    return out.requirements


# ------------------------------------------------------------------------------------------- requirements.txt


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) per logical line: comments stripped, `\\` continuations joined."""
    lines: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        if raw.endswith("\\"):
            pending.append(raw[:-1])
            continue
        pending.append(raw)
        joined = _COMMENT.sub("", " ".join(pending)).strip()
        pending = []
        if joined:
            lines.append((start, joined))
    if pending:
        joined = _COMMENT.sub("", " ".join(pending)).strip()
        if joined:
            lines.append((start, joined))
    return lines


def _relative(path: Path, root: Path) -> str | None:
    """POSIX path of `path` relative to root, or None when it lies outside the root."""
    try:
        return Path(os.path.realpath(path)).relative_to(os.path.realpath(root)).as_posix()
    except ValueError:
        return None


def _read_text(path: Path, root: Path, location: Location, out: _Collector) -> str | None:
    try:
        return guarded.read_text(path, root)
    except guarded.GuardedReadError as exc:
        out.problems.append(Problem(location, exc.message))
    return None


def _include(
    target: str, base: Path, root: Path, location: Location, out: _Collector, stack: tuple[Path, ...],
    seen: set[Path],
) -> None:
    """Follow `-r target` (relative to `base`) when it stays inside the root, is new and not too deep.

    `stack` holds the files being read (an include of one of them is a loop, reported); `seen` holds every
    file read so far (a second include of one is skipped silently, since its requirements are in already).
    """
    path = (base / os.path.expanduser(target)) if not Path(target).is_absolute() else Path(target)
    rel = _relative(path, root)
    if rel is None:
        out.problems.append(Problem(location, f"-r {redact(target)!r} points outside the project; not read"))
        return
    resolved = Path(os.path.realpath(path))
    if resolved in stack:
        out.problems.append(Problem(location, f"-r {rel}: include loop; not read again"))
        return
    if resolved in seen:
        return
    if len(stack) >= MAX_INCLUDE_DEPTH:
        message = f"-r {rel}: includes nested deeper than {MAX_INCLUDE_DEPTH}; not read"
        out.problems.append(Problem(location, message))
        return
    if not path.is_file():
        out.problems.append(Problem(location, f"-r {rel}: file not found"))
        return
    _read_requirements_file(path, root, out, stack, seen)


def _read_requirements_file(
    path: Path, root: Path, out: _Collector, stack: tuple[Path, ...], seen: set[Path]
) -> None:
    real = Path(os.path.realpath(path))
    seen.add(real)
    stack = (*stack, real)
    rel = _relative(path, root) or path.name
    text = _read_text(path, root, Location(rel, 1), out)
    if text is None:
        return
    for number, line in _logical_lines(text):
        location = Location(rel, number)
        if not line.startswith("-"):
            _parse_requirement(_TRAILING_OPTS.sub("", line), location, out)
            continue
        try:
            tokens = shlex.split(line, posix=True)
        except ValueError as exc:
            out.problems.append(Problem(location, f"cannot parse option line {redact(line)!r}: {exc}"))
            continue
        opt, value, _next = _split_option(tokens, 0)
        if opt not in _OPTS_WITH_VALUE:
            if opt not in ("--pre", "--prefer-binary", "--require-hashes", "--no-index", "--only-binary"):
                out.problems.append(Problem(location, f"unknown pip option {redact(opt)!r}; ignored"))
            continue
        if value is None:
            out.problems.append(Problem(location, f"pip option {opt} has no value"))
        elif opt in ("-r", "--requirement"):
            _include(value, path.parent, root, location, out, stack, seen)
        elif opt in ("-e", "--editable"):
            _parse_requirement(value, location, out, editable=True)
        elif opt in ("-i", "--index-url", "--extra-index-url"):
            out.index(value)
        # -c constraints, --find-links, --trusted-host, ... add no requirement


# --------------------------------------------------------------------------------------------- pyproject.toml


def _line_of(text: str, needle: str) -> int:
    """1-based line of the first occurrence of `needle` in text (1 when absent)."""
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else 1


def _bump(parts: list[int], position: int) -> str:
    upper = parts[: position + 1]
    upper[position] += 1
    return ".".join(str(p) for p in upper + [0] * (len(parts) - len(upper)))


def _poetry_specifier(constraint: str) -> str:
    """PEP 440 specifier for a Poetry version constraint (`^1.2`, `~1.2.3`, `1.2.*`, `>=1,<2`, `1.2.3`).

    Raises:
        ValueError: the constraint has no PEP 440 equivalent (`a || b`) or is malformed.
    """
    constraint = constraint.strip()
    if constraint in ("", "*"):
        return ""
    if "||" in constraint or "|" in constraint:
        raise ValueError("alternatives ('||') have no PEP 440 form")
    specs: list[str] = []
    for part in re.split(r"\s*,\s*|\s+(?=[<>=!~^])", constraint):
        part = part.strip()
        if not part:
            continue
        if part[0] in "^~" and not part.startswith("~="):
            numbers = part[1:].strip()
            if not re.fullmatch(r"\d+(\.\d+)*", numbers):
                raise ValueError(f"cannot read {part!r}")
            parts = [int(p) for p in numbers.split(".")]
            if part[0] == "^":
                position = next((i for i, p in enumerate(parts) if p != 0), len(parts) - 1)
            else:
                position = 1 if len(parts) >= 2 else 0
            specs.append(f">={numbers},<{_bump(parts, position)}")
        elif part[0] in "<>=!~":
            specs.append(part.replace(" ", ""))
        else:
            specs.append(f"=={part}")
    joined = ",".join(specs)
    SpecifierSet(joined)  # raises InvalidSpecifier (a ValueError) when malformed
    return joined


def _poetry_requirement(name: str, value: object) -> str | None:
    """PEP 508 string for one `[tool.poetry.dependencies]` entry; None for optional (extra-only) entries.

    Raises:
        ValueError: the entry cannot be expressed for pip (local path, malformed constraint).
    """
    if isinstance(value, str):
        return f"{name}{_poetry_specifier(value)}"
    if isinstance(value, list):
        raise ValueError("multiple-constraint dependencies are not supported; declare one constraint")
    if not isinstance(value, dict):
        raise ValueError("unexpected value type")
    if value.get("optional") is True:
        return None
    extras = value.get("extras")
    head = f"{name}[{','.join(extras)}]" if isinstance(extras, list) and extras else name
    markers = value.get("markers")
    tail = f"; {markers}" if isinstance(markers, str) and markers else ""
    if "path" in value:
        raise ValueError(f"local path dependency {value['path']!r} is installed from the project folder")
    if "git" in value:
        ref = value.get("rev") or value.get("tag") or value.get("branch")
        return f"{head} @ git+{value['git']}{'@' + ref if ref else ''}{tail}"
    if "url" in value:
        return f"{head} @ {value['url']}{tail}"
    version = value.get("version", "*")
    return f"{head}{_poetry_specifier(str(version))}{tail}"


def _read_pyproject(path: Path, root: Path, out: _Collector) -> None:
    rel = _relative(path, root) or path.name
    text = _read_text(path, root, Location(rel, 1), out)
    if text is None:
        return
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        out.problems.append(Problem(Location(rel, 1), f"invalid TOML: {redact(str(exc))}"))
        return
    project = data.get("project")
    dependencies = project.get("dependencies", []) if isinstance(project, dict) else []
    if not isinstance(dependencies, list):
        out.problems.append(Problem(Location(rel, 1), "[project].dependencies is not a list"))
        dependencies = []
    for dep in dependencies:
        if not isinstance(dep, str):
            out.problems.append(Problem(Location(rel, 1), "[project].dependencies holds a non-string entry"))
            continue
        _parse_requirement(dep, Location(rel, _line_of(text, dep)), out)
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    poetry_deps = poetry.get("dependencies", {}) if isinstance(poetry, dict) else {}
    if not isinstance(poetry_deps, dict):
        out.problems.append(Problem(Location(rel, 1), "[tool.poetry.dependencies] is not a table"))
        return
    for name, value in poetry_deps.items():
        if name.lower() == "python":
            continue
        match = re.search(rf'^\s*"?{re.escape(name)}"?\s*=', text, re.MULTILINE)
        location = Location(rel, text.count("\n", 0, match.start()) + 1 if match else 1)
        try:
            requirement = _poetry_requirement(name, value)
        except (ValueError, InvalidSpecifier) as exc:
            out.problems.append(Problem(location, f"poetry dependency {name!r}: {redact(str(exc))}"))
            continue
        if requirement is not None:
            _parse_requirement(requirement, location, out)


# --------------------------------------------------------------------------------------------- entry point


def read_declared(root: Path, magics: Sequence[tuple[Location, str]] = ()) -> Declared:
    """Collect the dependencies a project declares.

    Args:
        root: the project folder (a file's parent is used when a file is given). `requirements.txt` and
            `pyproject.toml` are read from it; `-r` includes are followed relative to the including file,
            at most MAX_INCLUDE_DEPTH deep, never twice and never outside the root.
        magics: notebook magic / shell lines with their locations (any magic may be passed; only
            `pip install` ones count). Their `-r file` arguments are read relative to the root.

    Returns:
        A `Declared`. Missing files give an empty result; unreadable files, malformed lines, local-path
        requirements and unparseable magics each give a `Problem`. Credentials in any URL are redacted.
    """
    root = root.parent if root.is_file() else root
    out = _Collector()
    seen: set[Path] = set()
    requirements_file = None
    req_path = root / REQUIREMENTS_TXT
    if os.path.lexists(req_path):
        if guarded.is_inside(req_path, root):  # an outside link is reported below and never travels
            requirements_file = REQUIREMENTS_TXT
        _read_requirements_file(req_path, root, out, (), seen)
    pyproject = root / PYPROJECT_TOML
    if os.path.lexists(pyproject):
        _read_pyproject(pyproject, root, out)
    before = len(out.requirements)
    for location, text in magics:
        for args in _pip_install_args(text, location, out):
            _apply_pip_args(args, location, out)
    magic_requirements = tuple(out.requirements[before:])
    for target, location in out.files:  # `%pip install -r x.txt`: x.txt relative to the root
        _include(target, root, root, location, out, (), seen)
    return Declared(
        requirements=tuple(out.requirements),
        requirements_file=requirements_file,
        index_urls=tuple(out.index_urls),
        problems=tuple(out.problems),
        magic_requirements=magic_requirements,
    )
