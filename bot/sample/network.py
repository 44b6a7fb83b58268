"""The sample network: sites and chargers, with the identity strings real chargers send.

Vendor, model and firmware strings are the ones seen in BootNotifications in the
field (shared domain notes, oem-codes §23); where no real string is known the model
name is plain (e.g. the Wallbox Quasar).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Site:
    name: str
    address: str
    timezone: str


@dataclass(frozen=True, slots=True)
class Charger:
    id: str
    site: str
    vendor: str
    model: str
    firmware: str
    version: str = "1.6"  # "1.6", "2.0.1" or "2.1"
    connectors: int = 1
    dc: bool = False
    heartbeat: int = 900  # seconds, from the BootNotification reply
    declared: bool = True  # False: lines carry no "ocpp" field (version is inferred)
    zoneless: bool = False  # payload timestamps without a zone (a firmware quirk)


SITES = (
    Site("Depot North", "Lagerstraße 12, 13355 Berlin, DE", "Europe/Berlin"),
    Site("Harbour Retail Park", "Am Sandtorkai 40, 20457 Hamburg, DE", "Europe/Berlin"),
    Site("Riverside Garage", "Oostelijke Handelskade 8, 1019 BM Amsterdam, NL", "Europe/Amsterdam"),
    Site("Airport Fast Hub", "Lufthavnsboulevarden 6, 2770 Kastrup, DK", "Europe/Copenhagen"),
    Site("Lakeside Hotel", "Seestrasse 101, 8002 Zürich, CH", "Europe/Zurich"),
)

_ABB22 = ("ABB", "CDT_TACW22::NET_WIFI", "TAC3Z9119006710273::V1.8.21")
_ABB11 = ("ABB", "CDT_TACW11::NET_WIFI", "TAC3Z9119006710273::V1.8.21")
_ALFEN = ("Alfen BV", "NG910-60023", "6.5.0-4217")
_ALFEN_DUAL = ("Alfen BV", "EVe-dual", "5.8.1-4123")
_ZAPTEC = ("Zaptec", "Zaptec Go OCPP", "2.1.0.4")
_KEBA = ("Keba AG", "KC-P30-ESS400C2-E0R", "P30 v 3.10.16")
_AUTEL = ("Autel", "MaxiChargerAC", "PFA0102|V0.00.00|V1.38.00||2.4.3.0")

CHARGERS = (
    # Depot North: ABB and Alfen wallboxes on one supply
    Charger("CP-001", "Depot North", *_ABB22),
    Charger("CP-002", "Depot North", *_ABB11, heartbeat=1800),
    Charger("CP-003", "Depot North", *_ABB22),
    Charger("CP-004", "Depot North", *_ALFEN_DUAL, connectors=2),
    Charger("CP-005", "Depot North", *_ALFEN),
    Charger("CP-006", "Depot North", *_ALFEN, heartbeat=1800),
    Charger("CP-007", "Depot North", *_ABB11),
    Charger("CP-008", "Depot North", *_ABB22),
    # Harbour Retail Park: Zaptec and KEBA
    Charger("CP-009", "Harbour Retail Park", *_ZAPTEC),
    Charger("CP-010", "Harbour Retail Park", *_ZAPTEC),
    Charger("CP-011", "Harbour Retail Park", *_ZAPTEC),
    Charger("CP-012", "Harbour Retail Park", *_KEBA, declared=False),
    Charger("CP-013", "Harbour Retail Park", *_ZAPTEC, heartbeat=1800),
    Charger("CP-014", "Harbour Retail Park", *_KEBA),
    Charger("CP-015", "Harbour Retail Park", *_KEBA),
    Charger("CP-016", "Harbour Retail Park", *_KEBA),
    # Riverside Garage: Alfen, Autel, one Wallbox Quasar
    Charger("CP-017", "Riverside Garage", *_ALFEN),
    Charger("CP-018", "Riverside Garage", *_AUTEL),
    Charger("CP-019", "Riverside Garage", *_AUTEL, declared=False),
    Charger("CP-020", "Riverside Garage", *_ALFEN),
    Charger("CP-021", "Riverside Garage", *_AUTEL),
    Charger("CP-022", "Riverside Garage", "Wall Box Chargers", "Quasar", "5.5.10", heartbeat=1800),
    Charger("CP-023", "Riverside Garage", *_ALFEN),
    # Airport Fast Hub: DC chargers, the OCPP 2.0.1 and 2.1 ones
    Charger("CP-024", "Airport Fast Hub", "Tritium", "RTM75", "v2.3.2", dc=True, heartbeat=300),
    Charger(
        "CP-025",
        "Airport Fast Hub",
        "Pionix",
        "BelayBox",
        "2024.9.0",
        connectors=2,
        dc=True,
        heartbeat=300,
    ),
    Charger(
        "CP-026",
        "Airport Fast Hub",
        "Tritium",
        "PKM150",
        "1.4.12",
        version="2.0.1",
        connectors=2,
        dc=True,
        heartbeat=300,
    ),
    Charger(
        "CP-027", "Airport Fast Hub", "Tritium", "TRI93-50-01", "v2.3.2", dc=True, heartbeat=300
    ),
    Charger(
        "CP-028",
        "Airport Fast Hub",
        "Kempower",
        "S-Series",
        "1.32.0",
        version="2.0.1",
        dc=True,
        heartbeat=300,
        declared=False,
    ),
    Charger(
        "CP-029",
        "Airport Fast Hub",
        "Autel",
        "MaxiChargerDC",
        "V1.20.01",
        connectors=2,
        dc=True,
        heartbeat=300,
    ),
    Charger(
        "CP-030",
        "Airport Fast Hub",
        "Alpitronic",
        "HYC300",
        "2.1.4",
        version="2.1",
        connectors=2,
        dc=True,
        heartbeat=300,
    ),
    # Lakeside Hotel: mixed AC
    Charger("CP-031", "Lakeside Hotel", "Schneider Electric", "MONOBLOCK", "3.4.0.12"),
    Charger("CP-032", "Lakeside Hotel", "Schneider Electric", "MONOBLOCK", "3.4.0.12"),
    Charger("CP-033", "Lakeside Hotel", "Legrand", "GreenUp Premium", "1.3.6", heartbeat=1800),
    Charger("CP-034", "Lakeside Hotel", "ebee", "Berlin", "5.32.1-16488"),
    Charger("CP-035", "Lakeside Hotel", *_ALFEN, version="2.0.1"),
    Charger("CP-036", "Lakeside Hotel", *_ABB22, zoneless=True),
)

BY_ID = {c.id: c for c in CHARGERS}
