"""The compute pass on odd input: empty or comment-only files, deep nesting, huge literals, odd syntax."""

from __future__ import annotations

import ast
import textwrap

import pytest

from mljobs.analyzers.compute import ComputeRules, decide_compute, scan_compute
from mljobs.analyzers.model import ComputeTarget, Confidence
from mljobs.analyzers.source import SourceFile
from mljobs.skill.knowledge import load_table

RULES = ComputeRules.from_data(load_table("gpu_patterns"))


def source(text: str, tree: ast.Module | None = None) -> SourceFile:
    return SourceFile(path="odd.py", text=text, tree=tree if tree is not None else ast.parse(text))


def nested_ifs(depth: int) -> str:
    lines = [f"{'    ' * i}if x{i}:" for i in range(depth)]
    lines.append(f"{'    ' * depth}model.cuda()")
    return "\n".join(lines) + "\n"


ODD_INPUTS = [
    pytest.param("", [], id="empty_file"),
    pytest.param("# model.cuda()\n# device_map='auto'\n\n\n", [], id="only_comments"),
    pytest.param('"""import cupy; model.cuda()"""\n', [], id="only_a_docstring"),
    pytest.param(nested_ifs(90), [("cuda_call", 91)], id="ninety_nested_ifs"),
    pytest.param("x = " + "(" * 150 + "1" + ")" * 150 + "\nmodel.cuda()\n", [("cuda_call", 2)],
                 id="deep_parentheses"),
    pytest.param("x = [" + ", ".join(str(i) for i in range(200_000)) + "]\n", [], id="huge_list_literal"),
    pytest.param("s = '" + "cuda " * 500_000 + "'\nprint(s)\n", [], id="huge_string_mentioning_cuda"),
    pytest.param("d = {" + ", ".join(f"'k{i}': {i}" for i in range(50_000)) + "}\n", [],
                 id="huge_dict_literal"),
    pytest.param("y = a" + ".b" * 2000 + ".cuda()\n", [("cuda_call", 1)], id="long_attribute_chain"),
    pytest.param("model.to()\nmodel.to(*args)\nmodel.to(**kw)\nmodel.cuda(*a, **k)\n", [("cuda_call", 4)],
                 id="calls_without_usable_arguments"),
    pytest.param("a = b\nb = a\nmodel.to(a)\n", [], id="binding_cycle"),
    pytest.param("device = device or 'cuda'\nmodel.to(device)\n", [("device_move", 2)], id="self_reference"),
    pytest.param("def f():\n    return f()\nmodel.to(f())\n", [], id="recursive_device_function"),
    pytest.param("params = {**base, 'tree_method': 'gpu_hist', None: 1}\n", [("booster_gpu", 1)],
                 id="dict_with_unpacking"),
    pytest.param("params[key] = 'gpu_hist'\nparams[0] = 'cuda'\n", [], id="subscript_store_non_literal_key"),
    pytest.param("match cmd:\n    case 'gpu':\n        model.cuda()\n    case _:\n        pass\n",
                 [("cuda_call", 3)], id="match_statement"),
    pytest.param("async def main():\n    async with lock:\n        await model.cuda()\n", [("cuda_call", 3)],
                 id="async_code"),
    pytest.param("f = lambda m: m.cuda()\n(n := 3)\nprint(*[m.half() for m in ms])\n",
                 [("cuda_call", 1), ("half_precision", 3)], id="lambda_walrus_comprehension"),
    pytest.param("from . import cuda\nfrom .. import cupy\ncuda.synchronize()\n", [], id="relative_imports"),
    pytest.param("import torch\ntorch.cuda\n", [("cuda_api", 2)], id="bare_attribute_statement"),
    pytest.param("x: int = 3\ndevice: str = 'cuda'\nmodel.to(device)\n", [("device_move", 3)],
                 id="annotated_assignments"),
    pytest.param("import os\nos.environ[k] = ''\nos.environ.get()\nos.getenv(name)\n", [],
                 id="env_without_literals"),
    pytest.param("p.add_argument()\np.add_argument(dest=None)\np.add_argument('--device', default=None)\n"
                 "model.to(args.device)\n", [], id="argparse_odd_calls"),
]


@pytest.mark.parametrize(("text", "expected"), ODD_INPUTS)
def test_scan_compute__odd_input__no_exception(text: str, expected: list[tuple[str, int]]) -> None:
    """Odd but valid input is scanned without an exception and still yields its real findings."""
    result = scan_compute(source(text), RULES)
    assert sorted((f.signal, f.location.line) for f in result.gpu) == expected
    assert not result.problems
    verdict = decide_compute([result], RULES)
    assert verdict.reason


def test_scan_compute__tree_deeper_than_recursion_limit__walked_to_the_bottom() -> None:
    """A tree deeper than the recursion limit is read whole (the walk is iterative): the GPU call at its
    deepest point is found and nothing is reported missing."""
    where = {"lineno": 2, "col_offset": 0, "end_lineno": 2, "end_col_offset": 1}
    expr: ast.expr = ast.parse("net.cuda()\n").body[0].value  # type: ignore[attr-defined]
    ast.increment_lineno(expr, 1)
    for _ in range(5000):
        call = ast.Call(ast.Name("f", ast.Load(), **where), [], [], **where)
        expr = ast.BinOp(expr, ast.Add(), call, **where)
    first = ast.parse("model.cuda()\n").body[0]
    tree = ast.Module(body=[first, ast.Expr(expr, **where)], type_ignores=[])
    result = scan_compute(source("model.cuda()\nnet.cuda()\n", tree), RULES)
    assert [(f.signal, f.location.line) for f in result.gpu] == [("cuda_call", 1), ("cuda_call", 2)]
    assert result.problems == ()


def test_scan_compute__device_chain_too_deep__problem_not_crash() -> None:
    """A very long chain of device variables is cut off with a Problem, not a RecursionError."""
    lines = ["d0 = 'cuda'"] + [f"d{i} = d{i - 1}" for i in range(1, 3000)] + ["model.to(d2999)", "x.to(d0)"]
    result = scan_compute(source("\n".join(lines) + "\n"), RULES)
    assert [(f.signal, f.location.line) for f in result.gpu] == [("device_move", 3002)]
    assert result.problems and "too deeply" in result.problems[0].message


def test_decide_compute__no_scans__cpu_certain() -> None:
    """No files at all is a CPU verdict without evidence, not an error."""
    verdict = decide_compute([], RULES)
    assert (verdict.recommendation, verdict.confidence, verdict.evidence) == (
        ComputeTarget.CPU,
        Confidence.CERTAIN,
        (),
    )
    assert verdict.multi_node is None and not verdict.needs_large_memory


def test_scan_compute__model_id_odd_strings__not_large() -> None:
    """Long, spaced or size-less strings in model positions are not taken for large models."""
    text = textwrap.dedent("""
        import torch
        model_name = "a model called llama but with spaces"
        model_path = "x" * 3
        checkpoint = "runs/2024-01-01/epoch=3-step=7b.ckpt" * 1
        MODEL = "models/resnet50-350m.pt"
        """)
    result = scan_compute(source(text), RULES)
    assert result.large_models == ()
