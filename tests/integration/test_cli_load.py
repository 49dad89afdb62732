"""An APP that cannot be imported (it raises, has a syntax error, misses a dependency): one line naming
the file and the error, exit 2; the traceback only with ``conveyor --debug``. Real processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BROKEN = {
    "raises.py": (
        "import conveyor\napp = conveyor.App()\nraise RuntimeError('boom at import')\n",
        "raises.py:3",
        "RuntimeError: boom at import",
    ),
    "syntax.py": ("import conveyor\napp = conveyor.App(\ndef f(:\n", "syntax.py:3", "SyntaxError"),
    "missing.py": (
        "import conveyor\nimport nosuch_dependency_xyz\n",
        "missing.py:2",
        "No module named 'nosuch_dependency_xyz'",
    ),
}


def conveyor(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("conveyor") or str(Path(sys.executable).parent / "conveyor")
    env = {**os.environ, "CONVEYOR_STORE": f"sqlite:///{cwd / 'x.db'}"}
    env.pop("CONVEYOR_DEBUG", None)
    return subprocess.run(
        [exe, *args], check=False, cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("command", ["run", "web"])
@pytest.mark.parametrize("name", sorted(BROKEN))
def test_an_app_that_fails_to_import_is_one_line_and_exit_2(tmp_path: Path, name: str, command: str) -> None:
    source, where, what = BROKEN[name]
    (tmp_path / name).write_text(source)
    done = conveyor(tmp_path, command, name, *(["--no-web"] if command == "run" else []))
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: ") and where in lines[0] and what in lines[0], lines[0]
    assert "--debug" in lines[0]
    assert done.stdout == ""


def test_a_module_app_that_fails_to_import_names_its_file(tmp_path: Path) -> None:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "tasks.py").write_text("import conveyor\n\napp = conveyor.App()\n1 / 0\n")
    done = conveyor(tmp_path, "run", "shop.tasks:app", "--no-web")
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert "shop.tasks" in line and "tasks.py:4" in line and "ZeroDivisionError: division by zero" in line


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    source, _, what = BROKEN["raises.py"]
    (tmp_path / "raises.py").write_text(source)
    done = conveyor(tmp_path, "--debug", "run", "raises.py", "--no-web")
    assert done.returncode == 2
    assert "Traceback (most recent call last)" in done.stderr
    assert 'raises.py", line 3' in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: ") and what in last
    assert not (tmp_path / "x.db").exists()  # nothing was opened
