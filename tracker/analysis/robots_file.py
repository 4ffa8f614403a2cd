"""One robots.txt as the ``robots`` command shows it: the fetch, the parse, and each agent's stance and verdicts, as a
:class:`~tracker.records.robots.RobotsReport`. Pure, and light (no store, no HTTP client), so ``robots FILE``
starts at once."""

from __future__ import annotations

from collections.abc import Sequence

from tracker.fetch.outcome import RobotsFetch
from tracker.records.robots import AgentStance, RobotsFetchFacts, RobotsLine, RobotsParseFacts, RobotsReport, UrlVerdict

__all__ = ["robots_report"]


def robots_report(
    fetch: RobotsFetch, agents: Sequence[tuple[str, str | None, str | None]], urls: Sequence[str]
) -> RobotsReport:
    """Everything the ``robots`` command shows: fetch facts, parse facts, and per agent stance and verdicts.

    ``agents`` are (token, company, purpose). URLs are normalised with RFC 9309 percent-encoding before matching.
    """
    rules = fetch.rules
    out_agents = []
    for token, company, purpose in agents:
        st = fetch.stance(token, rules)
        verdicts = []
        for u in urls:
            if fetch.status == "ok":
                v = rules.verdict(token, u, escape=True)
                verdicts.append(UrlVerdict(u, v.path, v.allowed, str(v.rule) if v.rule else None, v.line))
            else:
                verdicts.append(UrlVerdict(u, None, st.root_allowed))
        out_agents.append(
            AgentStance(
                agent=token,
                company=company,
                purpose=purpose,
                stance=st.stance,
                named=st.named,
                source=st.source,
                root_allowed=st.root_allowed,
                lenient_named=st.lenient_named,
                named_as=tuple(st.named_as),
                deciding_rules=tuple(st.deciding_rules),
                urls=tuple(verdicts),
            )
        )
    return RobotsReport(
        target=fetch.url,
        fetch=RobotsFetchFacts(
            status=fetch.status,
            http_status=fetch.http_status,
            final_url=fetch.final_url,
            redirects=tuple(fetch.redirects),
            bytes=len(fetch.body),
            truncated=fetch.truncated or rules.truncated,
            sha256=fetch.sha256,
            content_type=fetch.content_type,
            error=fetch.error,
        ),
        parse=RobotsParseFacts(
            groups=len(rules.groups),
            rules=rules.rule_count,
            ignored_lines=rules.ignored_lines,
            cut_line=rules.cut_line,
            long_lines=rules.long_lines,
            bom=rules.bom,
            cloudflare_managed=rules.cloudflare_managed,
            sitemaps=tuple(rules.sitemaps),
            records=tuple(RobotsLine(r.key, r.value, r.line, r.group) for r in rules.records if r.key != "sitemap"),
        ),
        agents=tuple(out_agents),
    )
