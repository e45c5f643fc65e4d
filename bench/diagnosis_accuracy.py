"""How often diagnose() proposes the right top fix over tests/diagnosis_corpus (run on demand).

    .venv/bin/python bench/diagnosis_accuracy.py [--verbose]

The harness (cases, plan and account per case, scoring) is tests/skill/test_diagnosis_corpus.py. To measure
another checkout, run this file with that checkout's interpreter: the corpus is read from this tree, the
code under test is whatever `mljobs` the interpreter imports.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="print why each wrong case is wrong")
    parser.add_argument("--holdout", action="store_true",
                        help="score tests/diagnosis_corpus_holdout (labelled before diagnose ran on it)")
    args = parser.parse_args()
    spec = importlib.util.spec_from_file_location("diag_harness", ROOT / "tests" / "skill" / "test_diagnosis_corpus.py")
    assert spec and spec.loader
    harness = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = harness  # dataclasses look their module up while the class is built
    spec.loader.exec_module(harness)
    if args.holdout:
        cases, accounts = harness.load_cases(ROOT / "tests" / "diagnosis_corpus_holdout")
    else:
        cases, accounts = harness.CASES, harness.ACCOUNTS
    right = 0
    for case in cases:
        try:
            wrong = harness.score(case, harness.run_case(case, accounts))
        except Exception as exc:  # noqa: BLE001 - an old checkout may crash on a case; that counts as wrong
            wrong = [f"crashed: {exc!r}"]
        right += not wrong
        if wrong:
            print(f"WRONG {case.name}" + ("".join(f"\n    {w}" for w in wrong) if args.verbose else ""))
    print(f"top fix right: {right}/{len(cases)} = {right / len(cases):.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
