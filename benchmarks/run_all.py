"""Run every benchmark script in turn and keep their tables in ``benchmarks/results/latest.txt``.

Each script measures one issue's targets and prints a plain table (they are measurements, never
timed asserts in the tests).  The plugin's needs a display, so it runs under ``xvfb-run``.

    python benchmarks/run_all.py [--only safety,io]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ("safety", "io", "video", "synth", "detect", "library", "plugin", "pacs", "report")


def _command(name: str) -> list[str]:
    cmd = [sys.executable, str(HERE / f"bench_{name}.py")]
    if name == "plugin" and shutil.which("xvfb-run") and not os.environ.get("DISPLAY"):
        cmd = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", *cmd]
    return cmd


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated subset of " + ",".join(SCRIPTS))
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(SCRIPTS)
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    lines: list[str] = [f"# benchmarks, {time.strftime('%Y-%m-%d %H:%M:%S')}, load {os.getloadavg()[0]:.1f}"]
    failed = []
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for name in names:
        header = f"== bench_{name}.py"
        print(header, flush=True)
        proc = subprocess.run(_command(name), capture_output=True, text=True, env=env)
        print(proc.stdout, end="")
        if proc.returncode != 0:
            failed.append(name)
            print(proc.stderr[-2000:], file=sys.stderr)
        lines += [header, proc.stdout.rstrip(), f"(exit {proc.returncode})", ""]
    (out_dir / "latest.txt").write_text("\n".join(lines) + "\n")
    if failed:
        print(f"missed a target or failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
