"""The compute pattern tables as frozen rules, the signal vocabulary, and what one file's scan yields.

Built from skill/data/gpu_patterns.yaml by `ComputeRules.from_data`; shared by the scan (compute.py), the
verdict (verdict.py) and the config-file reader (configs.py). Nothing here walks code.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .commands import CommandRules
from .model import Confidence, Evidence, GpuFinding, Location, Problem
from .modelsize import ModelHint, ModelSizeRules
from .names import dotted_prefixes

class GpuSignal(str, enum.Enum):
    """What kind of code a GpuFinding is about (the `signal` field)."""

    CUDA_CALL = "cuda_call"  # .cuda()
    DEVICE_MOVE = "device_move"  # .to("cuda"), .to(device), device=..., set_default_device
    CUDA_API = "cuda_api"  # torch.cuda.* calls that need a GPU
    CUDA_REQUIRED = "cuda_required"  # assert torch.cuda.is_available() / raise when no GPU
    GPU_LIBRARY = "gpu_library"  # cupy, cudf, vllm, bitsandbytes, ... imported
    DEVICE_MAP = "device_map"
    QUANTIZATION = "quantization"
    HALF_PRECISION = "half_precision"
    ACCELERATOR = "accelerator"  # accelerator="gpu", gpus=N, num_gpus=N, use_gpu=True
    DATA_PARALLEL = "data_parallel"
    BOOSTER_GPU = "booster_gpu"  # xgboost / lightgbm / catboost GPU options
    FRAMEWORK_DEVICE = "framework_device"  # tf.device("/GPU:0"), jax.devices("gpu")
    LLM_ENGINE = "llm_engine"
    AUTO_DEVICE = "auto_device"  # Trainer / Accelerator / Lightning: GPU when present
    LARGE_MODEL = "large_model"
    CUDA_CHECK = "cuda_check"  # hint: availability queries
    CUDA_SETTING = "cuda_setting"  # hint: cudnn flags, CUDA seeds, cache
    GPU_ENV = "gpu_env"  # hint: CUDA_VISIBLE_DEVICES="0"
    CPU_FORCED = "cpu_forced"  # the code turns the GPU off


#: Signals that do no GPU work by themselves.
HINT_SIGNALS = frozenset({GpuSignal.CUDA_CHECK, GpuSignal.CUDA_SETTING, GpuSignal.GPU_ENV})
#: Work inferred from what the code does (not from GPU APIs): an explicit CPU setting outweighs it.
INFERRED_SIGNALS = frozenset({GpuSignal.AUTO_DEVICE, GpuSignal.LARGE_MODEL})




def _weaker(a: Confidence, b: Confidence) -> Confidence:
    return min(a, b)


# --------------------------------------------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True)
class CallRule:
    """A qualified name prefix (`torch.cuda`) that signals GPU use when called or referenced."""

    name: str
    signal: GpuSignal
    confidence: Confidence
    reason: str
    device_arg: int | None = None  # the rule needs this positional argument to name a CUDA device...
    device_keyword: str | None = None  # ...or this keyword
    device_default: bool = False  # a missing device argument means CUDA (torch.amp.GradScaler)
    values: frozenset[Any] = frozenset()  # compare the argument to these literals instead of a device


@dataclass(frozen=True, slots=True)
class KeywordRule:
    """A keyword argument (or dict key) whose value turns the GPU on or off."""

    keyword: str
    signal: GpuSignal
    confidence: Confidence
    reason: str
    gpu_values: frozenset[Any] = frozenset()
    cpu_values: frozenset[Any] = frozenset()
    gpu_any: bool = False
    gpu_positive_int: bool = False
    gpu_names: frozenset[str] = frozenset()
    device_value: bool = False
    calls: tuple[str, ...] = ()
    except_calls: tuple[str, ...] = ()
    cpu_neutral_calls: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MultiNodeFramework:
    name: str
    reason: str
    names: tuple[str, ...]
    instance_keywords: tuple[str, ...] = ()
    instance_positions: tuple[int, ...] = ()
    env: frozenset[str] = frozenset()
    launchers: tuple[str, ...] = ()
    # The launcher starts one node unless a node flag says more (torchrun, accelerate launch).
    needs_node_flag: bool = False


@dataclass(frozen=True, slots=True)
class ComputeRules:
    """The GPU / multi-node pattern tables (from skill/data/gpu_patterns.yaml). Treat as read-only."""

    gpu_modules: Mapping[str, CallRule]
    gpu_calls: Mapping[str, CallRule]
    gpu_methods: Mapping[str, CallRule]
    device_methods: frozenset[str]
    keywords: Mapping[str, KeywordRule]
    env_gpu_disable: Mapping[str, frozenset[str]]
    env_gpu_select: frozenset[str]
    cuda_prefixes: tuple[str, ...]
    cpu_prefixes: tuple[str, ...]
    device_constructors: frozenset[str]
    conditional_devices: tuple[str, ...]
    index_names: frozenset[str]
    config_objects: frozenset[str]
    condition_words: tuple[str, ...]
    large_min_billions: float
    large_memory_billions: float
    large_families: tuple[str, ...]
    large_names: tuple[str, ...]
    model_loaders: frozenset[str]
    model_name_words: tuple[str, ...]
    training_calls: frozenset[str]
    training_methods: frozenset[str]
    peft_calls: frozenset[str]
    dl_frameworks: frozenset[str]
    allocators: frozenset[str]
    generators: frozenset[str]
    large_bytes: int
    frameworks: tuple[MultiNodeFramework, ...]
    default_instances: int
    max_instances: int
    launcher_node_flags: tuple[str, ...]
    launch_calls: tuple[str, ...]
    #: framework names index (qualified prefix -> frameworks), derived from `frameworks`
    framework_index: Mapping[str, tuple[MultiNodeFramework, ...]] = field(default_factory=dict)
    model_sizes: ModelSizeRules = field(default_factory=lambda: ModelSizeRules(60.0, ()))
    model_constructors: tuple[str, ...] = ()
    #: method name -> (rule, libraries one of which the file must import)
    gpu_methods_when_imported: Mapping[str, tuple[CallRule, tuple[str, ...]]] = field(default_factory=dict)
    training_methods_when_imported: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    commands: CommandRules = field(default_factory=CommandRules)
    config_files: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ComputeRules:
        """Build the rules from the parsed gpu_patterns table.

        Raises:
            ValueError: a section is missing or has the wrong shape; the message names it.
        """
        try:
            return _rules_from_data(data)
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"gpu_patterns: malformed table ({type(exc).__name__}: {exc})") from exc


def _norm(value: Any) -> Any:
    """A comparable literal: strings lower-cased, and bools kept apart from ints (True == 1 in Python)."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, str):
        return ("str", value.lower())
    if isinstance(value, (int, float)):
        return ("num", value)
    if value is None:
        return ("none", None)
    return ("other", repr(value))


