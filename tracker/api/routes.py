"""The endpoints: each parses its parameters (named as the service's), calls one use case of
:mod:`tracker.service`, and answers the result's own JSON document — the one ``--format json`` prints — with the
data version's ``ETag``, ``Cache-Control`` and, for a page of a longer list, a ``Link`` to the next page."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from tracker import service
from tracker.api.answers import Answer, Answers, etag_matches
from tracker.errors import NotFoundError, ParameterError
from tracker.records.vocabulary import CHANGE_TYPES, SIGNAL_NAMES, Freq, GroupBy, Purpose, Rule, Weighting

__all__ = ["router"]

router = APIRouter()

_JSON: dict[str, Any] = {"application/json": {}}
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": 'Bad input: `{"error": {"status", "message", "parameter"}}`'},
    404: {"description": "Unknown site (or path)"},
    503: {"description": "The database cannot be read now"},
}
_OK: dict[int | str, dict[str, Any]] = {
    200: {"description": "The same JSON document as the CLI's `--format json`", "content": _JSON},
    304: {"description": "Not modified (`If-None-Match` named the current `ETag`)"},
    **_ERRORS,
}


def _dumps(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def _marked(engine: Any, document: Any) -> Any:
    """A document of the store's data as the CLI prints it: marked when the data is the demo's simulated data."""
    return service.mark_simulated(document, service.is_simulated(engine))


async def _answer(request: Request, compute: Callable[[], Answer], *, offset: int = 0, limit: int = 0) -> Response:
    """The answer to this request at the data's current version: 304 if the client has it, else from the cache or
    computed once; with its ETag, Cache-Control and the next page's link."""
    answers: Answers = request.app.state.answers
    max_age: int = request.app.state.options.max_age
    version = await answers.version()
    key = f"{request.url.path}?{request.url.query}"
    headers = {
        "ETag": answers.etag(version.tag, key),
        "Cache-Control": f"public, max-age={max_age}" if max_age > 0 else "no-cache",
    }
    if etag_matches(request.headers.get("if-none-match"), headers["ETag"]):
        return Response(status_code=304, headers=headers)
    answer = await answers.get(version.tag, key, compute)
    if answer.more:
        nxt = request.url.include_query_params(offset=offset + limit, limit=limit)
        headers["Link"] = f'<{nxt}>; rel="next"'
    return Response(answer.body, media_type="application/json", headers=headers)


def _values(request: Request, parameter: str, values: list[str] | None, alias: list[str] | None) -> list[str] | None:
    """A repeatable parameter (``agents``, or its one-item spelling ``agent``, as the CLI's ``--agent``), capped."""
    found = [*(values or []), *(alias or [])]
    cap: int = request.app.state.options.max_values
    if len(found) > cap:
        raise ParameterError(f"{parameter}: at most {cap} values, not {len(found)}", parameter)
    return found or None


def _known_agents(request: Request, agents: list[str] | None) -> None:
    """Agents the registry does not know are an error here (the CLI reads them as unnamed tokens, with a warning:
    an API's caller sees no warning, and an empty series would read as 'nobody blocks it')."""
    registry = request.app.state.registry
    unknown = [a for a in agents or [] if a != "*" and a not in registry]
    if unknown:
        raise ParameterError(
            f"agents: {unknown[0]!r} is not in the agent registry (GET /v1/agents lists them)", "agents"
        )


AgentsQ = Annotated[
    list[str] | None,
    Query(description="Agent tokens, as the registry spells them (repeatable; the CLI's `--agent`)."),
]
AgentQ = Annotated[list[str] | None, Query(description="One-item spelling of `agents` (as the CLI's `--agent`).")]
SinceQ = Annotated[str | None, Query(description="First day, YYYY-MM-DD.", max_length=10)]
UntilQ = Annotated[str | None, Query(description="Last day, YYYY-MM-DD.", max_length=10)]
CategoryQ = Annotated[str | None, Query(description="Only sites of this category.", max_length=64)]
OffsetQ = Annotated[int, Query(ge=0, le=10_000_000, description="Skip this many first (a page's start).")]


@router.get("/v1", operation_id="index", summary="The API's endpoints and the data's version", responses=_ERRORS)
async def _index(request: Request) -> dict[str, Any]:
    """What this API serves, and which data it answers from (the version its ETags are tied to)."""
    version = await request.app.state.answers.version()
    return {
        "name": "consent-tracker",
        "data": version.as_dict(),
        "endpoints": ["/v1/trends", "/v1/sites/{domain}", "/v1/changes", "/v1/agents", "/v1/forecast"],
        "openapi": "/openapi.json",
        "docs": "/docs",
    }


