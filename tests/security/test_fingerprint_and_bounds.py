"""Reproductions 8 (bounded work) and 9 (content fingerprint)."""

from __future__ import annotations

import os

from mljobs.analyzers import analyze
from mljobs.analyzers.imports import MAX_REPEATS
from mljobs.analyzers.model import Confidence, Evidence, Location, NetworkCategory, NetworkNeed, SubmitMethod
from mljobs.server.payload import fingerprint_for_plan
from mljobs.skill.eai import MAX_EVIDENCE_PER_HOST, check_coverage
from mljobs.skill.facts import AccountFacts
from mljobs.skill.jobplan import JobPlan


def fingerprint(source: str) -> str | None:
    """The fingerprint of a plan that ships `source` (a folder with main.py, a single file, or a stage path)."""
    folder = not source.startswith("@") and os.path.isdir(source)
    method = SubmitMethod.SUBMIT_DIRECTORY if folder or source.startswith("@") else SubmitMethod.SUBMIT_FILE
    plan = JobPlan(backend="local", method=method, source=source,
                   entrypoint="main.py" if folder else os.path.basename(source), compute_pool="LOCAL",
                   stage_name="@LOCAL.JOBS.PAYLOAD", name="FP")
    return fingerprint_for_plan(plan)


def test_same_length_edit_with_mtime_restored__fingerprint_changes(write_tree) -> None:
    root = write_tree({"proj/main.py": "import util\n", "proj/util.py": "X = 1\n"}) / "proj"
    before = fingerprint(str(root))
    st = (root / "util.py").stat()
    (root / "util.py").write_text("X = 2\n")  # same length
    os.utime(root / "util.py", ns=(st.st_atime_ns, st.st_mtime_ns))  # mtime restored
    assert (root / "util.py").stat().st_mtime_ns == st.st_mtime_ns
    assert fingerprint(str(root)) != before


def test_fingerprint__new_file_and_single_file(write_tree) -> None:
    root = write_tree({"p/main.py": "print(1)\n"}) / "p"
    before = fingerprint(str(root))
    (root / "extra.py").write_text("")
    assert fingerprint(str(root)) != before
    single = fingerprint(str(root / "main.py"))
    (root / "main.py").write_text("print(2)\n")
    assert fingerprint(str(root / "main.py")) != single
    assert fingerprint("@DB.SC.STAGE/code") is None


def test_fingerprint__unchanged_tree_reads_nothing_again(write_tree, monkeypatch) -> None:
    root = write_tree({f"big/m{i}.py": f"X = {i}\n" for i in range(300)}) / "big"
    first = fingerprint(str(root))
    opened = []
    real_open = open

    def spy(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", spy)
    assert fingerprint(str(root)) == first
    assert opened == []


def test_eai_collect__linear_and_capped() -> None:
    """8k evidence items for one host keep 20 plus a count (the merge's cost is measured in
    bench/bench_hostile.py: 0.15 s for 8k imports, 73.9 s before it was made linear)."""
    evidence = tuple(Evidence(Location("train.py", i + 1), f"import requests as r{i}", "imports requests")
                     for i in range(8000))
    needs = [NetworkNeed(NetworkCategory("pypi"), ("pypi.org",), evidence, Confidence.CERTAIN)]
    facts = AccountFacts(backend="local")
    coverage = check_coverage(needs, facts)
    host = coverage.hosts[0]
    assert len(host.evidence) == MAX_EVIDENCE_PER_HOST and host.evidence_more == 8000 - MAX_EVIDENCE_PER_HOST


def test_repeated_imports__capped_with_count(write_tree, rules) -> None:
    root = write_tree({"rep/train.py": "import requests\n" * 5000})
    result = analyze(root / "rep" / "train.py", rules=rules)
    requests = [p for p in result.packages if p.import_name == "requests"]
    assert requests and len(requests[0].evidence) <= MAX_REPEATS
    assert any("4980 more" in p.message for p in result.problems)
