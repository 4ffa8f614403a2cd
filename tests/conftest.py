"""Shared fixtures: where the third-party corpus lives, and skipping cleanly when it is absent."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("CONSENT_TRACKER_CORPUS", ROOT.parent / "shared" / "corpus")).resolve()
CORPUS_REASON = f"the shared test corpus is not at {CORPUS} (set CONSENT_TRACKER_CORPUS to its folder)"


def corpus_path(*parts: str) -> Path:
    """Path inside the shared corpus (may not exist: pair with needs_corpus)."""
    return CORPUS.joinpath(*parts)


def load_corpus_json(*parts: str) -> Any:
    """Load a JSON file of the corpus, or None when the corpus is absent (collection must not fail)."""
    p = corpus_path(*parts)
    if not p.exists():
        return None
    return json.loads(p.read_text(encoding="utf-8"))


if os.environ.get("CONSENT_TRACKER_REQUIRE_CORPUS") and not CORPUS.is_dir():
    # CI always has the corpus: a missing one must fail loudly, not skip the conformance suite.
    raise pytest.UsageError(CORPUS_REASON)

needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=CORPUS_REASON)

#: Debian's chromium, for the dashboard's browser test and PDF reports (no browser download).
CHROMIUM = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(p).exists()), None)
CHROMIUM_REASON = "Debian's chromium is not installed (apt-get install chromium)"
if os.environ.get("CONSENT_TRACKER_REQUIRE_CHROMIUM") and CHROMIUM is None:
    raise pytest.UsageError(CHROMIUM_REASON)  # CI installs it: its absence must fail, not skip the browser tests
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason=CHROMIUM_REASON)
