"""Every code example in the domain notes (shared/domain/) is answered correctly.

The expectations below are written from the notes themselves (oem-codes.md tables with
their Who/Sev columns, the README and seed examples, the ChargeX list, the Zaptec bits,
the cross-vendor phrasings of §25 and the identity strings of §23), not read from the
knowledge YAML, so a wrong or missing knowledge entry makes a case fail. Each case runs
`faultbot lookup` semantics: Matcher(load_knowledge()).match(MatchQuery(...)).

Table legend (as in oem-codes.md): Sev SAF/OUT/DEG/ADV; Who is the first actor
(D driver, S site staff, R remote operator, E electrician, V vendor service, - nobody).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.kb.loader import load_knowledge
from bot.kb.matcher import Matcher
from bot.kb.types import Match, MatchQuery
from bot.vocab import Category, Owner, Severity

C = Category
ES, GF, ISO, OC = C.EMERGENCY_STOP, C.GROUND_FAULT, C.ISOLATION_FAULT, C.OVERCURRENT
OV, UV, PL, HT = C.OVER_VOLTAGE, C.UNDER_VOLTAGE, C.POWER_LOSS, C.HIGH_TEMPERATURE
COOL, CL, EVC, PMOD = C.COOLING_FAILURE, C.CONNECTOR_LOCK, C.EV_COMMUNICATION, C.POWER_MODULE
PS, PM, RD, RST = C.POWER_SWITCH, C.POWER_METER, C.READER, C.RESET_FAILURE
CONN, LLC, DOOR, SPD = C.CONNECTIVITY, C.LOCAL_LIST_CONFLICT, C.DOOR_OR_TAMPER, C.SURGE_PROTECTION
CONF, IE, UNK = C.CONFIGURATION, C.INTERNAL_ERROR, C.UNKNOWN

SEV = {"SAF": Severity.SAFETY, "OUT": Severity.OUTAGE, "DEG": Severity.DEGRADED,
       "ADV": Severity.ADVISORY}  # fmt: skip
WHO = {"D": Owner.DRIVER, "S": Owner.SITE_STAFF, "R": Owner.REMOTE_OPERATOR,
       "E": Owner.ELECTRICIAN, "V": Owner.VENDOR_SERVICE, "-": Owner.NONE}  # fmt: skip


@dataclass(frozen=True)
class Case:
    id: str
    query: MatchQuery
    category: Category | None  # None: the notes do not fix the class, only Who/Sev
    sev: str | None = None
    who: str | None = None
    vendor: str | None = None  # canonical vendor whose manual must answer (scope check)


def vendor_rows(
    canonical: str,
    sent: str,
    rows: list[tuple[str, Category | None, str | None, str | None]],
    *,
    model: str | None = None,
    firmware: str | None = None,
    answered_by: str | None = "",
    label: str = "",
) -> list[Case]:
    """One Case per table row: (code, category, Sev, Who) as the notes give them."""
    owner = canonical if answered_by == "" else answered_by
    return [
        Case(
            f"{label or canonical}:{code}",
            MatchQuery(vendor=sent, model=model, firmware=firmware, code=code),
            category,
            sev,
            who,
            owner,
        )
        for code, category, sev, who in rows
    ]


# The tables mirror the notes' rows, so they keep their compact layout.
# fmt: off
# -- oem-codes.md §1-§20: every row of every code table, with the vendor string sent ---------
CASES: list[Case] = []

CASES += vendor_rows("ABB", "ABB", [  # §1 Terra AC bitmask
    ("0x0002", GF, "SAF", "D"), ("0x0004", GF, "SAF", "E"), ("0x0008", OV, "OUT", "E"),
    ("0x0010", UV, "OUT", "E"), ("0x0020", OC, "OUT", "D"), ("0x0040", OC, "SAF", "D"),
    ("0x0080", HT, "DEG", "S"), ("0x0400", PS, "SAF", "V"), ("0x0800", IE, "OUT", "R"),
    ("0x1000", CL, "OUT", "D"), ("0x2000", PL, "DEG", "E"), ("0x4000", CONN, "DEG", "R"),
], model="CDT_TACW22::NET_WIFI", firmware="TAC3Z9119006710273::V1.8.21")

CASES += vendor_rows("Alfen", "Alfen BV", [  # §2 Eve display codes
    ("0", None, "ADV", "-"), ("1", IE, "OUT", "V"), ("2", EVC, "ADV", "D"),
    ("3", EVC, "OUT", "D"), ("4", EVC, "ADV", "D"), ("5", EVC, "ADV", "D"),
    ("6", EVC, "ADV", "D"), ("7", EVC, "ADV", "D"), ("101", GF, "SAF", "D"),
    ("102", PS, "SAF", "V"), ("103", UV, "OUT", "E"), ("104", IE, "OUT", "V"),
    ("105", IE, "OUT", "V"), ("106", IE, "OUT", "V"), ("108", None, "ADV", "V"),
    ("109", None, "ADV", "V"), ("201", CONF, "OUT", "E"), ("202", UV, "OUT", "E"),
    ("203", HT, "DEG", "S"), ("204", CONF, "OUT", "R"), ("206", CONF, "OUT", "R"),
    ("208", None, "ADV", "R"), ("209", None, "ADV", "R"), ("210", CONN, "DEG", "R"),
    ("211", CL, "OUT", "V"), ("212", CONF, "OUT", "E"), ("213", None, "ADV", "-"),
    ("301", None, "ADV", "D"), ("302", None, "ADV", "D"), ("303", None, "ADV", "D"),
    ("304", EVC, "ADV", "D"), ("401", HT, "DEG", "S"), ("402", HT, "DEG", "S"),
    ("404", CL, "ADV", "D"), ("405", EVC, "ADV", "D"), ("406", EVC, "ADV", "D"),
    ("407", None, "ADV", "-"),
], model="NG910-60023", firmware="4.15.7-4054")

ZAPTEC_GO = [  # §3 (vEC bit, category, Sev, Who, exact info)
    ("1", DOOR, "SAF", "S", "Moisture in the charging station"),
    ("2", HT, "DEG", "S", "High temperature, Let charging station cool down"),
    ("4", IE, "OUT", "R", "Temperature sensor error, Try restarting CP"),
    ("8", PM, "DEG", "R", "Emeter communication error"),
    ("16", None, "OUT", "D", "Charging reset too many times, Try reconnecting"),
    ("32", OC, "OUT", "D", "The vehicle has drawn more current than allowed"),
    ("64", EVC, "OUT", "D", "Vehicle communication error, Inspect cable and car"),
    ("128", IE, "OUT", "V", "Low voltage in charge station component"),
    ("256", EVC, "OUT", "D", "Vehicle communication error, Inspect cable and car"),
    ("512", CONF, "OUT", "E", "The charging station has not been fully configured"),
    ("1024", None, "ADV", "-", None),
    ("2048", CONF, "OUT", "R", "Configured as inactive, check zaptec portal"),
    ("4096", GF, "SAF", "D", "Ground fault, Try reconnecting cable"),
    ("8192", GF, "SAF", "D", "Ground fault, Try reconnecting cable"),
    ("65536", GF, "SAF", "V", "Ground fault, Try reconnecting cable"),
    ("131072", GF, "SAF", "V", "Ground fault, Try reconnecting cable"),
    ("262144", GF, "SAF", "V", "Ground fault, Try reconnecting cable"),
    ("1048576", OC, "OUT", "E", "The vehicle has drawn more current than allowed"),
    ("2097152", PS, "SAF", "V", "Relay not configured"),
    ("4194304", GF, "SAF", "E", "Abnormal sypply voltage detected"),
    ("8388608", EVC, "OUT", "D", "Vehicle communication error, Inspect cable and car"),
    ("16777216", PM, "DEG", "E", "Charging station limits have been exceeded"),
    ("33554432", PM, "DEG", "R", "Emeter communication error"),
    ("67108864", IE, "OUT", "V", "Charge output fuse is blown"),
    ("134217728", IE, "OUT", "V", "Charge output fuse is blown"),
    ("268435456", IE, "OUT", "R", "FPGA watchdog triggered"),
    ("536870912", CL, "OUT", "D", "Unable to lock cable to charging station"),
    ("1073741824", PM, "DEG", "V", None),
    ("2147483648", CONF, "OUT", "R", "Incorrect FPGA version"),
]
CASES += [
    Case(f"Zaptec Go:{code}",
         MatchQuery(vendor="Zaptec", model="Zaptec Go OCPP", code=code, info=info),
         category, sev, who, "Zaptec")
    for code, category, sev, who, info in ZAPTEC_GO
]
CASES += [  # §3: on LTE the Go sends a word, not a bit, as vEC
    Case("Zaptec Go:ProhibitedByCommunicationMode",
         MatchQuery(vendor="Zaptec", model="Zaptec Go OCPP", code="ProhibitedByCommunicationMode",
                    info="Switched to LTE. Closing OCPP until WIFI is active",
                    error_code="OtherError"),
         CONN, None, None, "Zaptec"),
]
# Zaptec Pro: same warning names at other bit positions (zaptec_protocol_pro_warnings.h).
CASES += vendor_rows("Zaptec", "zaptec", [
    ("128", PS, "SAF", "V"),  # RELAY_WELDED (Go: 12 V low)
    ("512", IE, "OUT", None),  # FPGA_COM_TIMEOUT (Go: not fully configured)
    ("1048576", CONF, "OUT", None),  # FPGA_VERSION (Go: installation over-current)
    ("4096", GF, "SAF", None),  # RCD_AC
    ("8192", GF, "SAF", None),  # RCD_DC
], model="Zaptec Pro", label="Zaptec Pro")

CASES += vendor_rows("Easee", "Easee", [  # §4 ReasonForNoCurrent
    ("0", None, "ADV", "-"), ("1", CONF, "DEG", "R"), ("2", CONF, "DEG", "R"),
    ("3", CONF, "DEG", "R"), ("4", CONF, "DEG", "E"), ("5", None, "ADV", "-"),
    ("6", None, "ADV", "-"), ("7", CONF, "OUT", "E"), ("8", CONF, "DEG", "R"),
    ("9", CONN, "DEG", "R"), ("10", CONF, "DEG", "R"), ("11", PL, "DEG", "E"),
    ("25", CONF, "DEG", "R"), ("26", CONF, "DEG", "R"), ("27", CONF, "DEG", "R"),
    ("28", CONF, "DEG", "R"), ("29", CONF, "DEG", "R"), ("30", CONF, "DEG", "R"),
    ("50", EVC, "ADV", "D"), ("51", CONF, "DEG", "R"), ("52", CONF, "DEG", "R"),
    ("53", CONF, "OUT", "R"), ("54", None, "ADV", "-"), ("55", RD, "ADV", "D"),
    ("56", IE, "OUT", "V"), ("57", EVC, "DEG", "D"), ("75", None, "ADV", "-"),
    ("76", None, "ADV", "-"), ("77", None, "ADV", "-"), ("78", None, "ADV", "-"),
    ("79", None, "ADV", "-"), ("80", None, "ADV", "-"), ("81", None, "ADV", "-"),
    ("100", None, "ADV", "-"), ("OpMode 5", None, None, "R"),
])

CASES += vendor_rows("KEBA", "Keba AG", [  # §5
    ("0x9001", PS, "OUT", "R"), ("0xa001", PS, "OUT", "R"), ("0xc001", PS, "OUT", "V"),
    ("1", None, "ADV", "D"), ("2", EVC, "ADV", "D"), ("3", HT, "DEG", "S"),
    ("4", CL, "OUT", "D"), ("5", EVC, "OUT", "D"), ("8", IE, "OUT", "V"),
    ("4003", OC, "OUT", "D"), ("8005", GF, "SAF", "D"),
], model="KC-P30-ESS400C2-E0R")

CASES += vendor_rows("Wallbox", "Wall Box Chargers", [  # §6
    ("7", IE, "OUT", "V"), ("9", CONF, "OUT", "E"), ("14", None, "ADV", "R"),
    ("15", None, "ADV", "R"), ("16", None, "ADV", "R"), ("0xE", IE, "OUT", "V"),
    ("0xF", IE, "OUT", "V"), ("0xA2", CONF, "OUT", "E"), ("0xA3", CONF, "OUT", "R"),
], model="PLP1-0-2-4", firmware="5.5.10")
CASES += vendor_rows("Wallbox", "Wall Box Chargers", [  # Quasar states
    ("7", IE, "ADV", "R"), ("9", CONF, "OUT", "E"),
], model="Quasar", label="Wallbox Quasar")

CASES += vendor_rows("ChargePoint", "ChargePoint", [  # §7
    ("IGF", GF, "SAF", "D"), ("GF", GF, "SAF", "D"), ("GMF", GF, "SAF", "E"),
    ("RSO", PS, "OUT", "S"), ("OVRC", OC, "OUT", "D"), ("PLCE", OC, "DEG", "D"),
    ("VBRGF", GF, "SAF", "D"), ("VRBI", OC, "OUT", "D"), ("PVERR", EVC, "OUT", "S"),
    ("STTO", IE, "OUT", "S"), ("FREQ", PL, "OUT", "S"), ("GMERR", GF, "SAF", "S"),
    ("CERR", IE, "OUT", "S"), ("PERR", IE, "OUT", "S"),
    ("urn:fault:koala:input-overvoltage", OV, "OUT", "E"),
    ("urn:fault:koala:input-undervoltage", UV, "OUT", "E"),
    ("urn:fault:koala:unable-provide-ventilation", EVC, "OUT", "D"),
    ("urn:fault:koala:acs-hardware-error", IE, "OUT", "V"),
    ("urn:fault:koala:acb-self-test-fail", IE, "OUT", "V"),
    ("urn:fault:koala:acb-firmware-failed", None, "OUT", "R"),
    ("urn:fault:koala:acb-over-temp", HT, "DEG", "S"),
    ("urn:fault:koala:acb-temp-sensor-error", IE, "DEG", "V"),
    ("urn:fault:koala:acm-temp-sensor-error", IE, "DEG", "V"),
    ("urn:fault:koala:acm-over-temp", HT, "DEG", "S"),
    ("urn:fault:koala:cpcm-over-temp", HT, "DEG", "S"),
    ("urn:fault:koala:bkplt-over-temp", HT, "SAF", "E"),
    ("urn:fault:koala:can-bus-error", PM, "DEG", "V"),
])

CASES += vendor_rows("BTC Power", "BTC Power", [  # §8 shutdown reasons
    ("Normal", None, "ADV", "-"),
    ("CCS_VEHICLE_BATTERY_TEMP_INHIBIT", None, "ADV", "D"),
    ("CCS_VEHICLE_SHIFT_POSITION", None, "ADV", "D"),
    ("CCS_VEHICLE_CONNECTOR_LOCK_FAULT", CL, "ADV", "D"),
    ("CCS_VEHICLE_VEHICLE_RESS_MALFUNCTION", None, "ADV", "D"),
    ("CCS_VEHICLE_CHARGING_CURRENT_DIFFERENTIAL", None, "DEG", "V"),
    ("CCS_VEHICLE_CHARGING_VOLTAGE_RANGE_ERROR", None, "DEG", "V"),
    ("CCS_VEHICLE_CHARGING_SYSTEM_INCOMPATIBILITY", None, "ADV", "D"),
    ("CCS_VEHICLE_NO_DATA_ERROR", None, "ADV", "D"),
    ("CCS_VEHICLE_CHARGER_INTERNAL_ERROR", None, "ADV", "D"),
    ("Payment_Failed", RD, "DEG", "D"),
    ("StartTransaction_INVALID", None, "DEG", "R"),
    ("Set unavailable from server", None, "ADV", "R"),
    ("STOPBUTTON_PRESSED", None, "ADV", "-"),
    ("BATTERY_FULL", None, "ADV", "-"),
    ("User_ScreenStopButton", None, "ADV", "-"),
], model="EVDSP-200")

CASES += vendor_rows("Tesla", "Tesla", [  # §9
    ("red x1", GF, "SAF", "D"), ("red x2", GF, "SAF", "E"), ("red x3", GF, "SAF", "E"),
    ("red x4", None, "OUT", "E"), ("red x5", OC, "OUT", "D"), ("CC_a005", GF, "SAF", "D"),
    ("CC_a006", OC, "OUT", "D"), ("CC_a007", OV, "OUT", "E"), ("CC_a010", IE, "OUT", "E"),
    ("CC_a011", HT, "OUT", "S"), ("CC_a019", EVC, "ADV", "D"), ("CC_a021", CONF, "OUT", "E"),
    ("CC_a022", CONF, "OUT", "E"), ("CC_a043", CONF, "OUT", "E"),
    ("CC_f002_gndMonIntrptLoadSide", GF, "SAF", "D"), ("CP_a101", HT, "DEG", "E"),
    ("CP_a102", HT, "SAF", "E"),
])

CASES += vendor_rows("Compleo", "Compleo", [  # §10: display letters / Modbus / errorCode names
    ("0", None, "ADV", "-"), ("ConnectorLockFailure", CL, "OUT", "D"),
    ("B", GF, "SAF", "E"), ("C", HT, "DEG", "S"), ("D", IE, "OUT", "E"),
    ("E", OV, "OUT", "E"), ("F", PM, "DEG", "V"), ("G", PS, "SAF", "E"),
    ("I", UV, "OUT", "E"), ("OverCurrentFailure", OC, "OUT", "D"),
    ("GroundFailure", GF, "SAF", "E"),
], firmware="6.1.2")
CASES += [  # §10: a Compleo fault often arrives as the standard errorCode alone, no vEC
    Case(f"Compleo errorCode:{error_code}",
         MatchQuery(vendor="Compleo", firmware="6.1.2", error_code=error_code),
         category, sev, who, "Compleo")
    for error_code, category, sev, who in [
        ("ConnectorLockFailure", CL, "OUT", "D"), ("GroundFailure", GF, "SAF", "E"),
        ("HighTemperature", HT, "DEG", "S"), ("InternalError", IE, "OUT", "E"),
        ("OverVoltage", OV, "OUT", "E"), ("PowerMeterFailure", PM, "DEG", "V"),
        ("PowerSwitchFailure", PS, "SAF", "E"), ("UnderVoltage", UV, "OUT", "E"),
        ("OverCurrentFailure", OC, "OUT", "D"),
    ]
]

BENDER = [  # §11: exact activation info texts (category, Sev, Who)
    ("Residual current detected via sensor", GF, "SAF", "D"),
    ("Vehicle signals error", EVC, "ADV", "D"),
    ("Vehicle diode check failed - tamper detection", EVC, "OUT", "D"),
    ("MCB of type 2 socket triggered", OC, "OUT", "S"),
    ("MCB of domestic socket triggered", OC, "OUT", "S"),
    ("RCD triggered", GF, "SAF", "S"),
    ("RCD may be triggered (OCPP meter power loss)", GF, "OUT", "S"),
    ("Contactor welded", PS, "SAF", "V"),
]
CASES += [
    Case(f"Bender:{text}", MatchQuery(vendor="Bender", info=text), category, sev, who, "Bender")
    for text, category, sev, who in BENDER
]
# The controller is inside other brands: the same texts must work under any vendor string.
CASES += [
    Case(f"Bender via OEM:{text}", MatchQuery(vendor="Acme Charging GmbH", info=text), category)
    for text, category, _sev, _who in BENDER
]

CASES += vendor_rows("Mennekes", "MENNEKES", [  # §12 HCC3
    ("0", None, "ADV", "-"), ("10", None, "OUT", "E"), ("11", IE, "OUT", "V"),
    ("12", CONF, "OUT", "R"), ("13", HT, "DEG", "S"), ("14", PS, "SAF", "V"),
    ("15", None, "DEG", "R"), ("16", CONN, "DEG", "R"), ("30", None, "ADV", "-"),
    ("31", IE, "OUT", "V"), ("32", None, "DEG", "V"), ("50", EVC, "ADV", "D"),
    ("51", EVC, "ADV", "D"), ("52", EVC, "OUT", "D"), ("100", CONN, "DEG", "R"),
    ("101", CONN, "DEG", "R"), ("102", None, "OUT", "S"), ("103", CONF, "OUT", "R"),
    ("255", None, "OUT", "V"),
], model="AMTRON Professional")

CASES += vendor_rows("Phoenix Contact", "Wallbe", [  # §13, sold as Wallbe/Compleo eCOs/Scapo
    ("0", None, "ADV", "-"), ("1", EVC, "ADV", "D"), ("2", EVC, "ADV", "D"),
    ("3", EVC, "OUT", "D"), ("4", EVC, "OUT", "D"), ("5", None, "OUT", "R"),
    ("6", CL, "OUT", "D"), ("7", CL, "OUT", "D"), ("8", CL, "OUT", "V"),
    ("9", OC, "OUT", "D"), ("10", PM, "DEG", "V"), ("11", EVC, "ADV", "D"),
    ("12", PS, "SAF", "V"), ("13", EVC, "OUT", "D"), ("14", None, "OUT", "V"),
    ("15", GF, "SAF", "D"),
])
CASES += vendor_rows("Phoenix Contact", "Compleo eCOs", [("15", GF, "SAF", "D")],
                     label="Compleo eCOs")

CASES += vendor_rows("ABL", "ABL", [  # §14 status byte
    ("0xC3", None, "DEG", "-"), ("0xC4", None, "DEG", "E"), ("0xE0", CONF, "OUT", "R"),
    ("0xE2", CONF, "OUT", "E"), ("0xF1", PS, "SAF", "V"), ("0xF2", IE, "OUT", "V"),
    ("0xF3", GF, "SAF", "D"), ("0xF4", CONN, "DEG", "R"), ("0xF5", CL, "OUT", "D"),
    ("0xF6", CONF, "OUT", "E"), ("0xF7", EVC, "OUT", "D"), ("0xF8", EVC, "OUT", "D"),
    ("0xF9", OC, "OUT", "D"), ("0xFA", HT, "DEG", "S"), ("0xFB", PS, "OUT", "V"),
], model="eMH3")

GO_E_COMMON = [  # §15 values 0-10, the same in both revisions
    ("0", None, "ADV", "-"), ("1", GF, "SAF", "D"), ("2", GF, "SAF", "D"),
    ("3", None, "OUT", "E"), ("4", OV, "OUT", "E"), ("5", OC, "OUT", "D"),
    ("6", EVC, "OUT", "D"), ("7", EVC, "OUT", "D"), ("8", GF, "SAF", "E"),
    ("9", PS, "SAF", "V"), ("10", PS, "OUT", "V"),
]
CASES += vendor_rows("go-e", "go-e", GO_E_COMMON, firmware="055.5")
CASES += vendor_rows("go-e", "go-e", [  # rev A numbering (older firmware, split inferred)
    ("11", GF, "SAF", "E"), ("12", UNK, "OUT", "V"), ("13", HT, "DEG", "S"),
    ("14", None, "OUT", "V"), ("15", CL, "OUT", "V"), ("16", CL, "OUT", "S"),
], firmware="054.2", label="go-e rev A")
CASES += vendor_rows("go-e", "go-e", [  # rev B numbering (newer firmware, split inferred)
    ("12", CL, "OUT", "V"), ("13", CL, "OUT", "S"), ("14", GF, "SAF", "E"),
    ("15", UNK, "OUT", "V"), ("16", HT, "DEG", "S"), ("17", None, "OUT", "V"),
    ("18", EVC, "OUT", "D"),
], firmware="056.2", label="go-e rev B")

CASES += vendor_rows("Tellus Power", "Tellus Power", [  # §16
    ("F-0101", PS, "SAF", "V"), ("F-0203", HT, "DEG", "S"), ("F-0204", HT, "OUT", "S"),
    ("F-0301", CONN, "OUT", "R"), ("F-0302", CONN, "DEG", "R"), ("F-0411", PMOD, "OUT", "V"),
    ("F-0421", PS, "OUT", "V"), ("F-0512", CONF, "DEG", "R"), ("F-0601", COOL, "DEG", "V"),
    ("F-0701", None, "OUT", "V"), ("F-0702", None, "ADV", "D"), ("F-0805", None, "ADV", "R"),
], firmware="260420.0107")

CASES += vendor_rows("EVPoint", "EVPoint", [  # §17
    ("0x0001", GF, "SAF", "D"), ("EVSE_FAULT_ACT_LOCK_FAULT", CL, "OUT", "V"),
    ("EVSE_FAULT_ACT_UNLOCK_FAULT", CL, "OUT", "S"),
    ("EVSE_FAULT_DIODE_UNPRESENT", EVC, "OUT", "D"),
    ("EVSE_FAULTS_AUTO_RECOVERY", None, "ADV", "-"),
], model="EV22K")
CASES += [Case("EVPoint:open cover",
               MatchQuery(vendor="EVPoint", info="Device open cover detected by tamper switch"),
               DOOR, "SAF", "S", "EVPoint")]

CASES += vendor_rows("GE", "GE", [  # §18
    ("131", GF, "SAF", "D"), ("143", IE, "OUT", "S"), ("144", IE, "OUT", "S"),
    ("145", IE, "OUT", "S"), ("151", IE, "OUT", "S"), ("152", IE, "OUT", "S"),
    ("153", GF, "SAF", "D"), ("154", EVC, "OUT", "D"), ("155", None, "OUT", "V"),
    ("211", OV, "OUT", "E"),
], model="DuraStation")

CASES += vendor_rows("Circontrol", "Circontrol", [  # §19 red blinks
    ("1", EVC, "OUT", "D"), ("2", EVC, "OUT", "D"), ("3", EVC, "OUT", "D"),
    ("4", EVC, "OUT", "D"), ("5", CONF, "OUT", "E"), ("temp", HT, "DEG", "S"),
], model="eHome")

# §20 small platforms
CASES += vendor_rows("OpenEVSE", "OpenEVSE", [
    ("4", EVC, "OUT", None), ("5", EVC, "OUT", None), ("6", GF, "SAF", None),
    ("7", GF, "SAF", None), ("8", PS, "SAF", None), ("9", GF, "SAF", None),
    ("10", HT, "DEG", None), ("11", OC, "OUT", None),
])
CASES += vendor_rows("PC Electric", "PC Electric", [
    ("1", HT, None, None), ("2", GF, None, None), ("3", EVC, None, None),
    ("4", EVC, None, None), ("5", EVC, None, None), ("6", EVC, None, None),
    ("9", GF, None, None), ("11", None, None, None),
])
CASES += vendor_rows("Webasto", "Webasto", [("7", None, "OUT", None)], model="Webasto Next")
CASES += vendor_rows("Victron", "Victron Energy", [
    ("8", GF, None, None), ("9", PS, None, None), ("10", EVC, None, None),
    ("11", GF, None, None), ("12", UV, None, None), ("13", OV, None, None),
    ("14", HT, None, None),
])
CASES += [
    Case("Amina:AMINA_INFO", MatchQuery(vendor="amina", code="AMINA_INFO", error_code="NoError"),
         None, "ADV", "-", "Amina"),
    Case("Amina:RCD-DC", MatchQuery(vendor="amina", error_code="GroundFailure",
                                    info="A RCD-DC fault event has occurred"),
         GF, "SAF", None, "Amina"),
    Case("Amina:overtemperature", MatchQuery(vendor="amina", error_code="HighTemperature",
                                             info="An overtemperature event has occurred"),
         HT, "DEG", None, "Amina"),
    Case("Amina:car comms", MatchQuery(vendor="amina", error_code="EVCommunicationError",
                                       info="A car communication failure event has occurred"),
         EVC, "OUT", None, "Amina"),
    Case("Grizzl-E:pilot info", MatchQuery(vendor="UC", code="0", error_code="NoError",
                                           info="Pilot and Charger:20h"),
         None, "ADV", None, "United Chargers"),
]
CASES += vendor_rows("X-Cheng", "X-Cheng", [
    ("Leakage", GF, None, None), ("Overpressure", OV, None, None),
    ("Undervoltage", UV, None, None), ("Overcurrent", OC, None, None),
    ("Over temperature", HT, None, None), ("Leakage self-test abnormality", GF, None, None),
    ("CP level abnormal", EVC, None, None), ("Relay abnormality", PS, None, None),
    ("Relay sticky", PS, None, None), ("Auxiliary processor exception", IE, None, None),
    ("System 12V abnormal", IE, None, None), ("CP-12V Error", None, None, None),
    ("Hardware failure", IE, None, None), ("Emergency Stop", ES, "OUT", "S"),
])

# -- §22 ChargeX MRECs (vendorId https://chargex.inl.gov) ------------------------------------
CHARGEX = [
    ("CX001", CL, "ConnectorLockFailure"), ("CX002", GF, "GroundFailure"),
    ("CX003", HT, "HighTemperature"), ("CX004", OC, "OverCurrentFailure"),
    ("CX005", OV, "OverVoltage"), ("CX006", UV, "UnderVoltage"), ("CX007", CONN, "WeakSignal"),
    ("CX008", ES, "OtherError"), ("CX009", None, "OtherError"), ("CX010", EVC, "OtherError"),
    ("CX011", ISO, "OtherError"), ("CX014", EVC, "OtherError"), ("CX015", PL, "OtherError"),
    ("CX017", PS, "OtherError"), ("CX018", HT, "OtherError"), ("CX019", HT, "OtherError"),
    ("CX020", None, "OtherError"), ("CX022", ISO, "OtherError"), ("CX023", EVC, "OtherError"),
    ("CX024", OV, "OtherError"), ("CX025", CL, "OtherError"), ("CX026", None, "OtherError"),
]
CASES += [
    Case(f"ChargeX:{code}", MatchQuery(vendor="https://chargex.inl.gov", code=code,
                                       error_code=error_code),
         category, None, None, "ChargeX MREC")
    for code, category, error_code in CHARGEX
]
CASES += [
    Case("ChargeX:CX003 derates", MatchQuery(vendor="https://chargex.inl.gov", code="CX003"),
         HT, "DEG", None, "ChargeX MREC"),
    Case("ChargeX:CX018 derates", MatchQuery(vendor="https://chargex.inl.gov", code="CX018"),
         HT, "DEG", None, "ChargeX MREC"),
    # A ChargeX code from a charger whose own manual does not list it.
    Case("ChargeX code under an OEM vendor", MatchQuery(vendor="Alfen BV", code="CX008"), ES,
         vendor="ChargeX MREC"),
]

# -- §22 EVerest error types: the vEC is the type with the interface prefix stripped ----------
EVEREST = [
    ("MREC2GroundFailure", GF), ("MREC3HighTemperature", HT), ("MREC4OverCurrentFailure", OC),
    ("MREC5OverVoltage", OV), ("MREC6UnderVoltage", UV), ("MREC8EmergencyStop", ES),
    ("MREC10InvalidVehicleMode", EVC), ("MREC14PilotFault", EVC), ("MREC15PowerLoss", PL),
    ("MREC17EVSEContactorFault", PS), ("MREC18CableOverTempDerate", HT),
    ("MREC19CableOverTempStop", HT), ("MREC22ResistanceFault", ISO),
    ("MREC11CableCheckFault", ISO), ("MREC23ProximityFault", EVC), ("MREC25BrokenLatch", CL),
    ("DiodeFault", EVC), ("VentilationNotAvailable", EVC), ("TiltDetected", DOOR),
    ("WaterIngressDetected", DOOR), ("EnclosureOpen", DOOR), ("ConnectorLockFailedLock", CL),
    ("ConnectorLockFailedUnlock", CL), ("PowermeterTransactionStartFailed", PM),
    ("BrownOut", UV), ("VoltagePlausibilityFault", None),
]
CASES += [  # under an integrating OEM's vendor string the stack's codes must still be read
    Case(f"EVerest via OEM:{code}", MatchQuery(vendor="Acme EV GmbH", code=code,
                                               error_code="OtherError"), category)
    for code, category in EVEREST
]
CASES += vendor_rows("EVerest", "EVerest", [
    ("evse_board_support/MREC2GroundFailure", GF, "SAF", None), ("ac_rcd/DC", GF, "SAF", None),
    ("ac_rcd/AC", GF, "SAF", None), ("ac_rcd/Selftest", GF, None, "V"),
    ("connector_lock/ConnectorLockFailedLock", CL, None, None),
    ("power_supply_DC/OverVoltageDC", OV, None, "V"),
    ("power_supply_DC/HardwareFault", PMOD, None, "V"),
    ("power_supply_DC/OverTemperature", HT, "DEG", None),
    ("isolation_monitor/DeviceFault", ISO, None, None),
    ("evse_manager/MREC9AuthorizationTimeout", None, None, None),
    ("VendorWarning", None, "ADV", None), ("VendorError", None, "OUT", None),
])

# -- §22 CharIN UEC (draft; vendorId org.charin.uec.v1) ----------------------------------------
CASES += vendor_rows("CharIN UEC", "org.charin.uec.v1", [
    ("ConnectorLockFailure", CL, None, None), ("HighTemperature", HT, None, None),
    ("Overvoltage", OV, None, None), ("OverCurrent", OC, None, None),
    ("ContactorPosition", PS, None, None), ("PowerModuleFault", PMOD, None, None),
    ("GridPowerLoss", PL, None, None), ("EVShiftPosition", None, "ADV", "D"),
])

# -- README: the 16 OCPP 1.6 codes, operationally (errorCode only, nothing else known) ---------
OCPP16 = [
    ("ConnectorLockFailure", CL, "D"), ("EVCommunicationError", EVC, "D"),
    ("GroundFailure", GF, "R"), ("HighTemperature", HT, "S"), ("InternalError", IE, "R"),
    ("LocalListConflict", LLC, "R"), ("OverCurrentFailure", OC, "R"),
    ("OverVoltage", OV, "R"), ("UnderVoltage", UV, "R"), ("PowerMeterFailure", PM, "R"),
    ("PowerSwitchFailure", PS, "V"), ("ReaderFailure", RD, "D"), ("ResetFailure", RST, "S"),
    ("WeakSignal", CONN, "S"),
]
CASES += [Case(f"OCPP 1.6:{code}", MatchQuery(error_code=code), category, None, who)
          for code, category, who in OCPP16]
CASES += [Case("OCPP 1.6:GroundFailure is safety", MatchQuery(error_code="GroundFailure"),
               GF, "SAF")]

# -- standards.md: 2.0.1 component/variable problems (NotifyEvent) ----------------------------
OCPP201 = [
    ("ConnectorPlugRetentionLock/Problem", CL), ("ControlPilot/Problem", EVC),
    ("OverCurrentProtection/Tripped", OC), ("OverCurrentProtection/Operated", OC),
    ("RCD/Tripped", GF), ("PowerContactor/Problem", PS), ("TemperatureSensor/Problem", IE),
    ("EmergencyStopSensor/Tripped", ES), ("GroundIsolationProtection/Problem", ISO),
    ("AirCoolingSystem/Problem", COOL), ("AcDcConverter/Problem", PMOD),
    ("TokenReader/Problem", RD), ("FiscalMetering/Problem", PM),
]
CASES += [Case(f"OCPP 2.0.1:{code}", MatchQuery(error_code=code), category)
          for code, category in OCPP201]

# -- README / seed: mixed-vendor examples (the vendor is not named) ----------------------------
CASES += [
    Case("seed:F400", MatchQuery(code="F400", info="EMERGENCY_STOP_BUTTON_1",
                                 error_code="OtherError"), ES, "OUT", "S"),
    Case("seed:42300", MatchQuery(error_code="OtherError",
                                  info="[42300]Emergency stop button pressed"), ES, "OUT", "S"),
    Case("seed:release", MatchQuery(code="Release emergency button and reset charger",
                                    error_code="OtherError"), ES, "OUT", "S"),
    Case("seed:0x6012", MatchQuery(code="0x6012", error_code="OtherError",
                                   info="DC output module Vol abnormal during idle time"), PMOD),
    Case("seed:DYING GASP", MatchQuery(code="DYING GASP", error_code="OtherError"), PL),
    Case("seed:interlock", MatchQuery(code="StopReason:GlobalInterlockFail",
                                      error_code="OtherError"), DOOR, None, "S"),
]

# -- §25 cross-vendor phrasings, read with the charger's vendor unknown ------------------------
PHRASINGS = [
    # e-stop, spelled many ways (seven from one operator, plus the standards' names)
    ("F400: EMERGENCY_STOP_BUTTON_1", ES), ("[42300]Emergency stop button pressed", ES),
    ("Release emergency button and reset charger", ES), ("EMERGENCY_STOP_BUTTON", ES),
    ("Emergency Stop", ES), ("MREC8EmergencyStop", ES), ("E-Stop pressed", ES),
    ("Emergency stop activated", ES), ("EMERGENCY STOP PRESSED (button 2)", ES),
    ("Notaus betaetigt", ES),
    # residual current / earth
    ("Ground fault, Try reconnecting cable", GF), ("Residual current detected", GF),
    ("gfci fault", GF), ("A RCD-DC fault event has occurred", GF), ("Leakage", GF),
    ("no ground", GF), ("ground test error", GF), ("Error Protective Earth", GF),
    # isolation
    ("isolation fault", ISO), ("insulation resistance low", ISO),
    # temperature, cooling
    ("High temperature, Let charging station cool down", HT),
    ("An overtemperature event has occurred", HT), ("Overheating", HT), ("Over temperature", HT),
    ("Cooling fan below nominal RPM", COOL),
    # contactor, lock, meter
    ("Contactor welded", PS), ("Relay sticky", PS), ("stuck relay", PS),
    ("welded contacts test error", PS),
    ("Unable to lock cable to charging station", CL), ("EVSE_FAULT_ACT_LOCK_FAULT", CL),
    ("StatusLockStuckLocked", CL), ("Emeter communication error", PM),
    ("MeterCommunicationError", PM),
    # communication
    ("Modbus TCP/IP lost, in safe mode max 22.0A", CONN),
    ("Switched to LTE. Closing OCPP until WIFI is active", CONN), ("Reconnect storm", CONN),
    # power module, voltages, power loss
    ("DC output module Vol abnormal during idle time", PMOD),
    ("Power-module communication timeout", PMOD), ("Overpressure", OV), ("Undervoltage", UV),
    ("DYING GASP", PL), ("Error Power Failure", PL),
    # door / tilt / water, surge
    ("Moisture in the charging station", DOOR),
    ("Device open cover detected by tamper switch", DOOR),
    ("TiltDetected", DOOR), ("SPD tripped", SPD),
    # pilot / proximity / diode
    ("CP level abnormal", EVC), ("Vehicle diode check failed - tamper detection", EVC),
    ("vent required", EVC), ("CPErrorEF", EVC), ("Vehicle signals error", EVC),
    # the rest
    ("The charging station has not been fully configured", CONF),
    ("FPGA watchdog triggered", IE), ("Auxiliary processor exception", IE),
    ("reset failed", RST), ("local list conflict", LLC), ("RFID reader failure", RD),
]
CASES += [Case(f"phrasing:{text}", MatchQuery(vendor="Acme Charging GmbH", info=text), category)
          for text, category in PHRASINGS]

# fmt: on

CASES_BY_ID = {case.id: case for case in CASES}
assert len(CASES_BY_ID) == len(CASES), "duplicate case ids"


@pytest.fixture(scope="module")
def domain_matcher() -> Matcher:
    return Matcher(load_knowledge())


def _describe(m: Match) -> str:
    e = m.entry
    head = f"{e.key} {e.category.value}/{e.severity.value}/{e.owner.value}" if e else "no entry"
    return f"{head} conf={m.confidence} via {m.method}; " + " | ".join(m.evidence)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_domain_example_is_answered(domain_matcher: Matcher, case: Case) -> None:
    m = domain_matcher.match(case.query)
    assert m.entry is not None, _describe(m)
    if case.category is not None:
        assert m.entry.category == case.category, _describe(m)
    else:
        assert m.entry.category != Category.EMERGENCY_STOP, _describe(m)
    if case.sev is not None:
        assert m.entry.severity == SEV[case.sev], _describe(m)
    if case.who is not None:
        assert m.entry.owner == WHO[case.who], _describe(m)
    if m.method == "standard":  # the method says how the answer was found
        assert m.entry.vendor is None, _describe(m)
    if case.vendor is not None:
        # The charger's own manual answers: never another vendor's entry for the same digits.
        assert m.entry.vendor == case.vendor, _describe(m)
        assert m.confidence >= 0.5, _describe(m)


# -- MREC names: ChargeX and EVerest both list them with the same meaning --------------------------
@pytest.mark.parametrize(
    ("code", "category"), [(code, cat) for code, cat in EVEREST if code.startswith("MREC")]
)
@pytest.mark.parametrize("vendor", [None, "Acme EV GmbH"])
def test_mrec_names_are_not_ambiguous_when_the_schemes_agree(
    domain_matcher: Matcher, vendor: str | None, code: str, category: Category
) -> None:
    m = domain_matcher.match(MatchQuery(vendor=vendor, code=code, error_code="OtherError"))
    assert m.entry is not None and m.entry.category == category, _describe(m)
    assert m.entry.vendor in ("ChargeX MREC", "EVerest"), _describe(m)
    assert m.ambiguous == () and m.confidence >= 0.8, _describe(m)


# -- bitmasks: a vEC that is a sum of bits --------------------------------------------------------
@pytest.mark.parametrize(
    ("vendor", "model", "code", "bits", "category"),
    [
        ("Zaptec", "Zaptec Go OCPP", "4098", {"4096", "2"}, GF),  # RCD 6 mA + over-temperature
        ("Zaptec", "Zaptec Go OCPP", "10", {"2", "8"}, HT),  # over-temperature + emeter silent
        ("Zaptec", "Zaptec Go OCPP", "536875008", {"536870912", "4096"}, GF),  # servo + RCD
        ("ABB", "CDT_TACW11::NET_WIFI", "0x0022", {"0x0002", "0x0020"}, GF),  # the notes' example
        ("ABB", "CDT_TACW11::NET_WIFI", "Error Code 0x2080", {"0x2000", "0x0080"}, None),
    ],
)
def test_bitmask_sums_decompose_into_known_bits(
    domain_matcher: Matcher,
    vendor: str,
    model: str,
    code: str,
    bits: set[str],
    category: Category | None,
) -> None:
    m = domain_matcher.match(MatchQuery(vendor=vendor, model=model, code=code))
    assert m.entry is not None, _describe(m)
    assert m.method == "bitmask", _describe(m)
    assert {p.code for p in m.parts} == bits, _describe(m)
    assert all(p.vendor == vendor for p in m.parts)
    if category is not None:
        assert m.entry.category == category, _describe(m)
    # The answer is the most severe part.
    assert m.entry.severity == max((p.severity for p in m.parts), key=lambda s: s.rank)


# -- the same digits mean different things per vendor --------------------------------------------
@pytest.mark.parametrize(
    ("vendor", "code", "category", "canonical"),
    [
        ("Alfen BV", "101", GF, "Alfen"),  # DC residual current
        ("MENNEKES", "101", CONN, "Mennekes"),  # not polled by the cluster controller
        ("Alfen BV", "1", IE, "Alfen"),  # cannot charge, generic
        ("go-e", "1", GF, "go-e"),  # FiAc
        ("PC Electric", "1", HT, "PC Electric"),  # overheating
        ("EVPoint", "0x0001", GF, "EVPoint"),  # AC RCD
        ("Zaptec", "1", DOOR, "Zaptec"),  # moisture
        ("ABB", "0x0400", PS, "ABB"),  # relay welded
        ("OpenEVSE", "10", HT, "OpenEVSE"),
        ("go-e", "10", PS, "go-e"),
        ("Phoenix Contact", "10", PM, "Phoenix Contact"),
    ],
)
def test_same_digits_follow_the_vendor(
    domain_matcher: Matcher, vendor: str, code: str, category: Category, canonical: str
) -> None:
    m = domain_matcher.match(MatchQuery(vendor=vendor, code=code))
    assert m.entry is not None and m.entry.vendor == canonical, _describe(m)
    assert m.entry.category == category, _describe(m)


@pytest.mark.parametrize(
    ("vendor", "code", "foreign"),
    [
        ("MENNEKES", "210", "Alfen"),  # Alfen's Modbus-lost code
        ("Alfen BV", "4096", "Zaptec"),  # Zaptec's RCD bit
        ("Keba AG", "101", "Alfen"),
        ("Tesla", "0xF3", "ABL"),
        ("Autel", "IGF", "ChargePoint"),
        ("Easee", "F-0101", "Tellus Power"),
    ],
)
def test_a_code_missing_from_the_vendors_manual_is_not_borrowed(
    domain_matcher: Matcher, vendor: str, code: str, foreign: str
) -> None:
    m = domain_matcher.match(MatchQuery(vendor=vendor, code=code, error_code="OtherError"))
    assert m.entry is None or m.entry.vendor != foreign, _describe(m)
    if m.entry is not None:  # at best a low-confidence guess, never a confident answer
        assert m.confidence < 0.5, _describe(m)


# -- nothing to go on: honest unknowns ---------------------------------------------------------
@pytest.mark.parametrize(
    "query",
    [
        MatchQuery(code="Error(s) occurred in EVSE", info="See logging for more information",
                   error_code="OtherError"),
        MatchQuery(error_code="OtherError"),
        MatchQuery(error_code="NoError"),  # Faulted with no code at all
        MatchQuery(vendor="Legrand GreenUp", error_code="Error"),  # not a 1.6 value
        MatchQuery(info="Residual current situation resolved"),  # a clearing text
    ],
    ids=["seed-no-information", "other-error-alone", "faulted-no-code", "legrand-error",
         "bender-clearing-text"],
)  # fmt: skip
def test_nothing_to_go_on_is_an_honest_unknown(domain_matcher: Matcher, query: MatchQuery) -> None:
    m = domain_matcher.match(query)
    assert m.entry is None or m.entry.category == Category.UNKNOWN, _describe(m)
    assert m.confidence <= 0.5, _describe(m)


def test_a_bare_number_from_an_unknown_vendor_is_ambiguous(domain_matcher: Matcher) -> None:
    """The seed's bare `10`: several manuals use it, with different meanings."""
    m = domain_matcher.match(MatchQuery(code="10", error_code="OtherError"))
    assert len(m.ambiguous) >= 3, _describe(m)
    assert {"Mennekes", "go-e", "Phoenix Contact"} <= set(m.ambiguous), _describe(m)
    assert m.confidence <= 0.45, _describe(m)


