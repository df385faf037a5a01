"""The plan library: saved plans with every revision, an SQLite index, review and outcomes.

>>> from needleplan.library import STATUSES
>>> STATUSES
('draft', 'submitted', 'approved', 'changes_requested')
"""

from needleplan.library.layout import default_library_dir
from needleplan.library.outcome import PRIOR_POOR_OUTCOME, Outcome
from needleplan.library.recheck import Recheck, diff_findings, format_side_by_side, recheck_plan
from needleplan.library.recovery import rebuild, verify
from needleplan.library.store import Library
from needleplan.library.workflow import STATUSES

__all__ = [
    "Library",
    "Outcome",
    "PRIOR_POOR_OUTCOME",
    "STATUSES",
    "Recheck",
    "default_library_dir",
    "diff_findings",
    "format_side_by_side",
    "recheck_plan",
    "rebuild",
    "verify",
]
