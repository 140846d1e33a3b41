"""Domain enums shared by every layer; GraphQL exposes the member names, the database the values."""

from __future__ import annotations

from enum import StrEnum


class TimeStatus(StrEnum):
    BILLABLE = "J"
    INVOICED = "F"
    NON_BILLABLE = "N"
    OVER_LIMIT = "L"


class CapKind(StrEnum):
    NONE = "NONE"
    TIME = "TIME"
    AMOUNT = "AMOUNT"


class CapBasis(StrEnum):
    BILLABLE = "BILLABLE"
    NON_BILLABLE = "NON_BILLABLE"


class EmployeeVisibility(StrEnum):
    ALL = "ALL"
    OWN = "OWN"
    OWN_AND_SUBORDINATES = "OWN_AND_SUBORDINATES"
    SELECTED_ROLES = "SELECTED_ROLES"


class EntrySource(StrEnum):
    PER_DATE = "PER_DATE"
    PER_DEBTOR = "PER_DEBTOR"
    COPY = "COPY"
    TIMER = "TIMER"
    IMPORT = "IMPORT"


class EntryMode(StrEnum):
    PER_DATE = "PER_DATE"
    PER_DEBTOR = "PER_DEBTOR"


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"
