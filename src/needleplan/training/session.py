"""A resident's turn on a case, for a user interface: the reference stays hidden until submitted.

The plugin's training panel (or any front end) opens a :class:`CaseAttempt`, shows
:attr:`CaseAttempt.image_path` and the case's title and teaching points, lets the resident plan,
and calls :meth:`CaseAttempt.submit` with the resident's plan.  Only then does
:attr:`CaseAttempt.reference` give the expert's plan to draw beside the resident's.
"""

from __future__ import annotations

import os
from pathlib import Path

from needleplan.errors import LibraryError
from needleplan.plan import Plan, load_plan
from needleplan.training.cases import TeachingCase, load_case
from needleplan.training.criteria import DEFAULT_CRITERIA, Criteria
from needleplan.training.history import AttemptRecord, record_attempt
from needleplan.training.scoring import Score, score_plans

__all__ = ["CaseAttempt"]


class CaseAttempt:
    """One attempt of one resident at one case.

    Parameters
    ----------
    case : TeachingCase or str
        The case, or its id / folder (looked up in ``cases_dir``).
    resident : str or None
        When given, the submitted attempt is kept in the training library (``library_root``).
    """

    def __init__(
        self,
        case: TeachingCase | str | os.PathLike[str],
        *,
        resident: str | None = None,
        cases_dir: str | os.PathLike[str] | None = None,
        library_root: str | os.PathLike[str] | None = None,
        criteria: Criteria = DEFAULT_CRITERIA,
    ) -> None:
        self.case = case if isinstance(case, TeachingCase) else load_case(case, cases_dir)
        self.resident = resident
        self._library_root = library_root
        self._criteria = criteria
        self.score: Score | None = None
        self.record: AttemptRecord | None = None

    @property
    def image_path(self) -> Path:
        """The de-identified image the resident plans on."""
        return self.case.image_path

    @property
    def submitted(self) -> bool:
        return self.score is not None

    @property
    def reference(self) -> Plan:
        """The expert's plan: only after :meth:`submit`."""
        if self.score is None:
            raise LibraryError("the expert's plan is shown only after the resident submits a plan")
        return load_plan(self.case.reference_path)

    def submit(self, attempt: Plan) -> Score:
        """Score the resident's plan (once), keep it if a resident is named, and return the score."""
        if self.score is not None:
            raise LibraryError("this attempt was already submitted; start a new attempt to try again")
        score = score_plans(attempt, load_plan(self.case.reference_path), criteria=self._criteria)
        if self.resident:
            self.record = record_attempt(
                attempt,
                score,
                resident=self.resident,
                case_id=self.case.case_id,
                reference=str(self.case.reference_path),
                library_root=self._library_root,
            )
        self.score = score
        return score
