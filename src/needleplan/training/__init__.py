"""Teaching: score a resident's plan against an expert's, keep attempts, build teaching cases.

* :func:`score_plans` (:mod:`~needleplan.training.scoring`): needle, hazards, findings, result.
* :func:`record_attempt` / :func:`attempt_history` (:mod:`~needleplan.training.history`): attempts
  per resident in the plan library.
* :func:`create_case` / :func:`list_cases` (:mod:`~needleplan.training.cases`) and
  :func:`build_starter_set` (:mod:`~needleplan.training.starter`): the case library.
* :class:`CaseAttempt` (:mod:`~needleplan.training.session`): a resident's turn on a case for a
  user interface; the expert's plan stays hidden until the resident submits.
"""

from needleplan.training.cases import TeachingCase, create_case, list_cases, load_case
from needleplan.training.criteria import CRITERIA_SOURCES, DEFAULT_CRITERIA, Criteria
from needleplan.training.history import AttemptRecord, attempt_history, record_attempt
from needleplan.training.scoring import FAIL, NEEDS_WORK, PASS, HazardMatch, NeedleDelta, Score, score_plans
from needleplan.training.session import CaseAttempt

__all__ = [
    "Criteria",
    "CRITERIA_SOURCES",
    "DEFAULT_CRITERIA",
    "Score",
    "NeedleDelta",
    "HazardMatch",
    "score_plans",
    "PASS",
    "NEEDS_WORK",
    "FAIL",
    "AttemptRecord",
    "record_attempt",
    "attempt_history",
    "TeachingCase",
    "create_case",
    "list_cases",
    "load_case",
    "CaseAttempt",
]
