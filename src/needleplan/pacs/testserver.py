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
from pathlib import Path
from typing import BinaryIO

import requests

from needleplan.errors import PacsError

__all__ = ["find_orthanc", "find_dicomweb_plugin", "free_port", "LocalOrthanc"]

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
    """

    def __init__(self, storage_dir: str | os.PathLike[str], *, users: dict[str, str] | None = None,
                 port: int | None = None, lua: str | None = None) -> None:
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
            "Plugins": [self.plugin],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "Host": f"127.0.0.1:{self.port}"},
            "StableAge": 1,
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
