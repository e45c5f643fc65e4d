"""Python tracebacks in job logs: the final exception and the frame of the user's code that raised it.

A failure no catalog entry knows is still explained by where it happened. The last traceback in the log
holds the exception that ended the job; of its frames, the deepest one in the user's payload (not the
launcher, not runpy, not an installed library) is the line the user can change.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_HEADER = "Traceback (most recent call last):"
_FRAME_RE = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>.+))?$')
_EXC_RE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Failure|Timeout|error))"
                     r"(?::\s?(?P<message>.*))?$")
# Frames that are never the user's: the container / local launchers, runpy, the interpreter and libraries.
_NOT_USER = re.compile(
    r"(/site-packages/|/dist-packages/|/lib/python\d[\d.]*/|^<frozen |^<string>|mljobs?_launcher\.py$|"
    r"/runpy\.py$|/mljobs_netguard\.py$)"
)
# Where payloads live: /mnt/job_stage/app/ in the container, <jobs_dir>/<JOB>/app/ on the local pool.
_PAYLOAD_ROOT = re.compile(r"^.*?/(?:mnt/job_stage/app|jobs/[A-Z_][A-Z0-9_]*_[0-9a-f]{8}/app)/")


@dataclass(frozen=True, slots=True)
class Frame:
    path: str  # as logged
    line: int
    function: str
    code: str  # the source line the traceback printed under the frame ("" when none)
    log_line: int  # 0-based index of the "File ..." line in the log

    @property
    def where(self) -> str:
        """The payload-relative `path:line` (the full path when it is not under a known payload root)."""
        return f"{_PAYLOAD_ROOT.sub('', self.path)}:{self.line}"


@dataclass(frozen=True, slots=True)
class TracebackInfo:
    exception: str  # "KeyError: 'label'" (type and the first line of the message)
    exception_line: int  # 0-based index in the log
    frames: tuple[Frame, ...]
    user_frame: Frame | None  # the deepest frame in the user's code, None when every frame is a library's


def is_user_frame(path: str) -> bool:
    return not _NOT_USER.search(path)


def parse_last_traceback(lines: Sequence[str]) -> TracebackInfo | None:
    """The last complete traceback in `lines`, or None when the log holds none.

    A chained traceback ("During handling of the above exception ...") has several blocks; the last block is
    the exception that ended the program, and its user frame is the one to fix.
    """
    starts = [i for i, text in enumerate(lines) if text.strip() == _HEADER]
    for start in reversed(starts):
        info = _parse_block(lines, start + 1)
        if info is not None:
            return info
    return None


def _parse_block(lines: Sequence[str], index: int) -> TracebackInfo | None:
    frames: list[Frame] = []
    while index < len(lines):
        text = lines[index]
        match = _FRAME_RE.match(text)
        if match:
            code = ""
            nxt = lines[index + 1] if index + 1 < len(lines) else ""
            if nxt.startswith("    ") and not _FRAME_RE.match(nxt):
                code = nxt.strip()
            frames.append(Frame(match["path"], int(match["line"]), (match["func"] or "").strip(), code, index))
            index += 1
            continue
        if text.startswith(" ") or not text.strip():
            index += 1  # source lines, carets (~~~^~~~) and blank lines inside the block
            continue
        exc = _EXC_RE.match(text.strip())
        if exc is None:
            return None
        message = (exc["message"] or "").strip()
        exception = f"{exc['type']}: {message}" if message else exc["type"]
        user = next((f for f in reversed(frames) if is_user_frame(f.path)), None)
        return TracebackInfo(exception, index, tuple(frames), user)
    return None
