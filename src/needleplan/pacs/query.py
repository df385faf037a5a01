"""QIDO-RS: find studies by patient id, date range and modality."""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from needleplan.errors import PacsError
from needleplan.pacs.client import PacsClient

__all__ = ["StudySummary", "InstanceRef", "parse_date_range", "search_studies", "list_instances"]

_STUDY_FIELDS = (
    "StudyInstanceUID",
    "PatientID",
    "PatientName",
    "StudyDate",
    "StudyTime",
    "StudyDescription",
    "AccessionNumber",
    "ModalitiesInStudy",
    "NumberOfStudyRelatedSeries",
    "NumberOfStudyRelatedInstances",
)


@dataclass(frozen=True, slots=True)
class StudySummary:
    """One study as a search lists it (what an "Open from PACS" dialog shows in a row)."""

    study_instance_uid: str
    patient_id: str | None
    patient_name: str | None
    study_date: str | None  # ISO "YYYY-MM-DD"
    study_time: str | None  # as stored, "HHMMSS[.ffffff]"
    description: str | None
    accession_number: str | None
    modalities: tuple[str, ...]
    n_series: int | None
    n_instances: int | None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class InstanceRef:
    """The UIDs of one instance on the server, and its position for ordering."""

    study_instance_uid: str
    series_instance_uid: str
    sop_instance_uid: str
    series_number: int | None = None
    instance_number: int | None = None


def _value(item: dict, tag: str) -> list[Any] | None:
    values = item.get(tag, {}).get("Value")
    return values if values else None


def _first(item: dict, tag: str) -> Any:
    values = _value(item, tag)
    return None if values is None else values[0]


def _name(item: dict) -> str | None:
    value = _first(item, "00100010")
    if isinstance(value, dict):
        return value.get("Alphabetic")
    return None if value is None else str(value)


def _int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _iso_date(value: str | None) -> str | None:
    if value and re.fullmatch(r"\d{8}", value):
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    return value or None


def _one_date(text: str, whole: str) -> str:
    text = text.strip()
    for fmt in ("%Y%m%d", "%Y-%m-%d"):
        try:
            return _dt.datetime.strptime(text, fmt).strftime("%Y%m%d")
        except ValueError:
            continue
    raise PacsError(
        f"date range {whole!r}: {text!r} is not a date; use YYYY, YYYYMMDD-YYYYMMDD or YYYY-MM-DD..YYYY-MM-DD"
    )


def parse_date_range(text: str) -> str:
    """A DICOM date range query value from what a person types.

    Accepts ``YYYYMMDD``, ``YYYYMMDD-YYYYMMDD`` (either end may be empty), ISO dates,
    ``YYYY-MM-DD..YYYY-MM-DD`` and a year ``YYYY``.

    >>> parse_date_range("2016")
    '20160101-20161231'
    >>> parse_date_range("2024-01-05..2024-02-01")
    '20240105-20240201'
    >>> parse_date_range("20240105-")
    '20240105-'
    >>> parse_date_range("2024-01-05")
    '20240105'
    """
    whole = text.strip()
    if re.fullmatch(r"(19|20)\d{2}", whole):
        return f"{whole}0101-{whole}1231"
    if ".." in whole:
        start, end = whole.split("..", 1)
    elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", whole):
        start, end = whole, None
    elif "-" in whole:
        start, end = whole.split("-", 1)
    else:
        start, end = whole, None
    if end is None:
        return _one_date(start, whole)
    if not start.strip() and not end.strip():
        raise PacsError(f"date range {whole!r} names no date")
    lo = _one_date(start, whole) if start.strip() else ""
    hi = _one_date(end, whole) if end.strip() else ""
    if lo and hi and lo > hi:
        raise PacsError(f"date range {whole!r} ends before it starts")
    return f"{lo}-{hi}"


def summary_from_json(item: dict) -> StudySummary:
    """A :class:`StudySummary` from one QIDO-RS DICOM JSON result."""
    modalities = _value(item, "00080061") or ()
    return StudySummary(
        study_instance_uid=str(_first(item, "0020000D") or ""),
        patient_id=_first(item, "00100020"),
        patient_name=_name(item),
        study_date=_iso_date(_first(item, "00080020")),
        study_time=_first(item, "00080030"),
        description=_first(item, "00081030"),
        accession_number=_first(item, "00080050"),
        modalities=tuple(str(m) for m in modalities),
        n_series=_int(_first(item, "00201206")),
        n_instances=_int(_first(item, "00201208")),
    )


