"""A throw-away local Orthanc with the DICOMweb plugin, for tests and benchmarks.

It listens on 127.0.0.1 only, on a free port, stores into a folder of its own and never touches a
system service.  Tests skip when :func:`find_orthanc` returns ``None``.

Nothing here is used by the planner itself; it lives in the package so that the tests and the
benchmarks share one launcher.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import requests

from needleplan.errors import PacsError

__all__ = [
    "find_orthanc",
    "find_dicomweb_plugin",
    "find_postgresql_index_plugin",
    "find_postgres_bin",
    "free_port",
    "LocalOrthanc",
    "LocalPostgres",
]

_PLUGIN_GLOBS = (
    "/usr/share/orthanc/plugins/libOrthancDicomWeb.so*",
    "/usr/lib/orthanc/libOrthancDicomWeb.so*",
    "/usr/lib/*/orthanc/libOrthancDicomWeb.so*",
    "/usr/local/share/orthanc/plugins/libOrthancDicomWeb.so*",
)


def find_orthanc() -> str | None:
    """Path of the ``Orthanc`` server binary, or ``None`` when it is not installed."""
    found = shutil.which("Orthanc")
    if found:
        return found
    for candidate in ("/usr/sbin/Orthanc", "/usr/local/sbin/Orthanc", "/usr/local/bin/Orthanc"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def find_dicomweb_plugin() -> str | None:
    """Path of the Orthanc DICOMweb plugin (Debian package ``orthanc-dicomweb``), or ``None``."""
    for pattern in _PLUGIN_GLOBS:
        hits = sorted(glob.glob(pattern))
        if hits:
            return hits[0]
    return None


def find_postgresql_index_plugin() -> str | None:
    """Path of Orthanc's PostgreSQL index plugin (Debian package ``orthanc-postgresql``), or ``None``."""
    for pattern in (
        "/usr/share/orthanc/plugins/libOrthancPostgreSQLIndex.so*",
        "/usr/lib/orthanc/libOrthancPostgreSQLIndex.so*",
    ):
        hits = sorted(glob.glob(pattern))
        if hits:
            return hits[0]
    return None