def _conf(text: str | None, default: Confidence = Confidence.CERTAIN) -> Confidence:
    return Confidence(text) if text else default


def _call_rule(name: str, spec: Mapping[str, Any], signal: str | None = None) -> CallRule:
    return CallRule(
        name=name,
        signal=GpuSignal(spec.get("signal", signal)),
        confidence=_conf(spec.get("confidence")),
        reason=str(spec["reason"]),
        device_arg=spec.get("device_arg"),
        device_keyword=spec.get("device_keyword"),
        device_default=bool(spec.get("device_default", False)),
        values=frozenset(_norm(v) for v in spec.get("values", ())),
    )


def _rules_from_data(data: Mapping[str, Any]) -> ComputeRules:
    keywords = {}
    for kw, spec in data.get("gpu_keywords", {}).items():
        keywords[kw] = KeywordRule(
            keyword=kw,
            signal=GpuSignal(spec["signal"]),
            confidence=_conf(spec.get("confidence")),
            reason=str(spec.get("reason", "")),
            gpu_values=frozenset(_norm(v) for v in spec.get("gpu_values", ())),
            cpu_values=frozenset(_norm(v) for v in spec.get("cpu_values", ())),
            gpu_any=bool(spec.get("gpu_any", False)),
            gpu_positive_int=bool(spec.get("gpu_positive_int", False)),
            gpu_names=frozenset(spec.get("gpu_names", ())),
            device_value=bool(spec.get("device_value", False)),
            calls=tuple(spec.get("calls", ())),
            except_calls=tuple(spec.get("except_calls", ())),
            cpu_neutral_calls=tuple(spec.get("cpu_neutral_calls", ())),
        )
    devices = data.get("devices", {})
    large = data.get("large_models", {})
    training = data.get("training", {})
    memory = data.get("memory", {})
    multi = data.get("multi_node", {})
    frameworks = []
    for fname, spec in multi.get("frameworks", {}).items():
        inst = spec.get("instances", ())
        frameworks.append(
            MultiNodeFramework(
                name=fname,
                reason=str(spec["reason"]),
                names=tuple(spec["names"]),
                instance_keywords=tuple(str(i) for i in inst if isinstance(i, str)),
                instance_positions=tuple(i for i in inst if isinstance(i, int) and not isinstance(i, bool)),
                env=frozenset(spec.get("env", ())),
                launchers=tuple(spec.get("launchers", ())),
                needs_node_flag=bool(spec.get("needs_node_flag", False)),
            )
        )
    env = data.get("env", {})
    index: dict[str, tuple[MultiNodeFramework, ...]] = {}
    for fw in frameworks:
        for name in fw.names:
            index[name] = (*index.get(name, ()), fw)
    return ComputeRules(
        framework_index=index,
        gpu_modules={m: _call_rule(m, s, "gpu_library") for m, s in data.get("gpu_modules", {}).items()},
        gpu_calls={n: _call_rule(n, s) for n, s in data.get("gpu_calls", {}).items()},
        gpu_methods={n: _call_rule(n, s) for n, s in data.get("gpu_methods", {}).items()},
        device_methods=frozenset(data.get("device_methods", ())),
        keywords=keywords,
        env_gpu_disable={
            k: frozenset(str(v).lower() for v in vs) for k, vs in env.get("gpu_disable", {}).items()
        },
        env_gpu_select=frozenset(env.get("gpu_select", ())),
        cuda_prefixes=tuple(p.lower() for p in devices.get("cuda_prefixes", ("cuda",))),
        cpu_prefixes=tuple(p.lower() for p in devices.get("cpu_prefixes", ("cpu",))),
        device_constructors=frozenset(devices.get("constructors", ())),
        conditional_devices=tuple(devices.get("conditional", ())),
        index_names=frozenset(devices.get("index_names", ())),
        config_objects=frozenset(devices.get("config_objects", ())),
        condition_words=tuple(w.lower() for w in devices.get("condition_words", ())),
        large_min_billions=float(large.get("min_billions", 1.0)),
        large_memory_billions=float(large.get("memory_min_billions", 7.0)),
        large_families=tuple(f.lower() for f in large.get("families", ())),
        large_names=tuple(n.lower() for n in large.get("names", ())),
        model_loaders=frozenset(large.get("loaders", ())),
        model_name_words=tuple(w.lower() for w in large.get("name_words", ())),
        training_calls=frozenset(training.get("calls", ())),
        training_methods=frozenset(training.get("methods", ())),
        peft_calls=frozenset(training.get("peft_calls", ())),
        dl_frameworks=frozenset(data.get("dl_frameworks", ())),
        allocators=frozenset(memory.get("allocators", ())),
        generators=frozenset(memory.get("generators", ())),
        large_bytes=int(memory.get("large_bytes", 32_000_000_000)),
        frameworks=tuple(frameworks),
        default_instances=int(multi.get("default_instances", 2)),
        max_instances=int(multi.get("max_instances", 16)),
        launcher_node_flags=tuple(multi.get("launcher_node_flags", ())),
        launch_calls=tuple(multi.get("launch_calls", ())),
        model_sizes=ModelSizeRules.from_data(data.get("model_sizes")),
        model_constructors=tuple(large.get("constructors", ())),
        gpu_methods_when_imported={
            n: (_call_rule(n, s), tuple(s.get("when_imported", ())))
            for n, s in (data.get("gpu_methods_when_imported") or {}).items()
        },
        training_methods_when_imported={
            str(m): tuple(mods) for m, mods in (training.get("methods_when_imported") or {}).items()
        },
        commands=CommandRules.from_data(data.get("commands")),
        config_files=dict(data.get("config_files") or {}),
    )


