"""``needleplan pacs search|get|put``: work from the hospital archive over DICOMweb.

The server URL comes from ``--url`` or the settings (``NEEDLEPLAN_PACS_URL``, or ``url`` in the
settings file); credentials only from the environment or the settings file, never from the
command line (see :mod:`needleplan.pacs.settings`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when the command runs
    from needleplan.pacs import PacsClient

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "pacs",
        help="search, retrieve from and store plans to a PACS (DICOMweb)",
        description="Search studies (QIDO-RS), retrieve images (WADO-RS) and store a plan's SR "
        "(STOW-RS). Credentials come from NEEDLEPLAN_PACS_TOKEN or "
        "NEEDLEPLAN_PACS_USER/NEEDLEPLAN_PACS_PASSWORD, or the settings file "
        "~/.config/needleplan/pacs.toml; never from the command line.",
    )
    sub = parser.add_subparsers(dest="pacs_command", metavar="ACTION", required=True)

    search = sub.add_parser("search", help="list studies (newest first)")
    _common(search)
    search.add_argument("--patient", metavar="ID", help="Patient ID")
    search.add_argument(
        "--date", metavar="RANGE", help="study date or range: YYYY, YYYYMMDD, YYYYMMDD-YYYYMMDD, YYYY-MM-DD..YYYY-MM-DD"
    )
    search.add_argument("--modality", default="US", help="modality in study (default US; 'any' for all)")
    search.add_argument("--limit", type=int, metavar="N", help="at most N studies")
    search.set_defaults(func=_search)

    get = sub.add_parser("get", help="retrieve a study or series into a folder (resumable)")
    _common(get)
    get.add_argument("study", metavar="STUDY_UID")
    get.add_argument("series", metavar="SERIES_UID", nargs="?")
    get.add_argument("--instance", metavar="SOP_UID", help="only this instance (needs SERIES_UID)")
    get.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="DIR",
        help="folder (a cache: instances already there and intact are not fetched again)",
    )
    get.add_argument(
        "--cache-limit-mb",
        type=float,
        metavar="MB",
        help="keep DIR under this size, evicting the least recently used instances",
    )
    get.set_defaults(func=_get)

    put = sub.add_parser("put", help="store a plan as DICOM SR into its image's study")
    _common(put)
    put.add_argument("plan", metavar="PLAN", help="plan file")
    put.add_argument("--image", metavar="IMAGE", help="the plan's DICOM image (default: the plan's image.path)")
    put.add_argument("--report", metavar="PDF", help="also store this PDF report (Encapsulated PDF)")
    put.set_defaults(func=_put)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", metavar="URL", help="DICOMweb root, e.g. https://pacs.example.org/dicom-web")
    parser.add_argument("--timeout", type=float, metavar="S", help="seconds to wait for an answer (default 20)")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def _client(args: argparse.Namespace) -> PacsClient:
    from dataclasses import replace

    from needleplan.pacs import connect, load_settings

    settings = load_settings()
    if args.timeout is not None:
        if args.timeout <= 0:
            raise ValueError("--timeout must be positive")
        settings = replace(settings, timeout_s=args.timeout)
    return connect(settings, url=args.url)


def _search(args: argparse.Namespace) -> int:
    from needleplan.cli._output import print_json
    from needleplan.pacs import search_studies

    if args.limit is not None and args.limit < 1:  # it asked nothing and printed "no studies found"
        raise ValueError(f"--limit must be 1 or more, got {args.limit}")
    modality = None if args.modality.lower() in ("any", "*", "") else args.modality
    with _client(args) as client:
        studies = search_studies(client, patient_id=args.patient, date=args.date, modality=modality, limit=args.limit)
    if args.json:
        print_json({"url": client.url, "studies": [s.to_dict() for s in studies]})
        return 0
    if not studies:
        print("no studies found")
        return 0
    for s in studies:
        print(
            f"{s.study_date or '----------'}  {s.patient_id or '-':<16} {s.patient_name or '-':<24} "
            f"{'/'.join(s.modalities) or '-':<6} {s.n_instances if s.n_instances is not None else '?':>4} img  "
            f"{s.study_instance_uid}  {s.description or ''}".rstrip()
        )
    return 0


def _get(args: argparse.Namespace) -> int:
    import sys

    from needleplan.cli._output import print_json
    from needleplan.pacs import InstanceCache, retrieve

    if args.cache_limit_mb is not None and args.cache_limit_mb <= 0:
        raise ValueError("--cache-limit-mb must be positive")
    limit = None if args.cache_limit_mb is None else int(args.cache_limit_mb * 1e6)
    cache = InstanceCache(args.output, max_bytes=limit)

    def progress(done: int, total: int, sop_uid: str, status: str) -> None:
        if not args.json:
            print(f"[{done}/{total}] {status} {sop_uid}", file=sys.stderr)

    with _client(args) as client:
        result = retrieve(client, cache, args.study, args.series, args.instance, progress=progress)
    if args.json:
        print_json({"url": client.url, "output": str(cache.root), **result.to_dict()})
        return 0
    for path in result.paths:
        print(path)
    print(
        f"{len(result.fetched)} instance(s) retrieved ({result.bytes_fetched / 1e6:.1f} MB), "
        f"{len(result.reused)} already there, in {cache.root}",
        file=sys.stderr,
    )
    return 0


def _put(args: argparse.Namespace) -> int:
    import pydicom

    from needleplan.cli._output import print_json
    from needleplan.cli._plan_image import plan_on_its_image
    from needleplan.errors import DicomReadError
    from needleplan.pacs import store_plan

    # the SR must describe the frame it references
    plan, _plan_path, image_path = plan_on_its_image(args.plan, args.image)
    try:
        source = pydicom.dcmread(image_path, stop_before_pixels=True)
    except (pydicom.errors.InvalidDicomError, OSError) as exc:
        raise DicomReadError(
            f"{image_path}: not a DICOM file ({exc}); a plan can only be stored to a PACS with its DICOM image"
        ) from None
    report = None
    if args.report:
        report = Path(args.report).read_bytes()
    with _client(args) as client:
        result = store_plan(client, plan, source, report_pdf=report)
    if args.json:
        print_json({"url": client.url, **result.to_dict()})
        return 0
    print(f"stored {len(result.stored)} object(s) in study {result.study_instance_uid}: " + ", ".join(result.stored))
    return 0
