"""SQLAlchemy models, one module per aggregate; importing the package registers them all."""

from models.activity import Activity
from models.auth import AuthToken, LoginFailure, RecentWrite
from models.base import Base
from models.case import Case
from models.company import CompanySettings
from models.debtor import Debtor
from models.employee import Employee, EmployeeRate
from models.enums import CapBasis, CapKind, DeliveryStatus, EmployeeVisibility, EntryMode, EntrySource, TimeStatus
from models.event import Event
from models.invoice import Invoice, InvoiceCounter, InvoiceLine, TimeRollup, TimeRollupMonth, invoice_entries
from models.role import Role, role_visible_roles
from models.time_entry import CaseYearTotals, IdempotencyKey, TimeEntry, Timer
from models.webhook import Webhook, WebhookDelivery, WebhookFeed

__all__ = [
    "Activity",
    "AuthToken",
    "Base",
    "CapBasis",
    "CapKind",
    "Case",
    "CaseYearTotals",
    "CompanySettings",
    "Debtor",
    "DeliveryStatus",
    "Employee",
    "EmployeeRate",
    "EmployeeVisibility",
    "EntryMode",
    "EntrySource",
    "Event",
    "IdempotencyKey",
    "Invoice",
    "InvoiceCounter",
    "InvoiceLine",
    "LoginFailure",
    "RecentWrite",
    "Role",
    "TimeEntry",
    "TimeRollup",
    "TimeRollupMonth",
    "TimeStatus",
    "Timer",
    "Webhook",
    "WebhookDelivery",
    "WebhookFeed",
    "invoice_entries",
    "role_visible_roles",
]
