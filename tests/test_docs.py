"""Every python code block of README.md and of every page under docs/ runs as written.

A page is a script: its ``python`` blocks run in order in one namespace, in a fresh temporary
working directory, with matplotlib's Agg backend and with every network call refused. Blocks
tagged anything else (``text``, ``sh``, ...) are left alone.

Two markers, HTML comments that readers of the rendered page do not see, change what runs:

- ``<!-- fragment: why -->`` on the line before a fence: the block is meant to be read, not
  run (it is still compiled, so it must be valid Python); ``test_fragments_are_not_run``
  reports, page by page, how many blocks are skipped this way and why.
- a comment that opens with ``<!-- setup`` on a line of its own and holds plain Python up to a
  closing ``-->`` line: hidden code run where it stands (stubs a reader does not need to see).

Tracebacks point at the Markdown file and the line of the failing statement.
"""

from __future__ import annotations

import gc
import re
import socket
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

from cxmodel.errors import ConvergenceWarning, DataWarning
from cxmodel.metrics import SmallSampleWarning

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

# Blocks that are correct documentation but fail because of a library bug, by page:
# (reason, the exception the page is expected to raise). Strict: a fix makes the test fail
# until the entry is removed.
KNOWN_FAILURES: dict[str, tuple[str, type[BaseException]]] = {}

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\s`]*)")
_FRAGMENT = re.compile(r"^\s*<!--\s*fragment\b:?\s*(?P<reason>.*?)\s*-->\s*$")
_SETUP = re.compile(r"^\s*<!--\s*setup\b(?P<rest>.*)$")


@dataclass(frozen=True)
class Block:
    """One python block: its first code line (1-based) in the page, its code and its role."""

    line: int
    code: str
    role: str  # "run", "setup" (hidden, run) or "fragment" (not run)
    reason: str = ""


#: The cxmodel warnings a page shows on purpose, by page: a piece of each message, once per
#: warning. Any other warning of a page fails its test, and so does one listed here that the
#: page no longer raises: an example cannot start warning unnoticed.
SHOWN_WARNINGS: dict[str, list[str]] = {
    "docs/guide/scale-out.md": ["CSAT: 12 group(s) have fewer than 30 answers"],
    "docs/guide/verbatims.md": [
        "1 of 10 texts (10%) have no word the scorer",
        "2 of 4 texts (50%) have no word the scorer",
    ],
    "docs/tutorials/getting-started.md": ["1 of 3 rows rejected and kept in log.rejected"],
}


def _rel(page: Path) -> str:
    return page.relative_to(ROOT).as_posix() if page.is_relative_to(ROOT) else page.name


def python_blocks(page: Path) -> list[Block]:
    """The python blocks of a Markdown page, in order, with hidden setup code in its place."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    fragment: tuple[int, str] | None = None  # (line, reason) of a marker awaiting its fence
    i = 0
    while i < len(lines):
        line = lines[i]
        where = f"{_rel(page)}:{i + 1}"
        if (marker := _FRAGMENT.match(line)) is not None:
            fragment = (i + 1, marker["reason"])
            i += 1
            continue
        if (setup := _SETUP.match(line)) is not None:
            if setup["rest"].strip():
                raise ValueError(f"{where}: put the setup code on the lines after '<!-- setup'")
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "-->"), None)
            if end is None:
                raise ValueError(f"{where}: setup comment not closed by a '-->' line")
            blocks.append(Block(i + 2, "\n".join(lines[i + 1 : end]) + "\n", "setup"))
            i = end + 1
            continue
        if line.lstrip().startswith("<!--") and "-->" not in line:  # any other comment
            end = next((j for j in range(i + 1, len(lines)) if "-->" in lines[j]), None)
            if end is None:
                raise ValueError(f"{where}: comment not closed")
            i = end + 1
            continue
        fence = _FENCE.match(line)
        if fence is None:
            if line.strip() and fragment is not None:
                raise ValueError(f"{_rel(page)}:{fragment[0]}: fragment marker not before a fence")
            i += 1
            continue
        indent, mark = len(fence["indent"]), fence["fence"]
        closing = re.compile(rf"^[ \t]*{re.escape(mark[0])}{{{len(mark)},}}[ \t]*$")
        end = next((j for j in range(i + 1, len(lines)) if closing.match(lines[j])), None)
        if end is None:
            raise ValueError(f"{where}: code fence not closed")
        if fence["info"].lower() == "python":
            code = "\n".join(text[indent:] for text in lines[i + 1 : end]) + "\n"
            if fragment is not None:
                blocks.append(Block(i + 2, code, "fragment", fragment[1] or "no reason given"))
            else:
                blocks.append(Block(i + 2, code, "run"))
        elif fragment is not None:
            raise ValueError(f"{_rel(page)}:{fragment[0]}: fragment marker on a non-python block")
        fragment = None
        i = end + 1
    if fragment is not None:
        raise ValueError(f"{_rel(page)}:{fragment[0]}: fragment marker not before a fence")
    return blocks


def _compile(page: Path, block: Block) -> Any:
    # pad with blank lines so that tracebacks give the line of the Markdown file
    return compile("\n" * (block.line - 1) + block.code, str(page), "exec")


def _refuse_network(*args: object, **kwargs: object) -> NoReturn:
    raise OSError("network access is disabled while the documentation runs")


def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("connect", "connect_ex", "sendto", "sendmsg"):
        monkeypatch.setattr(socket.socket, name, _refuse_network)
    for name in ("create_connection", "getaddrinfo", "gethostbyname", "gethostbyname_ex"):
        monkeypatch.setattr(socket, name, _refuse_network)


def _page_param(page: Path) -> Any:
    known = KNOWN_FAILURES.get(_rel(page))
    if known is None:
        return pytest.param(page, id=_rel(page))
    reason, error = known
    mark = pytest.mark.xfail(strict=True, raises=error, reason=reason)
    return pytest.param(page, id=_rel(page), marks=mark)


CODE_PAGES = [page for page in PAGES if python_blocks(page)]
FRAGMENT_PAGES = [
    page for page in CODE_PAGES if any(b.role == "fragment" for b in python_blocks(page))
]


def test_pages_found() -> None:
    """The README and the guides are collected; known failures name pages that exist."""
    names = {_rel(page) for page in CODE_PAGES}
    assert {"README.md", "docs/tutorials/getting-started.md", "docs/guide/metrics.md"} <= names
    assert set(KNOWN_FAILURES) <= names


def test_markers_are_parsed(tmp_path: Path) -> None:
    """Fences of other languages are ignored; markers attach to the next python block."""
    page = tmp_path / "page.md"
    page.write_text(
        "text\n\n```sh\nmake\n```\n\n<!-- setup\nx = 1\n-->\n\n"
        "<!-- fragment: needs a broker -->\n```python\nbroker()\n```\n\n"
        "- item\n\n  ```python\n  print(x)\n  ```\n\n"
        "<!--\n```python\ncommented_out()\n```\n-->\n",
        encoding="utf-8",
    )
    blocks = python_blocks(page)
    assert [(b.line, b.role, b.code) for b in blocks] == [
        (8, "setup", "x = 1\n"),
        (13, "fragment", "broker()\n"),
        (19, "run", "print(x)\n"),
    ]
    assert blocks[1].reason == "needs a broker"
    page.write_text("<!-- fragment -->\n\nprose\n", encoding="utf-8")
    with pytest.raises(ValueError, match="fragment marker not before a fence"):
        python_blocks(page)


@pytest.mark.parametrize("page", [_page_param(page) for page in CODE_PAGES])
def test_page_runs(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The page's python blocks run in order, as one script (fragments excepted)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)
    _no_network(monkeypatch)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    try:
        with warnings.catch_warnings(record=True) as caught:
            # cxmodel's own warnings are recorded and compared with the ones the page shows on
            # purpose (SHOWN_WARNINGS); any other warning stays an error, as in the whole suite
            for category in (DataWarning, ConvergenceWarning, SmallSampleWarning):
                warnings.filterwarnings("always", category=category)
            for block in python_blocks(page):
                code = _compile(page, block)
                if block.role != "fragment":
                    exec(code, namespace)  # our own documentation, not user input
        shown = [str(w.message) for w in caught]
        expected = SHOWN_WARNINGS.get(_rel(page), [])
        unexpected = [m for m in shown if not any(piece in m for piece in expected)]
        assert not unexpected, f"{_rel(page)} warns where it does not mean to: {unexpected}"
        gone = [piece for piece in expected if sum(piece in m for m in shown) != 1]
        assert not gone, f"{_rel(page)}: expected each once, got otherwise: {gone}; shown: {shown}"
    finally:
        plt.close("all")
        # what a script leaves open is released silently at exit (ResourceWarning is
        # ignored by default outside the test suite): do the same here
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            namespace.clear()
            gc.collect()


@pytest.mark.parametrize("page", [pytest.param(p, id=_rel(p)) for p in FRAGMENT_PAGES])
def test_fragments_are_not_run(page: Path) -> None:
    """Fragments compile; the skip message says how many blocks of the page are not run."""
    fragments = [b for b in python_blocks(page) if b.role == "fragment"]
    for block in fragments:
        _compile(page, block)
    runs = sum(b.role != "fragment" for b in python_blocks(page))
    where = ", ".join(f"line {b.line} ({b.reason})" for b in fragments)
    pytest.skip(f"{_rel(page)}: {len(fragments)} fragment(s) not run, {runs} run: {where}")


_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("page", [*PAGES, *sorted((ROOT / "examples").rglob("*.md"))], ids=_rel)
def test_relative_links_resolve(page: Path) -> None:
    """Every relative link of a page names a file or folder of the repository."""
    targets = [m.group(1) for m in _LINK.finditer(page.read_text(encoding="utf-8"))]
    missing = [
        t
        for t in targets
        if "://" not in t and not t.startswith("mailto:") and not (page.parent / t).exists()
    ]
    assert not missing, f"{_rel(page)} links to missing files: {missing}"


_ANCHOR_LINK = re.compile(r"\]\((?P<path>[^)#\s]*)#(?P<anchor>[^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6}[ \t]+(?P<title>.+?)[ \t]*#*[ \t]*$")


def _slug(title: str) -> str:
    """The id mkdocs (Python-Markdown's ``toc``) gives a heading: its text, lower case, hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title)  # a link counts by its text
    text = re.sub(r"[`*]", "", text)
    text = re.sub(r"[^\w\s-]", "", text, flags=re.ASCII).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def heading_ids(page: Path) -> set[str]:
    """The anchors of a page's headings (fenced code skipped), repeats numbered as mkdocs does."""
    ids: set[str] = set()
    fence: str | None = None
    for line in page.read_text(encoding="utf-8").splitlines():
        if (opening := _FENCE.match(line)) is not None:
            mark = opening["fence"]
            if fence is None:
                fence = mark
            elif mark[0] == fence[0] and len(mark) >= len(fence) and not opening["info"]:
                fence = None
            continue
        if fence is None and (heading := _HEADING.match(line)) is not None:
            slug, n = _slug(heading["title"]), 1
            while slug in ids:  # a second "Examples" heading is "examples_1"
                slug = f"{_slug(heading['title'])}_{n}"
                n += 1
            ids.add(slug)
    return ids


def test_heading_ids_follow_mkdocs() -> None:
    """Headings get the ids mkdocs gives them: code and links by their text, repeats numbered."""
    assert _slug("Orders and their lines") == "orders-and-their-lines"
    assert _slug("`as_of`, time zones & [links](x.md)") == "as_of-time-zones-links"
    assert (
        _slug("Triggers (`benchmarks/bench_triggers.py`)") == "triggers-benchmarksbench_triggerspy"
    )


@pytest.mark.parametrize("page", [*PAGES, *sorted((ROOT / "examples").rglob("*.md"))], ids=_rel)
def test_anchors_resolve(page: Path) -> None:
    """Every ``#anchor`` of a relative link, to the same page or another, names a heading there."""
    broken = []
    for link in _ANCHOR_LINK.finditer(page.read_text(encoding="utf-8")):
        path, anchor = link["path"], link["anchor"]
        if "://" in path:
            continue
        target = (page.parent / path) if path else page
        if not target.is_file() or anchor not in heading_ids(target):
            broken.append(f"{path}#{anchor}")
    assert not broken, f"{_rel(page)} links to anchors that do not exist: {broken}"
