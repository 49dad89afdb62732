"""``python -m bench.instructions [--base SRC] [--head SRC]``: instructions per message on the hot path.

Wall-clock figures on a small shared machine move by 20 to 30 % between runs; callgrind counts the
instructions a run executes, whatever else the machine does. Each path runs twice under
``valgrind --tool=callgrind`` (with a small and a large N, in a fresh SQLite file); the difference divided
by the messages between is the cost of one message, free of start-up. ``--base`` and ``--head`` are
``src`` folders (for example a git worktree's ``/tmp/wt/src``) put first on ``PYTHONPATH``: the same
paths measured on two versions of the code, side by side. Needs valgrind (Debian: ``apt-get install
valgrind``).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"

# Each script: argv[1] is N, the messages measured after a warm-up outside the difference.
EMIT = """
import sys, tempfile, conveyor
app = conveyor.App(f"sqlite:///{tempfile.mkdtemp()}/c.db")
app.worker("w")(lambda e: None)
for i in range(300):
    app.emit({"i": i}, "w")
for i in range(int(sys.argv[1])):
    app.emit({"i": i}, "w")
"""
DRAIN = """
import sys, tempfile, conveyor
app = conveyor.App(f"sqlite:///{tempfile.mkdtemp()}/c.db")
app.worker("w")(lambda e: None)
n = int(sys.argv[1])
app.emit_many([({"i": i}, "w") for i in range(n)])
assert app.drain() == n
"""
RATED = DRAIN.replace('app.worker("w")', 'app.worker("w", rate="1000000/s")')  # a rate that never binds
PATHS = {
    "one app.emit": (EMIT, 0, 3000),
    "one message through emit_many + drain()": (DRAIN, 200, 3200),
    "the same, rate=1000000/s (never binds)": (RATED, 200, 3200),
}


def instructions(script: str, n: int, src: Path) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "script.py"
        path.write_text(script)
        env = {**os.environ, "PYTHONPATH": str(src)}
        out = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={tmp}/cg.out",
                sys.executable,
                str(path),
                str(n),
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    found = re.search(r"Collected : (\d+)", out.stderr)
    if found is None:
        raise RuntimeError(f"callgrind printed no total:\n{out.stderr[-2000:]}")
    return int(found.group(1))


def per_message(script: str, small: int, large: int, src: Path) -> float:
    return (instructions(script, large, src) - instructions(script, small, src)) / (large - small)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, help="a src folder to compare against")
    parser.add_argument(
        "--head", type=Path, default=SRC, help="the src folder measured (default: this tree's)"
    )
    parser.add_argument(
        "--paths", nargs="+", type=int, metavar="I", help="measure only these paths (1-based, in table order)"
    )
    args = parser.parse_args(argv)
    chosen = {i + 1 for i in range(len(PATHS))} if not args.paths else set(args.paths)
    versions = [("base", args.base)] if args.base else []
    versions.append(("head", args.head))
    print(
        "| path (SQLite) | "
        + " | ".join(str(src) for _, src in versions)
        + (" | change |" if args.base else " |")
    )
    print("|---|" + "---:|" * (len(versions) + (1 if args.base else 0)))
    for index, (name, (script, small, large)) in enumerate(PATHS.items(), start=1):
        if index not in chosen:
            continue
        costs = [per_message(script, small, large, src) for _, src in versions]
        cells = [f"{c:,.0f}" for c in costs]
        if args.base:
            cells.append(f"{(costs[1] / costs[0] - 1) * 100:+.1f} %")
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
