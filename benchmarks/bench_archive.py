"""Benchmark: the department archive's review queue of 1,000 plans, and approving one (issue 13).

Starts a throw-away Orthanc on 127.0.0.1 with basic authentication and the shipped review rules,
stores one plan through :class:`needleplan.archive.ArchiveLibrary` (a real step 1), then stores
``--plans - 1`` more plans as copies of that SR under their own plan ids (each a complete, valid
step 1 of its own chain; only the ids differ), and times:

* ``queue cold``: ``list_plans()`` on a machine that has read none of them (one index request plus
  every plan's queue summary, read in parallel);
* ``queue warm``: the same with the local queue cache filled (one index request);
* ``approve``: approving a submitted plan (read the latest step, build and store the VERIFIED step,
  which the archive's Lua rules check).

Targets: queue < 2 s, approve < 1 s.

    python benchmarks/bench_archive.py [--plans 1000] [--repeat 3]

Needs the Debian packages orthanc and orthanc-dicomweb.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
USERS = {"resident1": "r-secret-1", "attending1": "a-secret-1"}


def _timed(func) -> float:
    t0 = time.perf_counter()
    func()
    return time.perf_counter() - t0


def _copies(archive, plan_id: str, n: int) -> None:
    """``n`` more plans: the SR of ``plan_id``'s step 1 under new plan ids."""
    from pydicom.uid import generate_uid

    from needleplan.archive.revision import (
        build_step,
        library_block_of,
        plan_fields_of,
        read_step,
    )
    from needleplan.archive.rows import QUEUE_PREFIX, set_plan_fields

    template = archive.rest.instance(archive._steps_raw(plan_id)[0][1])
    step = read_step(template)
    row = json.loads(str(template.ImageComments)[len(QUEUE_PREFIX) :])

    def one(_: int) -> str:
        ds = copy.deepcopy(template)
        new_id = str(generate_uid())
        block = {**library_block_of(ds), "plan_id": new_id}
        set_plan_fields(ds, {**plan_fields_of(ds), "library": block})
        build_step(
            ds,
            plan_id=new_id,
            seq=1,
            status="draft",
            actor=step.actor,
            author=step.author,
            at=step.at,
            predecessor=None,
            organization="bench",
        )
        ds.ImageComments = QUEUE_PREFIX + json.dumps({**row, "id": new_id}, sort_keys=True)
        return archive.rest.store(ds)

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = set(pool.map(one, range(n)))
    if outcomes != {"Success"}:
        raise SystemExit(f"seeding the archive failed: {outcomes}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from needleplan import pacs
    from needleplan.archive import ArchiveLibrary, review_lua
    from needleplan.archive.queue_cache import QueueCache
    from needleplan.pacs.testserver import LocalOrthanc, find_orthanc
    from needleplan.plan import load_plan

    if find_orthanc() is None:
        print("Orthanc is not installed: skipped")
        return 0
    plan = load_plan(ROOT / "sample_dicom" / "upper_trapezius_thin_frame.plan.json")
    with tempfile.TemporaryDirectory(prefix="bench-archive-") as tmp:
        work = Path(tmp)
        with LocalOrthanc(work / "orthanc", users=USERS, lua=review_lua(["attending1"])) as srv:
            srv.upload(ROOT / "sample_dicom" / "upper_trapezius_thin_frame.dcm")

            def archive(user: str, cache=None) -> ArchiveLibrary:
                settings = pacs.PacsSettings(url=srv.dicomweb_url, user=user, password=USERS[user])
                return ArchiveLibrary(pacs.connect(settings), cache=cache)

            resident = archive("resident1")
            t_seed = time.perf_counter()
            first = resident.add(plan)["id"]
            _copies(resident, first, args.plans - 1)
            seed_s = time.perf_counter() - t_seed

            cold, warm = [], []
            for k in range(args.repeat):
                reader = archive("attending1", cache=QueueCache(work / f"cache{k}.sqlite"))
                rows = []
                cold.append(_timed(lambda r=reader, out=rows: out.extend(r.list_plans())))
                if len(rows) != args.plans:
                    raise SystemExit(f"the queue lists {len(rows)} plans, expected {args.plans}")
                warm.append(_timed(reader.list_plans))

            approve = []
            attending = archive("attending1")
            for plan_id in [r["id"] for r in resident.list_plans()][: args.repeat]:
                resident.submit(plan_id)
                approve.append(_timed(lambda pid=plan_id: attending.approve(pid)))

    queue_warm = statistics.median(warm)
    approve_s = statistics.median(approve)
    print(f"seeding {args.plans} plans: {seed_s:.1f} s (not a target)")
    print(
        f"queue of {args.plans} plans, cold cache: median {statistics.median(cold):.2f} s "
        f"(runs: {', '.join(f'{t:.2f}' for t in cold)})"
    )
    print(f"queue of {args.plans} plans, warm cache: median {queue_warm:.3f} s (target < 2 s)")
    print(f"approve one plan: median {approve_s:.3f} s (target < 1 s)")
    return 0 if queue_warm < 2.0 and approve_s < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
