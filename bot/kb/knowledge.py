"""The loaded knowledge base: vendors, code entries, cross-vendor phrasings, model quirks."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from bot.kb.normalize import CodeFormat, clean, symbol_key
from bot.kb.reader import Lexicon
from bot.kb.scope import in_firmware_range, model_matches
from bot.kb.types import KBEntry
from bot.kb.vendors import VendorNames, VendorResolver
from bot.vocab import Category, Owner, Severity

OCPP16_ERROR_CODES = (
    "ConnectorLockFailure", "EVCommunicationError", "GroundFailure", "HighTemperature",
    "InternalError", "LocalListConflict", "NoError", "OtherError", "OverCurrentFailure",
    "PowerMeterFailure", "PowerSwitchFailure", "ReaderFailure", "ResetFailure",
    "UnderVoltage", "OverVoltage", "WeakSignal",
)  # fmt: skip
UNINFORMATIVE_ERROR_CODES = frozenset({"othererror", "noerror"})  # say nothing about the cause


class QuirkKind(StrEnum):
    BOOT_FAULT_WINDOW = "boot_fault_window"  # Faulted soon after boot is phantom
    DEGRADED_NOT_DOWN = "degraded_not_down"  # reported Faulted but still charges
    FAULT_WHILE_CHARGING_ADVISORY = "fault_while_charging_advisory"
    NOT_A_FAULT = "not_a_fault"
    INVALID_ERROR_CODE = "invalid_error_code"  # sends an errorCode outside the 1.6 enum


@dataclass(frozen=True, slots=True)
class VendorSpec:
    name: str
    sends: tuple[str, ...]
    models: tuple[str, ...]
    code_format: CodeFormat
    notes: str = ""
    source: str = ""
    file: str = ""
    scheme: bool = False  # a standards/ file (ChargeX, EVerest...): any maker's firmware may use it


@dataclass(frozen=True, slots=True)
class PhrasingBlock:
    """One cross-vendor phrasing block; `entry` is its meaning/action as a KBEntry."""

    entry: KBEntry
    phrases: tuple[str, ...]
    not_phrases: tuple[str, ...] = ()

    @property
    def category(self) -> Category:
        return self.entry.category

    @property
    def severity(self) -> Severity:
        return self.entry.severity

    @property
    def owner(self) -> Owner:
        return self.entry.owner


@dataclass(frozen=True, slots=True)
class Quirk:
    id: str
    vendor: str
    models: tuple[str, ...]
    firmware: str | None
    kind: QuirkKind
    window_s: int | None
    codes: tuple[str, ...]
    explanation: str
    source: str


@dataclass(slots=True)
class KnowledgeBase:
    entries: list[KBEntry]
    vendors: dict[str, VendorSpec]
    phrasings: list[PhrasingBlock]
    quirks: list[Quirk]
    lexicon: Lexicon | None = None  # the code-text reader's vocabulary (knowledge/lexicon.yaml)
    standards: dict[str, KBEntry] = field(default_factory=dict)  # symbol_key(code) -> entry
    locations: dict[str, tuple[str, int]] = field(default_factory=dict)  # key -> (file, line)
    root: Path | None = None
    # What load_knowledge read this base from (its bot.diskcache key); None for a base
    # built or changed in code. The matcher caches its index under it (cached_index).
    source_key: str | None = field(default=None, init=False, repr=False, compare=False)
    _resolver: VendorResolver = field(init=False, repr=False)
    _by_vendor: dict[str, list[KBEntry]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._resolver = VendorResolver(
            VendorNames(v.name, v.sends, v.models) for v in self.vendors.values()
        )
        self._by_vendor = {}
        for entry in self.entries:
            if entry.vendor is not None:
                self._by_vendor.setdefault(entry.vendor, []).append(entry)

    def resolve_vendor(self, sent: str | None, model: str | None = None) -> str | None:
        """Canonical vendor for a sent vendor string (or, failing that, the model)."""
        return self._resolver.resolve(sent, model)[0]

    def resolve_vendor_how(
        self, sent: str | None, model: str | None = None
    ) -> tuple[str | None, str]:
        return self._resolver.resolve(sent, model)

    def standard(self, error_code: str | None) -> KBEntry | None:
        """The OCPP 1.6 errorCode or 2.x `Component/Variable` entry, case-insensitively."""
        if not error_code:
            return None
        return self.standards.get(symbol_key(clean(error_code, 120)))

    def entries_for(self, vendor: str) -> list[KBEntry]:
        return self._by_vendor.get(vendor, [])

    def quirks_for(
        self, vendor: str | None, model: str | None, firmware: str | None
    ) -> list[Quirk]:
        """Quirks of this vendor that apply to this model/firmware.

        A quirk scoped to models or firmware needs the charger's model/firmware to be
        known and in scope: quirks suppress or reinterpret faults, so they need evidence.
        """
        if not vendor:
            return []
        canonical = vendor if vendor in self.vendors else self.resolve_vendor(vendor, model)
        if canonical is None:
            return []
        model_c, firmware_c = clean(model, 100), clean(firmware, 100)
        out = []
        for quirk in self.quirks:
            if quirk.vendor != canonical:
                continue
            if quirk.models and not (model_c and model_matches(quirk.models, model_c)):
                continue
            if quirk.firmware and in_firmware_range(quirk.firmware, firmware_c) is not True:
                continue
            out.append(quirk)
        return out
