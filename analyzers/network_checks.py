"""The argument checks a network catalog rule names (`check: hub_id`, `check: url_arg`, ...): one function each.

`skill/data/network_catalog.yaml` says which calls reach which service; how a call's arguments decide
whether it does (a hub id or a local folder, `pretrained=True`, a URL literal or a local path, an offline
mode that switches a tracker off) is this closed set of functions, looked up by name in `CHECKS`. A check
reads values through the scan (`ValueReader.literal`, `.values`, `.url_strings`: the shared bindings
layer) and returns hits, None, or `SUPPRESS` (the category is off in this file).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .model import Confidence, NetworkCategory
from .names import argument
from .redact import redact

if TYPE_CHECKING:
    from .network import CallRule
    from .network_values import ValueReader

C = NetworkCategory

#: A value that is not a literal (computed at run time); distinct from a literal None.
MISSING: Any = object()
SUPPRESS = "suppress"  # a check result: the category is switched off in this file (offline mode, local store)
URL_IN_TEXT = re.compile(r"(?:https?|ftp|s3|gs|hf|git\+https?)://[^\s'\"<>]+")
_URL_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://(\S*)$")


@dataclass(slots=True)
class Hit:
    """What one check found: a category, its hosts, how sure, and why (becomes a NetworkFinding)."""

    category: NetworkCategory
    hosts: tuple[str, ...]
    confidence: Confidence
    reason: str


_MODEL_FILE_EXT = re.compile(
    r"\.(bin|pt|pth|safetensors|ckpt|h5|hdf5|keras|json|onnx|pkl|pickle|gguf|ggml|msgpack|model|tar|gz|zip|npz)$",
    re.I)
_LOCAL_DIRS = frozenset({
    "output", "outputs", "out", "model", "models", "checkpoint", "checkpoints", "ckpt", "ckpts", "saved",
    "saved_models", "save", "results", "runs", "data", "tmp", "artifacts", "weights", "pretrained", "local",
    "cache", "logs", "experiments", "exp", "finetuned", "trained", "assets", "resources",
})
_DATASET_BUILDERS = frozenset({
    "csv", "json", "parquet", "text", "arrow", "imagefolder", "audiofolder", "videofolder", "pandas",
    "webdataset", "sql", "generator", "spark", "xml", "pdffolder", "niftifolder", "cache",
})
_PATH_CALLS = ("os.path.", "pathlib.", "posixpath.", "ntpath.")
_HUB_NAME_HINT = re.compile(r"(name|path|id|repo|checkpoint|ckpt|hub|pretrained)", re.I)


def is_local_path(value: str) -> bool:
    """True when a model/dataset name is clearly a filesystem path rather than a hub id."""
    s = value.strip()
    if not s or s in {".", ".."} or s.startswith(("/", "./", "../", "~", ".\\", "file:")):
        return True
    if "\\" in s or re.match(r"^[A-Za-z]:[\\/]", s) or s.count("/") >= 2 or _MODEL_FILE_EXT.search(s):
        return True
    first = s.split("/", 1)[0].lower()
    return ("/" in s and first in _LOCAL_DIRS) or any(p.startswith("checkpoint-") for p in s.split("/"))


def host_of(url: str) -> tuple[str, str] | None:
    """(scheme, host[:port]) of a URL; port kept when it differs from the scheme default (EAIs default to 443)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if not host:
        return scheme, ""
    if port is None and scheme == "http":
        port = 80
    if port is not None and not (port == 443 and scheme in {"https", "wss"}):
        return scheme, f"{host}:{port}"
    return scheme, host


def s3_hosts(bucket: str) -> tuple[str, ...]:
    # Dotted bucket names break virtual-host TLS, so clients fall back to path-style on the global endpoint.
    if not bucket or "." in bucket or not re.fullmatch(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]", bucket):
        return ("s3.amazonaws.com",)
    return (f"{bucket}.s3.amazonaws.com",)


def is_url(text: str) -> bool:
    """A string that is a whole URL (`scheme://...`, no spaces)."""
    return "://" in text and bool(_URL_RE.match(text.strip()))  # the substring test spares most regexes


def _arg(node: ast.Call, rule: CallRule) -> ast.expr | None:
    """The argument a rule reads: its `kw` names, else its position `arg`."""
    return argument(node, rule.arg, *rule.kws)


