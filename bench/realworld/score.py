"""Score the analyzer, and its two simplest peers, on the real-world evaluation set (run on demand).

    .venv/bin/python bench/realworld/score.py [--cache DIR] [--case ID ...] [--save FILE] [--compare FILE] [--diffs]

Reads the labels in cases.yaml and the code from the local cache that fetch_cases.py fills (default
~/.cache/mljobs/realworld, or $MLJOBS_REALWORLD_CACHE). Fetches nothing: cases missing from the cache are
skipped, and with no cache at all the script says so and exits 0.

Measures, per case category and overall:
  gpu       share of cases whose GPU/CPU verdict matches the label
  certain   of the verdicts the analyzer calls "certain", the share that are right
  pkg F1    micro-averaged F1 of required distributions (canonical names) against the labeled packages
  net F1    micro-averaged F1 of network categories (pypi left out: it follows from the packages)
  hosts     recall of labeled hosts, a host counting when reported under its labeled category

Peers, computed on the same cached files in the same run:
  pipreqs   pipreqs 0.5.0's own import scan and name mapping (`get_all_imports` + `get_pkg_names`, notebooks
            included); its optional PyPI existence check is a network call per name and is not made
  seed      the seed skill's "GPU/CPU Inference from Script" table read literally: GPU when any listed
            pattern occurs in the code, CPU otherwise
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))  # bench/: the shared counters

from fetch_cases import default_cache, load_cases  # noqa: E402
from scoring import PR, Ratio, canon  # noqa: E402


def host_only(host: str) -> str:
    """Labels name hosts; the analyzer adds the port when it is not 443 (an EAI rule needs it)."""
    return host.lower().rsplit(":", 1)[0] if re.search(r":\d+$", host) else host.lower()


@dataclass
class Scores:
    cases: int = 0
    gpu: Ratio = field(default_factory=Ratio)
    certain: Ratio = field(default_factory=Ratio)
    packages: PR = field(default_factory=PR)
    network: PR = field(default_factory=PR)
    hosts: Ratio = field(default_factory=Ratio)
    pipreqs: PR = field(default_factory=PR)
    seed_gpu: Ratio = field(default_factory=Ratio)

    def row(self) -> dict[str, float | int | None]:
        return {
            "cases": self.cases,
            "gpu": self.gpu.value,
            "certain": self.certain.value,
            "certain_n": self.certain.n,
            "pkg_f1": self.packages.f1,
            "net_f1": self.network.f1,
            "hosts": self.hosts.value,
            "pipreqs_f1": self.pipreqs.f1,
            "seed_gpu": self.seed_gpu.value,
        }


# ------------------------------------------------------------------------------------------------ analyzer


def run_analyzer(case: dict, case_dir: Path, rules) -> dict:
    from mljobs.analyzers import analyze

    if case["kind"] == "project":
        a = analyze(case_dir, case["entry"], rules=rules)
    else:
        a = analyze(case_dir / case["entry"], rules=rules)
    network: dict[str, set[str]] = {}
    for need in a.network:
        if need.category.value == "pypi":
            continue
        network.setdefault(need.category.value, set()).update(host_only(h) for h in need.hosts or ())
    return {
        "gpu": a.compute.recommendation.value,
        "confidence": a.compute.confidence.value,
        "packages": sorted({canon(p.distribution) for p in a.packages
                            if not p.optional and not getattr(p, "declared_only", False)}),
        "network": {k: sorted(v) for k, v in network.items()},
    }


# ------------------------------------------------------------------------------------------------ peers


def _code_files(case_dir: Path) -> list[Path]:
    return sorted(p for p in case_dir.rglob("*") if p.suffix in (".py", ".ipynb") and p.is_file())


def _code_text(path: Path) -> str:
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix != ".ipynb":
        return text
    try:
        cells = json.loads(text).get("cells", [])
    except ValueError:
        return ""
    out = []
    for cell in cells:
        if cell.get("cell_type") == "code":
            src = cell.get("source", "")
            out.append("".join(src) if isinstance(src, list) else src)
    return "\n".join(out)


def pipreqs_packages(case_dir: Path) -> list[str]:
    """pipreqs 0.5.0's import scan and mapping, notebooks included (what `--scan-notebooks` adds)."""
    from pipreqs import pipreqs as pr

    pr.scan_noteboooks = True
    pr.handle_scan_noteboooks()
    quiet = logging.getLogger()
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            imports = pr.get_all_imports(str(case_dir))
    except Exception:  # pipreqs stops at the first file it cannot parse; it then reports nothing
        return []
    finally:
        quiet.setLevel(level)
    return sorted({canon(n) for n in pr.get_pkg_names(imports)})


# The seed skill's table (/work/shared/seeds/004, "GPU/CPU Inference from Script"), one pattern per cell.
SEED_GPU_PATTERNS = [
    re.compile(r"\.cuda\(\)"),
    re.compile(r"""\.to\(\s*['"]cuda['"]\s*\)"""),
    re.compile(r"\.to\(\s*device\s*\)"),
    re.compile(r"torch\.cuda\.is_available\(\)"),
    re.compile(r"^\s*(import|from)\s+(cupy|cudf|cuml)\b", re.M),
    re.compile(r"""device_map\s*=\s*['"](auto|cuda)['"]"""),
    re.compile(r"\.half\(\)"),
    re.compile(r"\.bfloat16\(\)"),
    re.compile(r"\b(DataParallel|DistributedDataParallel)\b"),
]


