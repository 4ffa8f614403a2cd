"""robots.txt (RFC 9309) parsing and per-agent evaluation.

Pure: text or bytes in, values out; never raises on any ``str`` or ``bytes`` input. The line syntax and the
matching follow Google's reference parser (google/robotstxt ``robots.cc``), which is what RFC 9309 was written
from; its test-suite and the robotstxt-spec-test conformance cases are the referee (tests/test_robots_google.py).

    rules = parse_robots(text)
    v = rules.verdict("GPTBot", "/some/path?q=1")   # v.allowed, v.named, v.source, v.line
    s = rules.stance("GPTBot")                      # full_block / near_full_block / partial_block / ...

Agents are product tokens (``GPTBot``), compared case-insensitively with the longest ``[A-Za-z_-]`` prefix of
each ``User-agent:`` value, so ``User-agent: GPTBot/1.1`` names GPTBot and ``User-agent: Google`` does not name
Google-Extended. URLs are matched as given, like Google's library: pass them percent-encoded, or call
:func:`escape_path` first (``verdict(..., escape=True)`` does it for you).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal, NamedTuple

from tracker.records.vocabulary import GroupSource, StanceName

__all__ = [
    "PARSER_VERSION",
    "PROBE_PATHS",
    "ROBOTS_MAX_BYTES",
    "Group",
    "Record",
    "RobotsRules",
    "Rule",
    "Stance",
    "UserAgentLine",
    "Verdict",
    "escape_path",
    "extract_token",
    "is_valid_token",
    "parse_robots",
    "path_of",
    "pattern_matches",
]

#: Bump when parsing or evaluation changes, so cached evaluations are recomputed.
PARSER_VERSION = "2"  # 2: a line cut by the 500 KiB limit is dropped, not read as a rule

#: RFC 9309 §2.5: parse at least 500 KiB; Google reads exactly this much.
ROBOTS_MAX_BYTES = 512_000

#: Google's line cap (8 × the 2083-byte URL limit); the rest of a longer line is dropped.
MAX_LINE_BYTES = 2083 * 8 - 1

#: Paths probed to classify a stance (signals.md §1.8).
PROBE_PATHS: tuple[str, ...] = ("/", "/index.html", "/a1b2c3/", "/a1b2c3/x.html", "/?q=1")

Source = GroupSource  # the name this module has always exported

_BOM = b"\xef\xbb\xbf"
_WS = b" \t\n\v\f\r"
_TOKEN_PREFIX = re.compile(rb"[A-Za-z_-]*")
_TOKEN_PREFIX_STR = re.compile(r"[A-Za-z_-]*")
_VALID_TOKEN = re.compile(r"[A-Za-z_-]+")
_HEX = b"0123456789abcdefABCDEF"
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

_DISALLOW_KEYS = (b"disallow", b"dissallow", b"dissalow", b"disalow", b"diasllow", b"disallaw")
_UA_KEYS = (b"user-agent", b"useragent", b"user agent")
_SITEMAP_KEYS = (b"sitemap", b"site-map")
_NARROW_FILES = re.compile(
    r"^/(robots\.txt|llms(-full)?\.txt|ads\.txt|app-ads\.txt|ai\.txt|humans\.txt|security\.txt|favicon\.ico"
    r"|sitemap[^/]*\.xml(\.gz)?|\.well-known/[^/*]+)\$?$",
    re.IGNORECASE,
)


@dataclass(slots=True)  # not frozen: frozen dataclasses are 3x slower to build, and files have thousands of rules
class Rule:
    """One Allow or Disallow line, its value escaped as Google does (non-ASCII → %XX, %xx → %XX)."""

    allow: bool
    pattern: str
    line: int
    implicit: bool = False  # Google's "Allow: /dir/index.html also allows /dir/" rule

    @property
    def priority(self) -> int:
        """The rule's weight in longest-match: its length in octets, wildcards included."""
        return len(self.pattern)

    def matches(self, path: str) -> bool:
        """Whether this rule's pattern matches ``path`` (a path, params and query starting with '/')."""
        return _matcher(self.pattern)(path)

    def __str__(self) -> str:
        return f"{'Allow' if self.allow else 'Disallow'}: {self.pattern}"


