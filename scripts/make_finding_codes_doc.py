"""Write docs/finding-codes.md from the FindingCode enumeration (run after adding or changing a code)."""

from __future__ import annotations

from pathlib import Path

from needleplan.safety.codes import finding_codes_markdown

if __name__ == "__main__":
    target = Path(__file__).resolve().parents[1] / "docs" / "finding-codes.md"
    target.write_text(finding_codes_markdown(), encoding="utf-8")
    print(f"wrote {target}")
