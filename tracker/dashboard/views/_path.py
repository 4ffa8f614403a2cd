"""Lets a page run on its own (AppTest, `streamlit run tracker/dashboard/views/x.py`) as well as under app.py."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
for p in (str(HERE), str(HERE.parents[1])):
    if p not in sys.path:
        sys.path.insert(0, p)
