"""One reviewer of the race test, run as its own process: N mixed operations on one archive plan.

    python archive_race_worker.py URL PLAN_ID N SEED

Credentials come from the environment (NEEDLEPLAN_PACS_USER/PASSWORD: the reviewer) and
RESIDENT_USER/RESIDENT_PASSWORD (the plan's author, who resubmits after a request for changes).
Each operation reads the plan, then acts on the step it read (``expected_seq``): a submitted plan
is approved or sent back (seeded choice); otherwise the resident saves a new revision or submits.
Prints one JSON line: how many operations were stored and how many were told the plan changed.
"""

from __future__ import annotations

import json
import os
import random
import sys

from needleplan import pacs
from needleplan.archive import ArchiveLibrary
from needleplan.errors import LibraryError, RevisionConflictError
from needleplan.plan import plan_from_dict


def main() -> None:
    url, plan_id, n, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    rng = random.Random(seed)
    fast = pacs.RetryPolicy(attempts=3, base_delay_s=0.05)
    reviewer = ArchiveLibrary(pacs.connect(pacs.load_settings(), url=url, retry=fast))
    resident = ArchiveLibrary(
        pacs.connect(
            pacs.PacsSettings(url=url, user=os.environ["RESIDENT_USER"], password=os.environ["RESIDENT_PASSWORD"]),
            retry=fast,
        )
    )
    counts = {"stored": 0, "changed": 0, "refused": 0}
    for _ in range(n):
        row = reviewer.record(plan_id)
        seq = row["seq"]
        try:
            if row["status"] == "submitted":
                if rng.random() < 0.5:
                    reviewer.approve(plan_id, comment="ok", expected_seq=seq)
                else:
                    reviewer.request_changes(plan_id, comment="angle steeper", expected_seq=seq)
            elif row["status"] == "draft":
                resident.submit(plan_id, expected_seq=seq)
            else:  # approved or changes requested: the resident saves a new revision
                plan = plan_from_dict(resident.load(plan_id))
                resident.save(plan_id, plan, expected_seq=seq)
            counts["stored"] += 1
        except RevisionConflictError:
            counts["changed"] += 1
        except LibraryError:  # e.g. the status moved on between read and act: a refused transition
            counts["refused"] += 1
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
