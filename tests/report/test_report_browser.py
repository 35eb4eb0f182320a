"""The HTML report in a real browser: headless Chromium renders every section, logs no console
error, and paints a page that is not blank, at laptop and at phone width.

Skipped only when no Chromium binary is installed (``.ci/run`` installs Debian's ``chromium``).
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

import cxmodel as cx
from cxmodel.report import CXReport, cx_report

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER = next((found for name in BROWSERS if (found := shutil.which(name))), None)

pytestmark = pytest.mark.skipif(
    BROWSER is None,
    reason="no Chromium binary on PATH (install Debian's package: apt-get install chromium)",
)


@pytest.fixture(scope="module")
def report() -> CXReport:
    return cx_report(cx.datasets.synthetic(customers=600, seed=4).log)


@pytest.fixture(scope="module")
def page(report: CXReport, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "cx-report.html"
    path.write_text(report.to_html(), encoding="utf-8")
    return path


def _chromium(page: Path, profile: Path, *options: str) -> subprocess.CompletedProcess[str]:
    assert BROWSER is not None
    command = [
        BROWSER,
        "--headless",
        "--disable-gpu",
        "--no-sandbox",  # CI runs as root
        "--hide-scrollbars",
        "--no-first-run",
        "--enable-logging=stderr",
        "--v=0",
        f"--user-data-dir={profile}",
        *options,
        page.as_uri(),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def _console_errors(stderr: str) -> list[str]:
    """Console lines: uncaught errors, and any console message at all (the page has no script,
    so a message can only be the browser's, e.g. a blocked resource under the page's CSP)."""
    return [line for line in stderr.splitlines() if "Uncaught" in line or ":CONSOLE" in line]


def test_console_errors_are_seen(tmp_path: Path) -> None:
    """A page with a blocked image and a throwing script is caught by the console check."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!doctype html><meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "script-src 'unsafe-inline'\"><img src='https://example.invalid/x.png'>"
        "<script>throw new Error('boom')</script>",
        encoding="utf-8",
    )
    result = _chromium(bad, tmp_path / "profile", "--dump-dom")
    errors = _console_errors(result.stderr)
    assert any("Uncaught Error: boom" in line for line in errors)
    assert any("Content Security Policy" in line for line in errors)


def _distinct_colours(png: bytes) -> int:
    """Distinct pixel values of a screenshot (PIL when installed, else a raw PNG decode)."""
    try:
        from PIL import Image
    except ImportError:
        return _distinct_colours_raw(png)
    import io

    with Image.open(io.BytesIO(png)) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 24)
    return len(colours or ())


def _distinct_colours_raw(png: bytes) -> int:
    """PNG without PIL: inflate the IDAT chunks and undo the scanline filters."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    pos, data, width, height, bpp = 8, b"", 0, 0, 0
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, body = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8, "only 8-bit screenshots are decoded"
            bpp = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
        elif kind == b"IDAT":
            data += body
        pos += 12 + length
    raw = zlib.decompress(data)
    stride = width * bpp
    previous = bytearray(stride)
    pixels: set[bytes] = set()
    for y in range(height):
        kind, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = previous[i], previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                guess = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + guess) & 0xFF
        pixels.update(bytes(line[i : i + bpp]) for i in range(0, stride, bpp))
        previous = line
    return len(pixels)


def test_raw_png_decoder_agrees_with_pil(tmp_path: Path) -> None:
    """The PIL-free decoder sees the colours of a small PNG that PIL wrote."""
    image_module = pytest.importorskip("PIL.Image")
    image = image_module.new("RGB", (14, 3), (255, 255, 255))
    for x, colour in enumerate([(255, 0, 0), (0, 0, 255), (0, 128, 0)]):
        image.putpixel((x * 6, x), colour)
    path = tmp_path / "small.png"
    image.save(path)
    assert _distinct_colours_raw(path.read_bytes()) == 4


def test_every_section_in_the_rendered_dom(report: CXReport, page: Path, tmp_path: Path) -> None:
    """Chromium's DOM after rendering holds every section, every figure and the left-out notes."""
    result = _chromium(page, tmp_path / "profile", "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    for section in report.sections:
        assert f'<section id="{section.key}">' in dom, section.title
        assert section.title.replace("'", "&#x27;") in dom or section.title in dom
    for item in report.left_out:
        assert f'id="left-out-{item.key}"' in dom
    figures = sum(len(s.figures) for s in report.sections)
    assert dom.count("<svg") == page.read_text(encoding="utf-8").count("<svg") <= figures
    assert _console_errors(result.stderr) == []


@pytest.mark.parametrize(
    "size", [pytest.param("1280,2000", id="laptop"), pytest.param("390,1600", id="phone")]
)
def test_screenshot_is_painted(page: Path, tmp_path: Path, size: str) -> None:
    """The page paints text, cards and tables (not a blank page) and logs no console error."""
    shot = tmp_path / "report.png"
    result = _chromium(page, tmp_path / "profile", f"--screenshot={shot}", f"--window-size={size}")
    assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
    assert _console_errors(result.stderr) == []
    assert _distinct_colours(shot.read_bytes()) >= 24
