"""Tests mirror modules: every module under ``src/cxmodel`` with behaviour of its own has a test
file ``tests/<area>/test_<module>.py`` (``_funnel.py`` -> ``test_funnel.py``), unless it is
allow-listed below with its reason.

An allow-listed module is either one without behaviour of its own, or one whose behaviour is
tested today through a test file named by theme or by another module (an internal step of a
public function). The lists only shrink: an entry whose module gained its own test file, or
no longer exists, fails, and so does a new module that has neither a test file nor an entry.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "cxmodel"

#: Modules without behaviour of their own.
NO_BEHAVIOUR: dict[str, str] = {
    "text/_stopwords.py": "a word list, read by the tokeniser",
    "datasets/_events.py": "column names and event blocks of the synthetic generator",
}

#: Modules tested through another test file: the test file, then the modules it covers.
COVERED_BY: dict[str, tuple[str, ...]] = {
    # survey answers read alike by a log and the stream: tested on both sides at once
    "tests/triggers/test_answers.py": ("log/_answers.py",),
}


def modules() -> list[str]:
    """Every module of the package, as a path relative to ``src/cxmodel``."""
    skip = {"__init__.py", "__main__.py"}
    return sorted(p.relative_to(SRC).as_posix() for p in SRC.rglob("*.py") if p.name not in skip)


def mirror(module: str) -> Path:
    """The test file a module's tests live in: ``a/_b.py`` -> ``tests/a/test_b.py``."""
    path = Path(module)
    return ROOT / "tests" / path.parent / f"test_{path.stem.lstrip('_')}.py"


def allowed() -> dict[str, str]:
    """The allow-list: module -> reason."""
    out = dict(NO_BEHAVIOUR)
    for test_file, covered in COVERED_BY.items():
        for module in covered:
            assert module not in out, f"{module} is allow-listed twice"
            out[module] = f"tested through {test_file}"
    return out


class TestLayout:
    def test_every_module_has_a_test_file_or_a_reason(self) -> None:
        """A module with no test file of its name is allow-listed with a reason."""
        missing = [m for m in modules() if not mirror(m).exists() and m not in allowed()]
        expected: list[str] = []
        assert expected == missing, (
            "write tests/<area>/test_<module>.py for these modules (or allow-list them "
            f"in tests/test_layout.py with a reason): {missing}"
        )

    def test_allow_list_has_no_stale_entry(self) -> None:
        """An allow-listed module exists and still has no test file of its name."""
        present = set(modules())
        stale = [m for m in allowed() if m not in present or mirror(m).exists()]
        expected: list[str] = []
        assert expected == stale

    def test_covering_test_files_exist(self) -> None:
        """Each test file named as covering a module exists."""
        absent = [t for t in COVERED_BY if not (ROOT / t).exists()]
        expected: list[str] = []
        assert expected == absent

    def test_mirror_path(self) -> None:
        """A private module's test file drops the underscore; a public one keeps its name."""
        expected = ROOT / "tests" / "journey" / "test_funnel.py"
        assert expected == mirror("journey/_funnel.py")
        expected = ROOT / "tests" / "test_errors.py"
        assert expected == mirror("errors.py")

    def test_every_test_folder_is_a_package(self) -> None:
        """Each folder holding test files has an ``__init__.py``, so basenames may repeat."""
        folders = {p.parent for p in (ROOT / "tests").rglob("test_*.py")}
        bare = sorted(str(f.relative_to(ROOT)) for f in folders if not (f / "__init__.py").exists())
        expected: list[str] = []
        assert expected == bare


class TestTriggerInternalsPage:
    """The contributors' page on the trigger package lists its modules as they are."""

    PAGE = ROOT / "docs" / "reference" / "trigger-internals.md"

    def listed(self) -> list[str]:
        """The modules in the page's table: its rows' first cells."""
        text = self.PAGE.read_text(encoding="utf-8").split("## The modules", 1)[1]
        return re.findall(r"^\| `([\w.]+\.py)` \|", text, flags=re.MULTILINE)

    def test_every_module_is_listed_once(self) -> None:
        """Each file of ``src/cxmodel/triggers`` has one row, and every row names a file."""
        present = sorted(p.name for p in (SRC / "triggers").glob("*.py"))
        assert present == sorted(self.listed())

    def test_modules_named_anywhere_exist(self) -> None:
        """Every ``_name.py`` the page names (in its diagrams too) is a file of the package."""
        named = set(re.findall(r"\b_\w+\.py\b", self.PAGE.read_text(encoding="utf-8")))
        present = {p.name for p in (SRC / "triggers").glob("*.py")}
        present |= {p.name for p in (SRC / "expr").glob("*.py")}  # cxmodel.expr._aggregates
        assert sorted(named - present) == []
