"""The package as users get it: the built wheel holds every file of ``tracker/``, and once installed into a fresh
venv (no source tree, no PYTHONPATH, an empty folder as the working directory) `up --demo`, `report` and the
dashboard's app work — the way in of someone who runs `pipx install consent-tracker`.

The wheel is the one `.ci/run` built (CONSENT_TRACKER_TEST_WHEEL), else one built here with `uv build` (sdist first,
then the wheel from the sdist, as `uv build` does, so a file the sdist leaves out fails here too). Dependencies are
pinned to uv.lock's versions, so the install is uv's cache and the test does not change with PyPI's latest."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UV = os.environ.get("UV") or shutil.which("uv")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(UV is None, reason="uv is not installed (pip install uv)"),
]


def _uv(*args: str, cwd: Path = ROOT) -> str:
    r = subprocess.run([str(UV), *args], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"uv {' '.join(args)}:\n{r.stdout}\n{r.stderr}"
    return r.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("CONSENT_TRACKER_TEST_WHEEL")
    if given:
        return Path(given).resolve()
    out = tmp_path_factory.mktemp("dist")
    _uv("build", "--no-progress", "--out-dir", str(out))
    (built,) = out.glob("consent_tracker-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv, outside the project, holding the wheel and its dependencies at uv.lock's versions."""
    base = tmp_path_factory.mktemp("venv")
    constraints = base / "constraints.txt"
    constraints.write_text(
        _uv(
            "export",
            "--frozen",
            "--format",
            "requirements-txt",
            "--no-dev",
            "--no-hashes",
            "--no-emit-project",
            "--no-header",
            "--no-annotate",
        )
    )
    v = base / "v"
    _uv("venv", "--no-progress", "--python", sys.executable, str(v), cwd=base)
    _uv("pip", "install", "--no-progress", "--python", str(v / "bin" / "python"), "-c", str(constraints), str(wheel))
    return v


def _clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without anything that could reach the source tree or name a database."""
    drop = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONSTARTUP"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("CONSENT_TRACKER_")}
    return {**env, **extra}


def _run(venv: Path, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / args[0]), *args[1:]],
        cwd=cwd,
        env=_clean_env(**env),
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_wheel_holds_every_file_of_the_package(wheel: Path) -> None:
    source = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "tracker").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    names = set(zipfile.ZipFile(wheel).namelist())
    assert source - names == set()
    for needed in (
        "tracker/data/agents.json",
        "tracker/data/categories.csv",
        "tracker/data/claims.csv",
        "tracker/data/events.csv",
        "tracker/migrations/env.py",
        "tracker/migrations/script.py.mako",
        "tracker/dashboard/app.py",
        "tracker/dashboard/views/overview.py",
    ):
        assert needed in names, needed
    assert not [n for n in names if not n.startswith(("tracker/", "consent_tracker-"))]  # nothing else at the top


@pytest.mark.network_local  # the demo's simulated web and archive on loopback
def test_installed_up_demo_and_report_from_an_empty_folder(venv: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    up = _run(venv, empty, "consent-tracker", "up", "--demo", "--no-schedule")
    assert up.returncode == 0, up.stdout + up.stderr
    assert "Traceback" not in up.stdout + up.stderr
    for n, step in enumerate(("sites", "backfill", "crawl"), 1):
        assert f"step {n}/5 {step}: done" in up.stdout, up.stdout
    db = empty / "data" / "demo.db"  # the default: data/ in the current folder, never inside site-packages
    assert db.is_file() and db.stat().st_size > 0
    assert not list(venv.rglob("*.db"))

    rep = _run(venv, empty, "consent-tracker", "report", "--db", "data/demo.db")
    assert rep.returncode == 0, rep.stdout + rep.stderr
    assert "Traceback" not in rep.stdout + rep.stderr
    report = empty / "report"
    assert (report / "report.html").is_file() and "SIMULATED DATA" in (report / "SIMULATED.txt").read_text()
    figures = json.loads((report / "figures.json").read_text())
    assert figures  # the numbers behind the report, from the demo's history
    assert {p.name for p in empty.iterdir()} == {"data", "report"}  # nothing else written into the folder


def test_installed_dashboard_runs_from_the_package(venv: Path, tmp_path: Path) -> None:
    """`consent-tracker dashboard` serves the installed package's app.py, which, like every page, imports the library
    as a package (no sys.path edits, no source tree): each under Streamlit's AppTest, in the venv, on an empty
    database."""
    empty = tmp_path / "empty"
    empty.mkdir()
    script = (
        "import json, sys, tracker\n"
        "from streamlit.testing.v1 import AppTest\n"
        "from tracker.dashboard import app_file\n"
        "path = sys.path[:]\n"
        "files = [app_file(), *sorted((app_file().parent / 'views').glob('[!_]*.py'))]\n"
        "runs = {}\n"
        "for f in files:\n"
        "    at = AppTest.from_file(str(f), default_timeout=120)\n"
        "    at.run()\n"
        "    runs[f.name] = {'exception': [str(e.value) for e in at.exception], 'info': [i.value for i in at.info]}\n"
        "print(json.dumps({'app': str(app_file()), 'tracker': tracker.__file__, 'runs': runs, "
        "'path_changed': sys.path != path}))\n"
    )
    r = _run(venv, empty, "python", "-c", script, CONSENT_TRACKER_DB="data/none.db")
    assert r.returncode == 0, r.stdout + r.stderr
    got = json.loads(r.stdout.strip().splitlines()[-1])
    site_packages = next(venv.glob("lib/python3*/site-packages"))
    assert Path(got["app"]).is_file() and Path(got["app"]).is_relative_to(site_packages)
    assert Path(got["tracker"]).is_relative_to(site_packages)  # the installed copy, not the source tree
    pages = {p.name for p in (ROOT / "tracker" / "dashboard" / "views").glob("[!_]*.py")}
    assert set(got["runs"]) == {"app.py", *pages}
    for name, run in got["runs"].items():
        assert run["exception"] == [], (name, run)
    assert any("No history yet" in i for i in got["runs"]["app.py"]["info"]), got["runs"]["app.py"]
    assert got["path_changed"] is False
    assert not (empty / "data").exists()  # the dashboard never creates a database
