"""``python -m tracker.dashboard.serve run APP [streamlit options]``: Streamlit's own command line (``streamlit run
…``) in this process, with the Overview's figures computed before it answers and every other page's in the background
after (:func:`tracker.dashboard.common.warm`; both kept on disk for the next start while the data is unchanged), so
a reader's first visit finds them ready. ``consent-tracker dashboard`` and ``up`` serve the dashboard this way."""

from __future__ import annotations

import sys
import threading


def main() -> None:
    from tracker.dashboard import common

    path = common.db_path()
    common.warm(path, first=True)  # the Overview's figures, before the server answers its first reader
    threading.Thread(target=common.warm, args=(path,), kwargs={"first": False}, name="warm", daemon=True).start()
    from streamlit.web import cli

    sys.argv = ["streamlit", *sys.argv[1:]]
    cli.main()


if __name__ == "__main__":
    main()
