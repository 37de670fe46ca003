"""Fixtures for the receipt tests: the rendered corpus (fonts from Debian) and the OCR language data.

Both need Debian packages (fonts-dejavu-core, fonts-noto-core, tesseract-ocr-eng/-ara/-pol). Where
they are missing the tests that need them are skipped with the package to install; in CI they fail.
"""

from __future__ import annotations

import pytest

from tests.conftest import IN_CI
from tests.wallet.receipts import corpus
from wallet.receipts import ocr


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(reason + " (CI must install it)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def fonts() -> None:
    """The corpus can be drawn: its fonts are installed and Pillow can shape Arabic."""
    try:
        corpus.font(corpus.LATIN_FONT, 12)
        corpus.font(corpus.ARABIC_FONT, 12)
    except corpus.CorpusUnavailable as exc:
        _missing(str(exc))


@pytest.fixture(scope="session")
def tessdata() -> None:
    """Tesseract can read English, Arabic and Polish here."""
    reason = ocr.available(("eng", "ara", "pol"))
    if reason:
        _missing(reason)
