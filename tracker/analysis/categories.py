"""What kind of site each is — news, social, reference, academic, government, commerce, code, entertainment,
adult, other — from several sources, each label kept with where it came from, and ``unknown`` when none says.

Sources, the most trusted first (the first that has a label wins; the rest stay in ``site_labels``):

- ``user``: a category column in a list the user added (``sites add``), or ``categories import FILE``;
- ``curated``: ``tracker/data/categories.csv``, hand-made for some of the largest sites;
- ``annotation``: the Consent in Crisis study's hand annotations (``categories import FILE --annotations``);
- ``homepage``: the site's own schema.org types (JSON-LD) and ``og:type`` on its crawled homepage;
- ``tld``: government and academic suffixes (``.gov``, ``.gouv.fr``, ``.edu``, ``.ac.uk`` …).

:func:`assign` recomputes every site's category from its labels; the trends' category counts move with it.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from sqlalchemy import Engine

from tracker.errors import SiteListError
from tracker.records.json import JsonObject
from tracker.records.vocabulary import CATEGORIES, LABEL_SOURCES, Category
from tracker.rules.sitelist import normalise_domain
from tracker.store import catalog, queries
from tracker.store.writer import SiteRow, Writer

__all__ = [
    "ANNOTATION_TYPES",
    "Agreement",
    "ImportReport",
    "agreement",
    "annotation_category",
    "assign",
    "coverage",
    "curated",
    "homepage_category",
    "import_labels",
    "tld_category",
]

CURATED_FILE = Path(str(resources.files("tracker") / "data" / "categories.csv"))

_GOV = ("gov", "mil", "gouv", "gob", "govt", "go", "gv", "gub", "int")
_ACADEMIC = ("edu", "ac", "uni", "univ")

#: schema.org types (and og:type values) that say what a site is.
_SCHEMA: dict[str, Category] = {
    "NewsMediaOrganization": "news",
    "NewsArticle": "news",
    "ReportageNewsArticle": "news",
    "AnalysisNewsArticle": "news",
    "OpinionNewsArticle": "news",
    "BackgroundNewsArticle": "news",
    "DiscussionForumPosting": "social",
    "SocialMediaPosting": "social",
    "ProfilePage": "social",
    "CollegeOrUniversity": "academic",
    "EducationalOrganization": "academic",
    "ScholarlyArticle": "academic",
    "GovernmentOrganization": "government",
    "GovernmentService": "government",
    "OnlineStore": "commerce",
    "Store": "commerce",
    "Product": "commerce",
    "Offer": "commerce",
    "SoftwareSourceCode": "code",
    "Movie": "entertainment",
    "MusicGroup": "entertainment",
    "VideoGame": "entertainment",
    "TVSeries": "entertainment",
}
_OG: dict[str, Category] = {
    "product": "commerce",
    "video.movie": "entertainment",
    "video.tv_show": "entertainment",
    "music.song": "entertainment",
    "music.album": "entertainment",
}

#: The reference study's "Type of service" → our category; "Other" and "Company website" fall to the content domain.
ANNOTATION_TYPES: dict[str, Category] = {
    "Periodicals": "news",
    "Encyclopedia/Database": "reference",
    "Academic": "academic",
    "Ecommerce": "commerce",
    "Government": "government",
    "Social Media": "social",
}
#: The columns an annotation file must have (each: its accepted spellings).
_ANNOTATION_COLUMNS: tuple[tuple[str, ...], ...] = (("Domain",), ("Type of service",))
_ANNOTATION_DOMAINS: dict[str, Category] = {
    "News": "news",
    "Technology/Code": "code",
    "Entertainment": "entertainment",
    "E-Commerce": "commerce",
    "Academic": "academic",
    "Government/Policy": "government",
    "Education/Knowledge": "reference",
}


def tld_category(domain: str) -> tuple[Category, str] | None:
    """Government or academic from the public suffix (``.gov``, ``.gov.uk``, ``.gouv.fr``, ``.edu``, ``.ac.jp`` …)."""
    labels = domain.lower().rstrip(".").split(".")
    if len(labels) < 2:
        return None
    tail = labels[-2:] if len(labels[-1]) == 2 else labels[-1:]
    for label in tail:
        if label in _GOV:
            return "government", "." + ".".join(labels[-len(tail) :])
        if label in _ACADEMIC:
            return "academic", "." + ".".join(labels[-len(tail) :])
    return None


def homepage_category(signals: JsonObject | None) -> tuple[Category, str] | None:
    """From a homepage's normalised signals: its schema.org types first, then its og:type."""
    if not signals:
        return None
    types = signals.get("schema_types")
    for t in types if isinstance(types, list) else []:
        if isinstance(t, str) and t in _SCHEMA:
            return _SCHEMA[t], f"schema.org {t}"
    og = signals.get("og_type")
    if isinstance(og, str) and og in _OG:
        return _OG[og], f"og:type {og}"
    return None


