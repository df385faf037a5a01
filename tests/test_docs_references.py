"""Every ``*.md`` document a tracked file names is in the repository.

Comments and docstrings cite documents ("docs/contracts.md §4", "clinical-rules.md R3"); a
citation of a document that lives somewhere else (a team's shared folder) leaves a new maintainer
with nothing to read.  A name is looked up, in order, next to the file that names it, at the
repository root and in ``docs/``; URLs are not checked.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

#: Files that are source, tests, scripts, build files or documents (binary data is not read).
TEXT_SUFFIXES = frozenset({".py", ".md", ".toml", ".sh", ".yaml", ".yml", ".cfg", ".ini", ".txt", ".cff"})
TEXT_NAMES = frozenset({"Makefile"})

#: A path-like token ending in ``.md``: not the tail of a longer path or word, not the start of
#: ``.mdx``.  Tokens containing ``://`` (URLs) are skipped by :func:`document_names`.
_MD_NAME = re.compile(r"(?<![\w/.-])((?:[\w.:-]+/)*[\w.-]+\.md)(?![\w-])")


def document_names(text: str) -> list[str]:
    """The ``*.md`` names ``text`` mentions, in order, URLs left out.

    >>> document_names('see docs/contracts.md §3 and "clinical-rules.md R3", https://x.org/a.md')
    ['docs/contracts.md', 'clinical-rules.md']
    >>> document_names("a notes.mdx file, ../docs/style.md")
    ['../docs/style.md']
    """
    names = []
    for match in _MD_NAME.finditer(text):
        start = match.start(1)
        if "://" in match.group(1) or text[max(0, start - 3) : start].endswith(":/"):
            continue
        names.append(match.group(1))
    return names


def resolves(name: str, where: Path, root: Path) -> bool:
    """Whether ``name``, found in the file ``where``, is a file of the repository at ``root``."""
    for base in (where.parent, root, root / "docs"):
        candidate = (base / name).resolve()
        if candidate.is_file() and candidate.is_relative_to(root.resolve()):
            return True
    return False


def tracked_text_files(root: Path) -> list[Path]:
    """Tracked source, test, script, build and document files (git's list; a walk without git)."""
    paths = None
    if (root / ".git").exists():  # a clone or a worktree: only what is tracked
        try:
            out = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout
            paths = [root / p for p in out.decode().split("\0") if p]
        except (OSError, subprocess.CalledProcessError):
            paths = None
    if paths is None:
        paths = [p for p in root.rglob("*") if p.is_file()]
    return sorted(
        p
        for p in paths
        if not any(part.startswith(".") for part in p.relative_to(root).parts)
        and (p.suffix in TEXT_SUFFIXES or p.name in TEXT_NAMES)
        and p.is_file()
    )


def missing_documents(root: Path) -> list[str]:
    """``"path:line: name"`` for every document name under ``root`` that resolves to no file."""
    problems = []
    for path in tracked_text_files(root):
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            for name in document_names(line):
                if not resolves(name, path, root):
                    problems.append(f"{path.relative_to(root)}:{number}: {name}")
    return problems


def test_every_named_document_is_in_the_repository():
    problems = missing_documents(REPO)
    assert not problems, "documents named but not in the repository:\n" + "\n".join(problems)


def test_the_check_sees_a_reference_to_a_document_that_is_not_there(tmp_path):
    # A repository with docs/contracts.md and a module naming it three ways, plus one name that
    # exists nowhere: only the last is reported, with its file and line.
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "contracts.md").write_text("# contracts\n")
    (tmp_path / "pkg").mkdir()
    gone = "design" + ".md"  # spelled in two parts so that this file does not name it itself
    (tmp_path / "pkg" / "mod.py").write_text(
        '"""World mm (docs/contracts.md §3; contracts.md §4; ../docs/contracts.md)."""\n'
        f"# see {gone} section 5\n"
        f"URL = 'https://example.org/{gone}'\n"
    )
    (tmp_path / "data.dcm").write_bytes(b"\x00" + gone.encode() + b"\x00")  # binary data is not read
    assert missing_documents(tmp_path) == [f"pkg/mod.py:2: {gone}"]


@pytest.mark.parametrize(
    "name",
    ["contracts.md", "clinical-rules.md", "ultrasound-calibration.md", "style.md", "finding-codes.md", "internals.md"],
)
def test_the_project_documents_exist(name):
    # The documents the code's comments cite; a rename must update every citation (see above).
    assert (REPO / "docs" / name).is_file()


