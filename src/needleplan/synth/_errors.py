"""The phantom's one error: an unknown site or habitus preset.

It derives from :class:`needleplan.errors.NeedleplanError` (so the command line prints one line)
and from ``ValueError``.  It lives here until the lead moves it into ``needleplan.errors``.
"""

from __future__ import annotations

from needleplan.errors import NeedleplanError

__all__ = ["UnknownPresetError"]


class UnknownPresetError(ValueError, NeedleplanError):
    """A site, habitus, probe or compression name the phantom does not know."""
