"""Figures about site lists, printed (not asserted): how much a Tranco top-N churns between two lists, and how many
of its sites each category source labels.

    uv run python scripts/site_lists_report.py [--corpus ../shared/corpus] [--top 1000]

Churn compares the two Tranco extracts of the shared corpus (2024-07-01 and 2026-08-01), normalised to registrable
domains as `sites add` would. Category coverage assigns categories in a scratch database from the sources that need
no crawl — curated, the reference study's annotations, TLD rules — (homepage schema.org types come with a crawl) and
reports how often our own rules agree with the annotations.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracker.analysis import categories  # noqa: E402
from tracker.pipeline.tracking import add_sites  # noqa: E402
from tracker.rules.sitelist import parse_site_list  # noqa: E402
from tracker.store import open_store  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--top", type=int, default=1000)
    args = ap.parse_args()
    old = parse_site_list((args.corpus / "tranco_top10k_2024-07-01.csv").read_text()).top(args.top)
    new = parse_site_list((args.corpus / "tranco_top10k_2026-08-01.csv").read_text()).top(args.top)
    a, b = {s.domain for s in old}, {s.domain for s in new}
    print(f"Tranco top {args.top}, 2024-07-01 → 2026-08-01 (registrable domains):")
    print(
        f"  in both: {len(a & b)} ({len(a & b) / len(b):.1%} of the 2026 list); left: {len(a - b)}; "
        f"entered: {len(b - a)}"
    )
    moved = sorted(((abs(s.rank - r.rank), s.domain) for s in new for r in old if s.domain == r.domain), reverse=True)
    print(f"  median rank move of those in both: {sorted(m for m, _ in moved)[len(moved) // 2]} places")
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_store(Path(tmp) / "lists.db")
        add_sites(engine, new, list_name="tranco-top", kind="top", source="tranco 2026-08-01")
        ann = categories.import_labels(engine, args.corpus / "dpi_top2000_c4_annotations.csv", annotations=True)
        counts = categories.assign(engine, homepages=False)
        cov = categories.coverage(engine, [s.domain for s in new])
        agree = categories.agreement(engine)
    print(f"\ncategories of the 2026 top {args.top} (no crawl: curated, annotations, TLD):")
    print("  winning source: " + ", ".join(f"{k} {v} ({v / len(new):.1%})" for k, v in cov.most_common()))
    print(f"  annotations: {ann.labelled} registrable domains labelled from {ann.rows} rows")
    print(
        f"  our rules (curated, TLD) agree with the annotations on {agree.agree} of {agree.compared} sites "
        f"({agree.rate:.0%}); disagreements: "
        + ", ".join(f"ours {m} / theirs {t} {n}" for (m, t), n in agree.pairs.most_common(5))
    )
    every = ", ".join(f"{k} {v}" for k, v in counts.most_common())
    print(f"  categories over every site in the scratch database: {every}")


if __name__ == "__main__":
    main()