class NameFacts(NamedTuple):
    """What the rule tables say about one resolved name (`name_facts`)."""

    gpu_call: CallRule | None  # the longest-prefix GPU call rule
    frameworks: tuple[MultiNodeFramework, ...]  # multi-node frameworks under it, in prefix order
    training: bool  # under a training call
    constructor: bool  # under a model constructor
    peft: bool  # under an adapter fine-tuning call
    launcher: bool  # under a call that launches a command line
    inert: bool  # no table says anything about it, referenced or called (most names): nothing to do


#: Environment calls the compute scan reads: which variables are read (multi-node launchers set some) and
#: written (`CUDA_VISIBLE_DEVICES=""` hides every GPU).
ENV_READERS = frozenset({"os.environ.get", "os.getenv", "os.environ.__getitem__"})
ENV_WRITERS = frozenset({"os.environ.setdefault", "os.putenv", "os.environ.update"})


class NameIndex:
    """What the rule tables say per resolved name (`facts`) and per identifier (`model_word`), memoised for
    one `ComputeRules` across files: a tree uses the same few thousand names in every file. Kept beside the
    rules, not in them, so the rules' value (and its cache fingerprint) never changes."""

    __slots__ = ("_facts", "_modules", "_words", "methods", "rules")

    def __init__(self, rules: ComputeRules) -> None:
        self.rules = rules
        self._facts: dict[str, NameFacts] = {}
        self._modules: dict[str, CallRule | None] = {}
        self._words: dict[str, bool] = {}
        #: Every method name a table mentions: a method call on an unresolved receiver means nothing else.
        self.methods = frozenset({*rules.gpu_methods, *rules.gpu_methods_when_imported, *rules.device_methods,
                                  *rules.training_methods, *rules.training_methods_when_imported})

    def facts(self, qualname: str) -> NameFacts:
        """The rule tables' answers for a resolved name (`torch.cuda.synchronize`)."""
        facts = self._facts.get(qualname)
        if facts is None:
            rules = self.rules
            prefixes = dotted_prefixes(qualname)
            index = rules.framework_index
            frameworks: list[MultiNodeFramework] = []
            for prefix in prefixes:
                for fw in index.get(prefix, ()):
                    if fw not in frameworks:
                        frameworks.append(fw)
            gpu_call = _longest_prefix(qualname, rules.gpu_calls)
            training = not rules.training_calls.isdisjoint(prefixes)
            constructor = any(p in rules.model_constructors for p in prefixes)
            peft = not rules.peft_calls.isdisjoint(prefixes)
            launcher = _under(qualname, rules.launch_calls)
            inert = not (gpu_call or frameworks or training or constructor or peft or launcher) and \
                qualname not in rules.allocators and qualname not in rules.generators and \
                qualname not in ENV_READERS and qualname not in ENV_WRITERS
            facts = self._facts[qualname] = NameFacts(
                gpu_call, tuple(frameworks), training, constructor, peft, launcher, inert
            )
        return facts

    def gpu_module(self, module: str) -> CallRule | None:
        """The GPU library rule an imported module falls under (`cupy`, `cudf.pandas`), if any."""
        try:
            return self._modules[module]
        except KeyError:
            rule = self._modules[module] = _longest_prefix(module, self.rules.gpu_modules)
            return rule

    def model_word(self, name: str) -> bool:
        """True when an identifier (any case) contains one of the rules' model-name words (`model_id`)."""
        known = self._words.get(name)
        if known is None:
            lowered = name.lower()
            known = self._words[name] = any(w in lowered for w in self.rules.model_name_words)
        return known


