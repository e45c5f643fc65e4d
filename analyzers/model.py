"""Typed results of the static analysis: locations, evidence, per-pass findings and the Analysis itself.

Every type here is a frozen, slotted dataclass. Detection lives in the pass modules, rendering (text, JSON)
in `report.py`; nothing here knows how to find or print anything.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .removed_apis import RemovedApiFinding

#: Longest code excerpt kept as evidence; longer segments are cut with an ellipsis.
MAX_EXCERPT = 160


class Confidence(str, enum.Enum):
    """How sure a finding is: `certain` (the code says so), `likely` (conditional or indirect), `guess`."""

    CERTAIN = "certain"
    LIKELY = "likely"
    GUESS = "guess"

    @property
    def rank(self) -> int:
        """certain 3 > likely 2 > guess 1: the one order every pass compares and sorts by."""
        return _CONFIDENCE_RANK[self.value]

    def __lt__(self, other: object) -> bool:
        return self.rank < other.rank if isinstance(other, Confidence) else NotImplemented

    def __le__(self, other: object) -> bool:
        return self.rank <= other.rank if isinstance(other, Confidence) else NotImplemented

    def __gt__(self, other: object) -> bool:
        return self.rank > other.rank if isinstance(other, Confidence) else NotImplemented

    def __ge__(self, other: object) -> bool:
        return self.rank >= other.rank if isinstance(other, Confidence) else NotImplemented


_CONFIDENCE_RANK = {"certain": 3, "likely": 2, "guess": 1}


@dataclass(frozen=True, slots=True)
class Location:
    """A place in the user's code.

    `path` is POSIX and relative to the analysis root; `line` is 1-based and `col` 0-based (as `ast` gives
    them); `cell` is the 1-based position of a notebook cell, counting every cell as Jupyter shows them.
    """

    path: str
    line: int
    col: int = 0
    cell: int | None = None

    def sort_key(self) -> tuple[str, int, int, int]:
        return (self.path, self.cell or 0, self.line, self.col)

    def render(self) -> str:
        cell = f"[{self.cell}]" if self.cell is not None else ""
        return f"{self.path}{cell}:{self.line}:{self.col + 1}"


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a finding exists: where, the code that caused it, and a short reason a person can check."""

    location: Location
    code: str
    reason: str


def excerpt(text: str) -> str:
    """Collapse a source segment to one line of at most MAX_EXCERPT characters."""
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= MAX_EXCERPT else one_line[: MAX_EXCERPT - 1] + "…"


@dataclass(frozen=True, slots=True)
class Problem:
    """Input that could not be (fully) analysed. The rest of the analysis still stands."""

    location: Location
    message: str


# --------------------------------------------------------------------------------------------------- imports


class ImportKind(str, enum.Enum):
    IMPORT = "import"  # import a.b
    FROM = "from"  # from a.b import c
    DYNAMIC = "dynamic"  # importlib.import_module("a.b") / __import__("a")
    PIP_MAGIC = "pip_magic"  # %pip install x / !pip install x in a notebook


@dataclass(frozen=True, slots=True)
class ImportFinding:
    """One absolute import statement (or dynamic import with a literal name) in one file.

    `module` is the full dotted module (`google.cloud.storage`); for `from a import b` it is `a`, and
    `names` holds the imported names (`b`), since `from google.cloud import storage` imports a package.
    `optional` is true under a `try/except ImportError` (or ModuleNotFoundError / Exception) guard;
    `nested` is true inside a function or class body.
    """

    kind: ImportKind
    module: str
    names: tuple[str, ...]
    location: Location
    evidence: str
    confidence: Confidence
    optional: bool = False
    nested: bool = False
    level: int = 0  # > 0 for relative imports (always local)


# --------------------------------------------------------------------------------------------------- packages


class PackageStatus(str, enum.Enum):
    PREINSTALLED = "preinstalled"  # in the Container Runtime image chosen by the compute verdict
    TO_INSTALL = "to_install"  # must go to pip_requirements (and so needs PyPI access)
    #: No project file, stdlib module, curated entry, installed metadata or declaration knows the import.
    #: Never installed: guessing a PyPI name from an import invites dependency confusion; the user answers.
    UNRESOLVED = "unresolved"


