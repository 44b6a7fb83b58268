"""The fixed vocabularies of DESIGN contract 2, shared by the knowledge base and triage.

May import: nothing
"""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    EMERGENCY_STOP = "emergency_stop"
    GROUND_FAULT = "ground_fault"
    ISOLATION_FAULT = "isolation_fault"
    OVERCURRENT = "overcurrent"
    OVER_VOLTAGE = "over_voltage"
    UNDER_VOLTAGE = "under_voltage"
    POWER_LOSS = "power_loss"
    HIGH_TEMPERATURE = "high_temperature"
    COOLING_FAILURE = "cooling_failure"
    CONNECTOR_LOCK = "connector_lock"
    EV_COMMUNICATION = "ev_communication"
    POWER_MODULE = "power_module"
    POWER_SWITCH = "power_switch"
    POWER_METER = "power_meter"
    READER = "reader"
    RESET_FAILURE = "reset_failure"
    CONNECTIVITY = "connectivity"
    LOCAL_LIST_CONFLICT = "local_list_conflict"
    DOOR_OR_TAMPER = "door_or_tamper"
    SURGE_PROTECTION = "surge_protection"
    CONFIGURATION = "configuration"
    INTERNAL_ERROR = "internal_error"
    UNKNOWN = "unknown"


class Owner(StrEnum):
    DRIVER = "driver"
    SITE_STAFF = "site_staff"
    REMOTE_OPERATOR = "remote_operator"
    ELECTRICIAN = "electrician"
    VENDOR_SERVICE = "vendor_service"
    VEHICLE_OEM = "vehicle_oem"
    UTILITY = "utility"
    NONE = "none"


class Severity(StrEnum):
    SAFETY = "safety"
    OUTAGE = "outage"
    DEGRADED = "degraded"
    ADVISORY = "advisory"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is more urgent; used for sorting and paging thresholds."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {
    Severity.SAFETY: 4,
    Severity.OUTAGE: 3,
    Severity.DEGRADED: 2,
    Severity.ADVISORY: 1,
    Severity.INFO: 0,
}