@dataclass(slots=True)
class UserAgentLine:
    """A ``User-agent:`` line: what the site wrote and the token a parser derives from it."""

    value: str
    line: int

    @property
    def is_global(self) -> bool:
        """Google: '*' alone or followed by whitespace is the global group."""
        v = self.value
        return bool(v) and v[0] == "*" and (len(v) == 1 or v[1].isspace())

    @property
    def token(self) -> str:
        """The product token under RFC/Google semantics: longest [A-Za-z_-] prefix."""
        return extract_token(self.value)

    @property
    def lenient_token(self) -> str:
        """The whole value cut at the first whitespace or '/': how a lenient reader sees it."""
        return re.split(r"[\s/]", self.value, maxsplit=1)[0]


@dataclass(frozen=True, slots=True)
class Record:
    """A line that is not a group or rule line (Sitemap, Crawl-delay, Content-Signal, Content-Usage, License…).

    ``group`` is the index of the group it stands in, or None before the first ``User-agent`` line.
    """

    key: str
    value: str
    line: int
    group: int | None


@dataclass(slots=True)
class Group:
    """A group: consecutive User-agent lines and the rules that follow them."""

    index: int
    agents: list[UserAgentLine] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)

    @property
    def is_global(self) -> bool:
        """Whether one of the group's User-agent lines is '*'."""
        return any(a.is_global for a in self.agents)


class Verdict(NamedTuple):
    """Whether ``agent`` may fetch ``path``, and why. (A named tuple: immutable, and built at C speed — a crawl
    asks millions of these questions.)"""

    agent: str
    path: str
    allowed: bool
    named: bool  # a group naming the agent applied (False for the '*' group or no group)
    source: Source
    rule: Rule | None  # the deciding rule, None when no rule matched

    @property
    def line(self) -> int | None:
        """Line number of the deciding rule."""
        return self.rule.line if self.rule else None


@dataclass(frozen=True, slots=True)
class Stance:
    """An agent's overall standing in one robots.txt (signals.md §1.8)."""

    agent: str
    stance: StanceName
    named: bool
    source: Source
    root_allowed: bool
    probes: tuple[Verdict, ...]
    lenient_named: bool  # a group names the agent when values are read leniently (whole word before '/')
    named_as: tuple[str, ...]  # the User-agent values, as written, that name the agent
    disallows: tuple[Rule, ...] = ()  # every non-empty Disallow rule of the group(s) that apply, longest first

    @classmethod
    def without_rules(cls, agent: str, stance: Literal["no_robots", "unreachable"]) -> Stance:
        """The stance when there is no robots.txt to read: no_robots (anything goes) or unreachable.

        An unreachable robots.txt means "complete disallow" to an RFC 9309 crawler, so root_allowed is False;
        trend statistics report it apart and never count it as an opt-out.
        """
        return cls(agent, stance, False, "none", stance == "no_robots", (), False, ())

    @property
    def blocked(self) -> bool:
        """The agent may not fetch '/'."""
        return not self.root_allowed

    @property
    def match_mode_disagreement(self) -> bool:
        """Strict and lenient token matching disagree for this agent (e.g. ``User-agent: AI2Bot``)."""
        return self.named != self.lenient_named

    @property
    def deciding_rules(self) -> tuple[str, ...]:
        """The distinct rules that decided the probes, as 'line 3: Disallow: /x'."""
        seen: dict[str, None] = {}
        for p in self.probes:
            if p.rule is not None and not p.rule.implicit:
                seen[f"line {p.rule.line}: {p.rule}"] = None
        if self.stance == "partial_block" and not any(not p.allowed for p in self.probes):
            for r in sorted(self.disallows, key=lambda r: r.line)[:3]:
                seen[f"line {r.line}: {r}"] = None
            if len(self.disallows) > 3:
                seen[f"… {len(self.disallows) - 3} more Disallow rules"] = None
        return tuple(seen)


