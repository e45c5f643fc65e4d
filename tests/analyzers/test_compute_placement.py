"""Where a GPU finding sits decides how sure it is: the compute pass on the shared statement and bindings layers.

The pass reads one flat node list; the place of each finding comes from `SourceFile.flow` (branches, import
guards, tests) and each value from `SourceFile.bindings`. These cases pin what that placement means: a
ternary's branches and test, decorators, import guards (the imports pass's definition), a device bound
under a GPU test in another function, and resolved chains read once.
"""

from __future__ import annotations

import ast
import textwrap

import pytest

from mljobs.analyzers.compute import ComputeRules, ComputeScan, scan_compute
from mljobs.analyzers.source import SourceFile
from mljobs.skill.knowledge import load_table

RULES = ComputeRules.from_data(load_table("gpu_patterns"))

C, L, G = "certain", "likely", "guess"


def scan(code: str) -> ComputeScan:
    text = textwrap.dedent(code).lstrip("\n")
    return scan_compute(SourceFile(path="train.py", text=text, tree=ast.parse(text)), RULES)


PLACEMENT_CASES = [
    # -- ternaries: the flow sees statements only; the pass places a ternary's branches and test itself
    pytest.param("""
        import torch
        net = model.cuda() if torch.cuda.is_available() else model
        """, [("cuda_call", 2, L), ("cuda_check", 2, L)], id="ternary__gpu_test__branch_likely_test_decides"),
    pytest.param("""
        net = model if use_gpu is False else model.cuda()
        """, [("cuda_call", 1, L)], id="ternary__gpu_flag__else_branch_likely"),
    pytest.param("""
        net = model.cuda() if fast else model
        """, [("cuda_call", 1, C)], id="ternary__other_test__branch_certain"),
    pytest.param("""
        import torch
        print("GPU" if torch.cuda.is_available() else "CPU")
        """, [("cuda_check", 2, L)], id="ternary__availability_check_in_its_test__likely"),
    pytest.param("""
        import torch
        print(torch.cuda.is_available() if verbose else "")
        """, [("cuda_check", 2, G)], id="ternary__availability_check_in_a_branch__guess"),
    pytest.param("""
        import torch
        print(torch.cuda.is_available())
        """, [("cuda_check", 2, G)], id="availability_check_outside_tests__guess"),
    pytest.param("""
        import torch
        if torch.cuda.is_available():
            x = a.cuda() if big else a
        """, [("cuda_call", 3, L), ("cuda_check", 2, L)], id="ternary__inside_gpu_branch__likely"),
    # -- decorators run in the block the definition sits in, not in the function body
    pytest.param("""
        import torch
        @torch.cuda.amp.autocast()
        def step(batch):
            return model(batch)
        """, [("half_precision", 2, C)], id="decorator__module_level__certain"),
    pytest.param("""
        import torch
        if torch.cuda.is_available():
            @torch.cuda.amp.autocast()
            def step(batch):
                return model(batch)
        """, [("cuda_check", 2, L), ("half_precision", 3, L)], id="decorator__under_gpu_test__likely"),
    pytest.param("""
        import torch
        def build(use_gpu):
            if use_gpu:
                pass
            @torch.cuda.amp.autocast()
            def step(batch):
                return batch
            return step
        """, [("half_precision", 5, C)], id="decorator__after_the_branch__certain"),
    # -- import guards: the definition the imports pass uses (flow.py)
    pytest.param("""
        try:
            import cupy
            model.cuda()
        except ImportError:
            cupy = None
        """, [("cuda_call", 3, L), ("gpu_library", 2, L)], id="try_import_error__body_likely"),
    pytest.param("""
        try:
            import cupy
        except ModuleNotFoundError:
            cupy = None
        else:
            model.cuda()
        """, [("cuda_call", 6, L), ("gpu_library", 2, L)], id="try_import_error__else_likely"),
    pytest.param("""
        try:
            import cupy
        except ImportError:
            model.cuda()
        """, [("cuda_call", 4, C), ("gpu_library", 2, L)], id="try_import_error__handler_certain"),
    pytest.param("""
        try:
            import cupy
        except BaseException:
            pass
        """, [("gpu_library", 2, L)], id="try_base_exception__body_likely"),
    pytest.param("""
        try:
            model.cuda()
        except ValueError:
            pass
        """, [("cuda_call", 2, C)], id="try_other_exception__body_certain"),
    pytest.param("""
        from contextlib import suppress
        with suppress(ImportError):
            import cupy
            model.cuda()
        """, [("cuda_call", 4, L), ("gpu_library", 3, L)], id="with_suppress_import_error__likely"),
    pytest.param("""
        from contextlib import suppress
        with suppress(KeyError):
            model.cuda()
        """, [("cuda_call", 3, C)], id="with_suppress_other__certain"),
    pytest.param("""
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            import cupy
        """, [("gpu_library", 3, L)], id="type_checking__likely"),
    # -- values: every binding of a name, wherever it is, with the context it was bound in
    pytest.param("""
        import torch
        def configure():
            if torch.cuda.is_available():
                device = "cuda"
        def train(model):
            model.to(device)
        """, [("cuda_check", 3, L), ("device_move", 6, L)], id="device_bound_under_gpu_test_in_other_function"),
    pytest.param("""
        def configure():
            device = "cuda"
        def train(model):
            model.to(device)
        """, [("device_move", 4, C)], id="device_bound_unconditionally_in_other_function"),
    pytest.param("""
        import torch
        def pick():
            if torch.cuda.is_available():
                return "cuda"
            return "cpu"
        model.to(pick())
        """, [("cuda_check", 3, L), ("device_move", 6, L)], id="device_returned_by_a_function"),
    pytest.param("""
        for device in ["cpu", "cuda"]:
            model.to(device)
        """, [], id="loop_variable__not_a_device_binding"),
    # -- resolved chains are one use: their inner links are not read again
    pytest.param("""
        import torch
        ready = torch.cuda.is_available()
        """, [("cuda_check", 2, G)], id="resolved_call_chain__inner_torch_cuda_not_counted"),
    pytest.param("""
        import torch
        probe = torch.cuda.is_available
        """, [("cuda_check", 2, G)], id="resolved_reference_chain__inner_torch_cuda_not_counted"),
    pytest.param("""
        import torch
        with torch.cuda.amp.autocast():
            out = model(x)
        """, [("half_precision", 2, C)], id="resolved_call_chain__one_finding"),
    pytest.param("""
        import torch
        net = torch.nn.Linear(2, 2).cuda().half()
        """, [("cuda_call", 2, C), ("half_precision", 2, L)], id="unresolved_chain__each_call_once"),
]