# -- false friends of the emergency stop --------------------------------------------------------
@pytest.mark.parametrize("vendor", [None, "BTC Power", "Acme Charging GmbH"])
@pytest.mark.parametrize(
    "text", ["STOPBUTTON_PRESSED", "User_ScreenStopButton", "StopReason:GlobalInterlockFail"]
)
def test_false_friends_are_not_emergency_stops(
    domain_matcher: Matcher, vendor: str | None, text: str
) -> None:
    for query in (MatchQuery(vendor=vendor, code=text), MatchQuery(vendor=vendor, info=text)):
        m = domain_matcher.match(query)
        assert m.entry is None or m.entry.category != Category.EMERGENCY_STOP, _describe(m)


# -- §23 identity strings -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sent", "model", "canonical"),
    [
        ("ABB", "CDT_TACW11::NET_WIFI", "ABB"),
        ("Alfen BV", "NG910-60023", "Alfen"),
        ("Wall Box Chargers", "PLP1-0-2-4", "Wallbox"),
        ("Autel", "MaxiChargerAC", "Autel"),
        ("Zaptec", "Zaptec Go OCPP", "Zaptec"),
        ("zaptec", None, "Zaptec"),
        ("Keba AG", "KC-P30-ESS400C2-E0R", "KEBA"),
        ("Schneider Electric", "MONOBLOCK", "Schneider Electric"),
        ("SIEMENS", "SIEMENSXX213", "Siemens"),
        ("Tritium", "TRI93-50-01", "Tritium"),
        ("United Chargers", None, "United Chargers"),
        ("UC", None, "United Chargers"),
        ("BS AC EV Charger", "BS-EV22", "Ocular BS"),
        ("amina", None, "Amina"),
        ("https://chargex.inl.gov", None, "ChargeX MREC"),
        ("org.charin.uec.v1", None, "CharIN UEC"),
        ("Compleo eCOs", None, "Phoenix Contact"),
        ("Compleo", None, "Compleo"),
        (None, "NG910-60023", "Alfen"),  # vendor inferred from the model
        (None, "HYC150", "Alpitronic"),
    ],
)
def test_identity_strings_resolve(
    domain_matcher: Matcher, sent: str | None, model: str | None, canonical: str
) -> None:
    m = domain_matcher.match(MatchQuery(vendor=sent, model=model, code="no-such-code-xyz"))
    assert m.vendor == canonical, _describe(m)