@router.get("/", include_in_schema=False)
async def _root(request: Request) -> dict[str, Any]:
    return await _index(request)


@router.get(
    "/v1/trends", operation_id="trends", summary="Restriction over time (or adoption of signals)", responses=_OK
)
async def _trends(
    request: Request,
    agents: AgentsQ = None,
    agent: AgentQ = None,
    freq: Annotated[Freq, Query(description="The period of each row.")] = Freq.month,
    since: SinceQ = None,
    until: UntilQ = None,
    by: Annotated[GroupBy, Query(description="One row per agent, or per company or purpose.")] = GroupBy.agent,
    rule: Annotated[Rule, Query(description="A group counts when any of its agents is blocked, or all.")] = Rule.any,
    category: CategoryQ = None,
    lists: Annotated[list[str] | None, Query(description="Only the sites of these tracked lists.")] = None,
    list_: Annotated[list[str] | None, Query(alias="list", description="One-item spelling of `lists`.")] = None,
    weight: Annotated[Weighting, Query(description="What a site counts for: 1, its tokens, or 1/rank.")] = (
        Weighting.none
    ),
    weight_column: Annotated[str | None, Query(description="Stored token weight column.", max_length=64)] = None,
    max_age: Annotated[int, Query(ge=0, le=36500, description="Days a site counts after its last observation.")] = 90,
    signals: Annotated[list[str] | None, Query(description="Adoption of these signals instead.")] = None,
    signal: Annotated[list[str] | None, Query(description="One-item spelling of `signals`.")] = None,
    limit: Annotated[int | None, Query(ge=1, description="Rows per page (default and most: 5,000).")] = None,
    offset: OffsetQ = 0,
) -> Response:
    """`consent-tracker trends --format json`: per period, the sites blocking each agent (named or via `*`), or
    adopting each signal; with each group's definition."""
    rows_max: int = request.app.state.options.rows_max
    if limit is not None and limit > rows_max:
        raise ParameterError(f"limit must be between 1 and {rows_max}, not {limit}", "limit")
    page = limit or rows_max
    tokens = _values(request, "agents", agents, agent)
    in_lists = _values(request, "lists", lists, list_)
    names = _values(request, "signals", signals, signal)
    since_d, until_d = service.parse_month_or_day(since, "since"), service.parse_month_or_day(until, "until", end=True)
    engine, registry = request.app.state.engine, request.app.state.registry
    if names:
        bad = [s for s in names if s not in SIGNAL_NAMES]
        if bad:
            raise ParameterError(f"signals: {bad[0]!r} is not one of {', '.join(SIGNAL_NAMES)}", "signals")

        def compute() -> Answer:
            found = service.signal_trends(
                engine, signals=names, freq=freq, since=since_d, until=until_d, category=category, max_age=max_age
            )
            part, more = found.page(offset, page)
            return Answer(_dumps(_marked(engine, part.as_dict())), more)

    else:
        _known_agents(request, tokens)

        def compute() -> Answer:
            found = service.trends(
                engine,
                registry,
                agents=tokens,
                freq=freq,
                since=since_d,
                until=until_d,
                by=by,
                rule=rule,
                category=category,
                lists=in_lists,
                weight=weight,
                weight_column=weight_column,
                max_age=max_age,
            )
            part, more = found.page(offset, page)
            return Answer(_dumps(_marked(engine, part.as_dict())), more)

    return await _answer(request, compute, offset=offset, limit=page)


@router.get(
    "/v1/sites/{domain}", operation_id="site", summary="One site now, and what each version changed", responses=_OK
)
async def _site(
    request: Request,
    domain: Annotated[str, Path(description="The site, as crawled or imported (e.g. nytimes.com).", max_length=253)],
    agents: AgentsQ = None,
    agent: AgentQ = None,
) -> Response:
    """`consent-tracker site DOMAIN --format json`: its current state, each agent's stance and training
    preference, and every version of every resource."""
    tokens = _values(request, "agents", agents, agent)
    _known_agents(request, tokens)
    engine, registry = request.app.state.engine, request.app.state.registry

    def compute() -> Answer:
        return Answer(_dumps(_marked(engine, service.site(engine, registry, domain, agents=tokens).as_dict())))

    return await _answer(request, compute)


