"""Exports: the latest state of every site (JSONL or CSV), a public interface documented in the README.

One record per site with a robots.txt observation::

    {"domain": "example.com", "fetched_at": "2026-11-26T12:00:00+00:00", "robots_status": "ok",
     "http_status": 200, "final_url": null, "error": null,
     "agents": {"GPTBot": {"allowed_root": false, "named": true, "stance": "full_block"}, ...}}

``robots_status`` is the fetch status class (ok, no_robots, blocked_4xx, unreachable, network_error,
redirect_loop, soft404_html, empty); for every status but ``ok`` the agents' stance is ``no_robots`` (nothing
restricted) or ``unreachable`` (RFC 9309: complete disallow; never counted as allowed or blocked).
CSV flattens the agents into ``<token>.allowed_root``, ``<token>.named`` and ``<token>.stance`` columns, and
neutralises cells that a spreadsheet would read as a formula.
"""

from __future__ import annotations

import csv
import json
import zlib
from collections.abc import Iterator
from typing import IO, Any

from sqlalchemy import Engine, bindparam, select

from tracker import signals as sig
from tracker.agents import AgentRegistry
from tracker.crawl import UNREACHABLE
from tracker.evaluate import load_evaluations
from tracker.robots import RobotsRules, parse_robots
from tracker.store.models import Body, Site, Version

__all__ = ["csv_safe", "latest_records", "write_latest"]

_versions = Version.__table__  # type: ignore[attr-defined]
_sites = Site.__table__  # type: ignore[attr-defined]
_bodies = Body.__table__  # type: ignore[attr-defined]


def csv_safe(value: object) -> object:
    """Neutralise spreadsheet formula injection: text must not start with = + - @ or a tab/CR."""
    if isinstance(value, str) and value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


def _body(content: bytes | None, compression: str | None) -> bytes | None:
    if content is None:
        return None
    return zlib.decompress(content) if compression == "zlib" else bytes(content)


def site_signals(
    rules: RobotsRules | None, resources: dict[str, tuple[str, bytes | None, str | None, str | None]]
) -> dict[str, Any]:
    """The export's per-site ``signals`` from the parsed robots.txt and the current versions of the other
    resources: kind → (status, body, signals JSON, headers)."""
    # Not fetched is not "no": a resource never observed (an archive import, --resources robots) gives null.
    home = "homepage" in resources
    home_status, _, home_json, home_headers = resources.get("homepage", ("absent", None, None, None))
    page = json.loads(home_json) if home_json else {}
    headers = json.loads(home_headers) if home_headers else {}
    entries = list(page.get("meta_robots", [])) + list(page.get("x_robots_tag", []))
    generic = sig.ai_directives([e for e in entries if not e.get("ua_scope")])
    tdm_status, tdm_body, _, _ = resources.get("tdmrep", ("absent", None, None, None))
    tdm_file = sig.tdmrep_file(tdm_body if tdm_status == "ok" else None)
    tdm = sig.tdm_effective(
        sig.tdm_for_path(tdm_file["rules"], "/"), page.get("tdm_header", {}), page.get("tdm_meta", {})
    )
    star = sig.content_signals_for(rules, "*")["star"] if rules is not None else {}
    header_cs = sig.content_signal(page.get("content_signal_header") or "")
    usage = sig.content_usage_for(rules, "*") if rules is not None else {}
    header_cu = sig.content_usage(page.get("content_usage_header") or "")
    for k, v in header_cu.items():
        if k in sig.AIPREF_LABELS:
            usage[k] = "n" if "n" in (v, usage.get(k)) else v
    licenses = sig.rsl_license_urls(rules, headers, {"rsl": [r for r in page.get("rsl", []) if "url" in r]})
    licenses += [{"url": u, "location": "link_header"} for u in page.get("link_header_license", [])]
    ai_status, ai_body, _, _ = resources.get("ai_txt", ("absent", None, None, None))
    llms_status, llms_body, _, _ = resources.get("llms_txt", ("absent", None, None, None))
    ai = sig.ai_txt(ai_body if ai_status == "ok" else None)
    return {
        "noai": generic["noai"] if home else None,
        "noimageai": generic["noimageai"] if home else None,
        "noarchive": generic["noarchive"] if home else None,
        "tdm_reservation": tdm["reservation"],
        "tdm_policy": tdm["policy"],
        "content_signal": {**{k: v for k, v in star.items() if not k.startswith("_")},
                           **{k: v for k, v in header_cs.items() if not k.startswith("_")}},
        "content_usage": {k: v for k, v in usage.items() if k in sig.AIPREF_LABELS},
        "rsl_license": licenses[0]["url"] if licenses else None,
        "rsl": _rsl(resources.get("rsl")),
        "ai_txt": bool(ai.get("present")) if "ai_txt" in resources else None,
        "ai_txt_stance": ai.get("stance"),
        "llms_txt": bool(sig.llms_txt(llms_body if llms_status == "ok" else None).get("present"))
        if "llms_txt" in resources
        else None,
        "tos": _tos(resources.get("terms"), page.get("tos_link")),
        "homepage_status": home_status,
    }  # fmt: skip