def annotation_category(row: Mapping[str, str]) -> tuple[Category, str] | None:
    """A row of the reference study's annotations (``dpi_top2000_c4_annotations.csv``) as a category."""
    if (row.get("Sensitive content: Pornography") or "").upper() == "TRUE":
        return "adult", "annotated pornography"
    kind = (row.get("Type of service") or "").strip()
    if kind in ANNOTATION_TYPES:
        return ANNOTATION_TYPES[kind], kind
    if kind in ("Other", "Company website"):
        domain = (row.get("Content Domain I") or "").strip()
        return _ANNOTATION_DOMAINS.get(domain, "other"), f"{kind}: {domain or 'no content domain'}"
    return None


def curated(path: Path = CURATED_FILE) -> dict[str, Category]:
    """The curated categories (registrable domain → category)."""
    out: dict[str, Category] = {}
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(line for line in fh if not line.startswith("#")):
            domain, _ = normalise_domain(row.get("domain") or "")
            cat = (row.get("category") or "").strip()
            if domain and cat in CATEGORIES:
                out[domain] = cat
    return out


@dataclass(slots=True)
class ImportReport:
    """What importing labels did."""

    source: str
    rows: int = 0
    labelled: int = 0
    new_sites: int = 0
    problems: list[str] = field(default_factory=list)


