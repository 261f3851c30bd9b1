"""The one build step beyond what pyproject.toml declares: the interface's message catalogs compiled (.po → .mo)
with Babel into the wheel, so an installed MNIST Lab reads them as they are (a checkout, which has only the .po,
compiles them in memory: mnistlab/i18n.py)."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithCatalogs(build_py):
    def run(self):
        super().run()
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po in sorted(Path("mnistlab/locale").glob("*/LC_MESSAGES/*.po")):
            with po.open("rb") as file:
                catalog = read_po(file, locale=po.parts[2])
            target = Path(self.build_lib) / po.with_suffix(".mo")
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as file:
                write_mo(file, catalog)


setup(cmdclass={"build_py": BuildWithCatalogs})
