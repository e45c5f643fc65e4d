"""Fill the local cache of the real-world evaluation set (run once, by hand; the scorer never fetches).

    .venv/bin/python bench/realworld/fetch_cases.py --mirror /work/.mirror        # from local git mirrors
    .venv/bin/python bench/realworld/fetch_cases.py --github                       # from GitHub (needs internet)

The third-party code never enters this repository: cases.yaml holds only labels and source references
(repository, commit, folder, files), and this script copies the referenced files into a cache folder
outside the tree, by default ~/.cache/mljobs/realworld (or $MLJOBS_REALWORLD_CACHE, or --cache).

Sources, at the exact commit cases.yaml names:
  --mirror DIR   git directories laid out as DIR/<owner>+<name>/repo (the layout the team's snapshot tool
                 writes); files are read with `git show <commit>:<path>`.
  --github       https://raw.githubusercontent.com/<owner>/<name>/<commit>/<path>; the file list of a
                 project case comes from the GitHub trees API.

Which files a case gets: its `files` list when it has one; otherwise a script or notebook gets its entry,
and a project gets every source, config and requirements file under its root (tests left out).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path, PurePosixPath

import yaml

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases.yaml"
PROJECT_SUFFIXES = (".py", ".ipynb", ".yaml", ".yml", ".json", ".txt", ".toml", ".cfg", ".env")
MAX_BYTES = 8 * 1024 * 1024  # notebooks keep their outputs; larger files are data, not code


def default_cache() -> Path:
    return Path(os.environ.get("MLJOBS_REALWORLD_CACHE", "~/.cache/mljobs/realworld")).expanduser()


def load_cases(path: Path = CASES) -> tuple[dict[str, str], list[dict]]:
    data = yaml.safe_load(path.read_text())
    return data["repos"], data["cases"]


def _is_test(path: str) -> bool:
    p = PurePosixPath(path)
    return p.name.startswith("test_") or p.stem.endswith("_test") or "tests" in p.parts or "test" in p.parts


def _in_root(path: str, root: str) -> str | None:
    """Path relative to root, or None when path is outside it."""
    if not root:
        return path
    prefix = root.rstrip("/") + "/"
    return path[len(prefix):] if path.startswith(prefix) else None


def case_files(case: dict, listing: list[str]) -> list[str]:
    """Files of one case, relative to its root. `listing` is every file path of the repository."""
    if case.get("files"):
        return list(case["files"])
    if case["kind"] in ("script", "notebook"):
        return [case["entry"]]
    root = case.get("root") or ""
    out = []
    for path in listing:
        rel = _in_root(path, root)
        if rel and rel.endswith(PROJECT_SUFFIXES) and not _is_test(rel) and not rel.startswith("."):
            out.append(rel)
    if case["entry"] not in out:
        out.append(case["entry"])
    return sorted(out)


class MirrorSource:
    def __init__(self, base: Path) -> None:
        self.base = base

    def _git(self, repo: str, *args: str) -> bytes:
        git_dir = self.base / repo.replace("/", "+") / "repo"
        return subprocess.run(["git", f"--git-dir={git_dir}", *args], capture_output=True, check=True).stdout

    def listing(self, repo: str, commit: str) -> list[str]:
        return self._git(repo, "ls-tree", "-r", "--name-only", commit).decode().splitlines()

    def read(self, repo: str, commit: str, path: str) -> bytes:
        return self._git(repo, "show", f"{commit}:{path}")


class GithubSource:
    def listing(self, repo: str, commit: str) -> list[str]:
        url = f"https://api.github.com/repos/{repo}/git/trees/{commit}?recursive=1"
        with urllib.request.urlopen(url, timeout=60) as resp:  # noqa: S310 - fixed https host
            tree = json.load(resp)["tree"]
        return [t["path"] for t in tree if t["type"] == "blob"]

    def read(self, repo: str, commit: str, path: str) -> bytes:
        url = f"https://raw.githubusercontent.com/{repo}/{commit}/{urllib.request.quote(path)}"
        with urllib.request.urlopen(url, timeout=60) as resp:  # noqa: S310 - fixed https host
            return resp.read()


def fetch(source, cache: Path, only: set[str] | None = None) -> tuple[int, list[str]]:
    repos, cases = load_cases()
    listings: dict[str, list[str]] = {}
    written, failed = 0, []
    for case in cases:
        if only and case["id"] not in only:
            continue
        repo, commit, root = case["repo"], repos[case["repo"]], case.get("root") or ""
        needs_listing = case["kind"] == "project" and not case.get("files")
        if needs_listing and repo not in listings:
            listings[repo] = source.listing(repo, commit)
        dest = cache / case["id"]
        dest.mkdir(parents=True, exist_ok=True)
        for rel in case_files(case, listings.get(repo, [])):
            full = f"{root}/{rel}" if root else rel
            try:
                data = source.read(repo, commit, full)
            except (subprocess.CalledProcessError, OSError) as exc:
                failed.append(f"{case['id']}: {full}: {exc}")
                continue
            if len(data) > MAX_BYTES:
                failed.append(f"{case['id']}: {full}: {len(data)} bytes, over the size limit")
                continue
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            written += 1
        (dest / ".case").write_text(f"{repo}@{commit}:{root}\n")
    return written, failed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--mirror", type=Path, help="folder of git mirrors (<owner>+<name>/repo)")
    src.add_argument("--github", action="store_true", help="download from GitHub at the labeled commits")
    ap.add_argument("--cache", type=Path, default=None, help="cache folder (default ~/.cache/mljobs/realworld)")
    ap.add_argument("--case", action="append", help="only these case ids")
    args = ap.parse_args()
    source = MirrorSource(args.mirror) if args.mirror else GithubSource()
    cache = args.cache or default_cache()
    written, failed = fetch(source, cache, set(args.case) if args.case else None)
    print(f"{written} files written under {cache}")
    for line in failed:
        print(f"missing: {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