def layout_paths(readme: str) -> list[str]:
    """The paths the README's Layout block names: top-level folders, and the core's entries nested
    under ``src/needleplan/`` (two-space indent).  Names are the words ending in ``/`` or ``.py``
    before the description.

    >>> layout_paths("## Layout\\n\\n```\\nsrc/needleplan/  core\\n  io/ plan/   x\\n"
    ...              "  errors.py   y\\ndocs/  z\\n```\\n")
    ['src/needleplan/', 'src/needleplan/io/', 'src/needleplan/plan/', 'src/needleplan/errors.py', 'docs/']
    """
    block = readme.split("## Layout", 1)[1].split("```", 2)[1]
    paths, parent = [], ""
    for line in block.splitlines():
        if not line.strip():
            continue
        nested = line.startswith("  ")
        names = []
        for word in line.split():
            if not word.endswith(("/", ".py")):
                break
            names.append(word)
        if not nested and names:
            parent = names[0]
        paths.extend((parent + n) if nested else n for n in names)
    return paths


def test_the_readme_layout_names_only_paths_that_exist():
    paths = layout_paths((REPO / "README.md").read_text(encoding="utf-8"))
    assert "src/needleplan/geometry/" in paths  # geometry is a package, not geometry.py
    missing = [p for p in paths if not (REPO / p).exists()]
    assert not missing, f"README's layout names paths that do not exist: {missing}"


#: "contracts.md §4.3", "ultrasound-calibration.md §1.3-1.5", "clinical-rules.md R19",
#: "clinical-rules.md table 1I", "clinical-rules.md rule R1": a document and the part of it cited.
_CITED_PART = re.compile(
    r"(?<![\w-])(contracts|ultrasound-calibration|clinical-rules)\.md,? (?:§|table |rule |row )?"
    r"(\d+(?:\.\d+)*(?:-\d+(?:\.\d+)*)?|R\d+|1[A-Z])(?![\w])"
)


def cited_parts(text: str) -> list[tuple[str, str]]:
    """``(document stem, part)`` for each citation of a numbered part; a range gives both ends.

    >>> cited_parts("docs/contracts.md §4.3 and ultrasound-calibration.md §1.3-1.5; clinical-rules.md R19.")
    ... # doctest: +NORMALIZE_WHITESPACE
    [('contracts', '4.3'), ('ultrasound-calibration', '1.3'), ('ultrasound-calibration', '1.5'),
     ('clinical-rules', 'R19')]
    """
    parts = []
    for match in _CITED_PART.finditer(text):
        parts.extend((match.group(1), end) for end in match.group(2).split("-"))
    return parts


def document_parts(markdown: str) -> set[str]:
    """The numbered parts of one of the project's documents: section headings (``## 4.``,
    ``### 4.3``, ``### 1A.``) and rules (``**R3.``).

    >>> sorted(document_parts("## 4. Plan\\n### 4.3 `calibration`\\n### 1A. Thorax\\n**R3. Margin.** text"))
    ['1A', '4', '4.3', 'R3']
    """
    headings = re.findall(r"^#{2,4} (\d+(?:\.\d+)*|1[A-Z])\.? ", markdown, flags=re.MULTILINE)
    rules = re.findall(r"^\*\*(R\d+)\.", markdown, flags=re.MULTILINE)
    return set(headings) | set(rules)


def test_every_cited_section_and_rule_exists():
    # A citation of a section number the document does not have is as lost as a citation of a
    # missing file (the doctests above show the forms recognised).
    parts = {
        stem: document_parts((REPO / "docs" / f"{stem}.md").read_text(encoding="utf-8"))
        for stem in ("contracts", "ultrasound-calibration", "clinical-rules")
    }
    assert {"3", "4", "5", "6"} <= parts["contracts"] and {"R1", "R19", "1I"} <= parts["clinical-rules"]
    stale = []
    for path in tracked_text_files(REPO):
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            stale += [
                f"{path.relative_to(REPO)}:{number}: {stem}.md {part}"
                for stem, part in cited_parts(line)
                if part not in parts[stem]
            ]
    assert not stale, "cited sections or rules that the document does not have:\n" + "\n".join(stale)