# -- §24 model quirks --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("vendor", "model", "kind", "code"),
    [
        ("Alfen BV", "NG910-60023", "degraded_not_down", "210"),
        ("Wall Box Chargers", "Quasar", "boot_fault_window", None),
        ("Zaptec", "Zaptec Go OCPP", "not_a_fault", "2048"),
        ("Zaptec", "Zaptec Go OCPP", "fault_while_charging_advisory", "64"),
        ("Legrand GreenUp", None, "invalid_error_code", "Error"),
        ("BTC Power", None, "not_a_fault", "STOPBUTTON_PRESSED"),
        ("Tellus Power", None, "fault_while_charging_advisory", "F-0601"),
    ],
)
def test_model_quirks_are_known(
    domain_matcher: Matcher, vendor: str, model: str | None, kind: str, code: str | None
) -> None:
    quirks = [q for q in domain_matcher.kb.quirks_for(vendor, model, None) if q.kind == kind]
    assert quirks, f"no {kind} quirk for {vendor} {model}"
    if code is not None:
        assert any(code in q.codes for q in quirks)
    assert all(q.explanation and q.source for q in quirks)


def test_quasar_boot_window_is_five_minutes_and_pulsar_has_none(domain_matcher: Matcher) -> None:
    kb = domain_matcher.kb
    quasar = [q for q in kb.quirks_for("Wall Box Chargers", "Quasar", None)
              if q.kind == "boot_fault_window"]  # fmt: skip
    assert [q.window_s for q in quasar] == [300]
    pulsar = kb.quirks_for("Wall Box Chargers", "PLP1-0-2-4", "5.5.10")
    assert not [q for q in pulsar if q.kind == "boot_fault_window"]
