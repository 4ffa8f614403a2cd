"""Site lists: read a CSV (a ``domain`` column, optional ``rank`` and ``category``) or one domain per line, and
normalise each entry to a registrable domain (IDNs to punycode, lower case, public-suffix aware).

Parsing is pure: text in, sites and problems out. Bad lines are reported with their line number, never fatal.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from tracker.config.defaults import TRANCO_URL
from tracker.errors import SiteListError

__all__ = [
    "TRANCO_URL",
    "SiteEntry",
    "SiteList",
    "normalise_domain",
    "normalise_host",
    "parse_site_list",
    "read_site_list",
]


_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_DOMAIN_COLUMNS = ("domain", "url", "host", "site")


@dataclass(frozen=True, slots=True)
class SiteEntry:
    """One site to crawl."""

    domain: str
    rank: int | None = None
    category: str | None = None
    line: int = 0


@dataclass(slots=True)
class SiteList:
    """Parsed sites, in list order, and what was wrong with the rest."""

    sites: list[SiteEntry] = field(default_factory=list)
    duplicates: list[tuple[int, str]] = field(default_factory=list)
    invalid: list[tuple[int, str, str]] = field(default_factory=list)  # (line, text, why)

    @property
    def problems(self) -> list[str]:
        """Human-readable lines about skipped entries."""
        out = [f"line {n}: {text!r}: {why}" for n, text, why in self.invalid]
        out += [f"line {n}: {d} is listed again (kept the first)" for n, d in self.duplicates]
        return out

    def top(self, n: int) -> list[SiteEntry]:
        """The first ``n`` sites by rank (list order where ranks are missing)."""
        ranked = sorted(self.sites, key=lambda s: (s.rank is None, s.rank or 0, s.line))
        return ranked[:n]


@lru_cache(maxsize=1)
def _psl():  # type: ignore[no-untyped-def]
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def normalise_host(name: str) -> tuple[str | None, str]:
    """A host name in lower-case ASCII (IDNs to punycode); (None, reason) when it is not a valid host name."""
    s = name.strip().rstrip(".").lower()
    if not s:
        return None, "no host name"
    if len(s) > 253:
        return None, "longer than 253 characters"
    try:
        s = s.encode("idna").decode("ascii")
    except UnicodeError:
        return None, "not a valid internationalised domain name"
    labels = s.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return None, "not a valid domain name"
    if labels[-1].isdigit():
        return None, "an IP address, not a domain"
    return s, ""


def normalise_domain(text: str) -> tuple[str | None, str]:
    """Normalise a domain, host or URL to its registrable domain; return (domain or None, reason if None)."""
    s = text.strip().strip('"').strip()
    if not s:
        return None, "empty"
    if "://" in s:
        s = urlsplit(s).hostname or ""
    else:
        s = s.split("/", 1)[0].split("?", 1)[0]
        if s.count(":") == 1:
            s = s.split(":", 1)[0]  # host:port
    host, why = normalise_host(s)
    if host is None:
        return None, why
    registrable = _psl().privatesuffix(host)
    if registrable is None:
        return None, "a public suffix, not a registrable domain"
    return registrable, ""


def parse_site_list(text: str) -> SiteList:
    """Parse a site list: CSV with a header naming a domain column, or one domain per line (# comments)."""
    out = SiteList()
    seen: dict[str, int] = {}
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")), "")
    header = [h.strip().lower() for h in next(csv.reader([first]))] if first else []
    if any(h in _DOMAIN_COLUMNS for h in header):
        col = next(h for h in header if h in _DOMAIN_COLUMNS)
        reader = csv.DictReader(io.StringIO(text))
        reader.fieldnames = [f.strip().lower() for f in (reader.fieldnames or [])]
        for row in reader:
            n = reader.line_num
            raw = (row.get(col) or "").strip()
            rank_raw = (row.get("rank") or "").strip()
            rank: int | None = None
            if rank_raw:
                try:
                    rank = int(rank_raw)
                except ValueError:
                    out.invalid.append((n, rank_raw, "rank is not a whole number"))
                    continue
            _add(out, seen, n, raw, rank, (row.get("category") or "").strip() or None)
        return out
    # Tranco-style "rank,domain" without a header, or one domain per line.
    for n, line in enumerate(lines, 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        parts = [p.strip() for p in s.split(",")]
        if len(parts) == 2 and parts[0].isdigit():
            _add(out, seen, n, parts[1], int(parts[0]), None)
        elif len(parts) == 1:
            _add(out, seen, n, parts[0], None, None)
        else:
            out.invalid.append((n, s[:200], "expected one domain per line, or a CSV with a 'domain' column"))
    return out


def read_site_list(path: str | Path, *, top: int | None = None) -> tuple[list[SiteEntry], SiteList]:
    """Read a site list file: the sites to use (the ``top`` best-ranked, or all) and the parsed list with its
    problems. Raises :class:`SiteListError` when the file cannot be read or holds no valid domain."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise SiteListError(f"cannot read {p}: {e.strerror or e}") from None
    # A file that is not text is refused whole: decoding it leniently would keep junk "domains" from its bytes.
    if b"\x00" in data:
        raise SiteListError(f"{p} is not a text file (it holds NUL bytes): give a CSV or one domain a line")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise SiteListError(f"{p} is not UTF-8 text (byte {e.start}): save it as UTF-8") from None
    parsed = parse_site_list(text)
    entries = parsed.top(top) if top else parsed.sites
    if not entries:
        raise SiteListError(f"no valid domains in {p}")
    return entries, parsed


def _add(out: SiteList, seen: dict[str, int], n: int, raw: str, rank: int | None, category: str | None) -> None:
    domain, why = normalise_domain(raw)
    if domain is None:
        out.invalid.append((n, raw[:200], why))
        return
    if domain in seen:
        out.duplicates.append((n, domain))
        return
    seen[domain] = n
    out.sites.append(SiteEntry(domain, rank, category, n))