def _site_optout_sources(signals: dict[str, Any]) -> list[str]:
    """Use-preference sources that say "no training" to every agent (signals.md §11)."""
    out = []
    if signals["content_signal"].get("ai-train") == "no":
        out.append("content_signal")
    if signals["content_usage"].get("train-ai") == "n":
        out.append("content_usage")
    if signals["noai"]:
        out.append("noai")
    if signals["tdm_reservation"]:
        out.append("tdmrep")
    if signals["ai_txt_stance"] == "full_optout":
        out.append("ai_txt")
    if (signals.get("rsl") or {}).get("training") == "prohibited":
        out.append("rsl")
    if (signals.get("tos") or {}).get("ai_training") == "prohibited":
        out.append("tos")
    return out


def _use_preferences(
    agents: dict[str, dict[str, Any]],
    signals: dict[str, Any],
    rules: RobotsRules | None,
    resources: dict[str, tuple[str, bytes | None, str | None, str | None]],
) -> None:
    """Add each agent's use preference beside its crawl permission: a site can be crawlable yet say no training.

    ``training_optout_sources`` are the site-wide sources plus what is scoped to the agent (a Content-Signal in a
    group naming it, a meta tag or X-Robots-Tag naming it); any one of them means opted out (aipref's rule).
    """
    site_sources = _site_optout_sources(signals)
    named_cs: dict[str, bool] = {}
    if rules is not None:
        # Only groups that carry a Content-Signal line matter; map them to the tokens they name.
        says_no = {
            r.group
            for r in rules.records_named("content-signal")
            if sig.content_signal(r.value).get("ai-train") == "no"
        }
        for g in rules.groups:
            if g.index in says_no:
                for a in g.agents:
                    if not a.is_global and a.token:
                        named_cs[a.token.lower()] = True
    home = resources.get("homepage")
    page = json.loads(home[2]) if home and home[2] else {}
    scoped = [e for e in list(page.get("meta_robots", [])) + list(page.get("x_robots_tag", [])) if e.get("ua_scope")]
    for token, entry in agents.items():
        sources = list(site_sources)
        if named_cs.get(token.lower()) and "content_signal" not in sources:
            sources.append("content_signal")
        if scoped and sig.ai_directives(scoped, token)["noai"] and "noai" not in sources:
            sources.append("noai")
        entry["training_optout"] = bool(sources)
        entry["training_optout_sources"] = sources


def _rsl(rsl: tuple[str, bytes | None, str | None, str | None] | None) -> dict[str, Any] | None:
    if rsl is None or rsl[0] == "absent":
        return None
    status, body, _, _ = rsl
    if status != "ok":
        return {"status": status}
    doc = sig.rsl_document(body)
    return {k: doc.get(k) for k in ("status", "permits", "prohibits", "payments", "training")}


#: signals.md §9.3 labels (stored) → the export's vocabulary: prohibited / conditional / unrestricted / unknown.
_TOS_EXPORT = {"prohibited": "prohibited", "conditional": "conditional", "permitted_explicitly": "unrestricted",
               "not_mentioned": "unrestricted", "tos_not_found": "unknown"}  # fmt: skip


def _tos(terms: tuple[str, bytes | None, str | None, str | None] | None, declared: str | None) -> dict[str, Any]:
    if terms is None:  # never looked for: unknown
        return {"url": declared, "scraping": "unknown", "ai_training": "unknown", "evidence": None}
    status, _, sj, _ = terms
    info = json.loads(sj) if sj else {}
    if status != "ok":
        return {"url": info.get("url") or declared, "scraping": "unknown", "ai_training": "unknown",
                "evidence": None, "found": False}  # fmt: skip
    return {"url": info.get("url"), "scraping": _TOS_EXPORT.get(info.get("scraping", ""), "unknown"),
            "ai_training": _TOS_EXPORT.get(info.get("ai_training", ""), "unknown"),
            "evidence": info.get("evidence"), "flags": info.get("flags", []), "found": True}  # fmt: skip


