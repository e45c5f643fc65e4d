"""The entry wrapper: how `$MLRS_*` in a job's args becomes the container's real paths.

Snowflake never expands variables in args (the client sends them verbatim, startup.sh runs `"$@"`, the real
launcher sets `sys.argv` as given), so `["--output-dir", "$MLRS_STAGE_RESULT_PATH"]` reaches the script as
that literal text and the outputs land in a folder named `$MLRS_STAGE_RESULT_PATH` inside the payload mount.

Of the two ways to make the path real -- edit the script to read `os.environ["MLRS_STAGE_RESULT_PATH"]`, or
run a small wrapper from the payload that expands the args first -- the plan takes the wrapper whenever an
arg names a `$MLRS_*` variable: it works for every method (the user's code stays byte-for-byte as written),
it is visible in the payload and the plan, and the local pool runs the same file through the same real
launcher. The launcher gets the wrapper as its script and the user's entrypoint as the first argument; the
wrapper's `__return__` is the script's, so results come back unchanged.
"""

from __future__ import annotations

import re

WRAPPER_NAME = "mljobs_entry.py"
_VAR = re.compile(r"\$(?:\{MLRS_\w+\}|MLRS_\w+)")

WRAPPER_TEXT = '''"""mljobs entry wrapper (generated): expands $MLRS_* in the job's args, then runs the script.

Snowflake passes job args verbatim; this makes "$MLRS_STAGE_RESULT_PATH" the container's result path.
"""
import os
import re
import runpy
import sys

_VAR = re.compile(r"\\$(?:\\{(MLRS_\\w+)\\}|(MLRS_\\w+))")


def _expand(arg):
    return _VAR.sub(lambda m: os.environ.get(m.group(1) or m.group(2), m.group(0)), arg)


_script = sys.argv[1]
sys.argv = [_script, *(_expand(a) for a in sys.argv[2:])]
__return__ = runpy.run_path(_script, run_name="__main__").get("__return__")
'''


def needs_wrapper(args: tuple[str, ...] | list[str]) -> bool:
    """Whether any arg names a `$MLRS_*` / `${MLRS_*}` variable that only the wrapper can make real."""
    return any(_VAR.search(a) for a in args)
