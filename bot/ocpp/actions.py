"""Which side starts each OCPP action, and which versions know it.

Used to infer the direction of bare frames (a CALL the charger starts is "in") and
to infer the OCPP version of frames whose feed did not declare one.
"""

from __future__ import annotations

# CALLs a charging station sends to the CSMS (OCPP 1.6 incl. the security whitepaper).
CHARGER_ACTIONS_16 = frozenset(
    {
        "Authorize",
        "BootNotification",
        "DataTransfer",  # either side may start it; chargers do far more often
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "LogStatusNotification",
        "MeterValues",
        "SecurityEventNotification",
        "SignCertificate",
        "SignedFirmwareStatusNotification",
        "StartTransaction",
        "StatusNotification",
        "StopTransaction",
    }
)

# CALLs a charging station sends to the CSMS (OCPP 2.0.1 and 2.1).
CHARGER_ACTIONS_2X = frozenset(
    {
        "Authorize",
        "BatterySwap",
        "BootNotification",
        "ClearedChargingLimit",
        "ClosePeriodicEventStream",
        "DataTransfer",
        "FirmwareStatusNotification",
        "Get15118EVCertificate",
        "GetCertificateChainStatus",
        "GetCertificateStatus",
        "Heartbeat",
        "LogStatusNotification",
        "MeterValues",
        "NotifyChargingLimit",
        "NotifyCustomerInformation",
        "NotifyDERAlarm",
        "NotifyDERStartStop",
        "NotifyDisplayMessages",
        "NotifyEVChargingNeeds",
        "NotifyEVChargingSchedule",
        "NotifyEvent",
        "NotifyMonitoringReport",
        "NotifyPeriodicEventStream",
        "NotifyPriorityCharging",
        "NotifyReport",
        "NotifySettlement",
        "OpenPeriodicEventStream",
        "PublishFirmwareStatusNotification",
        "PullDynamicScheduleUpdate",
        "ReportChargingProfiles",
        "ReportDERControl",
        "ReservationStatusUpdate",
        "SecurityEventNotification",
        "SignCertificate",
        "StatusNotification",
        "TransactionEvent",
        "VatNumberValidation",
    }
)

CHARGER_ACTIONS = CHARGER_ACTIONS_16 | CHARGER_ACTIONS_2X

# Actions that exist in only one family: seeing them settles the version.
ONLY_16 = frozenset(
    {
        "StartTransaction",
        "StopTransaction",
        "DiagnosticsStatusNotification",
        "SignedFirmwareStatusNotification",
        "ChangeConfiguration",
        "GetConfiguration",
        "GetDiagnostics",
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "ExtendedTriggerMessage",
        "SignedUpdateFirmware",
    }
)


def call_direction(action: str) -> str:
    """'in' when the charger starts this action, else 'out'."""
    return "in" if action in CHARGER_ACTIONS else "out"
