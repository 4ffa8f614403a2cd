"""Signal readings: what a parser of tracker.rules.signals read from one file or header. Each is what the parser
returns; :meth:`as_dict` is its JSON shape (the one stored and printed before these records existed), and
:meth:`from_dict` reads it back.

    TdmRule, TdmRepFile   /.well-known/tdmrep.json (W3C TDMRep): its rules in array order
    TdmReading            TDMRep for a page: file < header < HTML meta
    AiTxt                 Spawning's ai.txt
    RslDocument           an RSL license document: usages for '/', payments, a training verdict
    LlmsTxt               llms.txt
    LicenseLink           where an RSL license is declared: robots.txt, a Link header, an HTML link
    RobotsDirectives      one meta robots tag or X-Robots-Tag value: its directives, generic or for one agent
    ContentSignal         a Content-Signal value (Cloudflare): search=yes, ai-train=no …
    ContentUsage          an aipref Content-Usage value: train-ai=n …
    TosReading            terms of service classified on two axes, scraping and AI training
    TermsPage             a terms page's stored signals: where it is, its text's hash, its reading
    PageSignals           a homepage's stored signals: its tags and headers, as the store keeps them

``PageSignals`` and ``TermsPage`` are what homepage and terms versions are made of: the store keeps their
``as_dict()`` and :meth:`from_dict` reads any version stored since (missing keys read as "nothing said").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tracker.records.json import Json, JsonObject

__all__ = [
    "AiTxt",
    "ContentSignal",
    "ContentUsage",
    "LicenseLink",
    "LlmsTxt",
    "PageSignals",
    "RobotsDirectives",
    "RslDocument",
    "TdmReading",
    "TdmRepFile",
    "TdmRule",
    "TermsPage",
    "TosReading",
]


def _texts(value: Json | JsonObject) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, Mapping) else {}


def _objs(value: Json) -> tuple[JsonObject, ...]:
    return tuple(v for v in value if isinstance(v, dict)) if isinstance(value, list) else ()


def _str(value: Json) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Json) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _strs(value: Json) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


@dataclass(frozen=True, slots=True)
class TdmRule:
    """One rule of a tdmrep.json: a location (robots.txt pattern), the reservation (1: reserved, 0: not; None:
    unreadable) and the policy URL."""

    location: str
    reservation: int | None
    policy: str | None = None

    def as_dict(self) -> dict[str, Json]:
        """As stored: {location, reservation, policy}."""
        return {"location": self.location, "reservation": self.reservation, "policy": self.policy}

    @classmethod
    def from_dict(cls, d: JsonObject) -> TdmRule:
        """Read back :meth:`as_dict`."""
        return cls(str(d.get("location", "")), _int(d.get("reservation")), _str(d.get("policy")))


@dataclass(frozen=True, slots=True)
class TdmRepFile:
    """A tdmrep.json as read: ``status`` valid | invalid | html | empty | absent, its rules, whether it was read
    leniently (values as strings, locations without '/'), and why it is invalid when it is not JSON at all."""

    status: str
    rules: tuple[TdmRule, ...] = ()
    lenient: bool = False
    error: str | None = None

    def as_dict(self) -> dict[str, Json]:
        """{status, rules, lenient} (+ error when there is one)."""
        out: dict[str, Json] = {
            "status": self.status,
            "rules": [r.as_dict() for r in self.rules],
            "lenient": self.lenient,
        }
        if self.error is not None:
            out["error"] = self.error
        return out

    @classmethod
    def from_dict(cls, d: JsonObject) -> TdmRepFile:
        """Read back :meth:`as_dict`."""
        rules = d.get("rules")
        return cls(
            status=str(d.get("status", "absent")),
            rules=tuple(TdmRule.from_dict(r) for r in rules if isinstance(r, dict)) if isinstance(rules, list) else (),
            lenient=bool(d.get("lenient")),
            error=_str(d.get("error")),
        )


@dataclass(frozen=True, slots=True)
class TdmReading:
    """TDMRep for one page: reserved or not (None: no layer says), the policy, and the deciding layer (file,
    header or meta)."""

    reservation: bool | None
    policy: str | None
    source: str | None

    def as_dict(self) -> dict[str, Json]:
        """{reservation, policy, source}."""
        return {"reservation": self.reservation, "policy": self.policy, "source": self.source}


@dataclass(frozen=True, slots=True)
class AiTxt:
    """Spawning's ai.txt: present or not, its format (spawning | markdown | other | html), the stance
    (full_optout | by_filetype | allowed; None when it cannot say) and the file types it disallows."""

    present: bool
    format: str | None = None
    stance: str | None = None
    types: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Json]:
        """{present, format, stance, types}."""
        return {"present": self.present, "format": self.format, "stance": self.stance, "types": list(self.types)}

    @classmethod
    def from_dict(cls, d: JsonObject) -> AiTxt:
        """Read back :meth:`as_dict`."""
        return cls(bool(d.get("present")), _str(d.get("format")), _str(d.get("stance")), _strs(d.get("types")))


@dataclass(frozen=True, slots=True)
class RslDocument:
    """An RSL document: ``status`` valid | invalid | absent; for a valid one the usages it permits and prohibits
    for '/', its payment types and a training verdict (prohibited | licensed | permitted | unspecified)."""

    status: str
    permits: tuple[str, ...] | None = None
    prohibits: tuple[str, ...] | None = None
    payments: tuple[str, ...] | None = None
    training: str | None = None

    def as_dict(self) -> dict[str, Json]:
        """{status} (+ permits, prohibits, payments, training when valid)."""
        if self.status != "valid":
            return {"status": self.status}
        return {
            "status": self.status,
            "permits": list(self.permits or ()),
            "prohibits": list(self.prohibits or ()),
            "payments": list(self.payments or ()),
            "training": self.training,
        }

    @classmethod
    def from_dict(cls, d: JsonObject) -> RslDocument:
        """Read back :meth:`as_dict`."""
        status = str(d.get("status", "absent"))
        if status != "valid":
            return cls(status)
        return cls(
            status,
            _strs(d.get("permits")),
            _strs(d.get("prohibits")),
            _strs(d.get("payments")),
            _str(d.get("training")),
        )


@dataclass(frozen=True, slots=True)
class LlmsTxt:
    """llms.txt: present or not (an HTML page or a file without an H1 is not one); when present its title, how
    many sections and links it has, and whether it has an "Optional" section."""

    present: bool
    title: str | None = None
    sections: int | None = None
    links: int | None = None
    has_optional: bool | None = None

    def as_dict(self) -> dict[str, Json]:
        """{present} (+ title, sections, links, has_optional when present)."""
        if not self.present:
            return {"present": False}
        return {
            "present": True,
            "title": self.title,
            "sections": self.sections,
            "links": self.links,
            "has_optional": self.has_optional,
        }

    @classmethod
    def from_dict(cls, d: JsonObject) -> LlmsTxt:
        """Read back :meth:`as_dict`."""
        if not d.get("present"):
            return cls(False)
        optional = d.get("has_optional")
        return cls(
            True,
            _str(d.get("title")),
            _int(d.get("sections")),
            _int(d.get("links")),
            optional if isinstance(optional, bool) else None,
        )


@dataclass(frozen=True, slots=True)
class RobotsDirectives:
    """One meta robots tag (``source`` meta) or X-Robots-Tag value (``header``): its directives in lower case,
    generic (``ua_scope`` None) or for one agent."""

    source: str
    ua_scope: str | None
    directives: tuple[str, ...]

    def as_dict(self) -> dict[str, Json]:
        """{source, ua_scope, directives}."""
        return {"source": self.source, "ua_scope": self.ua_scope, "directives": list(self.directives)}

    @classmethod
    def from_dict(cls, d: JsonObject) -> RobotsDirectives:
        """Read back :meth:`as_dict` (an entry without a source reads as a meta tag)."""
        return cls(str(d.get("source", "meta")), _str(d.get("ua_scope")) or None, _strs(d.get("directives")))


@dataclass(frozen=True, slots=True)
class ContentSignal:
    """A Content-Signal value: each signal's yes/no (and Cloudflare's ``use``, raw), in the order given, and
    whether it used a nonstandard spelling (y/n, allow/disallow)."""

    values: Mapping[str, str] = field(default_factory=dict)
    nonstandard: bool = False

    def get(self, key: str) -> str | None:
        """One signal's value ('yes' / 'no'), or None when not given."""
        return self.values.get(key)

    def as_dict(self) -> dict[str, Json]:
        """{'search': 'yes', 'ai-train': 'no'} (+ '_nonstandard': true)."""
        out: dict[str, Json] = dict(self.values)
        if self.nonstandard:
            out["_nonstandard"] = True
        return out


