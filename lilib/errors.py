"""Exceptions raised by lilib.

Every error a user can provoke with bad input is a :class:`LilibError`, so
``except LilibError`` catches them all.  Messages name the file, line or
argument at fault and what is wrong with it.

Warnings: :class:`ConvergenceWarning` (a :class:`UserWarning`) is emitted when an iterative
calculation (e.g. a structure relaxation) stops before meeting its criterion; the result is
still returned, with a flag saying so.  Turn it into an error with
``warnings.simplefilter("error", ConvergenceWarning)``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "ArgumentError",
    "CalculatorError",
    "ConvergenceWarning",
    "DataNotFoundError",
    "FileFormatError",
    "InputFileError",
    "InsufficientStatisticsError",
    "LilibError",
    "StationaryPointError",
    "StoreError",
    "UnknownNameError",
    "UnknownStructureError",
    "UnsupportedElementError",
    "WorkdirMismatchError",
]


class LilibError(Exception):
    """Base class of every error lilib raises on purpose."""

    _init_args: tuple = ()

    def __reduce__(self):
        # Subclasses build their message from several arguments; pickle (process pools, dask)
        # must call __init__ with those, not with the message.
        if self._init_args:
            return (type(self), self._init_args)
        return super().__reduce__()


class InputFileError(LilibError):
    """A file that cannot be used; carries ``path`` and, where known, ``line`` (1-based)."""

    def __init__(self, path: str | Path, message: str, line: int | None = None) -> None:
        self._init_args = (path, message, line)
        self.path = Path(path)
        self.line = line
        self.reason = message
        where = f"{self.path}:{line}" if line is not None else f"{self.path}"
        super().__init__(f"{where}: {message}")


class FileFormatError(InputFileError):
    """A file whose content does not follow its format (truncated, inconsistent, unparsable)."""


class ArgumentError(LilibError, ValueError):
    """A function argument with an invalid value; carries the argument's ``name``."""

    def __init__(self, name: str, message: str) -> None:
        self._init_args = (name, message)
        self.name = name
        self.reason = message
        super().__init__(f"argument {name!r}: {message}")


class InsufficientStatisticsError(ArgumentError):
    """Too few independent events for an estimate (e.g. hops in a slab for a D(z)).

    Carries ``argument`` (the threshold that was not met, e.g. 'min_hops'), ``where`` (the
    places that fall short, e.g. slab indices) and ``counts`` (their event counts). An
    :class:`ArgumentError`, so handlers of bad arguments catch it too.
    """

    def __init__(self, argument: str, message: str, where=(), counts=()) -> None:
        super().__init__(argument, message)
        self._init_args = (argument, message, tuple(where), tuple(counts))
        self.where = tuple(where)
        self.counts = tuple(counts)


class UnknownNameError(LilibError, KeyError):
    """A name looked up in a fixed collection that does not hold it; suggests close matches."""

    kind = "name"

    def __init__(self, name: str, choices: Iterable[str]) -> None:
        self.name = name
        self.choices = sorted(choices)
        self._init_args = (name, self.choices)
        lowered = {c.lower(): c for c in self.choices}
        close = difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.5)
        self.suggestions = [lowered[c] for c in close]
        message = f"unknown {self.kind} {name!r}"
        if self.suggestions:
            message += f"; did you mean {', '.join(repr(s) for s in self.suggestions)}?"
        else:
            message += f"; known: {', '.join(self.choices)}"
        super().__init__(message)

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


class UnknownStructureError(UnknownNameError):
    """A structure name that the structure library does not hold."""

    kind = "structure"


class UnsupportedElementError(LilibError):
    """An element that a method, model or table does not cover."""

    def __init__(self, element: str, what: str) -> None:
        self._init_args = (element, what)
        self.element = element
        self.what = what
        super().__init__(f"element {element!r} is not covered by {what}")


class DataNotFoundError(LilibError, FileNotFoundError):
    """A data file or directory lilib needs is missing; says where it looked."""

    def __init__(self, what: str, looked: Iterable[str | Path]) -> None:
        self.what = what
        self.looked = [Path(p) for p in looked]
        self._init_args = (what, self.looked)
        places = ", ".join(str(p) for p in self.looked) or "nowhere"
        super().__init__(f"{what} not found (looked in: {places})")

    def __str__(self) -> str:
        return str(self.args[0])


class CalculatorError(LilibError):
    """A calculator returned unusable results (non-finite or wrongly shaped forces, ...).

    Carries ``calculator`` (its identity, e.g. 'ase.calculators.emt.EMT (emt)') and ``reason``.
    """

    def __init__(self, calculator: str, message: str) -> None:
        self._init_args = (calculator, message)
        self.calculator = calculator
        self.reason = message
        super().__init__(f"calculator {calculator}: {message}")


class WorkdirMismatchError(LilibError):
    """A checkpoint folder written for a different calculation than the one asked for.

    Carries ``workdir``, the differing ``field`` (e.g. 'displacement', 'calculator') and the
    ``stored`` and ``current`` values. Raised instead of mixing results of two calculations.
    """

    def __init__(self, workdir: str | Path, field: str, stored: object, current: object) -> None:
        self._init_args = (workdir, field, stored, current)
        self.workdir = Path(workdir)
        self.field = field
        self.stored = stored
        self.current = current
        super().__init__(
            f"{self.workdir}: this workdir holds a calculation with a different {field} "
            f"(stored: {stored!r}; now: {current!r}); use another workdir or delete this one"
        )


class StoreError(LilibError):
    """A results database cannot be opened or holds an unreadable entry.

    Carries ``url`` (the SQLite file or the PostgreSQL URL, password hidden) and ``reason``.
    """

    def __init__(self, url: str, message: str) -> None:
        self._init_args = (url, message)
        self.url = _hide_password(url)
        self.reason = message
        super().__init__(f"results store {self.url}: {message}")


def _hide_password(url: str) -> str:
    head, sep, tail = url.partition("://")
    if sep and "@" in tail:
        auth, _, rest = tail.rpartition("@")
        if ":" in auth:
            return f"{head}://{auth.split(':', 1)[0]}:***@{rest}"
    return url


class ConvergenceWarning(UserWarning):
    """An iterative calculation stopped before meeting its convergence criterion.

    Not a :class:`LilibError`: the (unconverged) result is returned with a flag set, e.g.
    ``RelaxResult.converged`` False.
    """


class StationaryPointError(LilibError):
    """A structure that is not the stationary point it should be.

    A minimum must have no imaginary mode, a first-order saddle exactly one. Carries ``state``
    ('initial' or 'saddle'), ``n_imaginary`` and ``frequencies_THz`` (signed, imaginary < 0).
    """

    def __init__(self, state: str, frequencies_THz: Iterable[float], message: str) -> None:
        self._init_args = (state, list(map(float, frequencies_THz)), message)
        self.state = state
        self.frequencies_THz = tuple(float(f) for f in frequencies_THz)
        self.n_imaginary = sum(f < 0 for f in self.frequencies_THz)
        super().__init__(f"{state}: {message}")
