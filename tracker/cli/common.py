"""What every command shares: the consoles, the error exit, the common options, the settings resolved once from
a command's options, printing series as data."""

from __future__ import annotations

import contextlib
import csv
import json
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields, is_dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from tracker import service
from tracker.config import settings
from tracker.config.settings import Settings
from tracker.records.csv_safety import csv_safe
from tracker.records.json import JsonObject
from tracker.records.vocabulary import OutputFormat

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table as RichTable
    from rich.text import Text as RichText
    from sqlalchemy import Engine

    from tracker.rules.agents import AgentRegistry
    from tracker.rules.sitelist import SiteEntry

__all__ = [
    "AgentsFileOpt",
    "AllowPrivateOpt",
    "CaBundleOpt",
    "ConnectToOpt",
    "DbOpt",
    "FormatOpt",
    "FromOpt",
    "ListOpt",
    "OutputAliasOpt",
    "SinceOpt",
    "SitesOpt",
    "Table",
    "Text",
    "ToOpt",
    "TopOpt",
    "UntilOpt",
    "either",
    "err",
    "fail",
    "marked",
    "open_db",
    "out",
    "print_csv",
    "print_rows_as_data",
    "progress_bar",
    "registry",
    "resolved",
    "simulated",
    "sites_to_use",
    "step_progress",
    "visible",
    "visible_data",
    "warn",
]


class _Console:
    """A Rich console made on first use: importing Rich costs a tenth of a second that ``--help`` and the commands
    that print no table need not pay."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return getattr(self._console, name)


def Text(*args: Any, **kwargs: Any) -> RichText:
    """A Rich ``Text``, Rich imported on first use."""
    from rich.text import Text

    return Text(*args, **kwargs)


def Table(*args: Any, **kwargs: Any) -> RichTable:
    """A Rich ``Table``, Rich imported on first use."""
    from rich.table import Table

    return Table(*args, **kwargs)


def progress_bar(what: str, unit: str, *fields: str, tail: str | None = None) -> Progress:
    """A progress bar on standard error (only on a terminal; gone when done): ``what``, the bar, done/total
    ``unit``, then the task's ``fields`` (format strings over ``task``), the time remaining and ``tail``."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn(what),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        *(TextColumn(field) for field in fields),
        TimeRemainingColumn(),
        *([TextColumn(tail)] if tail else []),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


@contextlib.contextmanager
def step_progress(what: str, unit: str, *, every: float = 5.0) -> Iterator[Callable[[int, int | None], None]]:
    """Progress of a long step on standard error, never silent for long: on a terminal the bar of
    :func:`progress_bar`; elsewhere (a log, a pipe, a service manager) a line ``crawling: 120/679 sites, 35 s`` every
    ``every`` seconds, whether or not anything moved. Yields ``update(done, total)``."""
    if err.is_terminal:
        with progress_bar(what, unit) as bar:
            task = bar.add_task("", total=None)
            yield lambda done, total: bar.update(task, total=total, completed=done)
        return
    state: list[int | None] = [0, None]
    started = time.monotonic()
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(every):
            done, total = state
            of = f"/{total}" if total is not None else ""
            err.print(f"{what}: {done}{of} {unit}, {time.monotonic() - started:.0f} s", highlight=False)

    ticker = threading.Thread(target=tick, name=f"{what} progress", daemon=True)
    ticker.start()
    try:
        yield lambda done, total: state.__setitem__(slice(None), [done, total])
    finally:
        stop.set()
        ticker.join()


out: Console = _Console(highlight=False, soft_wrap=False, emoji=False)  # type: ignore[assignment]
err: Console = _Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)  # type: ignore[assignment]

AgentsFileOpt = Annotated[
    str | None, typer.Option("--agents-file", help="Agent registry JSON [env CONSENT_TRACKER_AGENTS_FILE].")
]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", "-f", help="How to print.")]
DbOpt = Annotated[str | None, typer.Option("--db", help="Database path or URL [env CONSENT_TRACKER_DB].")]
# The network options every command that fetches takes (crawl, backfill, robots), and how it picks its sites.
ConnectToOpt = Annotated[
    list[str] | None,
    typer.Option("--connect-to", metavar="HOST:PORT:ADDR:PORT", help="HOST:PORT:ADDR:PORT, as curl (repeatable)."),
]
CaBundleOpt = Annotated[str | None, typer.Option("--ca-bundle", help="CA certificates (PEM) to verify TLS with.")]
AllowPrivateOpt = Annotated[
    bool | None,
    typer.Option(
        "--allow-private/--no-allow-private",
        help="Allow private and loopback addresses [env CONSENT_TRACKER_ALLOW_PRIVATE].",
    ),
]
SitesOpt = Annotated[
    Path | None,
    typer.Option(
        "--sites",
        help="A site list (CSV with a 'domain' column, Tranco rank,domain, or one domain a "
        "line) instead of the tracked sites (`sites add`).",
    ),
]
ListOpt = Annotated[list[str] | None, typer.Option("--list", help="Only the sites of this tracked list (repeatable).")]
TopOpt = Annotated[int | None, typer.Option("--top", help="Only the N best-ranked sites.")]
# The date options: ``--since/--until`` on every command that takes a range; ``--from/--to`` (the spelling some
# commands had) stay everywhere as hidden aliases, so one grammar holds across commands.
SinceOpt = Annotated[str | None, typer.Option("--since", metavar="DATE", help="First date (YYYY-MM-DD).")]
UntilOpt = Annotated[str | None, typer.Option("--until", metavar="DATE", help="Last date (YYYY-MM-DD).")]
FromOpt = Annotated[str | None, typer.Option("--from", hidden=True, help="Another spelling of --since.")]
ToOpt = Annotated[str | None, typer.Option("--to", hidden=True, help="Another spelling of --until.")]
# The output path: ``--out`` everywhere; ``-o/--output`` (export's old spelling) a hidden alias.
OutputAliasOpt = Annotated[Path | None, typer.Option("--output", "-o", hidden=True, help="Another spelling of --out.")]