@router.get("/v1/changes", operation_id="changes", summary="What changed, newest first", responses=_OK)
async def _changes(
    request: Request,
    since: SinceQ = None,
    until: UntilQ = None,
    site: Annotated[str | None, Query(description="Only this site.", max_length=253)] = None,
    agents: AgentsQ = None,
    agent: AgentQ = None,
    category: CategoryQ = None,
    signals: Annotated[list[str] | None, Query(description="Only these: robots (stances) or a signal.")] = None,
    signal: Annotated[list[str] | None, Query(description="One-item spelling of `signals`.")] = None,
    changes: Annotated[list[str] | None, Query(description="Only these types: " + ", ".join(CHANGE_TYPES))] = None,
    change: Annotated[list[str] | None, Query(description="One-item spelling of `changes`.")] = None,
    limit: Annotated[int | None, Query(description="Events per page (default 200, the CLI's; at most 1,000).")] = None,
    offset: OffsetQ = 0,
) -> Response:
    """`consent-tracker changes --format json`: each site's new stance per agent and each signal adopted or dropped
    (with the robots.txt diff), restrictions and reversals apart, newest first; paged."""
    options = request.app.state.options
    page = options.changes_limit if limit is None else limit
    if not 1 <= page <= options.changes_max:
        raise ParameterError(f"limit must be between 1 and {options.changes_max}, not {limit}", "limit")
    tokens = _values(request, "agents", agents, agent)
    kinds = _values(request, "signals", signals, signal)
    types = _values(request, "changes", changes, change)
    since_d, until_d = service.parse_month_or_day(since, "since"), service.parse_month_or_day(until, "until", end=True)
    _known_agents(request, tokens)
    bad = [s for s in kinds or [] if s != "robots" and s not in SIGNAL_NAMES]
    if bad:
        raise ParameterError(f"signals: {bad[0]!r} is not robots nor one of {', '.join(SIGNAL_NAMES)}", "signals")
    engine = request.app.state.engine

    def compute() -> Answer:
        if site is not None and not service.has_site(engine, site):
            raise NotFoundError(f"{site} is not in the database (crawl or import it first)")
        found = service.changes(
            engine,
            since=since_d,
            until=until_d,
            site=site,
            agents=tokens,
            category=category,
            signals=kinds,
            changes=types,
            limit=page,
            diffs=True,  # as the CLI's JSON
            offset=offset,
        )
        if found.unfollowed_agents:
            a = found.unfollowed_agents[0]
            raise ParameterError(
                f"agents: {a} is not one of the agents change events follow (the core panel); "
                f"/v1/sites/{{domain}}?agents={a} reads its history",
                "agents",
            )
        return Answer(_dumps(_marked(engine, found.as_dict())), found.more)

    return await _answer(request, compute, offset=offset, limit=page)


@router.get("/v1/agents", operation_id="agents", summary="The AI user agents the tracker knows", responses=_OK)
async def _agents(
    request: Request,
    purpose: Annotated[Purpose | None, Query(description="training, search, user or control.")] = None,
    company: Annotated[str | None, Query(description="Only this company's agents.", max_length=100)] = None,
) -> Response:
    """`consent-tracker agents list --format json`: each agent's registry entry."""
    registry = request.app.state.registry

    def compute() -> Answer:
        if company is not None and not len(service.agents(registry, company=company)):
            raise NotFoundError(f"no agents of a company named {company!r} in the registry")
        return Answer(_dumps(service.agents(registry, purpose=purpose, company=company).as_json()))

    return await _answer(request, compute)


@router.get(
    "/v1/forecast",
    operation_id="forecast",
    summary="When public human text runs out, adjusted for consent",
    responses=_OK,
)
async def _forecast(
    request: Request,
    projection: Annotated[str | None, Query(description="Demand: historical, compute or pooled.", max_length=16)] = (
        None
    ),
    overtraining: Annotated[float | None, Query(gt=0, le=1000, description="× tokens per parameter.")] = None,
    draws: Annotated[int | None, Query(description="Monte Carlo draws (100 to 20,000).")] = None,
    seed: Annotated[int | None, Query(ge=0, le=2**32 - 1, description="Random seed.")] = None,
) -> Response:
    """`consent-tracker forecast --format json`: the run-out with and without the consent adjustment, the restricted
    share's forecast, and the synthetic gap. (Parameter files and `--set` stay on the command line.)"""
    cap: int = request.app.state.options.max_draws
    if draws is not None and not 100 <= draws <= cap:
        raise ParameterError(f"draws must be between 100 and {cap:,}, not {draws:,}", "draws")
    engine, registry = request.app.state.engine, request.app.state.registry

    def compute() -> Answer:
        found = service.forecast(
            engine, registry, projection=projection, overtraining=overtraining, draws=draws, seed=seed
        )
        return Answer(_dumps(_marked(engine, found.as_dict())))

    return await _answer(request, compute)