_INDEXES: dict[int, NameIndex] = {}


def name_index(rules: ComputeRules) -> NameIndex:
    """The `NameIndex` of `rules` (a process loads its rules once; tests may hold a few at a time)."""
    index = _INDEXES.get(id(rules))
    if index is None or index.rules is not rules:
        if len(_INDEXES) >= 4:
            _INDEXES.clear()
        index = _INDEXES[id(rules)] = NameIndex(rules)
    return index


def _longest_prefix(qualname: str, table: Mapping[str, Any]) -> Any:
    """The entry for the longest dotted prefix of `qualname` in `table` (`a.b.c` tries a.b.c, a.b, a)."""
    name = qualname
    while True:
        hit = table.get(name)
        if hit is not None:
            return hit
        cut = name.rfind(".")
        if cut < 0:
            return None
        name = name[:cut]


def _under(qualname: str, prefixes: Iterable[str]) -> bool:
    return any(qualname == p or qualname.startswith(p + ".") for p in prefixes)


# --------------------------------------------------------------------------------------------------- scan


@dataclass(frozen=True, slots=True)
class MultiNodeFinding:
    """One piece of code written for several nodes; `instances` is a literal node/worker count, if any."""

    framework: str
    location: Location
    evidence: str
    reason: str
    confidence: Confidence
    instances: int | None = None


