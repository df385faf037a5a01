"""A department's plans on its image archive: SR revisions, DICOM review state, sign-off.

A plan on the archive is a chain of TID 1500 Comprehensive SR instances in its image's study
(:mod:`~needleplan.archive.revision`); :class:`ArchiveLibrary` acts on them as the authenticated
user with the local library's verbs; :mod:`~needleplan.archive.sync` moves plans between a local
library and the archive; :mod:`~needleplan.archive.department` ships the Orthanc configuration that
enforces the review rules on the server::

    from needleplan import pacs
    from needleplan.archive import ArchiveLibrary
    archive = ArchiveLibrary(pacs.connect(url="https://pacs.example.org/dicom-web"))
    row = archive.add(plan)                 # step 1, a draft by the authenticated user
    archive.submit(row["id"])
    archive.list_plans(status="submitted")  # the review queue
"""

from needleplan.archive.department import REVIEW_LUA, review_lua
from needleplan.archive.revision import Step, chain_problems, read_step, revision_uid
from needleplan.archive.rules import check_may_act
from needleplan.archive.store import ArchiveLibrary

__all__ = [
    "REVIEW_LUA",
    "ArchiveLibrary",
    "Step",
    "chain_problems",
    "check_may_act",
    "read_step",
    "review_lua",
    "revision_uid",
]