def find_postgres_bin() -> str | None:
    """The folder of PostgreSQL's ``initdb`` and ``pg_ctl`` (Debian package ``postgresql``), or ``None``."""
    found = shutil.which("initdb")
    if found:
        return str(Path(found).resolve().parent)
    hits = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return str(Path(hits[-1]).parent) if hits else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalOrthanc:
    """An Orthanc process on ``127.0.0.1:<port>`` with DICOMweb at ``/dicom-web``.

    Parameters
    ----------
    storage_dir : path
        Folder for Orthanc's database and files (kept across :meth:`kill` and :meth:`start`, so a
        restarted server still holds what was uploaded).
    users : dict, optional
        User name -> password; when given, HTTP basic authentication is required.
    port : int, optional
        HTTP port; a free one by default.
    lua : str, optional
        A Lua script for Orthanc (e.g. a ``ReceivedInstanceFilter`` that refuses some instances).
    extra_plugins : sequence of str, optional
        More plugin files to load (e.g. the PostgreSQL index of ``orthanc-postgresql``).
    extra_config : mapping, optional
        More configuration sections (e.g. ``{"PostgreSQL": {...}}``).
    """

    def __init__(
        self,
        storage_dir: str | os.PathLike[str],
        *,
        users: dict[str, str] | None = None,
        port: int | None = None,
        lua: str | None = None,
        extra_plugins: Sequence[str] = (),
        extra_config: Mapping[str, Any] | None = None,
    ) -> None:
        binary = find_orthanc()
        plugin = find_dicomweb_plugin()
        if binary is None:
            raise PacsError("Orthanc is not installed; install the Debian packages orthanc and orthanc-dicomweb")
        if plugin is None:
            raise PacsError("the Orthanc DICOMweb plugin is missing; install the Debian package orthanc-dicomweb")
        self.binary = binary
        self.plugin = plugin
        self.storage_dir = Path(storage_dir)
        self.storage_dir.mkdir(parents=True, exist_ok=True)
        self.users = dict(users or {})
        self.port = port or free_port()
        self.lua = lua
        self.extra_plugins = tuple(extra_plugins)
        self.extra_config = dict(extra_config or {})
        self._process: subprocess.Popen | None = None
        self._log_file: BinaryIO | None = None

    @property
    def base_url(self) -> str:
        """The server's root, e.g. ``http://127.0.0.1:8042``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def dicomweb_url(self) -> str:
        """The DICOMweb root to give to :mod:`needleplan.pacs`."""
        return f"{self.base_url}/dicom-web"

    @property
    def pid(self) -> int | None:
        """Process id while running."""
        return None if self._process is None else self._process.pid

    def _write_config(self) -> Path:
        config = {
            "Name": "needleplan-test",
            "StorageDirectory": str(self.storage_dir / "db"),
            "IndexDirectory": str(self.storage_dir / "db"),
            "HttpPort": self.port,
            "DicomServerEnabled": False,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": bool(self.users),
            "RegisteredUsers": self.users,
            "Plugins": [self.plugin, *self.extra_plugins],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "Host": f"127.0.0.1:{self.port}"},
            "StableAge": 1,
            **self.extra_config,
        }
        if self.lua:
            script = self.storage_dir / "script.lua"
            script.write_text(self.lua, encoding="utf-8")
            config["LuaScripts"] = [str(script)]
        path = self.storage_dir / "orthanc.json"
        path.write_text(json.dumps(config, indent=2), encoding="utf-8")
        return path

    def start(self, timeout_s: float = 30.0) -> LocalOrthanc:
        """Start the process and wait until its REST API answers."""
        if self._process is not None and self._process.poll() is None:
            return self
        config = self._write_config()
        self._log_file = open(self.storage_dir / "orthanc.log", "ab")  # noqa: SIM115 (closed in stop)
        self._process = subprocess.Popen(
            [self.binary, str(config)],
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.storage_dir,
        )
        auth = next(iter(self.users.items()), None)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            try:
                if requests.get(f"{self.base_url}/system", auth=auth, timeout=1.0).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        log = (self.storage_dir / "orthanc.log").read_text(errors="replace").splitlines()[-5:]
        raise PacsError(f"local Orthanc did not start on port {self.port}: {' | '.join(log)}")

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash or a pulled cable would."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait(timeout=10)
        self._close_log()

    def stop(self) -> None:
        """Stop the server cleanly (SIGTERM, then SIGKILL after 10 s)."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        self._close_log()

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def upload(self, path: str | os.PathLike[str]) -> str:
        """Upload one DICOM file as is (Orthanc's REST ``POST /instances``); return its SOP Instance UID.

        This is for seeding a test server with files byte for byte; the planner itself stores with
        STOW-RS.
        """
        data = Path(path).read_bytes()
        auth = next(iter(self.users.items()), None)
        response = requests.post(f"{self.base_url}/instances", data=data, auth=auth, timeout=60)
        if response.status_code != 200:
            raise PacsError(f"local Orthanc refused {Path(path).name}: HTTP {response.status_code}")
        orthanc_id = response.json()["ID"]
        tags = requests.get(f"{self.base_url}/instances/{orthanc_id}/simplified-tags", auth=auth, timeout=30)
        return str(tags.json()["SOPInstanceUID"])

    def __enter__(self) -> LocalOrthanc:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class LocalPostgres:
    """A throw-away PostgreSQL cluster on ``127.0.0.1:<port>`` (trust authentication, loopback only).

    PostgreSQL refuses to run as root, so when the tests run as root the cluster belongs to the
    ``postgres`` system user (created by the Debian package) and lives in a folder of its own
    under the system temporary folder.  :meth:`stop` stops it and removes the folder.
    """

    user = "orthanc"
    database = "postgres"

    def __init__(self, *, port: int | None = None):
        import tempfile

        bindir = find_postgres_bin()
        if bindir is None:
            raise PacsError("PostgreSQL is not installed; install the Debian package postgresql")
        self.bindir = Path(bindir)
        self.port = port or free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="needleplan-pg-"))
        self.data = self.folder / "data"
        self._as = []
        if os.geteuid() == 0:
            import pwd

            owner = pwd.getpwnam("postgres")
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *argv: str) -> None:
        done = subprocess.run([*self._as, *argv], capture_output=True, text=True, timeout=120, cwd=self.folder)
        if done.returncode != 0:
            raise PacsError(f"{Path(argv[0]).name} failed: {' '.join(done.stderr.split())[:300]}")

    def start(self) -> LocalPostgres:
        """initdb, then start on loopback and wait until it accepts connections."""
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            self.user,
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.folder / "postgres.log"),
            "-w",
            "start",
        )
        return self

    def orthanc_config(self) -> dict:
        """The ``PostgreSQL`` section for Orthanc's index plugin."""
        return {
            "PostgreSQL": {
                "EnableIndex": True,
                "EnableStorage": False,
                "Host": "127.0.0.1",
                "Port": self.port,
                "Database": self.database,
                "Username": self.user,
                "Password": "",
                "Lock": False,
            }
        }

    def stop(self) -> None:
        """Stop the cluster (fast shutdown) and remove its folder."""
        if self.data.exists():
            try:
                self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
            except PacsError:
                pass
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