def either(value: Any, alias: Any) -> Any:
    """An option's value, given by its name or by its hidden alias (the alias, when given)."""
    return value if alias is None else alias


def fail(message: str) -> NoReturn:
    """Print a one-line error and exit 2."""
    err.print(Text(f"error: {message}", style="red"))
    raise typer.Exit(2)


def warn(message: str) -> None:
    """Print a one-line warning on standard error."""
    err.print(Text(f"warning: {message}", style="yellow"))


#: What every output of a simulated store (``up --demo``) says, on standard error.
SIMULATED_LINE = "simulated data (`up --demo`): no figure here describes real sites"


def simulated(engine: Engine) -> bool:
    """Whether the store holds the demo's simulated data; if so, say it on standard error — for every format: a
    table's reader sees it, and a CSV or JSON piped on keeps the columns and fields it has on real data (a CSV
    stays machine-readable: no comment line, no column that only some databases have). JSON documents that are
    objects also carry ``"simulated": true`` (:func:`marked`)."""
    if not service.is_simulated(engine):
        return False
    warn(SIMULATED_LINE)
    return True


def marked(document: JsonObject, is_simulated: bool) -> JsonObject:
    """A JSON document (an object) with ``"simulated": true`` first when the data is simulated, else as it is."""
    return service.mark_simulated(document, is_simulated)


def resolved(**options: Any) -> Settings:
    """The settings resolved once, here at the edge, from a command's options (by the setting's name with '_' for
    '-'; None: not given), the environment and the defaults."""
    return settings.resolve({name.replace("_", "-"): value for name, value in options.items()})


def registry(agents_file: str | Settings | None) -> AgentRegistry:
    """The agent registry the settings name."""
    return service.load_registry(
        agents_file if isinstance(agents_file, Settings) else resolved(agents_file=agents_file)
    )


def open_db(db: str | Settings | None, *, create: bool = True) -> Engine:
    """The database the settings name; read commands pass ``create=False`` so a typo is an error."""
    return service.open_store(db if isinstance(db, Settings) else resolved(db=db), create=create)


#: C0 and C1 control characters (but newline and tab), DEL, and the bidirectional overrides that reorder what a
#: terminal shows: fetched text carrying them could move the cursor, set the window title or recolour the output.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """Fetched text made safe for a terminal: every control character shown as its escape (ESC as \\x1b)."""
    return _CONTROLS.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text
    )


def visible_data(value: Any) -> Any:
    """:func:`visible` applied to every string of a nested structure (a report about to be shown as a table); a
    record stays a record of its kind (its tuples stay tuples)."""
    if isinstance(value, str):
        return visible(value)
    if is_dataclass(value) and not isinstance(value, type):
        changed = {}
        for f in fields(value):
            v = getattr(value, f.name)
            changed[f.name] = tuple(visible_data(v)) if isinstance(v, tuple) else visible_data(v)
        return replace(value, **changed)
    if isinstance(value, dict):
        return {k: visible_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [visible_data(v) for v in value]
    return value


def print_csv(rows: Sequence[JsonObject]) -> None:
    """Rows of one shape as formula-safe CSV on standard output (a header from the first row's keys)."""
    w = csv.writer(sys.stdout)
    if rows:
        w.writerow(list(rows[0]))
    for r in rows:
        w.writerow([csv_safe(v) for v in r.values()])


def print_rows_as_data(rows: list[Any], fmt: OutputFormat, document: JsonObject | None = None) -> bool:
    """Print series rows as JSON — the result's own document (its ``as_dict()``, what the API answers too) — or as
    formula-safe CSV (True), or say there are none (True); False for a table."""
    if fmt is OutputFormat.json:
        print(json.dumps(document if document is not None else {"rows": [r.as_dict() for r in rows]}, indent=1))
        return True
    if fmt is OutputFormat.csv:
        print_csv([r.as_dict() for r in rows])
        return True
    if not rows:
        out.print("no observations in that range")
        return True
    return False


def sites_to_use(engine: Engine, sites: Path | None, lists: list[str] | None, top: int | None) -> list[SiteEntry]:
    """The sites of a file, or of tracked lists, or every tracked site; the file's skipped lines as warnings."""
    chosen = service.sites_to_use(engine, sites=sites, lists=lists, top=top)
    for problem in chosen.problems[:20]:
        warn(problem)
    if len(chosen.problems) > 20:
        warn(f"… and {len(chosen.problems) - 20} more lines skipped")
    return list(chosen.entries)
