"""The wheel works on its own: built from the checkout, installed outside it, run from nowhere.

The wheel is built once (``pip wheel``), installed with ``--no-deps`` into a fresh virtual
environment outside the checkout, and the commands a new user runs first are run from an empty
folder with no ``PYTHONPATH``: the demo, a preview, a send to the outbox, the bilan. The new
environment sees this one's site-packages for the dependencies only (a ``.pth`` line, which
does not run this environment's editable-install hook); ``campaign`` itself must come from the
wheel, which the first assertion checks.
"""

from __future__ import annotations

import mailbox
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import zipfile
from email.header import decode_header, make_header
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What the build needs; the rest of the checkout (virtual environments, caches) stays behind.
_UNSHIPPED_ANYWHERE = shutil.ignore_patterns("__pycache__", "*.egg-info", ".*_cache")
_UNSHIPPED_AT_TOP = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "tests", "bench", "test-artifacts", "outbox", "demo",
    "campaign.db*", "config.toml", "campaign.secret",
)  # fmt: skip


def unshipped(folder: str, names: list[str]) -> set[str]:
    """Caches anywhere; the checkout's own build and run folders at its top only (a package
    may be named ``build``, as ``campaign/reports/build/`` is)."""
    ignored = set(_UNSHIPPED_ANYWHERE(folder, names))
    if Path(folder).resolve() == ROOT:
        ignored |= set(_UNSHIPPED_AT_TOP(folder, names))
    return ignored


def run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def clean_environment() -> dict[str, str]:
    """This process's environment without the checkout on the path nor its settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("CAMPAIGN_", "PYTHON"))}


def _setuptools_major() -> int:
    try:
        return int(version("setuptools").split(".")[0])
    except (PackageNotFoundError, ValueError):
        return 0


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=unshipped)
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist")]
    if _setuptools_major() >= 77:  # what pyproject.toml's build-system asks for
        build.append("--no-build-isolation")  # this environment's setuptools: no download
    run([*build, str(source)], work, clean_environment())
    (built,) = (work / "dist").glob("campaign-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment holding the wheel; its ``bin`` folder."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], venv.parent, clean_environment()
    )
    python = venv / "bin" / "python"
    purelib = run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        venv,
        clean_environment(),
    ).strip()
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
    run([*install, "--no-deps", "--no-index", str(wheel)], venv, clean_environment())
    # Only now the dependencies: pip must not find this environment's campaign installed.
    ours = {sysconfig.get_paths()["purelib"], *site.getsitepackages()}
    Path(purelib, "dependencies.pth").write_text("\n".join(sorted(ours)) + "\n", encoding="utf-8")
    return venv / "bin"


def test_the_wheel_carries_the_templates_samples_and_calendar(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("templates", "schedules", "samples"):
        shipped = {
            f"campaign/shipped/{path.relative_to(ROOT).as_posix()}"
            for path in (ROOT / folder).rglob("*")
            if path.is_file() and "__pycache__" not in path.parts
        }
        assert shipped and shipped <= names, sorted(shipped - names)[:5]
    assert "campaign/data/taxonomy.toml" in names
    assert "campaign/dashboard/static/admin.css" in names


@pytest.mark.timeout(300)  # five commands, each a new process importing the whole product
def test_an_installed_wheel_runs_the_first_commands_from_an_empty_folder(
    installed: Path, tmp_path: Path
) -> None:
    env = clean_environment()
    here = tmp_path / "nouveau-dossier"
    here.mkdir()
    campaign = str(installed / "campaign")

    where = run(
        [
            str(installed / "python"),
            "-c",
            "import campaign, campaign.resources as r; print(campaign.__file__); "
            "print(r.shipped('templates'))",
        ],
        here,
        env,
    ).split()
    assert all(line.startswith(str(installed.parent)) for line in where), where

    demo = run([campaign, "demo", "--no-play"], here, env)
    assert "2910 added" in demo
    assert (here / "demo-preview.html").is_file()

    # The team's own folder replaces one file; every other template still comes from the wheel.
    subject = here / "templates" / "newsletters" / "mois-ess" / "subject.txt.j2"
    subject.parent.mkdir(parents=True)
    subject.write_text("Notre lettre : {{ subject }}\n", encoding="utf-8")
    preview = run([campaign, "newsletters", "preview", "1", "--text"], here, env)
    assert "Subject: Notre lettre : Le Mois de l'ESS" in preview
    assert "Se désinscrire" in preview  # the shipped text footer

    sent = run([campaign, "newsletters", "send", "1"], here, env)
    assert "0 failed" in sent
    box = mailbox.Maildir(here / "outbox", create=False)
    count = len(box)
    assert f"{count} sent" in sent and count > 0
    message = next(iter(box))
    assert str(make_header(decode_header(message["Subject"]))).startswith("Notre lettre : ")

    bilan = run([campaign, "report", "bilan"], here, env)
    assert "Wrote bilan.html" in bilan
    html = (here / "bilan.html").read_text(encoding="utf-8")
    assert "Destinataires réels" in html  # a label of the shipped labels.toml
    assert "maintenant" in html and str(count) in html  # the demo newsletter's row
