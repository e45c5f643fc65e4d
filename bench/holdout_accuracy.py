"""Accuracy of the analyzer over the held-out corpus in tests/corpus_holdout/ (run on demand).

    .venv/bin/python bench/holdout_accuracy.py [--case NAME ...]

The held-out cases were labeled without looking at the analyzer, its rules or the main corpus.
Each case folder holds the code and an expected.yaml (kind, entrypoint, compute, packages,
optional_packages, to_install, network, method, multi_node, local_modules).

Prints per-dimension accuracy (compute, method, multi_node, local_modules), micro-averaged
precision/recall for required packages, optional packages, to_install and network categories,
recall of labeled hosts (a host counts when reported under the same category), and, for every
case that differs anywhere, the exact differences.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from mljobs.analyzers import analyze
from scoring import PR, Ratio, canon
from mljobs.skill.knowledge import load_rules

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus_holdout"


@dataclass
class Totals:
    compute: Ratio = field(default_factory=Ratio)
    method: Ratio = field(default_factory=Ratio)
    multi_node: Ratio = field(default_factory=Ratio)
    local_modules: Ratio = field(default_factory=Ratio)
    case_exact: Ratio = field(default_factory=Ratio)
    packages: PR = field(default_factory=PR)
    optional: PR = field(default_factory=PR)
    to_install: PR = field(default_factory=PR)
    categories: PR = field(default_factory=PR)
    hosts: Ratio = field(default_factory=Ratio)


def run_case(case_dir: Path, rules, totals: Totals) -> list[str]:
    exp = yaml.safe_load((case_dir / "expected.yaml").read_text())
    entry = case_dir / exp["entrypoint"]
    if exp["kind"] == "project":
        a = analyze(case_dir, exp["entrypoint"], rules=rules)
    else:
        a = analyze(entry, rules=rules)

    diffs: list[str] = []

    def diff_set(label: str, expected: set, got: set) -> None:
        missing, extra = sorted(expected - got), sorted(got - expected)
        if missing or extra:
            diffs.append(f"{label}: missing={missing} extra={extra}")

    compute = a.compute.recommendation.value
    totals.compute.add(compute == exp["compute"])
    if compute != exp["compute"]:
        diffs.append(f"compute: expected {exp['compute']} got {compute}")

    method = a.method.method.value
    totals.method.add(method == exp["method"])
    if method != exp["method"]:
        diffs.append(f"method: expected {exp['method']} got {method}")

    multi = a.compute.multi_node is not None
    totals.multi_node.add(multi == bool(exp["multi_node"]))
    if multi != bool(exp["multi_node"]):
        diffs.append(f"multi_node: expected {exp['multi_node']} got {a.compute.multi_node!r}")

    exp_mods, got_mods = set(exp.get("local_modules") or []), set(a.local_modules or [])
    totals.local_modules.add(exp_mods == got_mods)
    diff_set("local_modules", exp_mods, got_mods)

    req = {canon(p.distribution) for p in a.packages if not p.optional}
    opt = {canon(p.distribution) for p in a.packages if p.optional}
    inst = {canon(p.distribution) for p in a.packages if not p.optional and p.status.value == "to_install"}
    e_req = {canon(p) for p in exp.get("packages") or []}
    e_opt = {canon(p) for p in exp.get("optional_packages") or []}
    e_inst = {canon(p) for p in exp.get("to_install") or []}
    totals.packages.add(e_req, req)
    totals.optional.add(e_opt, opt)
    totals.to_install.add(e_inst, inst)
    diff_set("packages", e_req, req)
    diff_set("optional_packages", e_opt, opt)
    diff_set("to_install", e_inst, inst)

    got_net: dict[str, set[str]] = {}
    for need in a.network:
        got_net.setdefault(need.category.value, set()).update(h.lower() for h in (need.hosts or []))
    e_net = {k: {h.lower() for h in (v or [])} for k, v in (exp.get("network") or {}).items()}
    totals.categories.add(set(e_net), set(got_net))
    diff_set("network categories", set(e_net), set(got_net))
    for cat, hosts in sorted(e_net.items()):
        for h in sorted(hosts):
            hit = h in got_net.get(cat, set())
            totals.hosts.add(hit)
            if not hit:
                diffs.append(f"host missing: {cat}/{h} (got {sorted(got_net.get(cat, set()))})")

    totals.case_exact.add(not diffs)
    return diffs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", action="append", help="only these case folder names")
    args = ap.parse_args()

    rules = load_rules()
    cases = sorted(p for p in CORPUS.iterdir() if (p / "expected.yaml").is_file())
    if args.case:
        cases = [c for c in cases if c.name in set(args.case)]
    totals = Totals()
    failures: dict[str, list[str]] = {}
    for case in cases:
        try:
            diffs = run_case(case, rules, totals)
        except Exception as exc:  # an analyzer crash is a failure of every dimension of that case
            diffs = [f"analyzer raised {type(exc).__name__}: {exc}"]
        if diffs:
            failures[case.name] = diffs

    print(f"held-out corpus: {len(cases)} cases ({CORPUS.relative_to(ROOT)})")
    print(f"  compute            {totals.compute.fmt()}")
    print(f"  method             {totals.method.fmt()}")
    print(f"  multi_node         {totals.multi_node.fmt()}")
    print(f"  local_modules      {totals.local_modules.fmt()}")
    print(f"  required packages  {totals.packages.fmt()}")
    print(f"  optional packages  {totals.optional.fmt()}")
    print(f"  to_install         {totals.to_install.fmt()}")
    print(f"  network categories {totals.categories.fmt()}")
    print(f"  host recall        {totals.hosts.fmt()}")
    print(f"  cases fully right  {totals.case_exact.fmt()}")
    if failures:
        print("\nfailing cases:")
        for name, diffs in failures.items():
            print(f"- {name}")
            for d in diffs:
                print(f"    {d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