def extract_token(value: str) -> str:
    """Return the product token a User-agent value names (its longest [A-Za-z_-] prefix)."""
    m = _TOKEN_PREFIX_STR.match(value)
    return m.group(0) if m else ""


def is_valid_token(agent: str) -> bool:
    """Whether ``agent`` is a valid RFC 9309 product token ([A-Za-z_-]+)."""
    return bool(agent) and _VALID_TOKEN.fullmatch(agent) is not None


def _normalise_escapes(raw: bytes, *, rfc: bool) -> str:
    """Percent-encode bytes ≥ 0x80 and upper-case %xx escapes (Google); with ``rfc``, also encode controls and
    spaces and decode escapes of unreserved characters (RFC 9309 §2.2.2)."""
    out = bytearray()
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c == 0x25 and i + 2 < n and raw[i + 1] in _HEX and raw[i + 2] in _HEX:
            byte = int(raw[i + 1 : i + 3], 16)
            if rfc and byte in _UNRESERVED:
                out.append(byte)
            else:
                out += b"%" + raw[i + 1 : i + 3].upper()
            i += 3
            continue
        if c >= 0x80 or (rfc and (c <= 0x20 or c == 0x7F)):
            out += b"%%%02X" % c
        else:
            out.append(c)
        i += 1
    return out.decode("ascii")


def _escape_pattern(raw: bytes) -> str:
    """Google's MaybeEscapePattern: upper-case %xx escapes, percent-encode bytes ≥ 0x80."""
    if raw.isascii() and b"%" not in raw:
        return raw.decode("ascii")
    return _normalise_escapes(raw, rfc=False)


def escape_path(path: str) -> str:
    """Percent-encode a URL path the way RFC 9309 §2.2.2 compares it.

    Octets outside ASCII (and spaces) are encoded as UTF-8 %XX, existing escapes are upper-cased, and escapes
    of unreserved characters (``%41`` → ``A``) are decoded. Idempotent.
    """
    try:
        raw = path.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = path.encode("utf-8", "replace")
    return _normalise_escapes(raw, rfc=True)


_PATH_CACHE: dict[str, str] = {}


def path_of(url: str) -> str:
    """Return the path, params and query of ``url`` (no fragment), starting with '/'. Google's GetPathParamsQuery."""
    path = _PATH_CACHE.get(url)
    if path is None:
        if len(_PATH_CACHE) > 50_000:
            _PATH_CACHE.clear()
        path = _PATH_CACHE[url] = _path_of(url)
    return path


def _path_of(url: str) -> str:
    search_start = 2 if url.startswith("//") else 0
    early_path = _find_first_of(url, "/?;", search_start)
    protocol_end = url.find("://", search_start)
    if protocol_end == -1 or (early_path != -1 and early_path < protocol_end):
        protocol_end = search_start
    else:
        protocol_end += 3
    path_start = _find_first_of(url, "/?;", protocol_end)
    if path_start == -1:
        return "/"
    hash_pos = url.find("#", search_start)
    if hash_pos != -1 and hash_pos < path_start:
        return "/"
    path_end = len(url) if hash_pos == -1 else hash_pos
    path = url[path_start:path_end]
    return path if path.startswith("/") else "/" + path


def pattern_matches(pattern: str, path: str) -> bool:
    """Whether a robots.txt-style path pattern (``*`` wildcards, a final ``$``) matches ``path``, the pattern
    escaped as an Allow/Disallow value is. TDMRep locations and Content-Usage scopes use the same matching."""
    raw = _to_bytes(pattern)
    escaped = _escape_pattern(raw.split(b"#", 1)[0].strip(_WS))
    return bool(escaped) and _matcher(escaped)(path)


