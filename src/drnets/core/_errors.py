"""The package's own input error: one line naming the source, the place and the problem."""

from __future__ import annotations

from os import PathLike


class InputError(ValueError):
    """Invalid user input.

    The message is a single line ``"<source>: <where>: <problem>"`` so that the CLI
    can print it as it is and exit with status 2.

    Parameters
    ----------
    problem : str
        What is wrong, in words a user understands.
    source : str or path-like, optional
        The file (or object) the input came from.
    where : str, optional
        The line, key or column inside ``source``.
    """

    def __init__(
        self,
        problem: str,
        *,
        source: str | PathLike[str] | None = None,
        where: str | None = None,
    ) -> None:
        self.problem = " ".join(str(problem).split())
        self.source = None if source is None else str(source)
        self.where = where
        parts = [p for p in (self.source, where, self.problem) if p]
        super().__init__(": ".join(parts))
