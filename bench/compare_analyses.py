"""Dump the analyzer's full output on a fixed input set to JSON, or compare two dumps (issue 12 speed work).

A speed change must not change any output. `dump OUT.json` records, for every input, the whole `Analysis`
(all-files mode over each tree, entrypoint mode for every bench/realworld case) and every per-file
`FileScan`; run it on the old and the new analyzers, then `compare OLD.json NEW.json` lists what differs.

Inputs: every bench/realworld case (from ~/.cache/mljobs/realworld), tests/corpus*, and the venv's
site-packages `snowflake` and `pandas` trees.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
REALWORLD = Path.home() / ".cache" / "mljobs" / "realworld"


def _plain(obj: object) -> object:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [_plain(x) for x in obj]
    if isinstance(obj, (set, frozenset)):
        return sorted((_plain(x) for x in obj), key=repr)
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if hasattr(obj, "value") and not isinstance(obj, (str, int, float)):
        return obj.value  # enums
    return obj if isinstance(obj, (str, int, float, bool, type(None))) else repr(obj)


def _trees() -> list[Path]:
    site = Path(sys.prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
    return [*sorted(REPO.glob("tests/corpus*")), site / "snowflake", site / "pandas"]


def dump(out: Path) -> None:
    from mljobs.analyzers import analyze, scan_file
    from mljobs.analyzers.project import list_tree
    from mljobs.skill.knowledge import load_rules

    rules = load_rules()
    result: dict[str, object] = {}
    for tree_root in _trees():
        a = analyze(tree_root, all_files=True, rules=rules, workers=1)
        result[f"tree:{tree_root}"] = _plain(a)
        tree = list_tree(tree_root)
        for rel, entry in sorted(tree.files.items()):
            if rel.endswith((".py", ".ipynb")):
                scan = scan_file(tree.root, entry, tree.module_name(rel), rules, tree.project_files)
                result[f"scan:{tree_root}:{rel}"] = _plain(scan)
        print(f"{tree_root}: {len(tree.files)} files", file=sys.stderr)
    cases = yaml.safe_load((HERE / "realworld" / "cases.yaml").read_text())["cases"]
    for case in cases:
        case_dir = REALWORLD / case["id"]
        if not case_dir.is_dir():
            print(f"missing realworld case {case['id']}", file=sys.stderr)
            continue
        target = case_dir if case["kind"] == "project" else case_dir / case["entry"]
        entry = case["entry"] if case["kind"] == "project" else None
        result[f"case:{case['id']}"] = _plain(analyze(target, entry, rules=rules, workers=1))
        tree = list_tree(case_dir)
        for rel, fentry in sorted(tree.files.items()):
            if rel.endswith((".py", ".ipynb")):
                scan = scan_file(tree.root, fentry, tree.module_name(rel), rules, tree.project_files)
                result[f"scan:{case['id']}:{rel}"] = _plain(scan)
    out.write_text(json.dumps(result, sort_keys=True, indent=0))
    print(f"{len(result)} outputs -> {out}", file=sys.stderr)


def compare(old: Path, new: Path) -> int:
    a, b = json.loads(old.read_text()), json.loads(new.read_text())
    diffs = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
    for k in diffs[:50]:
        print(f"differs: {k}")
    print(f"{len(a)} vs {len(b)} outputs, {len(diffs)} differ")
    return 1 if diffs else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "dump":
        dump(Path(sys.argv[2]))
    elif len(sys.argv) == 4 and sys.argv[1] == "compare":
        sys.exit(compare(Path(sys.argv[2]), Path(sys.argv[3])))
    else:
        sys.exit("usage: compare_analyses.py dump OUT.json | compare OLD.json NEW.json")