@dataclass(frozen=True, slots=True)
class PackageFinding:
    """A third-party distribution the job needs, with the imports that require it."""

    import_name: str
    distribution: str
    status: PackageStatus
    optional: bool
    evidence: tuple[Evidence, ...]
    resolved_by: str  # curated | installed | declared | pip_magic | identity
    confidence: Confidence
    requirement: str | None = None  # the declared specifier, e.g. "xgboost>=2.0", when one was declared
    runtime_version: str | None = None  # version in the runtime image when preinstalled
    hint: str | None = None
    #: declared (requirements.txt, pyproject) but imported by no analysed file: installed only with the file
    declared_only: bool = False


@dataclass(frozen=True, slots=True)
class DeclaredRequirement:
    """A dependency declared in requirements.txt, pyproject.toml or a notebook %pip line."""

    name: str  # canonical distribution name
    specifier: str  # the full requirement line as written, credentials redacted
    location: Location


# --------------------------------------------------------------------------------------------------- compute


class ComputeTarget(str, enum.Enum):
    GPU = "GPU"
    CPU = "CPU"


@dataclass(frozen=True, slots=True)
class GpuFinding:
    """One piece of code that uses (or explicitly forbids) a GPU."""

    signal: str  # a GpuSignal value from compute.py, e.g. "cuda_call", "device_map", "booster_gpu"
    location: Location
    evidence: str
    reason: str
    confidence: Confidence
    hint: str | None = None


@dataclass(frozen=True, slots=True)
class MultiNodeHint:
    """The code is written for several nodes (Ray, Snowflake distributors, DDP launchers)."""

    framework: str  # ray | snowflake_distributor | torch_distributed | ...
    suggested_instances: int
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True, slots=True)
class ComputeVerdict:
    recommendation: ComputeTarget
    confidence: Confidence
    reason: str
    evidence: tuple[GpuFinding, ...]
    multi_node: MultiNodeHint | None = None
    needs_large_memory: bool = False


# --------------------------------------------------------------------------------------------------- network


#: The network catalog: its category names are the vocabulary below (one source for the enum, the JSON
#: schema and the docs; a new service or category is a change to this file only).
NETWORK_CATALOG = Path(__file__).resolve().parent.parent / "skill" / "data" / "network_catalog.yaml"


def catalog_categories(path: Path = NETWORK_CATALOG) -> dict[str, str]:
    """Member name -> value for every category of the network catalog, in catalog order."""
    import yaml  # noqa: PLC0415 - only needed once, to build the enum

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader
    return {str(name).upper(): str(name) for name in data["categories"]}


if TYPE_CHECKING:

    class NetworkCategory(str, enum.Enum):
        """The members code refers to by name (tests/analyzers/test_catalog_vocabulary.py checks they exist)."""

        PYPI = "pypi"
        HUGGINGFACE = "huggingface"
        PYTORCH_HUB = "pytorch_hub"
        NLTK = "nltk"
        WANDB = "wandb"
        MLFLOW = "mlflow"
        S3 = "s3"
        AZURE = "azure"
        HTTP = "http"

else:
    #: Closed vocabulary of outbound access kinds, built from network_catalog.yaml; the public JSON contract
    #: uses exactly these values.
    NetworkCategory = enum.Enum("NetworkCategory", catalog_categories(), type=str, module=__name__)
    NetworkCategory.__doc__ = "Closed vocabulary of outbound access kinds (the categories of network_catalog.yaml)."


@dataclass(frozen=True, slots=True)
class NetworkFinding:
    """One piece of code that reaches out to the network."""

    category: NetworkCategory
    hosts: tuple[str, ...]
    location: Location
    evidence: str
    reason: str
    confidence: Confidence
    #: The imported module the call goes through (`wandb`, `google.cloud.storage`), None for URL literals:
    #: when that module's package is optional and not preinstalled it is never installed, so no access.
    requires: str | None = None


@dataclass(frozen=True, slots=True)
class NetworkNeed:
    """All findings of one category merged: the hosts an EAI must allow, and why."""

    category: NetworkCategory
    hosts: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    confidence: Confidence


# --------------------------------------------------------------------------------------------------- io


class IoKind(str, enum.Enum):
    OUTPUT_ARG = "output_arg"  # a CLI option that names an output location
    HARDCODED_OUTPUT = "hardcoded_output"  # a literal path written to
    LOCAL_INPUT = "local_input"  # a literal local path read from (will not exist in the job unless shipped)
    SETS_RETURN = "sets_return"  # the script assigns __return__
    SNOWPARK_SESSION = "snowpark_session"  # the script opens or uses a Snowpark session
    ENTRYPOINT_CALL = "entrypoint_call"  # `if __name__ == "__main__": main()` (where __return__ can be captured)
    SNOWFLAKE_TABLE = "snowflake_table"  # a table or view the code reads or writes through Snowpark
    SNOWFLAKE_STAGE = "snowflake_stage"  # a stage path (@stage/...) the code reads or writes


