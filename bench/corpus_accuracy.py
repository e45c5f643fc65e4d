"""Per-dimension accuracy of the analyzer over the labeled corpus in tests/corpus/ (run on demand).

    .venv/bin/python bench/corpus_accuracy.py [-v] [--case NAME ...]

Prints compute / method / multi-node / local-module accuracy, micro-averaged package, to_install and
network-category precision/recall, and host recall (expected (category, host) pairs that were reported
under that category). Cases where analyze() raises count as wrong on every dimension.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import traceback
from pathlib import Path

from scoring import PR

ROOT = Path(__file__).resolve().parents[1]


def _load_harness():
    spec = importlib.util.spec_from_file_location("corpus_harness", ROOT / "tests" / "test_corpus.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["corpus_harness"] = mod  # dataclasses need the module registered
    spec.loader.exec_module(mod)
    return mod


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-v", "--verbose", action="store_true", help="print every mismatch per case")
    ap.add_argument("--case", action="append", help="only these case names")
    args = ap.parse_args(argv)

    h = _load_harness()
    from mljobs.skill.knowledge import load_rules

    rules = load_rules()
    cases = [c for c in h.load_cases() if not args.case or c.name in args.case]
    n = len(cases)
    acc = {"compute": 0, "method": 0, "multi_node": 0, "local_modules": 0, "all dimensions": 0}
    packages, optional, to_install, categories = PR(), PR(), PR(), PR()
    hosts_expected = hosts_found = 0
    errors: list[str] = []
    failing: dict[str, list[str]] = {}

    for case in cases:
        exp = case.expected
        exp_net = {c: {x.lower() for x in (hs or [])} for c, hs in (exp["network"] or {}).items()}
        hosts_expected += sum(len(v) for v in exp_net.values())
        try:
            obs = h.observe(h.run_analyzer(case, rules))
        except Exception as e:  # noqa: BLE001 - a crash is a data point, not a reason to stop
            errors.append(f"{case.name}: {type(e).__name__}: {e}")
            if args.verbose:
                traceback.print_exc()
            packages.add({h.canon(p) for p in exp["packages"]}, set())
            optional.add({h.canon(p) for p in exp["optional_packages"]}, set())
            to_install.add({h.canon(p) for p in exp["to_install"]}, set())
            categories.add(set(exp_net), set())
            continue
        acc["compute"] += obs.compute == exp["compute"]
        acc["method"] += obs.method == exp["method"]
        acc["multi_node"] += obs.multi_node == bool(exp["multi_node"])
        acc["local_modules"] += obs.local_modules == set(exp["local_modules"] or [])
        packages.add({h.canon(p) for p in exp["packages"]}, obs.packages)
        optional.add({h.canon(p) for p in exp["optional_packages"]}, obs.optional)
        to_install.add({h.canon(p) for p in exp["to_install"]}, obs.to_install)
        categories.add(set(exp_net), set(obs.network))
        hosts_found += sum(len(hs & obs.network.get(c, set())) for c, hs in exp_net.items())
        problems = h.compare(exp, obs)
        acc["all dimensions"] += not problems
        if problems:
            failing[case.name] = problems

    print(f"corpus: {n} cases ({sum(c.kind == 'script' for c in cases)} scripts, "
          f"{sum(c.kind == 'project' for c in cases)} projects, {sum(c.kind == 'notebook' for c in cases)} notebooks); "
          f"analyzer errors: {len(errors)}")
    for name, k in acc.items():
        print(f"{name + ' accuracy':<28} {k / n if n else 0:6.1%}   ({k}/{n})")
    print(packages.line("packages (required)"))
    print(optional.line("optional packages"))
    print(to_install.line("to_install"))
    print(categories.line("network categories"))
    print(f"{'host recall':<28} {hosts_found / hosts_expected if hosts_expected else 1:6.1%}   "
          f"({hosts_found}/{hosts_expected})")
    by_error: dict[str, list[str]] = {}
    for e in errors:
        name, _, msg = e.partition(": ")
        by_error.setdefault(msg, []).append(name)
    for msg, names in by_error.items():
        print(f"ERROR in {len(names)} case(s): {msg}" + (f"  [{', '.join(names)}]" if len(names) <= 5 else ""))
    if args.verbose:
        for name, problems in failing.items():
            print(f"\n{name}:\n  - " + "\n  - ".join(problems))
    else:
        print("failing cases:", ", ".join(failing) or "none")
        if errors:
            print("crashed cases:", ", ".join(e.split(":")[0] for e in errors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
