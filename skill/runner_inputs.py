"""What a plan may hand to pip and to the job's environment: plain package specs and harmless variable names.

pip reads more than package names. A requirement line can carry an option (`-r /outside/.env`, `--index-url`),
a control character pip splits lines at (`tinypkg\\x1c-r/outside/.env`), a URL or VCS link (`git+http://...`
runs git as a subprocess, outside the local network guard) or a `file:` path. Environment variables such as
`PIP_INDEX_URL`, `PYTHONPATH`, `LD_PRELOAD` or `HTTPS_PROXY` change what the runner itself does before any
user code runs. None of that is visible in "Dependencies: tinypkg". So:

- a requirement must be one PEP 508 specifier (parsed by `packaging`) without a URL; direct references
  (`name @ url`, VCS, `file:`) pass only when the user allowed them explicitly (the CLI's
  `--allow-direct-requirements`); options and control characters never pass;
- an env var name in a runner-changing family is refused, except a few that only tune output.

Messages name the field and the reason and never echo the value (it may be a secret or an attack string).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from packaging.requirements import InvalidRequirement, Requirement

#: Name families that change how the runner (pip, the interpreter, the loader, the network stack or
#: mljobs itself) behaves; a job's env vars may not set them.
RUNNER_ENV_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^PIP_", re.I), "configures pip (index, trusted hosts, config file) before the job's code runs"),
    (re.compile(r"^PYTHON", re.I), "changes how the interpreter starts (import path, startup code, site)"),
    (re.compile(r"^LD_|^DYLD_", re.I), "changes which native libraries every process loads"),
    (re.compile(r"(^|_)PROXY$|^ALL_PROXY$|^NO_PROXY$", re.I), "routes the job's traffic through another host"),
    (re.compile(r"^MLJOBS_|^MLRS_", re.I), "is set by mljobs and the runtime itself"),
    (re.compile(r"^(UV_|CONDA_|VIRTUAL_ENV$|PATH$|HOME$|SSL_CERT_|REQUESTS_CA_BUNDLE$|CURL_CA_BUNDLE$|GIT_)", re.I),
     "changes which tools, certificates or environment the runner uses"),
)
#: Interpreter variables that only tune output or hashing; allowed.
HARMLESS_PYTHON_ENV = frozenset({
    "PYTHONHASHSEED", "PYTHONUNBUFFERED", "PYTHONIOENCODING", "PYTHONDONTWRITEBYTECODE", "PYTHONFAULTHANDLER",
    "PYTHONUTF8",
})
_DIRECT_SCHEMES = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:", re.ASCII)


def runner_env_reason(name: str) -> str | None:
    """Why setting `name` would change the runner, or None when the name is an ordinary variable."""
    if name.upper() in HARMLESS_PYTHON_ENV:
        return None
    for pattern, reason in RUNNER_ENV_PATTERNS:
        if pattern.search(name):
            return reason
    return None


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in text)


def requirement_problem(text: object, *, allow_direct: bool = False) -> str | None:
    """Why `text` is not acceptable as one pip requirement, or None. Never includes `text` itself."""
    if not isinstance(text, str):
        return "is not a string"
    if not text.strip():
        return "is empty"
    if _has_control(text):
        return "contains a control or line-separator character (pip would split it into several lines)"
    stripped = text.strip()
    if stripped.startswith("-"):
        return "is a pip option, not a package (options such as -r, -e, --index-url are not accepted)"
    try:
        req = Requirement(stripped)
    except InvalidRequirement:
        if _DIRECT_SCHEMES.match(stripped) or "/" in stripped or "\\" in stripped:
            if allow_direct:
                return None
            return ("is a URL, VCS link or file path; only package specifiers such as 'name>=1.0' are accepted "
                    "(a person can allow direct references explicitly in the CLI)")
        return "is not a valid PEP 508 requirement (expected e.g. 'name', 'name==1.2', 'name[extra]>=1')"
    if req.url and not allow_direct:
        return ("is a direct reference (name @ URL/VCS/file); only package specifiers are accepted "
                "(a person can allow direct references explicitly in the CLI)")
    return None


def runner_input_errors(
    requirements: Sequence[str],
    env_names: Iterable[str],
    travelling_requirements: Sequence[tuple[str, str]] = (),
    *,
    allow_direct: bool = False,
) -> list[str]:
    """Every reason the plan's pip requirements or env var names are refused, one message each.

    Args:
        requirements: the plan's pip_requirements, in order (messages say "pip requirement #N").
        env_names: the plan's env var names.
        travelling_requirements: (where, line) of each requirement in a requirements file that travels
            with the code and that pip will install in the job.
        allow_direct: the user explicitly allowed URL/VCS/file requirements.
    """
    errors = []
    for index, req in enumerate(requirements, start=1):
        problem = requirement_problem(req, allow_direct=allow_direct)
        if problem:
            errors.append(f"pip requirement #{index} {problem}")
    for where, line in travelling_requirements:
        problem = requirement_problem(line, allow_direct=allow_direct)
        if problem:
            errors.append(f"requirement at {where} {problem}")
    for name in env_names:
        reason = runner_env_reason(name)
        if reason:
            errors.append(f"env var {name}: not allowed, it {reason}; set it inside the script if it is needed")
    return errors


def escaped(text: str) -> str:
    """`text` with every non-printable character shown as an escape, for confirmation prompts."""
    if text.isprintable():
        return text
    return text.encode("unicode_escape").decode("ascii")
