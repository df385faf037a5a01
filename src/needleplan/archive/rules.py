"""The department's review rules, client side (the archive checks them again in Lua).

An author does not approve or send back their own plan; only users on the reviewer list approve
or request changes.  ``needleplan-review.lua`` is the server side of the same rules.
"""

from __future__ import annotations

from collections.abc import Iterable

from needleplan.errors import LibraryError

__all__ = ["REVIEW_ACTIONS", "check_may_act"]

REVIEW_ACTIONS = ("approve", "request_changes")


def check_may_act(action: str, user: str, author: str | None, reviewers: Iterable[str] | None) -> None:
    """Refuse (LibraryError) what the department's rules forbid ``user`` to do to a plan by ``author``.

    ``reviewers`` None means the list is not known locally (the archive still checks it).

    >>> check_may_act("approve", "attending1", "resident1", ["attending1"])
    >>> check_may_act("approve", "resident1", "resident1", None)
    Traceback (most recent call last):
    ...
    needleplan.errors.LibraryError: resident1 authored this plan and cannot approve it; ask a reviewer
    """
    if action not in REVIEW_ACTIONS:
        return
    verb = action.replace("_", " ")
    if author is not None and user == author:
        raise LibraryError(f"{user} authored this plan and cannot {verb} it; ask a reviewer")
    if reviewers is not None and user not in set(reviewers):
        raise LibraryError(f"{user} is not on the department's reviewer list and cannot {verb} plans")
