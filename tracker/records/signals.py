"""Signal readings: what a parser of tracker.rules.signals read from one file or header. Each is what the parser
returns; :meth:`as_dict` is its JSON shape (the one stored and printed before these records existed), and
:meth:`from_dict` reads it back.

    TdmRule, TdmRepFile   /.well-known/tdmrep.json (W3C TDMRep): its rules in array order
    TdmReading            TDMRep for a page: file < header < HTML meta
    AiTxt                 Spawning's ai.txt
    RslDocument           an RSL license document: usages for '/', payments, a training verdict
    LlmsTxt               llms.txt
"""

from __future__ import annotations

from dataclasses import dataclass

from tracker.records.json import Json, JsonObject

__all__ = ["AiTxt", "LlmsTxt", "RslDocument", "TdmReading", "TdmRepFile", "TdmRule"]


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
