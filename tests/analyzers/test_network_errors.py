"""Network pass on odd input: malformed catalog tables fail loudly, odd code never crashes the scan."""

from __future__ import annotations

import ast
import textwrap

import pytest

from mljobs.analyzers.model import NetworkCategory
from mljobs.analyzers.network import NetworkRules, scan_network
from mljobs.analyzers.source import CellSpan, SourceFile
from mljobs.skill.knowledge import load_table

RULES = NetworkRules.from_data(load_table("network_catalog"))


def source(text: str) -> SourceFile:
    text = textwrap.dedent(text).lstrip("\n")
    return SourceFile("odd.py", text, ast.parse(text))


@pytest.mark.parametrize(("data", "message"), [
    pytest.param({"categories": {"ftp": {}}}, "unknown category 'ftp'", id="unknown_category__rejected"),
    pytest.param({"categories": {"http": {"calls": [{"match": "a.b", "check": "maybe"}]}}}, "unknown check",
                 id="unknown_check__rejected"),
    pytest.param({"categories": {"http": {"calls": [{"match": "*.get"}]}}}, "literal module",
                 id="wildcard_root__rejected"),
    pytest.param({"categories": {"http": {"calls": [{"match": "a.b", "args": 0}]}}}, "unknown field",
                 id="misspelt_field__rejected"),
    pytest.param({"categories": {"http": {"calls": [{"match": "a.b", "on_dynamic": "maybe"}]}}}, "on_dynamic",
                 id="bad_dynamic_mode__rejected"),
    pytest.param({"url_hosts": [{"match": "x.com", "category": "web"}]}, "unknown category 'web'",
                 id="unknown_url_category__rejected"),
])
def test_network_rules__malformed_table__value_error(data: dict, message: str) -> None:
    """A broken catalog entry raises ValueError naming the entry, never a silent skip."""
    with pytest.raises(ValueError, match=message):
        NetworkRules.from_data(data)


def test_network_rules__shipped_catalog__covers_every_category() -> None:
    """The shipped catalog describes every category of the closed vocabulary."""
    assert {c.category for c in RULES.categories} == set(NetworkCategory)


ODD_CODE = [
    pytest.param("", id="empty_file"),
    pytest.param("import requests\nrequests.get(*args, **kwargs)\n", id="starred_and_double_star"),
    pytest.param("(lambda u: u)('https://x.example.com')\n", id="lambda_callee"),
    pytest.param("fns[0]('https://x.example.com')\n", id="subscript_callee"),
    pytest.param("A = 'https://a.example.com'\nA = A + '/x'\nf(A)\n", id="self_referencing_constant"),
    pytest.param("A = B\nB = A\nf(A)\n", id="constant_cycle"),
    pytest.param("import os\nos.environ[key] = value\nos.environ['X'] = 1\n", id="dynamic_env_assignment"),
    pytest.param("f(b'https://x.example.com')\n", id="bytes_url"),
    pytest.param("f(f'{x:>10}https://')\n", id="fstring_with_format_spec"),
    pytest.param("f('https://')\nf('https:///path')\nf('http://[::1')\n", id="malformed_urls"),
    pytest.param("import boto3\nboto3.client(123)\nboto3.client()\n", id="non_string_service"),
    pytest.param("from transformers import AutoModel\nAutoModel.from_pretrained(None)\n", id="none_model_name"),
    pytest.param("import torch\ntorch.hub.load()\n", id="hub_load_without_args"),
    pytest.param("import subprocess\nsubprocess.run()\nsubprocess.run(cmd)\n", id="subprocess_without_literal"),
    pytest.param("async def f():\n    async with aiohttp.ClientSession() as s:\n        await s.get(u)\n",
                 id="async_code"),
    pytest.param("x = [requests.get(u) for u in URLS]\n", id="comprehension"),
]


@pytest.mark.parametrize("text", ODD_CODE)
def test_scan_network__odd_code__no_exception(text: str) -> None:
    """Unusual but valid code is scanned without raising, and findings stay well formed."""
    for finding in scan_network(source(text), RULES):
        assert finding.location.line >= 1
        assert all(isinstance(h, str) and h for h in finding.hosts)


def test_scan_network__notebook__cell_locations() -> None:
    """In a notebook the finding points at the cell and the line inside it."""
    text = "import nltk\n\nnltk.download('punkt')\n"
    src = SourceFile("nb.ipynb", text, ast.parse(text), cells=(CellSpan(1, 1, 1), CellSpan(3, 2, 3)))
    (finding,) = scan_network(src, RULES)
    assert (finding.location.cell, finding.location.line) == (3, 2)


def test_scan_network__500_line_script__every_repeat_found() -> None:
    """Every repeated access of a 500-line script is found (its speed is measured in bench/bench_analyzer.py)."""
    block = textwrap.dedent("""
        import torch, requests, wandb
        from transformers import AutoModel
        URL = "https://data.example.com/x.csv"
        def step(model, batch, i):
            out = model(batch["x"].to("cuda"))
            loss = torch.nn.functional.mse_loss(out, batch["y"])
            wandb.log({"loss": loss.item(), "i": i})
            return requests.get(URL).json()
        m = AutoModel.from_pretrained("bert-base-uncased")
    """)
    text = block * 50
    src = source(text)
    _ = src.names
    found = scan_network(src, RULES)
    assert len(found) >= 150