def _hit(v: ValueReader, rule: CallRule, confidence: Confidence = Confidence.LIKELY, detail: str = "",
         hosts: tuple[str, ...] | None = None) -> list[Hit]:
    cat = v.rules.category(rule.category)
    reason = rule.reason or cat.reason
    return [Hit(rule.category, hosts if hosts is not None else rule.hosts if rule.hosts is not None
                else cat.hosts, confidence, f"{reason}{': ' + detail if detail else ''}")]


def _dynamic(v: ValueReader, rule: CallRule, node: ast.expr | None, mode: str, what: str) -> list[Hit] | None:
    """The hit for an argument computed at run time, by the rule's mode (network / guess / none / name_hint)."""
    if mode == "none":
        return None
    if mode == "name_hint":
        text = v.src.code(node) if node is not None else ""
        if not _HUB_NAME_HINT.search(text):
            return None
        mode = "network"
    detail = f"{what} computed at run time ({v.src.code(node)})" if node is not None else what
    return _hit(v, rule, Confidence.LIKELY if mode == "network" else Confidence.GUESS, detail)


Check = Callable[["ValueReader", ast.Call, "CallRule"], "list[Hit] | str | None"]

# ----------------------------------------------------------------------------------------------------- checks


def _always(v: ValueReader, node: ast.Call, rule: CallRule) -> list[Hit] | None:
    return _hit(v, rule)


def _guess(v: ValueReader, node: ast.Call, rule: CallRule) -> list[Hit] | None:
    return _hit(v, rule, Confidence.GUESS)


def _hub_id(v: ValueReader, node: ast.Call, rule: CallRule) -> list[Hit] | None:
    arg = _arg(node, rule)
    if arg is None:
        return _dynamic(v, rule, None, rule.on_missing, "default model")
    if _local_flag(v, node):
        return None
    resolved = v.values(arg)
    if len(resolved) == 1 and _is_path_expr(v, resolved[0]):
        return None  # built from a filesystem path
    value = v.literal(arg)
    if value is MISSING:
        return _dynamic(v, rule, arg, rule.on_dynamic, "name")
    if not isinstance(value, str):
        return None
    if is_url(value):
        hit = v.url_hit(value, rule.category)
        return [hit] if hit else None
    if is_local_path(value):
        return None
    return _hit(v, rule, Confidence.LIKELY, repr(value))


def _local_flag(v: ValueReader, node: ast.Call) -> bool:
    """`from_pretrained(..., local_files_only=True)` never downloads."""
    kw = argument(node, None, "local_files_only")
    return kw is not None and v.literal(kw) is True


