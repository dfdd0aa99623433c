"""Build hook: the wheel carries the course, not only the library.

Everything else about the build is in pyproject.toml.  The course files (the
notebooks with their stored outputs, the generated student exercises, the slide
errata and the instructor notes) live beside the package in a checkout; when a
wheel is built they are copied into ``virtlab/_course/``, where
``virtlab.coursefiles.course_source`` finds them after ``pip install``.  The
instructor solutions (``solutions/``) are deliberately not shipped.  MANIFEST.in
lists the same files so that a wheel built from the sdist has them too.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

COURSE_FILES = ("notebooks/*.ipynb", "notebooks/de/*.ipynb", "exercises/*.ipynb",
                "docs/errata.md", "docs/instructor/*.md")


class BuildPyWithCourse(build_py):
    """``build_py`` that also copies :data:`COURSE_FILES` into ``virtlab/_course``."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return      # an editable install reads the checkout itself
        here = Path(__file__).resolve().parent
        target = Path(self.build_lib) / "virtlab" / "_course"
        for pattern in COURSE_FILES:
            for src in sorted(here.glob(pattern)):
                dst = target / src.relative_to(here)
                self.mkpath(str(dst.parent))
                self.copy_file(str(src), str(dst))


setup(cmdclass={"build_py": BuildPyWithCourse})