def seed_gpu(case_dir: Path) -> str:
    text = "\n".join(_code_text(p) for p in _code_files(case_dir))
    return "GPU" if any(p.search(text) for p in SEED_GPU_PATTERNS) else "CPU"


# ------------------------------------------------------------------------------------------------ scoring


def score_case(case: dict, got: dict, peers: dict, totals: list[Scores]) -> list[str]:
    diffs: list[str] = []
    exp_pk = {canon(p) for p in case.get("packages") or []}
    exp_net = {k: {h.lower() for h in v or []} for k, v in (case.get("network") or {}).items()}
    got_pk, got_net = set(got["packages"]), {k: set(v) for k, v in got["network"].items()}
    for s in totals:
        s.cases += 1
        s.gpu.add(got["gpu"] == case["gpu"])
        if got["confidence"] == "certain":
            s.certain.add(got["gpu"] == case["gpu"])
        s.packages.add(exp_pk, got_pk)
        s.network.add(set(exp_net), set(got_net))
        for cat, hosts in exp_net.items():
            for h in hosts:
                s.hosts.add(h in got_net.get(cat, set()))
        s.pipreqs.add(exp_pk, set(peers["pipreqs"]))
        s.seed_gpu.add(peers["seed"] == case["gpu"])
    if got["gpu"] != case["gpu"]:
        diffs.append(f"gpu: expected {case['gpu']} got {got['gpu']} ({got['confidence']})")
    if exp_pk != got_pk:
        diffs.append(f"packages: missing={sorted(exp_pk - got_pk)} extra={sorted(got_pk - exp_pk)}")
    if set(exp_net) != set(got_net):
        diffs.append(f"network: missing={sorted(set(exp_net) - set(got_net))} extra={sorted(set(got_net) - set(exp_net))}")
    for cat, hosts in sorted(exp_net.items()):
        lost = sorted(hosts - got_net.get(cat, set()))
        if lost:
            diffs.append(f"hosts missing under {cat}: {lost} (got {sorted(got_net.get(cat, set()))})")
    return diffs


def fmt(v: float | int | None) -> str:
    if v is None:
        return "  -  "
    return f"{v:5d}" if isinstance(v, int) else f"{v:5.3f}"


COLUMNS = ["cases", "gpu", "certain", "pkg_f1", "net_f1", "hosts", "pipreqs_f1", "seed_gpu"]


def print_table(rows: dict[str, dict], before: dict[str, dict] | None = None) -> None:
    head = f"{'category':24s} " + " ".join(f"{c:>10s}" for c in COLUMNS)
    print(head)
    print("-" * len(head))
    for name, row in rows.items():
        cells = []
        for c in COLUMNS:
            now = fmt(row.get(c))
            if before and c not in ("cases", "pipreqs_f1", "seed_gpu") and name in before:
                cells.append(f"{fmt(before[name].get(c)).strip():>4s}>{now.strip():<5s}")
            else:
                cells.append(f"{now:>10s}")
        print(f"{name:24s} " + " ".join(f"{x:>10s}" for x in cells))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--case", action="append", help="only these case ids")
    ap.add_argument("--save", type=Path, help="write per-case results and the table as JSON")
    ap.add_argument("--compare", type=Path, help="a JSON written by --save: show before>after per cell")
    ap.add_argument("--diffs", action="store_true", help="print every case that differs from its labels")
    args = ap.parse_args()

    cache = args.cache or default_cache()
    _repos, cases = load_cases()
    present = [c for c in cases if (cache / c["id"]).is_dir() and (not args.case or c["id"] in args.case)]
    if not present:
        print(f"no cached cases under {cache}: run bench/realworld/fetch_cases.py first (skipped)")
        return 0

    from mljobs.skill.knowledge import load_rules

    rules = load_rules()
    overall = Scores()
    by_cat: dict[str, Scores] = defaultdict(Scores)
    results: dict[str, dict] = {}
    for case in present:
        case_dir = cache / case["id"]
        got = run_analyzer(case, case_dir, rules)
        peers = {"pipreqs": pipreqs_packages(case_dir), "seed": seed_gpu(case_dir)}
        diffs = score_case(case, got, peers, [overall, by_cat[case["category"]]])
        results[case["id"]] = {**got, "peers": peers, "diffs": diffs}
        if args.diffs and diffs:
            print(f"[{case['id']}] ({case['category']})")
            for d in diffs:
                print(f"    {d}")

    rows = {name: by_cat[name].row() for name in sorted(by_cat)}
    rows["ALL"] = overall.row()
    before = json.loads(args.compare.read_text())["table"] if args.compare else None
    print_table(rows, before)
    skipped = len(cases) - len(present) if not args.case else 0
    if skipped:
        print(f"({skipped} cases not in the cache were skipped)")
    if args.save:
        brief = {cid: {"gpu": r["gpu"], "confidence": r["confidence"], "diffs": r["diffs"]} for cid, r in results.items()}
        args.save.write_text(json.dumps({"table": rows, "cases": brief}, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