def import_labels(engine: Engine, path: str | Path, *, annotations: bool = False) -> ImportReport:
    """Import categories: a ``domain,category`` CSV (source ``user``), or the reference study's annotation file
    (source ``annotation``). Sites not tracked yet are added to the store (not to a list). Then :func:`assign`."""
    p = Path(path)
    source = "annotation" if annotations else "user"
    report = ImportReport(source)
    best: dict[str, tuple[float, Category, str]] = {}
    try:
        with p.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            fields = reader.fieldnames or []
            needed = _ANNOTATION_COLUMNS if annotations else (("domain", "Domain"), ("category",))
            missing = [names[0] for names in needed if not any(n in fields for n in names)]
            if missing:
                what = "the annotations (dpi_top2000_…csv)" if annotations else "a domain,category CSV"
                raise SiteListError(
                    f"{p} is not {what}: no {', '.join(repr(m) for m in missing)} column "
                    f"(has {', '.join(repr(f) for f in fields[:12]) or 'no header'})"
                )
            for n, row in enumerate(reader, 2):
                report.rows += 1
                raw = row.get("Domain") or row.get("domain") or ""
                domain, why = normalise_domain(raw)
                if domain is None:
                    report.problems.append(f"line {n}: {raw!r}: {why}")
                    continue
                if annotations:
                    label = annotation_category(row)
                    try:
                        weight = float(row.get("Total Tokens") or 0)
                    except ValueError:
                        weight = 0.0
                    if not math.isfinite(weight):
                        weight = 0.0
                else:
                    cat = (row.get("category") or "").strip().lower()
                    label = (cat, "user list") if cat in CATEGORIES else None
                    weight = 0.0
                    if label is None:
                        report.problems.append(f"line {n}: {cat!r} is not a category ({', '.join(CATEGORIES)})")
                if label is None:
                    continue
                # Several annotated hosts can fold into one registrable domain: the one with most tokens speaks.
                if domain not in best or weight > best[domain][0]:
                    best[domain] = (weight, label[0], label[1])
    except OSError as e:
        raise SiteListError(f"cannot read {p}: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise SiteListError(f"cannot read {p}: not UTF-8 text (byte {e.start}); save it as UTF-8 CSV") from None
    except csv.Error as e:
        raise SiteListError(f"cannot read {p}: not a CSV file ({e})") from None
    writer = Writer(engine)
    known = {s.domain for s in queries.sites_for_weights(engine)}
    ids = writer.ensure_sites([SiteRow(d) for d in best])
    report.new_sites = len(set(best) - known)
    report.labelled = catalog.set_labels(engine, source, {ids[d]: (c, detail) for d, (_, c, detail) in best.items()})
    assign(engine)
    return report


def assign(engine: Engine, *, homepages: bool = True) -> Counter[str]:
    """Recompute every site's category: TLD and curated labels afresh, homepage labels from the current homepage
    versions, then the most trusted label wins; ``unknown`` where none says. Returns the count per category."""
    sites = queries.sites_for_weights(engine)
    by_domain = {s.domain: s.id for s in sites}
    tld = {s.id: lab for s in sites if (lab := tld_category(s.domain))}
    cur = curated()
    catalog.set_labels(engine, "tld", tld)
    catalog.set_labels(
        engine, "curated", {by_domain[d]: (c, "data/categories.csv") for d, c in cur.items() if d in by_domain}
    )
    if homepages:
        home = {}
        for sid, signals in queries.current_signals(engine, "homepage"):
            lab = homepage_category(signals)
            if lab:
                home[sid] = lab
        catalog.set_labels(engine, "homepage", home)
    rank: dict[str, int] = {src: i for i, src in enumerate(LABEL_SOURCES)}
    chosen: dict[int, tuple[int, str]] = {}
    for sid, _domain, source, category, _detail in catalog.label_rows(engine):
        r = rank.get(source, len(rank))
        if sid not in chosen or r < chosen[sid][0]:
            chosen[sid] = (r, category)
    domains = {s.id: s.domain for s in sites}
    Writer(engine).ensure_sites([SiteRow(domains[s.id], category=chosen.get(s.id, (0, "unknown"))[1]) for s in sites])
    return Counter(chosen.get(s.id, (0, "unknown"))[1] for s in sites)


@dataclass(slots=True)
class Agreement:
    """How often our own rules (curated, homepage, tld) agree with the reference annotations where both exist."""

    compared: int = 0
    agree: int = 0
    pairs: Counter[tuple[str, str]] = field(default_factory=Counter)  # (ours, theirs) where they differ

    @property
    def rate(self) -> float:
        """Share of compared sites on which both say the same."""
        return self.agree / self.compared if self.compared else 0.0


def agreement(engine: Engine, ours: Sequence[str] = ("curated", "homepage", "tld")) -> Agreement:
    """Compare our own label (the most trusted of ``ours``) with the annotation label, site by site."""
    labels: dict[int, dict[str, str]] = {}
    for sid, _d, source, category, _detail in catalog.label_rows(engine):
        labels.setdefault(sid, {})[source] = category
    out = Agreement()
    for by_source in labels.values():
        theirs = by_source.get("annotation")
        mine = next((by_source[s] for s in ours if s in by_source), None)
        if theirs is None or mine is None:
            continue
        out.compared += 1
        if mine == theirs:
            out.agree += 1
        else:
            out.pairs[(mine, theirs)] += 1
    return out


def coverage(engine: Engine, domains: Iterable[str]) -> Counter[str]:
    """For these domains: how many have a category from each source that won, and how many are unknown."""
    wanted = set(domains)
    winner: dict[str, str] = {}
    rank: dict[str, int] = {src: i for i, src in enumerate(LABEL_SOURCES)}
    for _sid, domain, source, _category, _detail in catalog.label_rows(engine):
        if domain in wanted and (domain not in winner or rank[source] < rank[winner[domain]]):
            winner[domain] = source
    counts = Counter(winner.values())
    counts["unknown"] = len(wanted) - len(winner)
    return counts