@dataclass(frozen=True, slots=True)
class IoFinding:
    kind: IoKind
    location: Location
    evidence: str
    detail: str  # option name ("--output-dir"), literal path, or function name
    confidence: Confidence
    hint: str | None = None
    default: str | None = None  # the option's default value, when it has a literal one
    exists_locally: bool | None = None  # for LOCAL_INPUT: whether the file is inside the project tree
    #: For ENTRYPOINT_CALL: whether the called function returns a value (a `return <expr>` in its own body);
    #: None when the function is not defined in the same file.
    returns_value: bool | None = None
    #: For SNOWFLAKE_TABLE / SNOWFLAKE_STAGE: the privilege the job's role needs (SELECT, INSERT, READ, WRITE...).
    privilege: str | None = None


@dataclass(frozen=True, slots=True)
class CliOption:
    """One option or positional argument a script's parser declares (argparse, click, typer).

    Values are the literal text of the declaration; `type` is a simple name ("int", "float", "bool", "str",
    "path", "choice") or the callable's name, None when not given (argparse and click then pass a str).
    `known` is False when some part of the declaration is computed at run time (a variable holding the
    choices, a custom type function), so a check against it cannot be certain.
    """

    framework: str  # argparse | click | typer
    flags: tuple[str, ...]  # ("-o", "--output-dir"); empty for a positional argument
    dest: str  # the attribute / parameter name
    location: Location
    evidence: str
    type: str | None = None
    choices: tuple[str, ...] | None = None
    nargs: str | None = None  # "?", "*", "+", "3", ...
    default: str | None = None  # literal default as text; None when absent or not a literal
    action: str | None = None  # store_true, store_false, count, append, ... (click: "flag" for is_flag)
    required: bool = False
    known: bool = True


@dataclass(frozen=True, slots=True)
class IoReport:
    output_args: tuple[IoFinding, ...]
    hardcoded_outputs: tuple[IoFinding, ...]
    local_inputs: tuple[IoFinding, ...]
    sets_return: bool
    return_evidence: tuple[IoFinding, ...]
    uses_snowpark: bool
    snowpark_evidence: tuple[IoFinding, ...]
    entrypoint_call: IoFinding | None = None
    #: Every option the script's parsers declare, in source order (entrypoint file first).
    cli_options: tuple[CliOption, ...] = ()
    #: True when the declarations are the whole story: one parser, every flag literal, unknown options rejected
    #: (no parse_known_args, subparsers, fire or HfArgumentParser); only then is an undeclared flag an error.
    cli_closed: bool = False
    #: Snowflake tables and stages the code reads or writes (session.table, SQL FROM, @stage paths).
    snowflake_objects: tuple[IoFinding, ...] = ()


# --------------------------------------------------------------------------------------------------- method


class SubmitMethod(str, enum.Enum):
    SUBMIT_FILE = "submit_file"
    SUBMIT_DIRECTORY = "submit_directory"
    SUBMIT_FROM_STAGE = "submit_from_stage"
    REMOTE = "remote"


@dataclass(frozen=True, slots=True)
class MethodRecommendation:
    method: SubmitMethod
    reason: str


# --------------------------------------------------------------------------------------------------- analysis


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything the static analysis found for one entrypoint. Its JSON form is a public contract."""

    root: str  # absolute path of the project root (the folder, or the file's parent)
    entrypoint: str  # POSIX path relative to root
    files: tuple[str, ...]  # analysed files, relative to root, entrypoint first
    compute: ComputeVerdict
    packages: tuple[PackageFinding, ...]
    local_modules: tuple[str, ...]  # dotted names of first-party modules the entrypoint imports
    network: tuple[NetworkNeed, ...]
    io: IoReport
    method: MethodRecommendation
    declared: tuple[DeclaredRequirement, ...] = ()
    requirements_file: str | None = None  # relative path of the requirements.txt that travels with the code
    data_files: tuple[str, ...] = ()  # local input files found inside the project tree
    problems: tuple[Problem, ...] = ()
    runtime: str = field(default="")  # the runtime package list used, e.g. "2.10-cpu-py3.11"
    #: Imports that look like the project's own code but have no file (never installed; each is a Problem).
    missing_modules: tuple[str, ...] = ()
    removed_apis: tuple[RemovedApiFinding, ...] = ()  # uses of APIs the job's library versions lack
