"""The review workflow of a saved plan: draft -> submitted -> approved / changes_requested.

A new revision is always a ``draft``.  Only a draft is submitted; only a submitted plan is
approved or sent back.  An approved plan is read-only: a change makes a new draft revision.

>>> next_status("draft", "submit")
'submitted'
>>> next_status("submitted", "approve")
'approved'
"""

from __future__ import annotations

from needleplan.errors import LibraryError

__all__ = ["STATUSES", "ACTIONS", "next_status", "DRAFT", "SUBMITTED", "APPROVED", "CHANGES_REQUESTED"]

DRAFT = "draft"
SUBMITTED = "submitted"
APPROVED = "approved"
CHANGES_REQUESTED = "changes_requested"
STATUSES = (DRAFT, SUBMITTED, APPROVED, CHANGES_REQUESTED)

#: action -> (statuses it may start from, status it leads to)
ACTIONS = {
    "submit": ((DRAFT,), SUBMITTED),
    "approve": ((SUBMITTED,), APPROVED),
    "request_changes": ((SUBMITTED,), CHANGES_REQUESTED),
}

_HINTS = {
    ("approve", DRAFT): "submit it for review first (needleplan review submit ID)",
    ("request_changes", DRAFT): "it has not been submitted for review",
    ("submit", CHANGES_REQUESTED): "save a changed revision first; it becomes a new draft",
    ("submit", APPROVED): "it is already approved",
    ("approve", APPROVED): "it is already approved",
}


def next_status(current: str, action: str) -> str:
    """The status after ``action``; :class:`LibraryError` says why an action is not allowed."""
    if action not in ACTIONS:
        raise LibraryError(f"unknown review action {action!r}; use one of {', '.join(ACTIONS)}")
    allowed, result = ACTIONS[action]
    if current not in allowed:
        hint = _HINTS.get((action, current), f"it must be {' or '.join(allowed)}")
        raise LibraryError(f"cannot {action.replace('_', ' ')} a plan that is {current}: {hint}")
    return result
