"""The department's Orthanc configuration: users, the reviewer list and the review rules in Lua.

``needleplan-review.lua`` (shipped beside this module) is the server half of the rules
(:func:`needleplan.archive.check_may_act` is the client half).  :func:`review_lua` prepends the
reviewer list; :func:`department_config` writes a complete configuration for a department (or a
test) to adapt.  README "Department setup" says how to deploy it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

__all__ = ["REVIEW_LUA", "department_config", "review_lua"]

#: The Lua rules file shipped with needleplan.
REVIEW_LUA = Path(__file__).with_name("orthanc") / "needleplan-review.lua"


def _lua_string(text: str) -> str:
    """A Lua string literal.

    >>> _lua_string('a"b')
    '"a\\\\"b"'
    """
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def review_lua(reviewers: Iterable[str]) -> str:
    """The Lua script for Orthanc: the reviewer list followed by the review rules."""
    names = ", ".join(_lua_string(r) for r in reviewers)
    return f"NEEDLEPLAN_REVIEWERS = {{ {names} }}\n\n" + REVIEW_LUA.read_text(encoding="utf-8")


def department_config(
    folder: str | Path,
    *,
    users: Mapping[str, str],
    reviewers: Iterable[str],
    http_port: int = 8042,
    postgres: Mapping[str, object] | None = None,
) -> Path:
    """Write ``orthanc.json`` and ``needleplan-review.lua`` for a department into ``folder``.

    Parameters
    ----------
    users : mapping
        User name -> password for HTTP basic authentication (every user of the archive).
    reviewers : iterable of str
        The users who may approve or request changes.
    postgres : mapping, optional
        The ``PostgreSQL`` section (Host, Port, Database, Username, Password) to keep Orthanc's
        index in PostgreSQL (Debian package ``orthanc-postgresql``).

    Returns
    -------
    Path
        The configuration file, to start ``Orthanc orthanc.json``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "needleplan-review.lua"
    script.write_text(review_lua(reviewers), encoding="utf-8")
    config: dict = {
        "Name": "needleplan-department",
        "StorageDirectory": str(folder / "storage"),
        "IndexDirectory": str(folder / "storage"),
        "HttpPort": http_port,
        "RemoteAccessAllowed": True,
        "AuthenticationEnabled": True,
        "RegisteredUsers": dict(users),
        "OverwriteInstances": False,
        "LuaScripts": [str(script)],
        "Plugins": ["/usr/share/orthanc/plugins"],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
    }
    if postgres is not None:
        config["PostgreSQL"] = {"EnableIndex": True, "EnableStorage": False, **dict(postgres)}
    path = folder / "orthanc.json"
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return path