@dataclass(frozen=True, slots=True)
class LargeModelHint:
    """A model id literal naming a large model; `billions` is its size tag (None when unknown)."""

    name: str
    billions: float | None
    location: Location
    evidence: str


@dataclass(frozen=True, slots=True)
class ExternalDevice:
    """`.to(DEVICE)` where DEVICE (or `get_device()`) is imported from another module: judged across files."""

    qualname: str  # "config.DEVICE", ".utils.get_device()"
    location: Location
    evidence: str
    guarded: bool


@dataclass(frozen=True, slots=True)
class ComputeScan:
    """What one file says about compute. Picklable, so it can be cached by file fingerprint."""

    path: str
    module: str = ""  # dotted module name, to resolve devices imported by other files
    gpu: tuple[GpuFinding, ...] = ()  # GPU evidence, in source order
    cpu: tuple[GpuFinding, ...] = ()  # cpu_forced evidence
    multi_node: tuple[MultiNodeFinding, ...] = ()
    large_models: tuple[LargeModelHint, ...] = ()
    models: tuple[ModelHint, ...] = ()  # every model id of known size or family (large ones too)
    training: tuple[Evidence, ...] = ()  # the code trains (Trainer, loss.backward(), peft, ...)
    peft: tuple[Evidence, ...] = ()  # parameter-efficient fine-tuning (LoRA adapters)
    memory: tuple[Evidence, ...] = ()  # allocations too big for a standard node
    frameworks: tuple[str, ...] = ()  # deep-learning frameworks imported
    device_names: tuple[tuple[str, tuple[str, ...]], ...] = ()  # exported device names and their kinds
    external_devices: tuple[ExternalDevice, ...] = ()
    problems: tuple[Problem, ...] = ()


_SIZE = re.compile(r"(?:(\d+)x)?(\d+(?:\.\d+)?)([bm])(?![a-z0-9])")


def _large_model(name: str, rules: ComputeRules) -> float | None | bool:
    """Billions of parameters of a large model id, None when large but of unknown size, False if not large."""
    low = name.strip().lower()
    if not low or len(low) > 200 or any(c.isspace() for c in low):
        return False
    best: float | None = None
    for match in _SIZE.finditer(low):
        start = match.start()
        if start and low[start - 1] in ".0123456789":
            continue
        experts, number, unit = match.groups()
        value = float(number) * (int(experts) if experts else 1)
        value = value if unit == "b" else value / 1000
        best = value if best is None else max(best, value)
    if best is not None:
        if best >= rules.large_min_billions:
            return best
        return None if any(n in low for n in rules.large_names) else False
    if any(n in low for n in rules.large_names) or any(f in low for f in rules.large_families):
        return None
    return False


def _device_confidence(kinds: frozenset[str]) -> Confidence | None:
    """CERTAIN when the value is always CUDA, LIKELY when it can be, GUESS when chosen at run time."""
    if kinds and kinds <= {"cuda"}:
        return Confidence.CERTAIN
    if "cuda" in kinds or "cuda?" in kinds:
        return Confidence.LIKELY
    if "runtime" in kinds and "cpu" not in kinds:
        return Confidence.GUESS
    return None


def _judge_device_move(
    kinds: frozenset[str], label: str, variable: bool
) -> tuple[GpuSignal, str, Confidence] | None:
    """The finding for `.to(<value>)` whose value can be `kinds`; None when it says nothing."""
    confidence = _device_confidence(kinds)
    what = f"moves a model or tensor to {label}"
    if confidence is Confidence.CERTAIN:
        return GpuSignal.DEVICE_MOVE, f"moves a model or tensor to CUDA ({label})", confidence
    if confidence is Confidence.LIKELY:
        return GpuSignal.DEVICE_MOVE, f"{what}, a CUDA GPU when one is present", confidence
    if confidence is Confidence.GUESS:
        return GpuSignal.DEVICE_MOVE, f"{what}, a device chosen at run time", confidence
    if kinds == {"cpu"} and variable:
        return GpuSignal.CPU_FORCED, f"moves the model to {label}, which is always the CPU", Confidence.LIKELY
    return None
