"""Knowledge-base types: what the matcher returns. The matcher API lives in bot.kb.matcher."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.vocab import Category, Owner, Severity


@dataclass(slots=True, frozen=True)
class KBEntry:
    """One code entry from a manual, a standard, a phrasing list or an operator."""

    key: str  # stable id, e.g. "alfen:210" or "ocpp16:GroundFailure" or "runtime:17"
    vendor: str | None  # canonical vendor name; None for standards / cross-vendor phrasings
    code: str | None  # the code as the manual writes it
    category: Category
    severity: Severity
    owner: Owner
    meaning: str  # plain English, one or two sentences
    action: str  # what to do first, concretely
    escalation: str | None = None  # what to do if the first action does not help
    source: str = ""  # manual + version, "observed in the field", or "taught by U123 on ..."
    models: tuple[str, ...] = ()  # model patterns this entry is scoped to (empty = all)
    firmware: str | None = None  # firmware range spec, None = all
    aliases: tuple[str, ...] = ()
    phrasings: tuple[str, ...] = ()
    suppress: bool = False  # advisory/phantom by nature (e.g. an informational code)
    ocpp_error_code: str | None = None  # the OCPP 1.6 errorCode this code usually arrives with


@dataclass(slots=True)
class MatchQuery:
    vendor: str | None = None  # as the charger sent it (BootNotification vendor or vendorId)
    model: str | None = None
    firmware: str | None = None
    code: str | None = None  # vendorErrorCode / techCode
    info: str | None = None  # info / techInfo
    error_code: str | None = None  # OCPP 1.6 errorCode, or "component/variable" for 2.x


@dataclass(slots=True)
class Match:
    entry: KBEntry | None  # None = nothing known (an honest unknown)
    confidence: float  # 0..1
    # "exact", "normalized", "bitmask", "fuzzy", "phrasing", "standard", "none", or
    # "vendor_standard": the errorCode, answered from the vendor's own entry for it
    method: str
    evidence: list[str] = field(default_factory=list)
    vendor: str | None = None  # canonical vendor resolved from the query, if any
    ambiguous: tuple[str, ...] = ()  # vendors that share the code when the vendor is unknown
    # decomposed bitmask entries (a code that is a sum of bits), or the entries of the codes
    # in a multi-code value (`F12,F31`)
    parts: tuple[KBEntry, ...] = ()
    # another maker's reading of the code, for a charger that names a maker we do not know:
    # shown labelled, never used for category, owner or confidence
    hint: str | None = None
    # the maker whose manual answered although the charger named no maker (a guess)
    borrowed_from: str | None = None
