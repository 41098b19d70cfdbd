"""Errors raised by the scoring core.

Every error is a :class:`ScoringError` (a ``ValueError``), and every message
names what is wrong: the column, the stratum, the item, the code or the domain.
Callers catch ``ScoringError`` once; tests match the subclass. An error may also
carry a ``code`` and its ``params`` (the line, the value), so an application can
say the same thing in its own words and language.
"""

from __future__ import annotations


class ScoringError(ValueError):
    """Base class of every error raised by ``scoring``.

    ``str(error)`` is the English message; ``code`` (empty when the class says it
    all) and ``params`` describe the same fault for a translation.
    """

    def __init__(self, message: str = "", *, code: str = "", **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.params: dict[str, object] = params


class DesignColumnError(ScoringError):
    """A design column (weights, strata, PSU, fpc, domain) is missing or has missing values."""


class WeightError(ScoringError):
    """Weights that are zero, negative, NaN or infinite."""


class LonelyPSUError(ScoringError):
    """A stratum with a single PSU under ``lonely_psu='fail'`` (R's default)."""


class FPCError(ScoringError):
    """A finite population correction that is inconsistent (mixed, varying, below the sample)."""


class AnswerCodeError(ScoringError):
    """An answer code that is not on the item's scale."""


class CalibrationError(ScoringError):
    """Post-stratification, raking or trimming that cannot be carried out."""


class MarginsError(CalibrationError):
    """A population margins file that cannot be read as margins (with a code and params)."""


class ConvergenceError(CalibrationError):
    """Raking that does not converge within its iteration cap."""


class IndexTreeError(ScoringError):
    """An index tree that cannot be computed (unknown item, missing weight)."""


class ResponseCountError(ScoringError):
    """Disposition counts (selected, delivered, complete, ...) missing or inconsistent."""


class PlanError(ScoringError):
    """A sample plan that cannot be made: bad frame sizes, rates, targets or costs."""
