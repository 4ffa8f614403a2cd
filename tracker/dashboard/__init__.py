"""The dashboard (Streamlit): ``app.py`` is the app ``consent-tracker dashboard`` serves, ``views/`` its pages (each
also runs on its own, e.g. under Streamlit's AppTest), ``common`` what every page shares. Nothing is imported here,
so that finding the app's file does not load Streamlit."""

from __future__ import annotations

from pathlib import Path

__all__ = ["app_file"]


def app_file() -> Path:
    """The app's file in the installed package (what ``streamlit run`` is given): a file beside this one, so no
    ``importlib.resources`` (and its imports) for the CLI to pay at start-up."""
    return Path(__file__).resolve().parent / "app.py"