@dataclass(frozen=True, slots=True)
class ContentUsage:
    """An aipref Content-Usage value: each defined label's y/n (empty when it does not parse), and the labels of
    older drafts, raw."""

    values: Mapping[str, str] = field(default_factory=dict)
    legacy: Mapping[str, str] = field(default_factory=dict)

    def get(self, key: str) -> str | None:
        """One label's value ('y' / 'n'), or None when not given."""
        return self.values.get(key)

    def as_dict(self) -> dict[str, Json]:
        """{'train-ai': 'n'} (+ '_legacy': {...})."""
        out: dict[str, Json] = dict(self.values)
        if self.legacy:
            out["_legacy"] = dict(self.legacy)
        return out


@dataclass(frozen=True, slots=True)
class TosReading:
    """Terms of service on two separate axes, ``scraping`` and ``ai_training``: prohibited, conditional or
    not_mentioned, with the deciding sentences as evidence, and flags (non_compete, eu_tdm_reservation_art4 …)."""

    scraping: str = "not_mentioned"
    ai_training: str = "not_mentioned"
    evidence: Mapping[str, str] = field(default_factory=dict)
    flags: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Json]:
        """{scraping, ai_training, evidence, flags}."""
        return {
            "scraping": self.scraping,
            "ai_training": self.ai_training,
            "evidence": dict(self.evidence),
            "flags": list(self.flags),
        }

    @classmethod
    def from_dict(cls, d: JsonObject) -> TosReading:
        """Read back :meth:`as_dict`."""
        return cls(
            str(d.get("scraping", "not_mentioned")),
            str(d.get("ai_training", "not_mentioned")),
            _texts(d.get("evidence")),
            _strs(d.get("flags")),
        )


