"""`AnalysisInputError`: the input as a whole cannot be analysed (as opposed to a `Problem` inside it)."""

from __future__ import annotations


class AnalysisInputError(ValueError):
    """The path or entrypoint given to `analyze` is unusable.

    Raised for a nonexistent path, a folder without a findable entrypoint, an entrypoint outside the
    project root, or an input of which nothing at all can be read. The message is one line that says
    what is wrong and what to do; the CLI prints it as `mljobs: error: <message>` and exits 2.
    """
