"""The HTML report, opened in headless Chromium: its charts load and its tables are there.

``--dump-dom`` gives the page as the browser built it: each ``<img>`` must carry a
``data:image/png;base64`` source that decodes to a real PNG. ``--screenshot``
must produce a PNG that is not blank.
"""

from __future__ import annotations

import base64
import re
import struct
import subprocess
from pathlib import Path

import pytest
from matplotlib.image import imread

from bot.reports.content import build_digest
from bot.reports.render import render_html
from tests.reports import fixtures as fx
from tests.support.binaries import find, missing

pytestmark = pytest.mark.chromium

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chromium() -> str:
    path = find("chromium") or find("chromium-browser")
    if path is None:
        missing("chromium not found: Debian package chromium")
    assert path is not None
    return path


def _run(tmp_path: Path, *args: str) -> str:
    profile = tmp_path / "profile"
    result = subprocess.run([_chromium(), *FLAGS, f"--user-data-dir={profile}", *args],
                            capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk; raises if ``data`` is not a PNG."""
    assert data[:8] == PNG_SIGNATURE, "not a PNG"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def inked_share(path: Path) -> float:
    """The share of pixels that are not page-white (0 for a blank page)."""
    pixels = imread(path)[..., :3]  # floats in 0..1
    return float((pixels.min(axis=2) < 0.95).mean())


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    html = render_html(build_digest(fx.inputs()), generated_at=fx.t(23, 9))
    path = tmp_path_factory.mktemp("report") / "digest.html"
    path.write_text(html, encoding="utf-8")
    return path


def test_report_has_its_charts_and_tables(report: Path, tmp_path: Path) -> None:
    dom = _run(tmp_path, "--dump-dom", report.as_uri())
    for table in ("changes", "slos", "classes", "budgets", "sources", "runbooks", "cost",
                  "suspects"):
        assert f'id="{table}"' in dom, f"table {table} missing"
    images = re.findall(r'<img[^>]*\bid="([^"]+)"[^>]*\bsrc="([^"]+)"', dom)
    assert sorted(name for name, _ in images) == ["chart-burn-down", "chart-cost",
                                                   "chart-incidents"]
    for name, src in images:
        assert src.startswith("data:image/png;base64,"), name
        png = base64.b64decode(src.split(",", 1)[1], validate=True)
        width, height = png_size(png)
        assert width > 100 and height > 100, name
    assert "tenant=acme" in dom and "#1 incident 1" in dom


def test_report_renders_to_a_screenshot(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "digest.png"
    _run(tmp_path, f"--screenshot={shot}", "--window-size=1200,3000", report.as_uri())
    data = shot.read_bytes()
    assert png_size(data) == (1200, 3000)
    assert inked_share(shot) > 0.03  # text, tables and charts, not a blank page