@dataclass(frozen=True, slots=True)
class TermsPage:
    """A terms page as its version keeps it: its URL and host, how it was found, its text's hash and its reading
    (``reading`` None: the page was not read — a failed fetch keeps only where it was looked for)."""

    url: str | None
    host: str | None = None
    found_via: str | None = None
    text_sha256: str | None = None
    reading: TosReading | None = None

    def as_dict(self) -> dict[str, Json]:
        """The stored object: {url, found_via, text_sha256, scraping, ai_training, evidence, flags, host}."""
        out: dict[str, Json] = {"url": self.url}
        if self.found_via is not None:
            out["found_via"] = self.found_via
        if self.text_sha256 is not None:
            out["text_sha256"] = self.text_sha256
        if self.reading is not None:
            out |= self.reading.as_dict()
        if self.host is not None:
            out["host"] = self.host
        return out

    @classmethod
    def from_dict(cls, d: JsonObject) -> TermsPage:
        """Read a stored terms version (any shape stored so far)."""
        read = "scraping" in d or "ai_training" in d
        return cls(
            url=_str(d.get("url")),
            host=_str(d.get("host")),
            found_via=_str(d.get("found_via")),
            text_sha256=_str(d.get("text_sha256")),
            reading=TosReading.from_dict(d) if read else None,
        )


@dataclass(frozen=True, slots=True)
class PageSignals:
    """A homepage's signals as its version keeps them: meta robots and X-Robots-Tag entries, the TDMRep meta tags
    and headers, the Content-Signal and Content-Usage headers (raw), RSL links (and hashes of inline documents),
    Link-header licenses, the declared terms link, og:type and schema.org types."""

    meta_robots: tuple[RobotsDirectives, ...] = ()
    x_robots_tag: tuple[RobotsDirectives, ...] = ()
    tdm_meta: Mapping[str, str] = field(default_factory=dict)
    tdm_header: Mapping[str, str] = field(default_factory=dict)
    content_signal_header: str | None = None
    content_usage_header: str | None = None
    #: {"url", "location"} for a linked RSL document, {"location": "html_inline", "sha256"} for an inline one.
    rsl: tuple[Mapping[str, str], ...] = ()
    link_header_license: tuple[str, ...] = ()
    tos_link: str | None = None
    og_type: str | None = None
    schema_types: tuple[str, ...] = ()

    @property
    def directives(self) -> tuple[RobotsDirectives, ...]:
        """Every meta robots and X-Robots-Tag entry."""
        return self.meta_robots + self.x_robots_tag

    @property
    def licenses(self) -> list[str]:
        """The RSL license URLs the page declares: HTML links, then Link headers."""
        return [r["url"] for r in self.rsl if "url" in r] + list(self.link_header_license)

    def as_dict(self) -> dict[str, Json]:
        """The stored object."""
        return {
            "meta_robots": [e.as_dict() for e in self.meta_robots],
            "x_robots_tag": [e.as_dict() for e in self.x_robots_tag],
            "tdm_meta": dict(self.tdm_meta),
            "tdm_header": dict(self.tdm_header),
            "content_signal_header": self.content_signal_header,
            "content_usage_header": self.content_usage_header,
            "rsl": [dict(r) for r in self.rsl],
            "link_header_license": list(self.link_header_license),
            "tos_link": self.tos_link,
            "og_type": self.og_type,
            "schema_types": list(self.schema_types),
        }

    @classmethod
    def from_dict(cls, d: JsonObject) -> PageSignals:
        """Read a stored homepage version (any shape stored so far: missing keys say nothing)."""
        return cls(
            meta_robots=tuple(RobotsDirectives.from_dict(e) for e in _objs(d.get("meta_robots"))),
            x_robots_tag=tuple(
                RobotsDirectives.from_dict({"source": "header", **e}) for e in _objs(d.get("x_robots_tag"))
            ),
            tdm_meta=_texts(d.get("tdm_meta")),
            tdm_header=_texts(d.get("tdm_header")),
            content_signal_header=_str(d.get("content_signal_header")),
            content_usage_header=_str(d.get("content_usage_header")),
            rsl=tuple(_texts(r) for r in _objs(d.get("rsl"))),
            link_header_license=_strs(d.get("link_header_license")),
            tos_link=_str(d.get("tos_link")),
            og_type=_str(d.get("og_type")),
            schema_types=_strs(d.get("schema_types")),
        )


@dataclass(frozen=True, slots=True)
class LicenseLink:
    """Where an RSL license is declared: ``location`` robots_global / robots_group (with the group's index),
    link_header or html_link."""

    url: str
    location: str
    group: int | None = None

    def as_dict(self) -> dict[str, Json]:
        """{url, location} (+ group for a robots.txt line)."""
        out: dict[str, Json] = {"url": self.url, "location": self.location}
        if self.location.startswith("robots"):
            out["group"] = self.group
        return out