PAGE_SIZE = 500
MAX_RESULTS = 100_000


def _paged(
    client: PacsClient,
    what: str,
    key_tag: str,
    fetch: Callable[[int, int], list[dict]],
    *,
    max_items: int | None = None,
) -> list[dict]:
    """All results of a QIDO query, asked page by page with ``limit``/``offset``.

    Stops on a short page, at ``max_items``, or when a page brings nothing new (a server that
    ignores ``offset`` would otherwise be asked forever).
    """
    cap = min(max_items or MAX_RESULTS, MAX_RESULTS)
    seen: set[str] = set()
    results: list[dict] = []
    offset = 0
    while len(results) < cap:
        page = min(PAGE_SIZE, cap - len(results))
        batch = client.call(what, lambda: fetch(page, offset))  # noqa: B023 (called at once)
        fresh = [item for item in batch if str(_first(item, key_tag)) not in seen]
        seen.update(str(_first(item, key_tag)) for item in fresh)
        results.extend(fresh)
        if len(batch) < page or not fresh:
            break
        offset += len(batch)
    return results[:cap]


def search_studies(
    client: PacsClient,
    *,
    patient_id: str | None = None,
    date: str | None = None,
    modality: str | None = "US",
    limit: int | None = None,
) -> list[StudySummary]:
    """QIDO-RS search for studies, newest first.

    Parameters
    ----------
    client : PacsClient
    patient_id : str, optional
        Exact Patient ID (wildcards ``*`` and ``?`` as DICOM allows).
    date : str, optional
        Study date or range, see :func:`parse_date_range`.
    modality : str or None
        Modality in study; ``"US"`` by default, ``None`` for any.
    limit : int, optional
        At most this many results.
    """
    filters: dict[str, str] = {}
    if patient_id:
        filters["PatientID"] = patient_id
    if date:
        filters["StudyDate"] = parse_date_range(date)
    if modality:
        filters["ModalitiesInStudy"] = modality
    results = _paged(
        client,
        "search studies",
        "0020000D",
        lambda page, offset: client.dicomweb.search_for_studies(
            search_filters=filters, fields=list(_STUDY_FIELDS), limit=page, offset=offset
        ),
        max_items=limit,
    )
    studies = [summary_from_json(item) for item in results]
    studies.sort(key=lambda s: ((s.study_date or ""), (s.study_time or "")), reverse=True)
    return studies[:limit] if limit else studies


def list_instances(
    client: PacsClient, study_uid: str, series_uid: str | None = None, sop_uid: str | None = None
) -> list[InstanceRef]:
    """The instances of a study, a series or one instance, ordered by series and instance number."""
    filters = {"SOPInstanceUID": sop_uid} if sop_uid else None
    what = f"list instances of study {study_uid}" + (f" series {series_uid}" if series_uid else "")
    items = _paged(
        client,
        what,
        "00080018",
        lambda page, offset: client.dicomweb.search_for_instances(
            study_instance_uid=study_uid,
            series_instance_uid=series_uid,
            search_filters=filters,
            fields=["SeriesNumber", "InstanceNumber"],
            limit=page,
            offset=offset,
        ),
    )
    refs = []
    for item in items:
        sop = _first(item, "00080018")
        series = _first(item, "0020000E") or series_uid
        if not sop or not series:
            continue
        refs.append(
            InstanceRef(
                study_uid, str(series), str(sop), _int(_first(item, "00200011")), _int(_first(item, "00200013"))
            )
        )
    if sop_uid:
        refs = [r for r in refs if r.sop_instance_uid == sop_uid]
    if not refs:
        target = sop_uid or series_uid or study_uid
        raise PacsError(f"PACS has no instances for {target}; check the UIDs (needleplan pacs search lists studies)")
    big = 1 << 62
    refs.sort(
        key=lambda r: (
            r.series_number if r.series_number is not None else big,
            r.series_instance_uid,
            r.instance_number if r.instance_number is not None else big,
            r.sop_instance_uid,
        )
    )
    return refs
