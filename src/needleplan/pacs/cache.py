"""A local folder of retrieved instances, with a size limit and least-recently-used eviction.

Layout: ``<root>/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm`` and an index
``<root>/needleplan-cache.json`` holding each instance's size, SHA-256 and last use.

Crash safety: an instance is written to a temporary name (``.<sop>.t<thread>.<pid>.part``) in its final
folder, flushed to disk, then renamed; only then is it entered in the index (itself replaced
atomically).  A file counts as cached only when it is in the index *and* its size and SHA-256
still match, so a partial or damaged file is fetched again, never trusted.

Several processes or threads may share a cache: index updates happen under a lock
(``<root>/.lock``, ``flock``) on the index as it is on disk.  Eviction does not know what another
process is retrieving right now, so keep the limit well above one study.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Set
from pathlib import Path

from needleplan.errors import PacsError

if sys.platform == "win32":  # pragma: no cover (one process at a time)
    fcntl = None
else:
    import fcntl

__all__ = ["InstanceCache", "sha256_file", "check_uid"]

INDEX_NAME = "needleplan-cache.json"
_PART_RE = re.compile(r"^\..+\.(\d+)\.part$")
_SAFE_UID = re.compile(r"^[0-9A-Za-z.\-_]{1,64}$")


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_uid(uid: str) -> str:
    """``uid`` if it can be a (possibly non-conformant) DICOM UID, else PacsError: safe in a path or URL."""
    if not _SAFE_UID.fullmatch(uid) or uid in (".", ".."):
        raise PacsError(f"refusing a UID that is not a DICOM UID: {uid[:70]!r}")
    return uid


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class InstanceCache:
    """Retrieved DICOM instances on disk.

    Parameters
    ----------
    root : path
        Cache folder (created if missing).
    max_bytes : int, optional
        Size limit; after each new instance the least recently used instances are evicted until
        the cache fits, never those of the retrieval in progress.
    """

    def __init__(self, root: str | os.PathLike[str], max_bytes: int | None = None) -> None:
        self.root = Path(root).expanduser()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PacsError(f"cannot create the PACS cache folder {self.root}: {exc.strerror}") from None
        if max_bytes is not None and max_bytes <= 0:
            raise PacsError("the cache size limit must be positive")
        self.max_bytes = max_bytes
        self._index_path = self.root / INDEX_NAME
        self._thread_lock = threading.Lock()
        self._entries: dict[str, dict] = self._load_index()
        self._remove_stale_parts()

    # -- index -----------------------------------------------------------------------------
    def _load_index(self) -> dict[str, dict]:
        try:
            data = json.loads(self._index_path.read_text(encoding="utf-8"))
            entries = data.get("entries", {})
            return {k: v for k, v in entries.items() if isinstance(v, dict)}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, AttributeError):
            # A damaged index only costs downloads: every file will be verified again.
            return {}

    def _save_index(self) -> None:
        tmp = self._index_path.with_name(f".{INDEX_NAME}.{os.getpid()}.part")
        payload = json.dumps({"format": "needleplan.pacs-cache", "version": 1, "entries": self._entries})
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self._index_path)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the cache's lock (other processes and threads wait) with the index re-read from disk."""
        with self._thread_lock, open(self.root / ".lock", "a+b") as fh:
            if fcntl is not None:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                mine = {k: v.get("last_used", 0.0) for k, v in self._entries.items()}
                self._entries = self._load_index()
                for uid, used in mine.items():  # keep the uses this object saw since it last saved
                    if uid in self._entries and used > self._entries[uid].get("last_used", 0.0):
                        self._entries[uid]["last_used"] = used
                yield
            finally:
                if fcntl is not None:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def _remove_stale_parts(self) -> None:
        """Delete temporary files left by a process that died mid-write."""
        for part in self.root.rglob(".*.part"):
            match = _PART_RE.match(part.name)
            if match and not _pid_alive(int(match.group(1))):
                part.unlink(missing_ok=True)

    # -- queries ---------------------------------------------------------------------------
    def path_for(self, study_uid: str, series_uid: str, sop_uid: str) -> Path:
        """Where an instance lives in the cache."""
        return self.root / check_uid(study_uid) / check_uid(series_uid) / f"{check_uid(sop_uid)}.dcm"

    @property
    def total_bytes(self) -> int:
        """Bytes of all indexed instances."""
        return sum(int(e.get("size", 0)) for e in self._entries.values())

    def __contains__(self, sop_uid: str) -> bool:
        return sop_uid in self._entries

    def verified_path(self, sop_uid: str) -> Path | None:
        """The instance's file if it is in the index and its size and SHA-256 still match, else None.

        A file that fails the check is dropped from the index (it will be fetched again).
        """
        entry = self._entries.get(sop_uid)
        if entry is None:
            return None
        path = self.root / entry["path"]
        try:
            ok = path.stat().st_size == entry["size"] and sha256_file(path) == entry["sha256"]
        except (OSError, KeyError):
            ok = False
        if not ok:
            with self._locked():
                if self._entries.get(sop_uid, {}).get("sha256") == entry.get("sha256"):
                    del self._entries[sop_uid]
                    self._save_index()
            return None
        entry["last_used"] = time.time()
        return path

    # -- writes ----------------------------------------------------------------------------
    def add(
        self,
        study_uid: str,
        series_uid: str,
        sop_uid: str,
        write: Callable[[Path], None],
        *,
        protect: Iterable[str] = (),
    ) -> Path:
        """Write an instance through ``write(temp_path)``, then publish it atomically.

        ``protect`` names SOP Instance UIDs that eviction must keep (the retrieval in progress).
        """
        final = self.path_for(study_uid, series_uid, sop_uid)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".{sop_uid}.t{threading.get_ident()}.{os.getpid()}.part")
        try:
            write(tmp)
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            size = tmp.stat().st_size
            digest = sha256_file(tmp)
            os.replace(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        with self._locked():
            self._entries[sop_uid] = {
                "path": final.relative_to(self.root).as_posix(),
                "size": size,
                "sha256": digest,
                "last_used": time.time(),
                "study": study_uid,
                "series": series_uid,
            }
            self._save_index()
            self._evict(set(protect) | {sop_uid})
        return final

    def touch(self, sop_uids: Iterable[str]) -> None:
        """Mark instances as just used and save the index."""
        now = time.time()
        with self._locked():
            for uid in sop_uids:
                if uid in self._entries:
                    self._entries[uid]["last_used"] = now
            self._save_index()

    def evict(self, *, protect: Set[str] = frozenset()) -> list[str]:
        """Remove least recently used instances until the cache fits its limit; return their UIDs.

        Raises PacsError when the protected instances alone exceed the limit.
        """
        with self._locked():
            return self._evict(protect)

    def _evict(self, protect: Set[str]) -> list[str]:
        if self.max_bytes is None:
            return []
        removed: list[str] = []
        total = self.total_bytes
        for uid, entry in sorted(self._entries.items(), key=lambda kv: kv[1].get("last_used", 0.0)):
            if total <= self.max_bytes:
                break
            if uid in protect:
                continue
            (self.root / entry["path"]).unlink(missing_ok=True)
            total -= int(entry.get("size", 0))
            removed.append(uid)
        for uid in removed:
            del self._entries[uid]
        if removed:
            self._save_index()
        if total > self.max_bytes:
            raise PacsError(
                f"this retrieval needs more than the cache limit of {self.max_bytes / 1e6:.1f} MB "
                f"({total / 1e6:.1f} MB so far); raise the limit (--cache-limit-mb or cache_limit_mb) and run it again"
            )
        return removed