def _is_path_expr(v: ValueReader, node: ast.expr) -> bool:
    """os.path.join(...), Path(...), `base / "x"`, str(Path(...)): a filesystem path, never a hub id."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return True
    if isinstance(node, ast.Call):
        callee = v.names.qualname(node.func) or ""
        if callee.startswith(_PATH_CALLS) or callee == "os.getcwd":
            return True
        if callee in {"str", "os.fspath"} and node.args:
            inner = v.values(node.args[0])
            return len(inner) == 1 and _is_path_expr(v, inner[0])
    return False


def _dataset_id(v: ValueReader, node: ast.Call, rule: CallRule) -> list[Hit] | None:
    arg = _arg(node, rule)
    value = v.literal(arg) if arg is not None else MISSING
    if isinstance(value, str) and value.lower() in _DATASET_BUILDERS:
        hits: list[Hit] = []
        for name in ("data_files", "data_dir"):
            files = argument(node, None, name)
            if files is None:
                continue
            for url in dict.fromkeys(v.url_strings(files)):
                hit = v.url_hit(url, None)
                if hit is not None:
                    hits.append(hit)
        return hits or None
    if arg is None:
        return None
    if value is MISSING:
        return _dynamic(v, rule, arg, rule.on_dynamic, "dataset")
    if not isinstance(value, str) or is_local_path(value):
        return None
    if is_url(value):
        hit = v.url_hit(value, None)
        return [hit] if hit else None
    return _hit(v, rule, Confidence.LIKELY, repr(value))


def _flag(v: ValueReader, node: ast.Call, names: Sequence[str]) -> Any:
    """True / False / None (absent or None) / MISSING (dynamic) for the first of `names` present."""
    kw = argument(node, None, *names)
    if kw is None:
        return None
    return v.literal(kw)


def _kw_true(v: ValueReader, node: ast.Call, rule: CallRule) -> list[Hit] | None:
    value = _flag(v, node, rule.kws)
    if value is MISSING:
        return _hit(v, rule, Confidence.GUESS, f"{rule.kws[0]} set at run time")
    return _hit(v, rule, Confidence.LIKELY, f"{rule.kws[0]}={value!r}") if value is True else None


def _kw_not_false(v: ValueReader, node: ast.Call, rule: CallRule) -> list[Hit] | None:
    value = _flag(v, node, rule.kws)
    return None if value is False else _hit(v, rule)


def _kw_set(v: ValueReader, node: ast.Call, rule: CallRule) -> list[Hit] | None:
    value = _flag(v, node, rule.kws)
    if value in (None, False, ""):
        return None
    return _hit(v, rule, Confidence.GUESS if value is MISSING else Confidence.LIKELY)


def _tv_weights(v: ValueReader, node: ast.Call, rule: CallRule) -> list[Hit] | None:
    for name in ("pretrained", "pretrained_backbone"):
        value = _flag(v, node, (name,))
        if value is True:
            return _hit(v, rule, Confidence.LIKELY, f"{name}=True")
        if value is MISSING:
            return _hit(v, rule, Confidence.GUESS, f"{name} set at run time")
    if node.args and v.literal(node.args[0]) is True and not rule.pattern.endswith("get_model"):
        return _hit(v, rule, Confidence.LIKELY, "pretrained=True")
    for name in ("weights", "weights_backbone"):
        kw = argument(node, None, name)
        if kw is None:
            continue
        value = v.literal(kw)
        if value in (None, False, ""):
            continue
        if isinstance(value, str) and _MODEL_FILE_EXT.search(value):
            continue  # a local weights file
        if value is MISSING and isinstance(kw, ast.Name):
            return _hit(v, rule, Confidence.GUESS, f"{name} set at run time")
        return _hit(v, rule, Confidence.LIKELY, f"{name}={v.src.code(kw)}")
    return None


def _keras_weights(v: ValueReader, node: ast.Call, rule: CallRule) -> list[Hit] | None:
    kw = argument(node, None, "weights")
    if kw is None:
        return _hit(v, rule, Confidence.LIKELY, 'weights default to "imagenet"')
    value = v.literal(kw)
    if value is MISSING:
        return _hit(v, rule, Confidence.GUESS, "weights chosen at run time")
    if isinstance(value, str) and value.lower() == "imagenet":
        return _hit(v, rule, Confidence.LIKELY, 'weights="imagenet"')
    return None  # None or a local weights file


def _url_arg(v: ValueReader, node: ast.Call, rule: CallRule) -> list[Hit] | None:
    arg = _arg(node, rule)
    if arg is None:
        return _hit(v, rule) if not rule.kws and rule.arg is None else _dynamic(v, rule, None, "network", "")
    urls = list(v.url_strings(arg))
    if urls:
        # A generic downloader (category http) reaches whatever the URL names: the host table decides.
        forced = None if rule.category is C.HTTP else rule.category
        hits = [v.url_hit(u, forced) for u in urls]
        return [h for h in hits if h] or None
    value = v.literal(arg)
    if isinstance(value, str):
        return None  # a literal that is not a URL: a local path
    return _dynamic(v, rule, arg, "network", "URL")


def _handle(v: ValueReader, node: ast.Call, rule: CallRule) -> list[Hit] | None:
    arg = _arg(node, rule)
    value = v.literal(arg) if arg is not None else MISSING
    if isinstance(value, str):
        if not is_url(value):
            return None  # a local SavedModel directory
        hit = v.url_hit(value, rule.category)
        if hit is None:
            return None
        return _hit(v, rule, Confidence.CERTAIN, redact(value), hosts=(*hit.hosts, *v.rules.hosts(rule.category)))
    urls = list(v.url_strings(arg)) if arg is not None else []
    if urls:
        return _hit(v, rule, Confidence.LIKELY, redact(urls[0]))
    return _dynamic(v, rule, arg, "network", "handle")


def _hub_source(v: ValueReader, node: ast.Call, rule: CallRule) -> list[Hit] | None:
    source = _flag(v, node, ("source",))
    if source == "local":
        return None
    repo = v.literal(node.args[0]) if node.args else MISSING
    if isinstance(repo, str) and is_local_path(repo) and repo.count("/") != 1:
        return None
    return _hit(v, rule, Confidence.LIKELY, repr(repo) if isinstance(repo, str) else "")


def _fetch(v: ValueReader, node: ast.Call, rule: CallRule) -> list[Hit] | None:
    arg = _arg(node, rule)
    if arg is None:
        return None
    if any(True for _ in v.url_strings(arg)):
        return None  # the URL-literal rule reports it with its host
    value = v.literal(arg)
    if isinstance(value, str):
        return None
    return _dynamic(v, rule, arg, "guess", "URL")


def _command_strings(v: ValueReader, node: ast.expr | None) -> list[str]:
    if node is None:
        return []
    out: list[str] = []
    for value in v.values(node):
        if isinstance(value, (ast.List, ast.Tuple)):
            for elt in value.elts:
                out.extend(_command_strings(v, elt))
        elif isinstance(value, ast.JoinedStr):
            out.append("".join(str(p.value) if isinstance(p, ast.Constant) else " {} " for p in value.values))
        elif isinstance(value, ast.Constant) and isinstance(value.value, str):
            out.append(value.value)
        elif isinstance(value, ast.BinOp):
            out.extend(_command_strings(v, value.left))
            out.extend(_command_strings(v, value.right))
    return out


def shell_hits(v: ValueReader, rule: CallRule | None, words: list[str]) -> list[Hit] | None:
    text = " ".join(words)
    tokens = text.split()
    hits: list[Hit] = []
    urls = [u.rstrip(").,;") for u in URL_IN_TEXT.findall(text)]
    is_pip = "install" in tokens and any(t in {"pip", "pip3", "uv"} or t.endswith(("/pip", "/pip3"))
                                         for t in tokens)
    if is_pip:
        extra = []
        for u in urls:
            parsed = host_of(u.removeprefix("git+"))
            if parsed and parsed[1]:
                extra.append(parsed[1])
        cat = v.rules.category(C.PYPI)
        hits.append(Hit(C.PYPI, (*cat.hosts, *extra), Confidence.LIKELY, f"runs pip install: {cat.reason}"))
        return hits
    if "install" in tokens and any(t in {"conda", "mamba", "micromamba"} for t in tokens):
        hits.append(Hit(C.HTTP, ("repo.anaconda.com", "conda.anaconda.org"), Confidence.LIKELY,
                         "runs conda install"))
    for u in dict.fromkeys(urls):
        hit = v.url_hit(u.removeprefix("git+"), None)
        if hit is not None:
            hits.append(hit)
    hits.extend(_command_model_ids(v, tokens))
    return hits or None


#: Command-line options that name a model or dataset on the Hugging Face Hub (`--model_name_or_path x`).
_HUB_FLAG = re.compile(r"^--?(?:model(?:_name(?:_or_path)?|_id|_path)?|base_model|pretrained_model_name_or_path|"
                       r"tokenizer_name|teacher_model|dataset_name|hub_model_id)(?:=(.*))?$")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*(?:/[\w.\-]+)?$")


def _command_model_ids(v: ValueReader, tokens: list[str]) -> list[Hit]:
    """`python train.py --model_name_or_path bert-base-uncased`: the script downloads that id from the Hub."""
    hits = []
    for i, token in enumerate(tokens):
        match = _HUB_FLAG.match(token)
        if not match:
            continue
        value = match.group(1) if match.group(1) is not None else (tokens[i + 1] if i + 1 < len(tokens) else "")
        value = value.strip("'\"")
        if not value or value.startswith(("$", "{", "-")) or not _HUB_ID.match(value) or is_local_path(value):
            continue
        cat = v.rules.category(C.HUGGINGFACE)
        hits.append(Hit(C.HUGGINGFACE, cat.hosts, Confidence.LIKELY, f"{token.split('=')[0]} {value}: {cat.reason}"))
    return hits


def _shell(v: ValueReader, node: ast.Call, rule: CallRule) -> list[Hit] | None:
    first = node.args[0] if node.args else argument(node, None, "args", "command", "cmd")
    words = _command_strings(v, first)
    if len(node.args) > 1 and (v.names.qualname(node.func) or "").startswith("os.exec"):
        for extra in node.args[1:]:
            words.extend(_command_strings(v, extra))
    return shell_hits(v, rule, words)


def _pip_args(v: ValueReader, node: ast.Call, rule: CallRule) -> list[Hit] | None:
    words = _command_strings(v, node.args[0] if node.args else None)
    return shell_hits(v, rule, ["pip", *words])


def _s3_service(v: ValueReader, node: ast.Call, rule: CallRule) -> list[Hit] | None:
    value = v.literal(_arg(node, rule))
    if not isinstance(value, str):
        return None
    region = v.literal(argument(node, None, "region_name"))
    endpoint = v.literal(argument(node, None, "endpoint_url"))
    if isinstance(endpoint, str):
        hit = v.url_hit(endpoint, C.S3 if value == "s3" else C.HTTP)
        return [hit] if hit else None
    if value == "s3":
        hosts = v.rules.hosts(C.S3)
        if isinstance(region, str) and region:
            hosts = (*hosts, f"s3.{region}.amazonaws.com", f"*.s3.{region}.amazonaws.com")
        return _hit(v, rule, Confidence.LIKELY, 'boto3 "s3"', hosts=hosts)
    if not re.fullmatch(r"[a-z0-9\-]+", value):
        return None
    category, template = v.index["aws"].get(value, (C.HTTP, "{service}.{region}.amazonaws.com"))
    if isinstance(region, str) and region:
        host = template.replace("{service}", value).replace("{region}", region)
        return [Hit(category, (host,), Confidence.LIKELY, f"calls AWS {value}")]
    return [Hit(category, (), Confidence.GUESS, f"calls AWS {value}; its regional endpoint host must be supplied")]


def _s3_bucket(v: ValueReader, node: ast.Call, rule: CallRule) -> list[Hit] | None:
    value = v.literal(_arg(node, rule))
    if isinstance(value, str) and value:
        return _hit(v, rule, Confidence.CERTAIN, f"bucket {value!r}", hosts=s3_hosts(value))
    return _hit(v, rule, Confidence.LIKELY)


def _protocol(v: ValueReader, node: ast.Call, rule: CallRule) -> list[Hit] | None:
    value = v.literal(_arg(node, rule))
    if not isinstance(value, str):
        return None
    category = v.index["schemes"].get(value)
    if category is None:
        return [Hit(C.HTTP, (), Confidence.GUESS, f"fsspec {value!r} filesystem")] if value in {"http", "https"} \
            else None
    cat = v.rules.category(category)
    return [Hit(category, cat.hosts, Confidence.LIKELY, f"fsspec {value!r}: {cat.reason}")]


def _base_url(v: ValueReader, node: ast.Call, rule: CallRule) -> list[Hit] | None:
    arg = _arg(node, rule)
    if arg is None:
        return _hit(v, rule)
    value = v.literal(arg)
    if isinstance(value, str) and is_url(value):
        hit = v.url_hit(value, rule.category)
        return [hit] if hit else None  # a local server needs no EAI
    return _hit(v, rule, Confidence.GUESS, f"base URL computed at run time ({v.src.code(arg)})", hosts=())


def _tracking_uri(v: ValueReader, node: ast.Call, rule: CallRule) -> list[Hit] | str | None:
    arg = _arg(node, rule)
    if arg is None:
        return _dynamic(v, rule, None, rule.on_missing, "")
    value = v.literal(arg)
    if value is MISSING:
        return _hit(v, rule, Confidence.GUESS, f"tracking URI computed at run time ({v.src.code(arg)})")
    if not isinstance(value, str):
        return None
    if value.startswith("databricks"):
        return _hit(v, rule, Confidence.LIKELY, f"{value!r}: the Databricks workspace host must be supplied")
    parsed = host_of(value) if "://" in value else None
    if parsed is None or not parsed[1] or parsed[0] == "file":
        return SUPPRESS  # a local file store: no network
    hit = v.url_hit(value.replace(parsed[0] + "://", "https://", 1) if parsed[0] not in {"http", "https"}
                     else value, rule.category)
    if hit is None:
        return SUPPRESS
    if parsed[0] not in {"http", "https"}:
        hit.hosts = (parsed[1],)  # a database backend: host:port as written
    return [hit]


def _wandb_mode(v: ValueReader, node: ast.Call, rule: CallRule) -> list[Hit] | str | None:
    mode = _flag(v, node, ("mode",))
    if isinstance(mode, str) and mode.lower() in {"offline", "disabled", "dryrun"}:
        return SUPPRESS
    if _flag(v, node, ("offline",)) is True:
        return SUPPRESS
    return _hit(v, rule)


def _azure_conn(v: ValueReader, node: ast.Call, rule: CallRule) -> list[Hit] | None:
    value = v.literal(_arg(node, rule))
    if isinstance(value, str):
        parts = dict(p.split("=", 1) for p in value.split(";") if "=" in p)
        if parts.get("UseDevelopmentStorage", "").lower() == "true":
            return None
        account = parts.get("AccountName")
        if account:
            suffix = parts.get("EndpointSuffix", "core.windows.net")
            return _hit(v, rule, Confidence.CERTAIN, f"account {account}", hosts=(f"{account}.blob.{suffix}",))
    return _hit(v, rule)


def _azure_account(v: ValueReader, node: ast.Call, rule: CallRule) -> list[Hit] | None:
    value = v.literal(_arg(node, rule))
    if isinstance(value, str) and re.fullmatch(r"[a-z0-9]{3,24}", value):
        return _hit(v, rule, Confidence.CERTAIN, f"account {value}",
                     hosts=(f"{value}.blob.core.windows.net", f"{value}.dfs.core.windows.net"))
    return _hit(v, rule)


def _release_weights(v: ValueReader, node: ast.Call, rule: CallRule) -> list[Hit] | None:
    arg = _arg(node, rule)
    if arg is None:
        return None
    value = v.literal(arg)
    if value is MISSING:
        return _dynamic(v, rule, arg, "guess", "weights")
    if not isinstance(value, str) or "/" in value or "\\" in value:
        return None
    if value.lower().endswith((".pt", ".pth")) and value.lower().startswith(("yolo", "rtdetr", "sam", "fastsam",
                                                                              "mobile_sam")):
        return _hit(v, rule, Confidence.LIKELY, repr(value))
    return None


def _host_template(v: ValueReader, node: ast.Call, rule: CallRule) -> list[Hit] | None:
    """Regional API hosts: `{}` in the rule's hosts is the call's region/location (or the rule's default)."""
    value = v.literal(argument(node, None, *rule.kws)) if rule.kws and argument(node, None, *rule.kws) is not None else None
    if value is None or value is MISSING:
        value = rule.default
    if not isinstance(value, str) or not re.fullmatch(r"[a-z0-9\-]+", value):
        return _hit(v, rule, Confidence.GUESS, "region chosen at run time: its regional host must be supplied", hosts=())
    return _hit(v, rule, Confidence.LIKELY, value, hosts=tuple(h.replace("{}", value) for h in rule.hosts or ()))


def _fastai_arch(v: ValueReader, node: ast.Call, rule: CallRule) -> list[Hit] | None:
    """fastai learner architectures: pretrained by default; a name string is a timm model on the HF Hub."""
    if _flag(v, node, ("pretrained",)) is False:
        return None
    arg = _arg(node, rule)
    if arg is None:
        return None
    value = v.literal(arg)
    if isinstance(value, str):
        cat = v.rules.category(C.HUGGINGFACE)
        return [Hit(C.HUGGINGFACE, cat.hosts, Confidence.LIKELY, f"pretrained timm model {value!r}: {cat.reason}")]
    if isinstance(arg, (ast.Name, ast.Attribute)) and value is MISSING and not _is_local_name(v, arg):
        return _hit(v, rule, Confidence.LIKELY, f"pretrained {v.src.code(arg)}", hosts=("download.pytorch.org",))
    return None


def _is_local_name(v: ValueReader, node: ast.expr) -> bool:
    """A parameter or a variable of the file (not an imported model function): its value is unknown here."""
    return isinstance(node, ast.Name) and node.id not in v.names.aliases and node.id.islower() and \
        not re.match(r"^(resnet|vgg|densenet|squeezenet|alexnet|mobilenet|efficientnet|convnext|regnet|vit_)",
                     node.id)


CHECK_FUNCTIONS: dict[str, Check] = {
    "always": _always, "guess": _guess, "hub_id": _hub_id, "dataset_id": _dataset_id, "kw_true": _kw_true,
    "kw_not_false": _kw_not_false, "kw_set": _kw_set, "tv_weights": _tv_weights, "keras_weights": _keras_weights,
    "url_arg": _url_arg, "handle": _handle, "hub_source": _hub_source, "fetch": _fetch, "shell": _shell,
    "pip_args": _pip_args, "s3_service": _s3_service, "s3_bucket": _s3_bucket, "protocol": _protocol,
    "base_url": _base_url, "tracking_uri": _tracking_uri, "wandb_mode": _wandb_mode, "azure_conn": _azure_conn,
    "azure_account": _azure_account, "release_weights": _release_weights, "host_template": _host_template,
    "fastai_arch": _fastai_arch,
}
#: Argument checks a catalog rule may name (validated when the catalog loads).
CHECKS = frozenset(CHECK_FUNCTIONS)
#: Checks that read every URL in the call themselves, so the generic URL-literal rule skips the call.
URL_CONSUMERS = frozenset({
    "hub_id", "dataset_id", "url_arg", "handle", "shell", "pip_args", "base_url", "tracking_uri", "azure_conn",
})
assert URL_CONSUMERS <= CHECKS  # noqa: S101, sanity check
