"""The CJK font (a 37 MB collection once loaded) is registered only when a character the body
fonts lack is met: a process that never meets one (a gunicorn worker of most clinics, a CSV
export) does not pay for it. Checked in a fresh interpreter, since this test process may have
loaded it already."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mat.pdf_fonts import CJK_FILES

PROBE = """
from reportlab.pdfbase.pdfmetrics import getRegisteredFontNames
from mat.pdf_fonts import CJK_FONT, runs, unprintable
steps = [CJK_FONT in getRegisteredFontNames()]
assert unprintable("Zoë Łukasz Παπαδοπούλου") == []
runs("Nguyễn Thị", "DejaVuSans")
steps.append(CJK_FONT in getRegisteredFontNames())
assert unprintable("王小明") == []
steps.append(CJK_FONT in getRegisteredFontNames())
print(steps)
"""


@pytest.mark.skipif(
    not any(path.is_file() for path in CJK_FILES), reason="fonts-wqy-zenhei is not installed"
)
def test_the_cjk_font_is_loaded_only_for_a_character_the_body_fonts_lack() -> None:
    done = subprocess.run(  # noqa: S603 (our own interpreter and fixed probe)
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[False, False, True]", done.stderr
