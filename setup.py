"""Build hook: the repository's top-level templates/, schedules/ and samples/ go into the wheel.

They stay at the top of the repository as the one editable copy; ``build_py`` copies them to
``campaign/shipped/`` in the build folder, where :func:`campaign.resources.shipped` finds them
once installed. An editable install skips the copy: the code then reads the top-level folders.
Everything else is declared in pyproject.toml.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SHIPPED = ("templates", "schedules", "samples")


class BuildWithShippedFiles(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        root = Path(__file__).resolve().parent
        for name in SHIPPED:
            for source in sorted((root / name).rglob("*")):
                if source.is_file() and "__pycache__" not in source.parts:
                    relative = source.relative_to(root).as_posix()
                    target = Path(self.build_lib, "campaign", "shipped", relative)
                    self.mkpath(str(target.parent))
                    self.copy_file(str(source), str(target))


setup(cmdclass={"build_py": BuildWithShippedFiles})