@pytest.mark.parametrize(("code", "expected"), PLACEMENT_CASES)
def test_scan_compute__placement__confidence(code: str, expected: list[tuple[str, int, str]]) -> None:
    result = scan(code)
    actual = sorted((f.signal, f.location.line, f.confidence.value) for f in (*result.gpu, *result.cpu))
    if actual != sorted(expected):
        pytest.fail(f"\nsource:\n{textwrap.dedent(code).lstrip()}\nexpected: {sorted(expected)}\nactual:   {actual}",
                    pytrace=False)


def test_scan_compute__device_under_gpu_test__exported_as_conditional() -> None:
    """A module device bound only under a GPU test is exported to other files as "a GPU when present"."""
    result = scan("""
        import torch
        DEVICE = "cpu"
        if torch.cuda.is_available():
            DEVICE = "cuda"
        """)
    assert result.device_names == (("DEVICE", ("cpu", "cuda?")),)


def test_scan_compute__external_device_in_ternary_branch__guarded() -> None:
    """`.to(DEVICE)` of another module's device, in a GPU-test ternary branch, is marked guarded."""
    result = scan("""
        import torch
        from config import DEVICE
        x = t.to(DEVICE) if torch.cuda.is_available() else t
        y = t.to(DEVICE)
        """)
    assert [(e.qualname, e.location.line, e.guarded) for e in result.external_devices] == [
        ("config.DEVICE", 3, True), ("config.DEVICE", 4, False)]
