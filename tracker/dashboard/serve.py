"""``python -m tracker.dashboard.serve run APP [streamlit options]``: Streamlit's own command line (``streamlit run
…``) in this process, with the first pages' figures computed in the background while the server starts
(:func:`tracker.dashboard.common.warm`), so a reader's first visit finds them ready. ``consent-tracker dashboard``
and ``up`` serve the dashboard this way."""

from __future__ import annotations

import sys
import threading


def main() -> None:
    from tracker.dashboard import common

    threading.Thread(target=common.warm, args=(common.db_path(),), name="dashboard-warm", daemon=True).start()
    from streamlit.web import cli

    sys.argv = ["streamlit", *sys.argv[1:]]
    cli.main()


if __name__ == "__main__":
    main()