def _find_first_of(s: str, chars: str, start: int) -> int:
    best = -1
    for ch in chars:
        i = s.find(ch, start)
        if i != -1 and (best == -1 or i < best):
            best = i
    return best


def _pieces(pattern: str) -> tuple[tuple[str, ...], bool]:
    """A pattern as its '*'-separated literal pieces and whether a final '$' anchors it to the end."""
    anchored = pattern.endswith("$")
    return tuple((pattern[:-1] if anchored else pattern).split("*")), anchored


def _glob(pieces: tuple[str, ...], anchored: bool, path: str) -> bool:
    """Whether a pattern given by its pieces matches ``path`` from its start (no regular expressions).

    The first piece must be a prefix; each middle piece is found leftmost after the previous one (leftmost is
    always a best choice for '*'); with '$' the last piece must end the path, after the others.
    """
    first = pieces[0]
    if not path.startswith(first):
        return False
    if len(pieces) == 1:
        return not anchored or len(path) == len(first)
    pos = len(first)
    last = len(pieces) - 1
    for i in range(1, last):
        piece = pieces[i]
        if piece:
            at = path.find(piece, pos)
            if at == -1:
                return False
            pos = at + len(piece)
    tail = pieces[last]
    if anchored:
        return len(path) - len(tail) >= pos and path.endswith(tail)
    return not tail or path.find(tail, pos) != -1


_MATCHER_CACHE: dict[str, tuple[tuple[str, ...], bool]] = {}


def _matcher(pattern: str):  # type: ignore[no-untyped-def]
    """A predicate over paths for one pattern (its pieces are cached: patterns repeat across files)."""
    compiled = _MATCHER_CACHE.get(pattern)
    if compiled is None:
        if len(_MATCHER_CACHE) > 200_000:
            _MATCHER_CACHE.clear()
        compiled = _MATCHER_CACHE[pattern] = _pieces(pattern)
    pieces, anchored = compiled
    return lambda path: _glob(pieces, anchored, path)


def _to_bytes(body: str | bytes | bytearray | memoryview | None) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        try:
            return body.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            return body.encode("utf-8", "surrogatepass")
    try:
        return bytes(body)
    except Exception:  # pragma: no cover - defensive: never raise on odd input
        return b""


def _strip(b: bytes) -> bytes:
    return b.strip(_WS)


# The common line in one C call: key up to the first ':' (no '#' or NUL before it), value up to '#' or NUL.
_KV = re.compile(rb"([^:#\x00]*):([^#\x00]*)")
_UA, _ALLOW, _DISALLOW, _SITEMAP, _OTHER, _IGNORED, _BLANK = range(7)
# raw line → its lexed form. Real files share most of their lines (CMS defaults, the same AI-agent blocks), so
# caching the lexing makes parsing a million files mostly dict lookups. Bounded; cleared when full.
_LINE_CACHE: dict[bytes, tuple[int, str, str]] = {}


def _lex_line(raw: bytes) -> tuple[int, str, str]:
    """One line → (kind, first, second): UA (value), ALLOW/DISALLOW (pattern, implicit index.html pattern),
    SITEMAP (url), OTHER (lower-case key, value), IGNORED (not understood) or BLANK (blank or comment)."""
    m = _KV.match(raw)
    if m is not None:
        key = m.group(1).strip(_WS)
        value = m.group(2).strip(_WS)
        if not key:
            return (_IGNORED, "", "")
    else:
        kv = _split_key_value(raw)
        if kv is None:
            if _strip(raw.split(b"\x00", 1)[0].split(b"#", 1)[0]):
                return (_IGNORED, "", "")
            return (_BLANK, "", "")
        key, value = kv
    kind = _KEY_KINDS.get(key)
    if kind is None:
        kind = _classify_key(key)
    if kind == _UA or kind == _SITEMAP:
        return (kind, value.decode("utf-8", "replace"), "")
    if kind == _ALLOW or kind == _DISALLOW:
        pattern = value.decode("ascii") if value.isascii() and b"%" not in value else _escape_pattern(value)
        implicit = ""
        if kind == _ALLOW:
            slash = pattern.rfind("/")
            if slash != -1 and pattern.startswith("/index.htm", slash):
                implicit = pattern[: slash + 1] + "$"
        return (kind, pattern, implicit)
    return (_OTHER, key.decode("utf-8", "replace").lower(), value.decode("utf-8", "replace"))


