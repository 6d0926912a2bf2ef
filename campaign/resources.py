"""Where the shipped templates, samples and sample calendar are, and a user's own templates.

The repository keeps one editable copy of them at its top (``templates/``, ``schedules/``,
``samples/``); building the wheel copies them into the package as ``campaign/shipped/…``
(``setup.py``), so an installed ``campaign`` finds them through :mod:`importlib.resources`
whatever the current folder. From a source checkout (editable install, ``PYTHONPATH``) the
package has no ``shipped/`` folder and the top-level folders are used directly.

A user's own templates folder (``[general] templates_dir``, ``templates`` by default, used when
it exists) is searched before the shipped one, file by file: a file present there replaces the
shipped file of the same relative path, and every other file still comes from the package.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from campaign.config import Settings

SHIPPED = ("templates", "schedules", "samples")
"""The top-level folders of the repository that travel inside the package."""

DEFAULT_TEMPLATES_DIR = "templates"


@cache
def shipped(name: str) -> Path:
    """The shipped folder ``name`` (one of :data:`SHIPPED`): in the package, else the checkout's.

    An installed package lives on disk (pip unpacks wheels), so the resource is a real path that
    Jinja's file loader and ``Path.glob`` can use.
    """
    if name not in SHIPPED:
        raise ValueError(f"not a shipped folder: {name!r}")
    packaged = files("campaign").joinpath("shipped", name)
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[1] / name


def user_templates(
    templates_dir: Path | str | None = None, settings: Settings | None = None
) -> Path | None:
    """The user's own templates folder when it exists: given, else the setting, else ./templates."""
    if templates_dir is not None and str(templates_dir) != "":
        return Path(templates_dir)
    configured = getattr(getattr(settings, "general", None), "templates_dir", None)
    folder = Path(configured or DEFAULT_TEMPLATES_DIR)
    return folder if folder.is_dir() else None


def configured_templates(settings: Settings) -> Path | None:
    """``[general] templates_dir`` when set to another folder than the default and present.

    For the doors to hand down to stages that take no settings; ``./templates`` is found by
    every stage on its own."""
    configured = settings.general.templates_dir
    if configured in ("", DEFAULT_TEMPLATES_DIR):
        return None
    return user_templates(None, settings)


@dataclass(frozen=True)
class TemplateTree:
    """Folders searched in order for a template file: the user's first, the shipped one last.

    Hashable (a tuple of paths), so Jinja environments built on it can be cached.
    """

    folders: tuple[Path, ...]

    def __truediv__(self, name: str) -> TemplateTree:
        """The same layers, one sub-folder down (``tree / "newsletters"``)."""
        return TemplateTree(tuple(folder / name for folder in self.folders))

    def __str__(self) -> str:
        return " then ".join(str(folder) for folder in self.folders)

    def find(self, relative: str) -> Path | None:
        """The first layer's file at ``relative`` (a POSIX path), or None."""
        for folder in self.folders:
            candidate = folder / relative
            if candidate.is_file():
                return candidate
        return None

    def is_file(self, relative: str) -> bool:
        return self.find(relative) is not None

    def glob(self, pattern: str) -> list[Path]:
        """Files matching ``pattern`` in any layer, one per relative path (the first layer's)."""
        seen: dict[str, Path] = {}
        for folder in self.folders:
            for path in folder.glob(pattern):
                seen.setdefault(path.relative_to(folder).as_posix(), path)
        return [seen[key] for key in sorted(seen)]

    def owns(self, filename: str) -> bool:
        """Whether ``filename`` (e.g. a Jinja traceback frame's) lies inside one of the layers."""
        return any(filename.startswith(str(folder)) for folder in self.folders)

    def search_path(self) -> list[str]:
        """The layers that exist, for :class:`jinja2.FileSystemLoader`."""
        return [str(folder) for folder in self.folders if folder.is_dir()]

    def __iter__(self) -> Iterator[Path]:
        return iter(self.folders)


def template_tree(
    templates_dir: Path | str | None = None, settings: Settings | None = None
) -> TemplateTree:
    """The user's templates folder (when it exists) layered over the shipped templates."""
    base = shipped("templates")
    own = user_templates(templates_dir, settings)
    if own is None or own.resolve() == base.resolve():
        return TemplateTree((base,))
    return TemplateTree((own, base))
