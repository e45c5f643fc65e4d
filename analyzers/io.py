"""Where a script puts its results and what local files it reads: per-file `scan_io`, merged by `summarize_io`.

The job runs in a container with only the submitted files: outputs written to hard-coded local paths are lost
unless they go under `MLRS_STAGE_RESULT_PATH`, and local inputs must travel with `submit_directory` or come
from a stage. This pass finds output-path CLI options (argparse, click, typer, fire, HfArgumentParser), literal
output and input paths, `__return__`, the `if __name__ == "__main__"` call and Snowpark session use.

Paths are followed through simple string constants, f-strings, `+`, `os.path.join`, `pathlib` `/` and
`__file__`-relative folders; a path whose first part is computed at run time (`args.out`) is not hard-coded
and is not reported.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import posixpath
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import snowobjects
from .cliargs import FLAG_ACTIONS, argparse_option, click_option, typer_option
from .iomerge import IoScan, _exists, summarize_io
from .model import CliOption, Confidence, IoFinding, IoKind, Location
from .names import argument, attr_chain, literal_str
from .source import SourceFile
from .visitor import dispatch

__all__ = ["IoScan", "scan_io", "summarize_io"]  # IoScan and summarize_io live in iomerge.py

K = IoKind

# --------------------------------------------------------------------------------------------------- patterns
# The scan_io contract takes no rules table, so the call patterns live here, one table per direction.

#: Option / parameter names that name an output location (after stripping dashes, "-" -> "_", lower case).
_OUTPUT_NAME = re.compile(
    r"^(?:(?:output|out|save|saved|export|checkpoint|checkpoints|ckpt|results?|artifacts?|logs?|logging|"
    r"tensorboard|tb|work|exp|experiment|run|dump|pred|preds|predictions?|submission|figures?|plots?|"
    r"model|models|best_model|final_model|trained_model|metrics|report)_?"
    r"(?:dir|directory|path|folder|file|filename|root|prefix|to|location|uri|base|fname|name_or_dir)s?"
    r"|output|outputs|out|outdir|savedir|logdir|workdir|artifacts|results|checkpoints|save_to|metrics|"
    r"(?:output|out|save)_\w+|\w+_(?:output|out)(?:_(?:dir|path|file|folder))?|"
    r"(?:save|output|export)_(?:model|weights|checkpoint)\w*)$"
)
#: ...but these are inputs or labels, never outputs.
_NOT_OUTPUT = re.compile(r"(?:^|_)(?:input|in|data|train|test|valid|val|eval|source|src|load|resume|init|"
                         r"pretrained|base|cache|config|name_or_path|name)(?:_|$)|^model_(?:name|id|type)$")

#: Output-named keyword arguments of library calls: TrainingArguments(output_dir=...), Trainer(default_root_dir=...).
#: The reader / writer API tables live in skill/data/io_apis.yaml (one source; a new library is one entry there).
IO_APIS = Path(__file__).resolve().parent.parent / "skill" / "data" / "io_apis.yaml"


def _load_io_apis(path: Path = IO_APIS) -> dict[str, Any]:
    import yaml  # only needed once, for the tables

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader
    return data if isinstance(data, dict) else {}


def _calls(table: Any) -> dict[str, tuple[int, tuple[str, ...]]]:
    return {str(k): (int(v[0]), tuple(str(x) for x in v[1])) for k, v in (table or {}).items()}


_APIS = _load_io_apis()
_OUTPUT_KWS = frozenset(_APIS.get("output_keywords", ()))
#: Calls that write: qualname -> (positional index of the path, keyword names).
_WRITERS: dict[str, tuple[int, tuple[str, ...]]] = _calls(_APIS.get("writers"))
#: Calls that read: qualname (or glob) -> (positional index of the path, keyword names).
_READERS: dict[str, tuple[int, tuple[str, ...]]] = _calls(_APIS.get("readers"))
#: Methods on any object that write their first argument (receiver unknown: a model, a DataFrame, a figure).
_WRITE_METHODS = frozenset(_APIS.get("write_methods", ()))
#: Methods on any object that read their first argument.
_READ_METHODS = frozenset(_APIS.get("read_methods", ()))
_PATH_METHOD_WRITES = frozenset(_APIS.get("path_method_writes", ()))
_PATH_METHOD_READS = frozenset(_APIS.get("path_method_reads", ()))
_PATH_METHODS = _PATH_METHOD_WRITES | _PATH_METHOD_READS
_HF_LIBS = ("transformers", "diffusers", "peft", "sentence_transformers", "timm", "optimum", "setfit", "trl")

_SNOWPARK_USE = frozenset({"table", "sql", "create_dataframe", "write_pandas", "read", "file", "call", "use_database",
                           "use_schema", "use_warehouse", "get_current_database"})
_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_UNKNOWN = "{}"
_REMOTE_KEY = re.compile(r"(?:^|_)(?:key|prefix|blob|object|bucket|table|uri|url|stage|s3|gcs)(?:_|$)")
_DATA_FILE = re.compile(r"\.(csv|tsv|parquet|pq|json|jsonl|ndjson|txt|npy|npz|pt|pth|pkl|pickle|joblib|h5|hdf5|"
                        r"xlsx?|feather|arrow|avro|orc|zip|gz|tar|tfrecords?|db|sqlite|png|jpe?g|wav|mp3)$", re.I)


# --------------------------------------------------------------------------------------------------- visitor


def _option_key(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_").lower()


_OUTPUT_WORD = re.compile(r"(?:^|_)(?:output|out|save|export)(?:_|$)")
#: A word in an option name that says it takes a path (`--output_dir`, `--save-path`, `--out_file`, `--logdir`).
_PATH_WORD = re.compile(r"(?:^|_)(?:dir|dirs|directory|path|paths|folder|file|filename|fname|root|location|uri|"
                        r"prefix)(?:_|$)|^(?:outdir|outpath|outfile|savedir|savepath|logdir|workdir|ckptdir)$")
_FOLDER_WORDS = frozenset({"output", "outputs", "out", "results", "result", "artifacts", "checkpoints", "logs",
                           "runs", "models", "model", "exports", "dump", "predictions", "figures", "plots"})


def _path_like_default(text: str) -> bool:
    """A default that names a file or folder: `./out`, `results/`, `model.pkl`, `output` (not `local`, `csv`)."""
    s = text.strip()
    if not s or " " in s:
        return False
    return ("/" in s or "\\" in s or s.startswith((".", "~")) or bool(re.search(r"\.[A-Za-z0-9]{1,8}$", s))
            or s.lower().strip("/") in _FOLDER_WORDS or s.startswith("{}"))


def _is_output_name(name: str) -> bool:
    key = _option_key(name)
    return bool(_OUTPUT_NAME.match(key)) and (not _NOT_OUTPUT.search(key) or bool(_OUTPUT_WORD.search(key)))


def _looks_like_path(text: str) -> bool:
    """A plausible file or folder path (not a URL, not prose, not a stream)."""
    s = text.strip()
    if not s or s in {"-", ".", ".."} or _URL_RE.match(s) or "\n" in s or len(s) > 260:
        return False
    if s.startswith(("/dev/", "/proc/")):
        return False
    return " " not in s.strip() or "/" in s


class _IoVisitor:
    """One pass: CLI options, reads and writes, `__return__`, the main guard and Snowpark use.

    `run` hands every node of the file's shared pre-order list (`SourceFile.nodes`) to its `visit_<Class>`
    handler; handlers never descend themselves: the list holds the children after their parent, in the
    order a visitor would reach them.
    """

    def __init__(self, src: SourceFile, project_files: frozenset[str]) -> None:
        self.src = src
        self.names = src.names
        self.project_files = project_files
        self.found: list[IoFinding] = []
        self.functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        self.classes: dict[str, ast.ClassDef] = {}
        self.cli_functions: list[tuple[str, ast.AST, str]] = []  # (function, node exposing it, "typer"/"fire")
        self.hf_parsers: list[ast.Call] = []
        self.snowpark_uses = 0
        self.typer_params: set[tuple[str, str]] = set()  # (function, parameter) reported from a typer marker
        self.cli_options: list[CliOption] = []
        self.cli_open: list[str] = []  # why the parser may accept options it does not declare
        self.parsers = 0  # ArgumentParser() calls and click/typer commands
        self.snowflake: list[IoFinding] = []
        self.session_names: set[str] = set()  # variables holding a Snowpark session (lower case)
        self.pending: list[tuple[str, bool, Location, str]] = []  # (qualname, write, where, code) of imported paths
        self.imports_snowflake = any(t.startswith("snowflake") for t in self.names.aliases.values())
        # A session comes from `...builder...` or `get_active_session`: both names are in the text (a qualified
        # name is made of the file's own identifiers), so a file without them binds no session variable.
        self._session_words = self.imports_snowflake and ("builder" in src.text or "get_active_session" in src.text)

    def run(self) -> None:
        dispatch(self, self.src.nodes, _HANDLERS)

    # -- reporting
    def _report(self, kind: IoKind, node: ast.AST, detail: str, confidence: Confidence = Confidence.CERTAIN,
                hint: str | None = None, default: str | None = None, exists: bool | None = None) -> None:
        self.found.append(IoFinding(kind, self.src.loc(node), self.src.code(node), detail, confidence, hint,
                                    default, exists))

    def _bound(self, name: ast.Name) -> ast.expr | None:
        """The value assigned to `name` by the binding in force where it is read (`Bindings.current`: the last
        binding before it, else the module's own last one; inside its own value, the one before). None when
        that binding is a loop variable (a list of paths is not a path) or a parameter default (the caller
        may pass any path), or when nothing binds the name."""
        binding = self.src.bindings.current(name.id, name)  # built on the first read
        return binding.value if binding is not None and binding.kind == "assign" else None

    # -- path values
    def path_of(self, node: ast.expr | None, depth: int = 0) -> str | None:
        """The path an expression names, `{}` standing for unknown parts; None when its head is unknown."""
        if node is None or depth > 8:
            return None
        text = literal_str(node)
        if text is not None:
            return text if _looks_like_path(text) else None
        if isinstance(node, ast.Name):
            if node.id == "__file__":
                return None
            bound = self._bound(node)
            return self.path_of(bound, depth + 1) if bound is not None and bound is not node else None
        if isinstance(node, ast.JoinedStr):
            parts: list[str] = []
            for i, value in enumerate(node.values):
                if isinstance(value, ast.Constant):
                    parts.append(str(value.value))
                    continue
                inner = self.path_of(value.value, depth + 1) if isinstance(value, ast.FormattedValue) else None
                if inner is None and i == 0:
                    return None
                parts.append(inner if inner is not None else _UNKNOWN)
            joined = "".join(parts)
            return joined if _looks_like_path(joined.replace(_UNKNOWN, "x")) else None
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.Add)):
            left = self.path_of(node.left, depth + 1)
            if left is None:
                return None
            right = self.path_of(node.right, depth + 1)
            if right is None:
                right = literal_str(node.right) or _UNKNOWN
            return posixpath.join(left, right) if isinstance(node.op, ast.Div) else left + right
        if isinstance(node, ast.Call):
            return self._path_call(node, depth)
        if isinstance(node, ast.Attribute) and node.attr in {"parent", "parents"}:
            base = self._file_dir(node.value, depth)
            return posixpath.join(base, "..") if base is not None else None
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) \
                and node.value.attr == "parents":
            idx = node.slice.value if isinstance(node.slice, ast.Constant) else None
            base = self._file_dir(node.value.value, depth)
            if base is not None and isinstance(idx, int):
                return posixpath.normpath(posixpath.join(base, *([".."] * (idx + 1))))
        return None

    def _file_dir(self, node: ast.expr, depth: int) -> str | None:
        """`Path(__file__)` / `__file__` -> "." style marker: the file itself, so `.parent` is its folder."""
        if isinstance(node, ast.Name) and node.id == "__file__":
            return "__file__"
        if isinstance(node, ast.Call):
            callee = self.names.qualname(node.func) or ""
            inner = node.args[0] if node.args else None
            if callee in {"pathlib.Path", "pathlib.PurePath"} and inner is not None:
                return self._file_dir(inner, depth + 1)
            if isinstance(node.func, ast.Attribute) and node.func.attr in {"resolve", "absolute"}:
                return self._file_dir(node.func.value, depth + 1)
            if callee in {"os.path.abspath", "os.path.realpath"} and inner is not None:
                return self._file_dir(inner, depth + 1)
        if isinstance(node, ast.Attribute) and node.attr == "parent":
            base = self._file_dir(node.value, depth + 1)
            return posixpath.join(base, "..") if base is not None else None
        if isinstance(node, ast.Name):
            bound = self._bound(node)
            if bound is not None and bound is not node and depth < 8:
                return self._file_dir(bound, depth + 1)
        return None

    def _path_call(self, node: ast.Call, depth: int) -> str | None:
        callee = self.names.qualname(node.func) or ""
        args = node.args
        if callee in {"os.path.join", "posixpath.join", "pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath"} \
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "joinpath"):
            parts = list(args)
            if isinstance(node.func, ast.Attribute) and node.func.attr == "joinpath":
                parts.insert(0, node.func.value)
            if not parts:
                return None
            head = self.path_of(parts[0], depth + 1)
            if head is None:
                head = self._file_dir(parts[0], depth + 1)
                if head == "__file__":
                    head = None
            if head is None:
                return None
            rest = [literal_str(p) or self.path_of(p, depth + 1) or _UNKNOWN for p in parts[1:]]
            return posixpath.join(head, *rest)
        if callee in {"os.path.dirname"} and args:
            base = self._file_dir(args[0], depth + 1)
            if base is not None:
                return posixpath.join(base, "..")
            inner = self.path_of(args[0], depth + 1)
            return posixpath.dirname(inner) if inner else None
        if callee in {"os.path.abspath", "os.path.realpath", "os.path.expanduser", "str", "os.fspath"} and args:
            return self.path_of(args[0], depth + 1)
        if isinstance(node.func, ast.Attribute) and node.func.attr in {"resolve", "absolute", "expanduser"}:
            return self.path_of(node.func.value, depth + 1)
        return None

    def clean(self, path: str) -> str:
        """Normalise: `__file__/..` becomes the file's folder relative to the root."""
        if path.startswith("__file__"):
            folder = posixpath.dirname(self.src.path)
            path = posixpath.join(folder, posixpath.relpath(path, "__file__/..")) if folder else \
                posixpath.relpath(path, "__file__/..")
        return posixpath.normpath(path) if _UNKNOWN not in path else path

    def exists(self, path: str) -> bool:
        """Whether the path (a file, a folder or a glob) is inside the project tree."""
        return _exists(path, self.src.path, self.project_files)

    # -- findings
    def output(self, node: ast.AST, path: str, what: str) -> None:
        path = self.clean(path)
        self._report(K.HARDCODED_OUTPUT, node, path, Confidence.CERTAIN if _UNKNOWN not in path else Confidence.LIKELY,
                     hint=f'{what} {path} inside the job is lost when it ends: write under '
                          f'os.environ["MLRS_STAGE_RESULT_PATH"] (or take the path from an option)')

    def local_input(self, node: ast.AST, path: str) -> None:
        path = self.clean(path)
        if path.startswith("__file__"):
            return
        found = self.exists(path)
        hint = (f"ship {path} with submit_directory (it is in the project) or read it from a stage" if found else
                f"{path} is not in the project: upload it to a stage and read it from there, or ship it with "
                f"submit_directory")
        self._report(K.LOCAL_INPUT, node, path, Confidence.CERTAIN if _UNKNOWN not in path else Confidence.LIKELY,
                     hint=hint, exists=found)

    def option(self, node: ast.AST, flag: str, default: Any, positional: bool = False,
               confidence: Confidence = Confidence.CERTAIN) -> None:
        default_text = self.path_of(default) if isinstance(default, ast.expr) else default
        if isinstance(default, ast.AST) and default_text is None:
            lit = literal_str(default)
            default_text = lit
        hint = (f"pass $MLRS_STAGE_RESULT_PATH as the {flag} argument" if positional
                else f"pass {flag} $MLRS_STAGE_RESULT_PATH in the job args")
        self._report(K.OUTPUT_ARG, node, flag, confidence, hint=hint,
                     default=self.clean(default_text) if isinstance(default_text, str) else None)

    # -- visiting
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.startswith("snowflake.snowpark"):
                self._snowpark(node, alias.name, Confidence.LIKELY)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if not node.level and node.module and node.module.startswith("snowflake.snowpark"):
            self._snowpark(node, node.module, Confidence.LIKELY)
        elif not node.level and node.module == "snowflake" and any(a.name == "snowpark" for a in node.names):
            self._snowpark(node, "snowflake.snowpark", Confidence.LIKELY)

    def _snowpark(self, node: ast.AST, detail: str, confidence: Confidence) -> None:
        self._report(K.SNOWPARK_SESSION, node, detail, confidence,
                     hint="inside the job Session.builder.getOrCreate() / get_active_session() returns the job's "
                          "session; no credentials needed")

    def visit_Assign(self, node: ast.Assign) -> None:
        if self._session_words and isinstance(node.value, ast.Call):
            func = node.value.func
            attrs = _chain_attrs(func)
            if "builder" in attrs or (self.names.qualname(func) or "").endswith("get_active_session"):
                self.session_names.update(t.id.lower() for t in node.targets if isinstance(t, ast.Name))
        for target in node.targets:
            self._return_target(node, target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._return_target(node, node.target)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._return_target(node, node.target)

    def _return_target(self, node: ast.AST, target: ast.expr) -> None:
        if target.__class__ is ast.Name:  # the common case first
            if target.id == "__return__":
                self._report(K.SETS_RETURN, node, "__return__", hint="job.result() returns this value")
            return
        is_return = False
        if isinstance(target, ast.Subscript) and literal_str(target.slice) == "__return__" and isinstance(
            target.value, ast.Call
        ) and self.names.qualname(target.value.func) in {"globals", "builtins.globals"}:
            is_return = True
        if isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self._return_target(node, elt)
        if is_return:
            self._report(K.SETS_RETURN, node, "__return__", hint="job.result() returns this value")

    def visit_If(self, node: ast.If) -> None:
        if _is_main_guard(node.test):
            self._entrypoint_call(node)

    def _entrypoint_call(self, guard: ast.If) -> None:
        candidates: list[tuple[ast.stmt, str]] = []
        for stmt in guard.body:
            value = stmt.value if isinstance(stmt, (ast.Expr, ast.Assign, ast.AnnAssign)) else \
                stmt.exc if isinstance(stmt, ast.Raise) else None
            if not isinstance(value, ast.Call):
                continue
            callee = self.names.qualname(value.func) or ""
            if callee in {"sys.exit", "exit", "quit", "SystemExit"} or callee.endswith((".run", ".Fire")) or \
                    callee in {"fire.Fire", "typer.run", "asyncio.run", "absl.app.run"}:
                inner = value.args[0] if value.args else None
                if isinstance(inner, ast.Call):
                    value = inner
                elif isinstance(inner, (ast.Name, ast.Attribute)) and callee not in {"sys.exit", "exit", "quit"}:
                    candidates.append((stmt, attr_chain(inner)[-1] if attr_chain(inner) else ""))
                    continue
            func = value.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name and name not in {"print", "parse_args", "basicConfig", "seed", "set_seed", "manual_seed",
                                     "filterwarnings", "freeze_support", "set_start_method", "setLevel",
                                     "ArgumentParser", "add_argument", "getLogger", "load_dotenv"}:
                candidates.append((stmt, name))
        if not candidates:
            return
        preferred = [c for c in candidates if "main" in c[1].lower()] or \
            [c for c in candidates if c[1] in self.functions] or candidates
        stmt, name = preferred[-1] if len(preferred) > 1 and not any("main" in c[1].lower() for c in preferred) \
            else preferred[0]
        self._report(K.ENTRYPOINT_CALL, stmt, name, Confidence.CERTAIN if len(candidates) == 1 else Confidence.LIKELY,
                     hint=f"capture what {name}() returns as __return__ so job.result() returns it")

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.functions.setdefault(node.name, node)
        for deco in node.decorator_list:
            target = deco.func if isinstance(deco, ast.Call) else deco
            if isinstance(target, ast.Attribute) and target.attr == "command" and self.names.imports("typer"):
                self.cli_functions.append((node.name, deco, "typer"))
        self._typer_params(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.classes.setdefault(node.name, node)

    def _typer_params(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        if not self.names.imports("typer"):  # no name can resolve to typer.Option / typer.Argument
            return
        args = fn.args
        positional = args.posonlyargs + args.args
        defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
        pairs = list(zip(positional, defaults, strict=False)) + list(zip(args.kwonlyargs, args.kw_defaults, strict=False))
        for arg, default in pairs:
            marker = default if isinstance(default, ast.Call) else None
            ann = arg.annotation
            if isinstance(ann, ast.Subscript) and (self.names.qualname(ann.value) or "").endswith("Annotated"):
                elts = ann.slice.elts if isinstance(ann.slice, ast.Tuple) else []
                marker = next((e for e in elts[1:] if isinstance(e, ast.Call)), marker)
            if marker is None:
                continue
            callee = self.names.qualname(marker.func) or ""
            if callee not in {"typer.Option", "typer.Argument"}:
                continue
            flags = [s for s in (literal_str(a) for a in marker.args) if s and s.startswith("-")]
            if not (_is_output_name(arg.arg) or any(_is_output_name(f) for f in flags)):
                continue
            flag = flags[0] if flags else "--" + arg.arg.replace("_", "-")
            first = marker.args[0] if marker.args and not (literal_str(marker.args[0]) or "").startswith("-") \
                else None
            value = first if first is not None and not (isinstance(first, ast.Constant) and first.value is ...) \
                else (default if marker is not default else None)
            self.typer_params.add((fn.name, arg.arg))
            decl = typer_option(arg, default, marker, self.names, self.src.loc(arg), "")
            if self._takes_path(decl, [arg.arg, *flags], value) is None:
                continue
            self.option(marker, arg.arg if callee == "typer.Argument" else flag, value,
                        positional=callee == "typer.Argument")

    def visit_Call(self, node: ast.Call) -> None:
        self._call(node)

    def _call(self, node: ast.Call) -> None:
        func = node.func
        callee = self.names.qualname(func) or ""
        method = func.attr if isinstance(func, ast.Attribute) else ""
        if not _callee_matters(callee) and not _method_matters(method):
            # Most calls: no rule below reads this callee or method name; only the output keywords and
            # (for a method, in a Snowpark file) a stage path argument can still matter.
            if self.imports_snowflake and method and snowobjects.may_name_objects(node, method, self._text):
                self._snowflake_objects(node, method)
            if node.keywords:
                self._output_keywords(node)
            return
        if method == "add_argument" or callee in {"click.option", "click.argument"}:
            self._cli_option(node, callee)
            return
        self._parser_shape(node, callee, method)
        if callee in {"fire.Fire", "typer.run"} and node.args:
            target = node.args[0]
            if isinstance(target, ast.Name):
                self.cli_functions.append((target.id, node, callee.split(".", 1)[0]))
        if callee.endswith("HfArgumentParser"):
            self.hf_parsers.append(node)
            return
        self._snowpark_call(node, callee, method)
        if self.imports_snowflake and method and snowobjects.may_name_objects(node, method, self._text):
            self._snowflake_objects(node, method)
        self._output_keywords(node)
        if callee in {"open", "io.open", "codecs.open"} or (method == "open" and not callee):
            self._open(node, callee)
            return
        if callee == "h5py.File":
            mode = literal_str(argument(node, 1, "mode"))
            table = _WRITERS if mode and any(c in mode for c in "wax") else _READERS
            self._path_arg(node, table[callee], write=table is _WRITERS, what="h5py.File")
            return
        if callee:  # without one (a method of an object the file did not import) only the method rules apply
            spec = _WRITERS.get(callee)
            if spec is not None:
                self._path_arg(node, spec, write=True, what=callee.rsplit(".", 1)[-1])
                return
            spec = _READERS.get(callee) or _reader_glob(callee)
            if spec is not None:
                self._path_arg(node, spec, write=False, what=callee)
                return
            if callee == "datasets.load_dataset":
                self._data_files(node)
                return
        if method == "from_pretrained" and any(self.names.imports(m) for m in _HF_LIBS):
            path = self.path_of(node.args[0]) if node.args else None
            if path is not None and _is_local_model_path(path):
                self.local_input(node, path)
            return
        if method and (not callee or callee.startswith("pathlib.")):
            # the receiver is read only for a path method (most method calls are not)
            receiver = self.path_of(func.value) if method in _PATH_METHODS and isinstance(func, ast.Attribute) \
                else None
            if receiver is not None:
                if method in _PATH_METHOD_WRITES:
                    self.output(node, receiver, method)
                else:
                    self.local_input(node, receiver)
                return
            if method in _WRITE_METHODS:
                self._path_arg(node, (0, ("path", "path_or_buf", "fname", "filepath", "save_directory",
                                          "output_dir", "filename", "file")), write=True, what=method)
            elif method in _READ_METHODS:
                self._path_arg(node, (0, ("path", "filepath", "fname", "filename", "model_file")), write=False,
                               what=method)

    def _output_keywords(self, node: ast.Call) -> None:
        """`TrainingArguments(output_dir="out")`: an output-named keyword given a literal path."""
        for kw in node.keywords:
            if kw.arg in _OUTPUT_KWS:
                path = self.path_of(kw.value)
                if path is not None:
                    self.output(node, path, f"{kw.arg}=")

    def _path_arg(self, node: ast.Call, spec: tuple[int, tuple[str, ...]], *, write: bool, what: str) -> None:
        index, kws = spec
        target = argument(node, index if index >= 0 else None, *kws)
        if target is None:
            return
        path = self.path_of(target)
        if path is None:
            self._pending(node, target, write)
            return
        if write:
            self.output(node, path, what)
        else:
            self.local_input(node, path)

    def _open(self, node: ast.Call, callee: str) -> None:
        func = node.func
        if callee:
            target = argument(node, 0, "file", "filename")
            mode_node = argument(node, 1, "mode")
        else:  # Path("x").open("w")
            target = func.value if isinstance(func, ast.Attribute) else None
            mode_node = argument(node, 0, "mode")
        path = self.path_of(target)
        mode = literal_str(mode_node) if mode_node is not None else "r"
        if path is None:
            if mode is not None and "+" not in mode:
                self._pending(node, target, any(c in mode for c in "wax"))
            return
        if mode is None:
            return
        if any(c in mode for c in "wax"):
            self.output(node, path, "open")
        elif "+" not in mode:
            self.local_input(node, path)

    def _pending(self, node: ast.Call, target: ast.expr | None, write: bool) -> None:
        """A path held in another module's constant (`from config import DATA`): resolved by summarize_io."""
        if not isinstance(target, (ast.Name, ast.Attribute)):
            return
        qual = self.names.qualname(target, allow_builtins=False)
        if qual and "." in qual.lstrip("."):
            self.pending.append((qual, write, self.src.loc(node), self.src.code(node)))

    def _data_files(self, node: ast.Call) -> None:
        builder = literal_str(argument(node, 0, "path"))
        files = argument(node, None, "data_files", "data_dir")
        values: list[ast.expr] = []
        if files is not None:
            stack = [files]
            while stack:
                item = stack.pop()
                if isinstance(item, (ast.List, ast.Tuple)):
                    stack.extend(item.elts)
                elif isinstance(item, ast.Dict):
                    stack.extend(v for v in item.values if v is not None)
                else:
                    values.append(item)
        elif builder is not None and _is_local_model_path(builder):
            self.local_input(node, builder)  # load_dataset("./data/my_dataset")
        for value in sorted(values, key=lambda v: (v.lineno, v.col_offset)):
            path = self.path_of(value)
            if path is not None:
                self.local_input(node, path)

    def _cli_option(self, node: ast.Call, callee: str) -> None:
        loc, code = self.src.loc(node), self.src.code(node)
        if callee in {"click.option", "click.argument"}:
            decl = click_option(node, callee, self.names, loc, code)
        else:
            decl, literal_flags = argparse_option(node, self.names, loc, code)
            if not literal_flags:
                self.cli_open.append(f"{loc.render()}: an option whose name is computed")
        self.cli_options.append(decl)
        names = [n for n in decl.flags] or [decl.dest]
        default = argument(node, None, "default")
        if default is not None and isinstance(default, ast.Constant) and default.value is None:
            default = None
        confidence = self._takes_path(decl, [decl.dest, *decl.flags], default)
        if confidence is None:
            if decl.action not in FLAG_ACTIONS and not decl.choices:
                self._input_default(node, [f for f in decl.flags] or names, default)
            return
        long_flags = [f for f in decl.flags if f.startswith("--")]
        flag = long_flags[0] if long_flags else decl.flags[0] if decl.flags else decl.dest
        self.option(node, flag, default, positional=not decl.flags, confidence=confidence)

    def _takes_path(self, decl: CliOption, keys: Sequence[str], default: ast.expr | None) -> Confidence | None:
        """How sure it is that an output-named option takes a path; None when it does not take one.

        An option with `choices`, a number or bool type, or a flag action never takes the result folder (the
        `--save_mode {local,registry}` trap); otherwise a path type, a path word in its name (`_dir`, `_path`,
        `_file`...) or a path-like default make it certain, and a bare `--output` without a default is likely.
        """
        if decl.choices or decl.action in FLAG_ACTIONS or decl.type in {"int", "float", "bool", "choice"}:
            return None
        if not any(k and _is_output_name(k) for k in keys):
            return None
        if decl.type in {"path", "file"} or any(_PATH_WORD.search(_option_key(k)) for k in keys if k):
            return Confidence.CERTAIN
        text = self.path_of(default) if default is not None else None
        if default is not None:
            return Confidence.CERTAIN if text is not None and _path_like_default(text) else None
        return Confidence.LIKELY

    def _entry_returns(self) -> None:
        """Say on each main-guard call whether the function it calls returns a value (for `__return__`)."""
        for i, f in enumerate(self.found):
            if f.kind is K.ENTRYPOINT_CALL:
                fn = self.functions.get(f.detail)
                returns = _returns_value(fn) if fn is not None else None
                hint = f.hint if returns else (
                    f"{f.detail}() returns nothing, so __return__ would be None: route its outputs to "
                    "MLRS_STAGE_RESULT_PATH instead" if returns is False else
                    f"{f.detail}() is not defined in this file; check that it returns a value before capturing it")
                self.found[i] = dataclasses.replace(f, returns_value=returns, hint=hint)

    def _typer_declarations(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, CliOption]:
        """Record every parameter of a typer command as a CliOption; return them by parameter name."""
        args = fn.args
        positional = args.posonlyargs + args.args
        defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
        out: dict[str, CliOption] = {}
        pairs = list(zip(positional, defaults, strict=True)) + list(zip(args.kwonlyargs, args.kw_defaults, strict=True))
        for arg, default in pairs:
            marker = default if isinstance(default, ast.Call) and (self.names.qualname(default.func) or "") in {
                "typer.Option", "typer.Argument"} else None
            ann = arg.annotation
            if isinstance(ann, ast.Subscript) and isinstance(ann.slice, ast.Tuple):
                marker = next((e for e in ann.slice.elts[1:] if isinstance(e, ast.Call) and (
                    self.names.qualname(e.func) or "") in {"typer.Option", "typer.Argument"}), marker)
            out[arg.arg] = typer_option(arg, default, marker, self.names, self.src.loc(arg), self.src.code(arg))
            self.cli_options.append(out[arg.arg])
        return out

    def _parser_shape(self, node: ast.Call, callee: str, method: str) -> None:
        """Count parsers and note what lets a parser accept options it does not declare."""
        if callee in {"argparse.ArgumentParser", "click.command", "typer.run"}:
            self.parsers += 1
        elif method == "command" and self.names.imports("typer"):
            self.parsers += 1
        elif method in {"parse_known_args", "parse_known_intermixed_args"}:
            self.cli_open.append(f"{self.src.loc(node).render()}: parse_known_args() accepts unknown options")
        elif method == "add_subparsers" or callee == "click.group":
            self.cli_open.append(f"{self.src.loc(node).render()}: sub-commands")
        elif callee == "fire.Fire" or callee.endswith("HfArgumentParser"):
            self.cli_open.append(f"{self.src.loc(node).render()}: {callee.rsplit('.', 1)[-1]} builds its options at "
                                 "run time")
        elif callee in {"absl.flags.DEFINE_string", "absl.app.run"} or callee.startswith("hydra."):
            self.cli_open.append(f"{self.src.loc(node).render()}: {callee} options are not read")

    def _input_default(self, node: ast.Call, flags: list[str], default: ast.expr | None) -> None:
        """`--train-csv` defaulting to `data/train.csv`: the job reads that file unless the option is passed."""
        path = self.path_of(default) if default is not None else None
        if not flags or path is None or not _DATA_FILE.search(path):
            return
        if _REMOTE_KEY.search(_option_key(flags[-1])):
            return  # an object-store key or a table name, not a local file
        path = self.clean(path)
        found = self.exists(path)
        where = "ship it with submit_directory" if found else "upload it to a stage"
        self._report(K.LOCAL_INPUT, node, path, Confidence.LIKELY, exists=found,
                     hint=f"{flags[0]} defaults to {path}: {where}, or pass {flags[0]} with a stage path",
                     default=path)

    def _snowpark_call(self, node: ast.Call, callee: str, method: str) -> None:
        if callee.endswith("get_active_session") and (callee.startswith("snowflake") or self.imports_snowflake):
            self._snowpark(node, "get_active_session()", Confidence.CERTAIN)
        elif method in {"getOrCreate", "create"} and "builder" in _chain_attrs(node.func):
            head = _chain_head(node.func)
            resolved = self.names.qualname(head) if head is not None else None
            if (resolved or "").startswith("snowflake") or (resolved is None and self.imports_snowflake):
                self._snowpark(node, f"Session.builder.{method}()", Confidence.CERTAIN)
        elif method in _SNOWPARK_USE and self.imports_snowflake and self.snowpark_uses < 3:
            receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
            chain = attr_chain(receiver) if receiver is not None else []
            if chain and "session" in chain[-1].lower():
                self.snowpark_uses += 1
                self._snowpark(node, f"session.{method}()", Confidence.CERTAIN)

    def _text(self, node: ast.expr | None) -> str | None:
        """A literal string, an f-string (unknown parts as `{}`), or a name whose binding in force is one."""
        if node is None:
            return None
        text = literal_str(node)
        if text is not None:
            return text
        if isinstance(node, ast.Name):
            bound = self._bound(node)
            return literal_str(bound) if bound is not None else None
        if isinstance(node, ast.JoinedStr):
            return "".join(str(v.value) if isinstance(v, ast.Constant) else _UNKNOWN for v in node.values)
        return None

    def _snowflake_object(self, node: ast.Call, kind: str, name: str, privilege: str) -> None:
        if not name or _UNKNOWN in name:
            return
        io_kind = K.SNOWFLAKE_TABLE if kind == "table" else K.SNOWFLAKE_STAGE
        what = "table" if kind == "table" else "stage"
        self.snowflake.append(IoFinding(
            io_kind, self.src.loc(node), self.src.code(node), name, Confidence.CERTAIN,
            f"the job reads or writes the {what} {name}: its role needs {privilege}, and the local pool has no "
            "Snowflake account to reach it", privilege=privilege))

    def _snowflake_objects(self, node: ast.Call, method: str) -> None:
        """Tables and stages named in one Snowpark call (see `snowobjects.call_objects`)."""
        receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
        chain = [c.lower() for c in (attr_chain(receiver) if receiver is not None else [])]
        chain += [c.lower() for c in _chain_attrs(node.func)[1:]]  # through calls: df.write.mode("x").save_as_table
        head = _chain_head(node.func)
        if isinstance(head, ast.Name):
            chain.append(head.id.lower())
        sessionish = any("session" in c for c in chain) or bool(set(chain) & self.session_names)
        for kind, name, privilege in snowobjects.call_objects(node, method, chain, sessionish, self._text):
            self._snowflake_object(node, kind, name, privilege)

    # -- end of file: CLI functions and HfArgumentParser dataclasses
    def finish(self) -> None:
        self._entry_returns()
        for name, call, style in self.cli_functions:
            fn = self.functions.get(name)
            if fn is None:
                continue
            declared = self._typer_declarations(fn) if style == "typer" else {}
            args = fn.args
            positional = args.posonlyargs + args.args
            defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
            for arg, default in list(zip(positional, defaults, strict=False)) + list(zip(args.kwonlyargs, args.kw_defaults, strict=False)):
                if (name, arg.arg) in self.typer_params:
                    continue  # already reported from its typer.Option marker
                decl = declared.get(arg.arg) or typer_option(arg, default, None, self.names, self.src.loc(arg), "")
                if isinstance(default, ast.Constant) and default.value is None:
                    default = None
                if self._takes_path(decl, [arg.arg], default) is not None:
                    # typer turns output_dir into --output-dir; fire keeps the parameter name.
                    flag = "--" + (arg.arg.replace("_", "-") if style == "typer" else arg.arg)
                    self.option(call, flag, default, confidence=Confidence.LIKELY)
        for parser in self.hf_parsers:
            classes: list[ast.expr] = []
            for parser_arg in parser.args:
                classes.extend(parser_arg.elts if isinstance(parser_arg, (ast.Tuple, ast.List)) else [parser_arg])
            for cls in classes:
                qual = self.names.qualname(cls) or ""
                name = cls.id if isinstance(cls, ast.Name) else cls.attr if isinstance(cls, ast.Attribute) else ""
                if qual.startswith(("transformers.", "trl.")) and name.endswith(("TrainingArguments", "Config")):
                    self.option(parser, "--output_dir", None, confidence=Confidence.LIKELY)
                    continue
                local = self.classes.get(name)
                if local is None:
                    continue
                for stmt in local.body:
                    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) \
                            and _is_output_name(stmt.target.id):
                        value = stmt.value
                        if isinstance(value, ast.Call):
                            value = argument(value, None, "default")
                        self.option(stmt, "--" + stmt.target.id, value, confidence=Confidence.LIKELY)


_HANDLERS: dict[type, Callable[[_IoVisitor, Any], None]] = {
    cls: getattr(_IoVisitor, "visit_" + cls.__name__)
    for cls in (ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign, ast.AugAssign, ast.If, ast.FunctionDef,
                ast.AsyncFunctionDef, ast.ClassDef, ast.Call)
}


@functools.lru_cache(maxsize=4096)
def _reader_glob(callee: str) -> tuple[int, tuple[str, ...]] | None:
    for pattern, spec in _READER_GLOBS:
        if callee.startswith(pattern):
            return spec
    return None


_READER_GLOBS = tuple((k[:-1], v) for k, v in _READERS.items() if k.endswith("*"))


#: Callee names and prefixes `_call` and its helpers read (besides the reader / writer tables).
_CALLEES = frozenset({"click.option", "click.argument", "argparse.ArgumentParser", "click.command", "typer.run",
                      "click.group", "fire.Fire", "absl.flags.DEFINE_string", "absl.app.run", "open", "io.open",
                      "codecs.open", "h5py.File", "datasets.load_dataset"})
#: Method names `_call` and its helpers read (`snowobjects.may_name_objects` decides the Snowpark ones).
_METHODS = frozenset({"add_argument", "command", "parse_known_args", "parse_known_intermixed_args",
                      "add_subparsers", "getOrCreate", "create", "open", "from_pretrained", *_SNOWPARK_USE,
                      *_PATH_METHODS, *_WRITE_METHODS, *_READ_METHODS})


@functools.lru_cache(maxsize=8192)
def _callee_matters(callee: str) -> bool:
    """Whether some rule of the io pass reads this qualified name (the same answer in every file)."""
    return bool(callee) and (
        callee in _CALLEES or callee in _WRITERS or callee in _READERS or _reader_glob(callee) is not None
        or callee.endswith(("HfArgumentParser", "get_active_session")) or callee.startswith("hydra."))


def _method_matters(method: str) -> bool:
    return method in _METHODS


def _chain_attrs(node: ast.AST) -> list[str]:
    attrs: list[str] = []
    while isinstance(node, (ast.Attribute, ast.Call)):
        if isinstance(node, ast.Attribute):
            attrs.append(node.attr)
            node = node.value
        else:
            node = node.func
    return attrs


def _chain_head(node: ast.AST) -> ast.AST | None:
    while isinstance(node, (ast.Attribute, ast.Call)):
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node.value, (ast.Name, ast.Attribute)) and not isinstance(node.value, ast.Call) \
                and node.attr == "builder":
            return node.value
        else:
            node = node.value
    return node if isinstance(node, ast.Name) else None


def _is_main_guard(test: ast.expr) -> bool:
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    return any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides) and any(
        literal_str(s) == "__main__" for s in sides)


def _returns_value(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """True when the function's own body has a `return <expr>` other than `return None` (nested functions,
    lambdas and classes do not count). A generator returns a generator object, which is no result: False."""
    stack: list[ast.AST] = list(fn.body)
    found = False
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return False
        if isinstance(node, ast.Return) and node.value is not None and not (
                isinstance(node.value, ast.Constant) and node.value.value is None):
            found = True
        stack.extend(ast.iter_child_nodes(node))
    return found


def _is_local_model_path(path: str) -> bool:
    """A from_pretrained / load_dataset argument that is a folder, not a hub id."""
    return path.startswith(("/", "./", "../", "~", "__file__")) or path.count("/") >= 2 or "\\" in path


# --------------------------------------------------------------------------------------------------- entry points


def scan_io(src: SourceFile, project_files: frozenset[str]) -> IoScan:
    """Find the outputs, local inputs, `__return__`, main-guard call and Snowpark use of one file.

    Args:
        src: the parsed file.
        project_files: every file of the project, POSIX paths relative to the analysis root; a local input's
            `exists_locally` says whether it resolves (relative to the root or to the file's folder) to one of
            them or to a folder holding some.

    Returns:
        An IoScan with findings sorted by location. URLs and cloud paths (`s3://`) are never local inputs.
    """
    visitor = _IoVisitor(src, project_files)
    visitor.run()
    visitor.finish()
    if any(style == "typer" for _, _, style in visitor.cli_functions) and visitor.parsers > 1:
        visitor.cli_open.append("several typer commands")
    seen: set[tuple[Any, ...]] = set()
    out: list[IoFinding] = []
    for f in sorted(visitor.found + visitor.snowflake, key=lambda f: (f.location.sort_key(), f.kind.value, f.detail)):
        key = (f.kind, f.location, f.detail)
        if key not in seen:
            seen.add(key)
            out.append(f)
    constants = []  # module-level names other modules can import (`from config import DATA_PATH`)
    for stmt in src.tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            name, value = stmt.targets[0].id, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            name, value = stmt.target.id, stmt.value
        else:
            continue
        path = visitor.path_of(value)
        if path is not None and _UNKNOWN not in path:
            constants.append((name, visitor.clean(path)))
    return IoScan(src.path, tuple(out), tuple(visitor.cli_options), tuple(visitor.cli_open), visitor.parsers,
                  tuple(constants), tuple(visitor.pending))