_KEY_KINDS: dict[bytes, int] = {}


def _classify_key(key: bytes) -> int:
    """Google's key matching: case-insensitive prefix, with its accepted typos. Cached per spelling."""
    k = key.lower()
    if k.startswith(_UA_KEYS):
        kind = _UA
    elif k.startswith(b"allow"):
        kind = _ALLOW
    elif k.startswith(_DISALLOW_KEYS):
        kind = _DISALLOW
    elif k.startswith(_SITEMAP_KEYS):
        kind = _SITEMAP
    else:
        kind = _OTHER
    if len(_KEY_KINDS) < 10_000:
        _KEY_KINDS[key] = kind
    return kind


def _split_key_value(line: bytes) -> tuple[bytes, bytes] | None:
    """Google's GetKeyAndValueFrom: comment, strip, split at ':' (or at whitespace if exactly two words)."""
    nul = line.find(b"\x00")
    if nul != -1:
        line = line[:nul]  # a C string ends at NUL
    hash_pos = line.find(b"#")
    if hash_pos != -1:
        line = line[:hash_pos]
    line = _strip(line)
    if not line:
        return None
    sep = line.find(b":")
    if sep == -1:
        parts = line.replace(b"\t", b" ").split()
        if len(parts) != 2:
            return None
        key, value = parts
        return key, value
    key = _strip(line[:sep])
    if not key:
        return None
    return key, _strip(line[sep + 1 :])