def latest_records(engine: Engine, registry: AgentRegistry, *, domain: str | None = None) -> Iterator[dict[str, Any]]:
    """The current state of every site: robots.txt status, each registry agent's verdict for '/' and stance, and
    the site's other signals."""
    tokens = [a.token for a in registry]
    evals = load_evaluations(engine, tokens)
    c = _versions.c
    b = _bodies.c
    q = (
        select(_sites.c.domain, c.last_seen, c.status, c.http_status, c.ruleset_id, c.final_url, c.error,
               c.site_id, b.content, b.compression, b.truncated)
        .select_from(_versions.join(_sites, _sites.c.id == c.site_id).outerjoin(_bodies, b.id == c.body_id))
        .where(c.kind == "robots", c.valid_to.is_(None))
        .order_by(_sites.c.rank.is_(None), _sites.c.rank, _sites.c.domain)
    )  # fmt: skip
    if domain is not None:
        q = q.where(_sites.c.domain == domain)
    others = (
        select(c.kind, c.status, c.signals, c.headers, b.content, b.compression)
        .select_from(_versions.outerjoin(_bodies, b.id == c.body_id))
        .where(c.site_id == bindparam("sid"), c.kind != "robots", c.valid_to.is_(None))
    )
    with engine.connect() as conn, engine.connect() as side:
        for domain, last_seen, status, http_status, rid, final_url, error, sid, content, compression, cut in conn.execute(q):
            resources = {
                kind: (st, _body(body, comp), sj, hj)
                for kind, st, sj, hj, body, comp in side.execute(others, {"sid": sid})
            }
            agents: dict[str, dict[str, Any]] = {}
            for token in tokens:
                if status == "ok" and rid:
                    ev = evals[token.lower()].get(rid)
                    allowed, named, stance = ev if ev else (True, False, "allowed")
                elif status in UNREACHABLE:
                    allowed, named, stance = False, False, "unreachable"
                else:
                    allowed, named, stance = True, False, "no_robots"
                agents[token] = {"allowed_root": allowed, "named": named, "stance": stance}
            robots_body = _body(content, compression) if status == "ok" else None
            rules = parse_robots(robots_body, truncated=bool(cut)) if robots_body is not None else None
            signals = site_signals(rules, resources)
            _use_preferences(agents, signals, rules, resources)
            yield {
                "domain": domain,
                "fetched_at": last_seen.isoformat() if last_seen else None,
                "robots_status": status,
                "http_status": http_status,
                "final_url": final_url,
                "error": error,
                "agents": agents,
                "signals": signals,
            }


def write_latest(engine: Engine, registry: AgentRegistry, out: IO[str], fmt: str = "jsonl") -> int:
    """Write the latest-state export as JSONL or CSV; return the number of records."""
    n = 0
    if fmt == "jsonl":
        for rec in latest_records(engine, registry):
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
            n += 1
        return n
    if fmt != "csv":
        raise ValueError(f"format must be jsonl or csv, not {fmt!r}")
    tokens = [a.token for a in registry]
    w = csv.writer(out)
    base = ["domain", "fetched_at", "robots_status", "http_status", "final_url", "error"]
    sig_cols = ["noai", "noimageai", "tdm_reservation", "content_signal", "content_usage", "rsl_license", "ai_txt",
                "llms_txt", "tos_url"]  # fmt: skip
    w.writerow(
        base
        + [f"signals.{k}" for k in sig_cols]
        + [f"{t}.{k}" for t in tokens for k in ("allowed_root", "named", "stance", "training_optout")]
    )
    for rec in latest_records(engine, registry):
        row = [csv_safe(rec[k]) for k in base]
        s = rec["signals"]
        row += [s["noai"], s["noimageai"], s["tdm_reservation"],
                csv_safe(",".join(f"{k}={v}" for k, v in sorted(s["content_signal"].items()))),
                csv_safe(",".join(f"{k}={v}" for k, v in sorted(s["content_usage"].items()))),
                csv_safe(s["rsl_license"] or ""), s["ai_txt"], s["llms_txt"],
                csv_safe(s["tos"]["url"] or "")]  # fmt: skip
        for t in tokens:
            a = rec["agents"][t]
            row += [a["allowed_root"], a["named"], a["stance"], a["training_optout"]]
        w.writerow(row)
        n += 1
    return n


def site_history(engine: Engine, registry: AgentRegistry, domain: str, agents: list[str]) -> dict[str, Any] | None:
    """Everything known about one site: its current state, and every version of every resource with what it
    meant for the given agents (robots.txt) or which signals it carried (other resources)."""
    with engine.connect() as conn:
        sid = conn.execute(select(_sites.c.id).where(_sites.c.domain == domain)).scalar()
        if sid is None:
            return None
        site = conn.execute(select(_sites).where(_sites.c.id == sid)).mappings().one()
        c = _versions.c
        rows = conn.execute(
            select(c.kind, c.status, c.http_status, c.ruleset_id, c.signals, c.first_seen, c.last_seen, c.valid_to,
                   c.observations, c.source, c.error)
            .where(c.site_id == sid)
            .order_by(c.kind, c.first_seen)
        ).all()  # fmt: skip
    evals = load_evaluations(engine, agents)
    history = []
    for r in rows:
        entry: dict[str, Any] = {
            "kind": r.kind, "status": r.status, "http_status": r.http_status,
            "from": r.first_seen.isoformat(), "until": r.valid_to.isoformat() if r.valid_to else None,
            "last_seen": r.last_seen.isoformat(), "observations": r.observations, "source": r.source,
            "error": r.error,
        }  # fmt: skip
        if r.kind == "robots":
            entry["agents"] = {}
            for a in agents:
                ev = evals[a.lower()].get(r.ruleset_id) if r.status == "ok" and r.ruleset_id else None
                if ev is not None:
                    entry["agents"][a] = ev[2]
                else:
                    entry["agents"][a] = "unreachable" if r.status in UNREACHABLE else "no_robots"
        elif r.signals:
            entry["signals"] = json.loads(r.signals)
        history.append(entry)
    current = next(latest_records(engine, registry, domain=domain), None)
    return {"site": {k: site[k] for k in ("domain", "rank", "category", "list_source")}, "current": current,
            "history": history}  # fmt: skip