class RobotsRules:
    """A parsed robots.txt. Build it with :func:`parse_robots`."""

    def __init__(self) -> None:
        self.groups: list[Group] = []
        self.records: list[Record] = []
        self.lines = 0
        self.ignored_lines = 0  # lines that were neither blank/comment nor understood
        self.long_lines = 0
        self.truncated = False  # the body went past the limit (or was handed over already cut at it)
        self.cut_line: int | None = None  # the line the limit cut in two: dropped, as content after the limit
        self.bom = False
        self.input_bytes = 0
        self.bytes_read = 0
        self.blank = True  # the body holds nothing but whitespace (an empty file: no robots.txt rules at all)
        self.cloudflare_managed = False  # Cloudflare's "managed content" markers are present
        self._cache: dict[str, tuple[Source, _RuleSet]] = {}

    # -- structure -------------------------------------------------------------------------------------------
    @property
    def sitemaps(self) -> list[str]:
        """Sitemap URLs (global records)."""
        return [r.value for r in self.records if r.key == "sitemap"]

    def records_named(self, key: str) -> list[Record]:
        """Records whose key is ``key`` (case-insensitive), e.g. 'content-signal', 'crawl-delay', 'license'."""
        k = key.lower()
        return [r for r in self.records if r.key == k]

    @cached_property
    def rule_count(self) -> int:
        """Number of Allow/Disallow lines (excluding Google's implicit index.html rules)."""
        return sum(1 for g in self.groups for r in g.rules if not r.implicit)

    @property
    def is_empty(self) -> bool:
        """No groups at all: a crawler may fetch anything."""
        return not self.groups

    def agents_named(self) -> list[str]:
        """Every product token that some group names, as written (first spelling), in file order."""
        seen: dict[str, str] = {}
        for g in self.groups:
            for a in g.agents:
                if not a.is_global and a.token:
                    seen.setdefault(a.token.lower(), a.token)
        return list(seen.values())

    # -- evaluation ------------------------------------------------------------------------------------------
    def _index(self) -> tuple[dict[str, tuple[int, ...]], tuple[int, ...]]:
        """token (lower case) → indices of the groups naming it; and the '*' groups' indices."""
        idx = self.__dict__.get("_idx")
        if idx is None:
            named: dict[str, list[int]] = {}
            star: list[int] = []
            for g in self.groups:
                hit_star = False
                for a in g.agents:
                    if a.is_global:
                        hit_star = True
                    elif a.token:
                        lst = named.setdefault(a.token.lower(), [])
                        if not lst or lst[-1] != g.index:
                            lst.append(g.index)
                if hit_star:
                    star.append(g.index)
            idx = ({k: tuple(v) for k, v in named.items()}, tuple(star))
            self.__dict__["_idx"] = idx
        return idx

    def group_index(self, agent: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Indices of the groups naming the agent (a product token, case-insensitive), and of the '*' groups."""
        named, star = self._index()
        return named.get(agent.lower(), ()), star

    def _applicable(self, agent: str) -> tuple[Source, _RuleSet]:
        key = agent.lower()
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        named, star = self._index()
        groups = named.get(key)
        if groups:
            source: Source = "specific"
        elif star:
            source, groups = "wildcard", star
        else:
            source, groups = "none", ()
        # Agents that resolve to the same groups (every agent not named, typically) share one compiled set.
        sets = self.__dict__.setdefault("_sets", {})
        ruleset = sets.get(groups)
        if ruleset is None:
            ruleset = sets[groups] = _RuleSet([r for i in groups for r in self.groups[i].rules])
        result = (source, ruleset)
        self._cache[key] = result
        return result

    def verdict(self, agent: str, url: str = "/", *, escape: bool = False) -> Verdict:
        """Decide whether ``agent`` (a product token) may fetch ``url`` (a URL or a path).

        Longest match wins; Allow wins a tie; a group naming the agent replaces '*' entirely.
        With ``escape=True`` the path is first normalised by :func:`escape_path`.
        """
        path = path_of(url) if url else "/"
        if escape:
            path = escape_path(path)
        source, ruleset = self._applicable(agent)
        rule = ruleset.decide(path)
        allowed = rule is None or rule.allow
        return Verdict(agent, path, allowed, source == "specific", source, rule)

    def allowed(self, agent: str, url: str = "/") -> bool:
        """Whether ``agent`` may fetch ``url``: ``verdict(agent, url).allowed``, without building the Verdict."""
        hit = self._cache.get(agent.lower())
        ruleset = hit[1] if hit is not None else self._applicable(agent)[1]
        rule = ruleset.decide(path_of(url) if url else "/")
        return rule is None or rule.allow

    def _lenient_named(self, agent: str) -> tuple[bool, tuple[str, ...]]:
        key = agent.lower()
        strict: list[str] = []
        lenient = False
        for g in self.groups:
            for a in g.agents:
                if a.is_global:
                    continue
                if a.token.lower() == key:
                    strict.append(a.value)
                if a.lenient_token.lower() == key:
                    lenient = True
        return lenient, tuple(dict.fromkeys(strict))

    def stance(self, agent: str) -> Stance:
        """Classify the agent's standing: full / near-full / partial block, allowed or explicitly allowed."""
        probes = tuple(self.verdict(agent, p) for p in PROBE_PATHS)
        source, ruleset = self._applicable(agent)
        allows, disallows = ruleset.allows, ruleset.disallows
        lenient, named_as = self._lenient_named(agent)
        named = source == "specific"
        root_allowed = probes[0].allowed
        allowed_probes = [p for p in probes if p.allowed]
        if self.blank:
            name: StanceName = "no_robots"
        elif not allowed_probes:
            name = "full_block"
        elif len(allowed_probes) < len(probes) and all(_is_narrow_allow(p) for p in allowed_probes):
            name = "near_full_block"
        elif disallows:
            name = "partial_block"
        elif named and allows:
            name = "explicit_allow"
        else:
            name = "allowed"
        return Stance(agent, name, named, source, root_allowed, probes, lenient, named_as, disallows)


class _RuleSet:
    """The merged rules that apply to an agent, indexed for longest-match lookups.

    Plain prefix patterns (most of them) sit in a dict probed with the prefixes of the path whose lengths some
    pattern has, longest first; '$'-anchored literals in a dict probed with the whole path; only patterns with '*'
    are tried one by one, highest priority first, each only if the path holds its longest literal piece. The winner
    is the matching rule of highest priority, Allow winning a tie (Google's longest match). Empty patterns match
    with priority 0 and never decide, so they are left out.
    """

    __slots__ = ("_disallows", "exact", "lengths", "prefix", "rules", "wild")

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules
        self._disallows: tuple[Rule, ...] | None = None
        self.prefix: dict[str, Rule] = {}
        self.exact: dict[str, Rule] = {}
        wild: list[Rule] = []
        for r in rules:
            p = r.pattern
            if not p:
                continue
            if "*" in p:
                wild.append(r)
            elif p[-1] == "$":
                _keep(self.exact, p[:-1], r)
            else:
                _keep(self.prefix, p, r)
        # Highest priority first; Allow before Disallow at equal priority.
        wild.sort(key=lambda r: (-r.priority, not r.allow))
        self.wild = tuple((r.priority, r.allow, _needle(r.pattern), *_pieces(r.pattern), r) for r in wild)
        self.lengths = sorted({len(p) for p in self.prefix})

    @property
    def allows(self) -> tuple[Rule, ...]:
        """Non-empty Allow rules, in file order."""
        return tuple(r for r in self.rules if r.allow and r.pattern)

    @property
    def disallows(self) -> tuple[Rule, ...]:
        """Non-empty Disallow rules, longest first."""
        if self._disallows is None:
            self._disallows = tuple(
                sorted((r for r in self.rules if not r.allow and r.pattern), key=lambda r: -r.priority)
            )
        return self._disallows

    def decide(self, path: str) -> Rule | None:
        best: Rule | None = None
        prefix = self.prefix
        if prefix:
            lengths = self.lengths
            get = prefix.get
            for i in range(bisect_right(lengths, len(path)) - 1, -1, -1):
                r = get(path[: lengths[i]])
                if r is not None:
                    best = r
                    break
        if self.exact:
            r = self.exact.get(path)
            if r is not None and _beats(r, best):
                best = r
        if self.wild:
            bp = best.priority if best is not None else -1
            for priority, allow, needle, pieces, anchored, rule in self.wild:
                if priority < bp or (priority == bp and not allow):
                    break
                if needle in path and _glob(pieces, anchored, path):
                    if best is None or priority > bp or (allow and not best.allow):
                        best = rule
                    break
        return best


def _needle(pattern: str) -> str:
    """The longest '*'-free piece of a pattern: every path it matches contains this piece."""
    body = pattern[:-1] if pattern.endswith("$") else pattern
    return max(body.split("*"), key=len)


def _keep(index: dict[str, Rule], key: str, rule: Rule) -> None:
    """Index a literal rule; for the same pattern, an Allow wins (a tie), else the first line is kept."""
    old = index.get(key)
    if old is None or (rule.allow and not old.allow):
        index[key] = rule


def _beats(r: Rule, best: Rule | None) -> bool:
    if best is None:
        return True
    return r.priority > best.priority or (r.priority == best.priority and r.allow and not best.allow)


def _is_narrow_allow(v: Verdict) -> bool:
    """An allowed probe counts as 'narrow' when only '/' is allowed, or an Allow rule for a single file did it."""
    if v.rule is None:
        return v.path == "/"
    pattern = v.rule.pattern
    return pattern.endswith("$") or bool(_NARROW_FILES.match(pattern))


def parse_robots(
    body: str | bytes | bytearray | memoryview | None,
    *,
    max_bytes: int = ROBOTS_MAX_BYTES,
    truncated: bool = False,
) -> RobotsRules:
    """Parse a robots.txt body. Never raises; reads the first ``max_bytes`` bytes (default 512,000).

    Content after the limit is ignored, and a line the limit cuts in two is content after it: it is dropped
    (``rules.cut_line`` says which), never read as a shorter rule (``Disallow: /dp/B0B5`` cut to ``Disallow: /``
    would block everything). Pass ``truncated=True`` for a body that was already cut at the limit by whoever
    read it (a capped fetch, a stored body), so its unfinished last line is dropped the same way.
    """
    rules = RobotsRules()
    try:
        _parse_into(rules, _to_bytes(body), max_bytes, truncated)
    except Exception:  # pragma: no cover - the parser is written not to get here; stay pure and total anyway
        rules.ignored_lines += 1
    return rules


def _parse_into(rules: RobotsRules, data: bytes, max_bytes: int, truncated: bool) -> None:
    rules.input_bytes = len(data)
    if len(data) > max_bytes:
        data = data[:max_bytes]
        truncated = True
    if truncated:
        rules.truncated = True
        # A line counts only if its end lies within the limit, whether or not the bytes after it are at hand:
        # a stored (capped) body and the whole file then parse alike.
        end = max(data.rfind(b"\n"), data.rfind(b"\r")) + 1
        if end < len(data):
            rules.cut_line = len(data[:end].splitlines()) + 1
            data = data[:end]
    rules.bytes_read = len(data)
    # Google skips the UTF-8 BOM byte by byte: byte i of the first three is dropped when it equals BOM byte i
    # (its index advances on a mismatch too, so a partial BOM is skipped as well).
    head = data[:3]
    if head and any(head[i] == _BOM[i] for i in range(len(head))):
        kept = bytes(b for i, b in enumerate(head) if b != _BOM[i])
        rules.bom = head.startswith(_BOM[:1])
        data = kept + data[3:]
    rules.blank = not data.strip(_WS)
    rules.cloudflare_managed = b"cloudflare managed" in data[:65536].lower()

    groups = rules.groups
    records = rules.records
    current: Group | None = None
    in_rules = False  # an Allow/Disallow line was seen since the last User-agent line
    line_no = 0
    cache = _LINE_CACHE
    for raw in data.splitlines():  # bytes split only at \r, \n and \r\n, as Google's parser does
        line_no += 1
        if not raw:
            continue
        if len(raw) > MAX_LINE_BYTES:
            raw = raw[:MAX_LINE_BYTES]
            rules.long_lines += 1
        lexed = cache.get(raw)
        if lexed is None:
            lexed = _lex_line(raw)
            if len(raw) <= 512:
                if len(cache) >= 200_000:
                    cache.clear()
                cache[raw] = lexed
        kind, first, second = lexed
        if kind == _UA:
            if current is None or in_rules:
                current = Group(len(groups))
                groups.append(current)
                in_rules = False
            current.agents.append(UserAgentLine(first, line_no))
        elif kind == _ALLOW or kind == _DISALLOW:
            if current is None:
                rules.ignored_lines += 1  # rules before the first User-agent line (RFC: ignore)
                continue
            in_rules = True
            if kind == _ALLOW:
                current.rules.append(Rule(True, first, line_no))
                if second:  # Google: Allow: /dir/index.html also allows /dir/
                    current.rules.append(Rule(True, second, line_no, implicit=True))
            else:
                current.rules.append(Rule(False, first, line_no))
        elif kind == _SITEMAP:
            records.append(Record("sitemap", first, line_no, None))
        elif kind == _OTHER:
            records.append(Record(first, second, line_no, current.index if current is not None else None))
        elif kind == _IGNORED:
            rules.ignored_lines += 1
    rules.lines = line_no
