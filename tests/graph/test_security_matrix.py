"""The security matrix (SPEC 5, 5a, 5b): role x target x operation -> the answer, read from the raw response.

Every test builds one small world (`build`): X ("Xavier Quuxley", a role that may write for others) supervises the
viewer, writes 120 minutes on a case capped at 100 (an entry, since invoiced, and its over-limit line) and an open
entry, writes an entry *for* the viewer (so he is its createdBy/updatedBy), holds an activity rate and runs a timer;
the administrator keeps a webhook with a failed delivery. The viewer holds one role of ROLES; a teammate, of the
role the SELECTED_ROLES viewer sees, works under the viewer.

ROLES     administrator (with OWN: administrators see all), billing (canInvoice, OWN), plain ALL, plain OWN,
          SELECTED_ROLES, OWN_AND_SUBORDINATES, canEnterTimeForOthers with ALL ("for-others") and with OWN
          ("assistant"). X is hidden from all but administrator, all and for-others; the invoice from all but
          administrator and billing; the webhook and its delivery from all but administrator, its secret from
          everyone. Activity, Case, Debtor, Role and TimeEntry are every role's to read.
READS     role x path: each path to X (node, employees, search, supervisor, an entry's employee/createdBy/updatedBy,
          timeEntries, Case.timeList, timeReport by EMPLOYEE, a filter naming X, Invoice.timeEntries) and to the
          invoice (node, TimeEntry.invoice, overLimitOf.invoice, invoices) answers exactly the object, null, a
          nameless entry or the folded row, and the raw body holds nothing the role may not see (X's name, email
          or ID; the invoice's number or ID). Exact answers hold X's name for the roles that see him: each cell
          could see a leak.
WRITES    mutation x role x real object: a role that may not do it gets a coded refusal (top-level FORBIDDEN, or a
          userErrors FORBIDDEN / NOT_FOUND / NO_TIMER) and nothing is written; the same request by one who may (the
          administrator, or X for his timer) writes, so no refusal comes from a bad request.
TAMPERED  the ID of an existing row of another type, or of a row the viewer may not see (the viewer's own ID with
          X's number), answers as an ID of nothing does, word for word as its twin with a number no row has.
TOKENS    a token acts as its own employee only (gates, expiry and revocation are test_gates.py's).
SWEEP     reads and mutation payloads, error messages included, as each role that hides X never name him; as an
          administrator the same documents do (the negative control).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import pytest
from graphql import build_schema
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from graph import ids
from models import CapKind, DeliveryStatus, Employee, EmployeeVisibility
from services import employees
from settings import PROJECT_ROOT
from tests.factories import PASSWORD, Factory, error_codes, gql
from tests.graph.tables import TABLES, rows_of
from tests.graph.test_visibility_api import post

X_NAME, X_EMAIL = "Xavier Quuxley", "xavier.quuxley@example.test"
WEBHOOK_SECRET, WEBHOOK_PATH = "matrix-webhook-secret", "/hooks-of-the-matrix"
ADMIN_NAME, MATE_NAME = "Ada Admin", "Tess Team"
MISSING = 2_000_000_000  # a key no row has
FORBIDDEN, NOT_FOUND = "FORBIDDEN", "NOT_FOUND"
Vis = EmployeeVisibility


@dataclass(frozen=True)
class Who:
    key: str
    visibility: EmployeeVisibility = Vis.ALL
    admin: bool = False
    invoice: bool = False
    others: bool = False

    @property
    def sees_x(self) -> bool:
        return self.admin or self.visibility is Vis.ALL

    @property
    def sees_invoices(self) -> bool:
        return self.admin or self.invoice


ROLES = {who.key: who for who in (
    Who("administrator", Vis.OWN, admin=True), Who("billing", Vis.OWN, invoice=True), Who("all"), Who("own", Vis.OWN),
    Who("selected", Vis.SELECTED_ROLES), Who("subordinates", Vis.OWN_AND_SUBORDINATES), Who("for-others", others=True),
    Who("assistant", Vis.OWN, others=True),
)}  # fmt: skip
HIDERS = [key for key, who in ROLES.items() if not who.sees_x]


@dataclass
class World:
    who: Who
    token: str  # the viewer's
    admin: str  # the token of Ada Admin, who sets the world up
    x_token: str
    x: Employee
    viewer: Employee
    g: dict[str, str] = field(default_factory=dict)  # global IDs by name
    number: str = ""  # the invoice's

    def leaks(self, body: str) -> list[str]:
        """What of X, of the invoice or of the webhook `body` holds that the viewer's role may not see; the webhook's
        secret nobody may."""
        secret = [] if self.who.sees_x else ["xavier", "quuxley", f'"{self.g["x"]}"']
        secret += [] if self.who.sees_invoices else [self.number, f'"{self.g["invoice"]}"']
        secret += [WEBHOOK_SECRET]
        secret += [] if self.who.admin else [WEBHOOK_PATH, f'"{self.g["webhook"]}"', f'"{self.g["delivery"]}"']
        return [s for s in secret if s.lower() in body.lower()]


ERR = "userErrors { code field message }"
ENTRY = f"""mutation($input: TimeEntryInput!) {{ createTimeEntry(input: $input) {{
  timeEntry {{ id employee {{ name email }} createdBy {{ name }} }} overLimitEntry {{ id }} {ERR} }} }}"""
UPDATE = f"""mutation($id: ID!, $input: TimeEntryInput!) {{ updateTimeEntry(id: $id, input: $input) {{
  timeEntry {{ minutes employee {{ name email }} createdBy {{ name }} updatedBy {{ name }} }} {ERR} }} }}"""
DELETE = f"mutation($id: ID!) {{ deleteTimeEntry(id: $id) {{ deletedId {ERR} }} }}"
COPY = f"""mutation($ids: [ID!]!) {{ copyTimeEntries(ids: $ids, toDate: "2026-11-20") {{
  timeEntries {{ employee {{ name }} }} {ERR} }} }}"""
SAVE = f"""mutation($caseId: ID!, $changes: [TimeListChange!]!) {{ saveCaseTimeList(caseId: $caseId, changes: $changes)
  {{ timeEntries {{ employee {{ name }} createdBy {{ name }} }} {ERR} }} }}"""
START = f"""mutation($d: ID!, $a: ID!) {{ startTimer(input: {{debtorId: $d, activityId: $a}}) {{
  timer {{ id }} {ERR} }} }}"""
STOP = f"mutation {{ stopTimer {{ timeEntry {{ employee {{ name }} }} {ERR} }} }}"
DISCARD = f"mutation {{ discardTimer {{ timer {{ id }} {ERR} }} }}"
INVOICE = f"""mutation($d: ID!) {{ createInvoice(input: {{debtorId: $d}}) {{ invoice {{ id number timeEntries {{
  edges {{ node {{ employee {{ name }} employeeHidden createdBy {{ name }} }} }} }} }} {ERR} }} }}"""
VOID = f"mutation($id: ID!) {{ voidInvoice(id: $id) {{ invoice {{ number }} {ERR} }} }}"
RELEASE = f"""mutation($ids: [ID!]!) {{ releaseOverLimit(ids: $ids, status: BILLABLE) {{
  timeEntries {{ employee {{ name }} createdBy {{ name }} updatedBy {{ name }} }} {ERR} }} }}"""
LOGIN = """mutation($email: String!, $password: String!) { login(input: {email: $email, password: $password}) {
  token viewer { name supervisor { name email } } userErrors { code } } }"""
REPLAY = f"mutation($id: ID!) {{ replayWebhookDelivery(id: $id) {{ delivery {{ status }} {ERR} }} }}"
NODE = "query($id: ID!) { node(id: $id) { id } }"
ON = "query($id: ID!) {{ node(id: $id) {{ ... on {} {{ {} }} }} }}".format


def _admin_doc(field_name: str, input_type: str, with_id: bool = True) -> str:
    head, arg = ("$id: ID!, ", "id: $id, ") if with_id else ("", "")
    return f"mutation({head}$input: {input_type}!) {{ {field_name}({arg}input: $input) {{ userErrors {{ code }} }} }}"


async def build(factory: Factory, client: httpx.AsyncClient, who: Who) -> World:
    admin_role = await factory.role(admin=True)
    ada = await factory.employee(role=admin_role, name=ADMIN_NAME)
    x = await factory.employee(role=await factory.role(can_enter_time_for_others=True), name=X_NAME, email=X_EMAIL)
    team = await factory.role(name=f"Team {who.key}")
    role = await factory.role(admin=who.admin, visibility=who.visibility, visible_role_ids=[team.id],
                              can_enter_time_for_others=who.others, can_invoice=who.invoice)  # fmt: skip
    viewer = await factory.employee(role=role, name=f"Vic {who.key}", supervisor=x)
    mate = await factory.employee(role=team, name=MATE_NAME, supervisor=viewer)
    activity = await factory.activity(default_rate=Decimal("60.00"))
    debtor, open_debtor = await factory.debtor(), await factory.debtor()
    case = await factory.case(debtor=debtor, max_per_book_year=CapKind.TIME, max_minutes=100)
    open_case = await factory.case(debtor=open_debtor)
    await employees.set_rate(factory.session, employee_id=x.id, activity_id=activity.id, rate=Decimal("99.00"))
    world = World(who, await factory.token(viewer), await factory.token(ada), await factory.token(x), x, viewer)
    g = world.g
    for name, type_name, db_id in [
        ("x", "Employee", x.id), ("viewer", "Employee", viewer.id), ("mate", "Employee", mate.id),
        ("x_role", "Role", x.role_id), ("role", "Role", role.id), ("admin_role", "Role", admin_role.id),
        ("activity", "Activity", activity.id), ("debtor", "Debtor", debtor.id),
        ("open_debtor", "Debtor", open_debtor.id), ("case", "Case", case.id), ("open_case", "Case", open_case.id),
    ]:  # fmt: skip
        g[name] = ids.encode(type_name, db_id)

    async def write(minutes: int, day: str, case_id: str, **more: str) -> dict[str, Any]:
        entry = {"caseId": case_id, "activityId": g["activity"], "workDate": day, "minutes": minutes, **more}
        payload: dict[str, Any] = (await gql(client, ENTRY, {"input": entry}, token=world.x_token))["data"]
        assert payload["createTimeEntry"]["userErrors"] == [], payload
        return dict(payload["createTimeEntry"])

    capped = await write(120, "2026-11-02", g["case"])
    g.update(x_entry=capped["timeEntry"]["id"], x_line=capped["overLimitEntry"]["id"])
    g["x_open"] = (await write(45, "2026-11-03", g["open_case"]))["timeEntry"]["id"]
    g["v_entry"] = (await write(30, "2026-11-02", g["open_case"], employeeId=g["viewer"]))["timeEntry"]["id"]
    invoice = (await gql(client, INVOICE, {"d": g["debtor"]}, token=world.admin))["data"]["createInvoice"]["invoice"]
    g["invoice"], world.number = invoice["id"], invoice["number"]
    started = await gql(client, START, {"d": g["open_debtor"], "a": g["activity"]}, token=world.x_token)
    assert started["data"]["startTimer"]["userErrors"] == [], started
    webhook = await factory.webhook(by=ada, url=f"http://127.0.0.1:9{WEBHOOK_PATH}", secret=WEBHOOK_SECRET)
    delivery = await factory.delivery(webhook, status=DeliveryStatus.FAILED, attempts=8, last_error="HTTP 500")
    g.update(webhook=ids.encode("Webhook", webhook.id), delivery=ids.encode("WebhookDelivery", delivery.id))
    return world


# --- 1. READS: role x path -> exactly this answer, and nothing the role may not see in the raw body ------------------

Vars = Callable[[World], dict[str, Any]]
X_OPEN: Vars = lambda w: {"id": w.g["x_open"]}  # noqa: E731


@dataclass(frozen=True)
class Read:
    path: str
    query: str
    variables: Vars
    expect: Callable[[World], Any]  # the answer's `data`, or FORBIDDEN for the top-level refusal


def _x(w: World, **more: Any) -> dict[str, Any] | None:
    return {"name": X_NAME, **more} if w.who.sees_x else None


def _inv(w: World, value: Any) -> Any:
    return value if w.who.sees_invoices else None


def _names(w: World) -> list[str]:
    if w.who.sees_x:
        return sorted([ADMIN_NAME, MATE_NAME, w.viewer.name, X_NAME])
    sees_mate = w.who.visibility in (Vis.SELECTED_ROLES, Vis.OWN_AND_SUBORDINATES)
    return sorted([MATE_NAME, w.viewer.name]) if sees_mate else [w.viewer.name]


def _x_open(w: World, **more: Any) -> dict[str, Any]:
    return {"minutes": 45, "employeeHidden": not w.who.sees_x, "employee": _x(w), **more}


def _v_entry(w: World, **more: Any) -> dict[str, Any]:
    return {"minutes": 30, "employeeHidden": False, "employee": {"name": w.viewer.name}, **more}


def _listed(w: World) -> dict[str, Any]:
    edges = [_x_open(w, createdBy=_x(w)), _v_entry(w, createdBy=_x(w))]
    return {"totalCount": 2, "edges": [{"node": node} for node in edges]}


def _rows_by_minutes(body: dict[str, Any]) -> dict[str, Any]:
    """timeReport's rows in an order the SPEC leaves open: sorted by minutes."""
    report = (body.get("data") or {}).get("timeReport")
    if report and "rows" in report:
        report["rows"].sort(key=lambda row: row["minutes"])
    return body


NAMED = "minutes employeeHidden employee { name }"
PUBLIC_NODES = {"activity": "Activity", "case": "Case", "debtor": "Debtor", "x_role": "Role", "x_entry": "TimeEntry"}
# fmt: off
READS = [
    Read("node(Activity|Case|Debtor|Role|TimeEntry) is every role's",
         "query(" + ", ".join(f"${k}: ID!" for k in PUBLIC_NODES) + ") { "
         + " ".join(f"{k}: node(id: ${k}) {{ __typename }}" for k in PUBLIC_NODES) + " }",
         lambda w: {k: w.g[k] for k in PUBLIC_NODES},
         lambda w: {k: {"__typename": t} for k, t in PUBLIC_NODES.items()}),
    Read("node(X), his activityRates", ON("Employee", "name email activityRates { rate }"),
         lambda w: {"id": w.g["x"]},
         lambda w: {"node": _x(w, email=X_EMAIL, activityRates=[{"rate": "99.00"}] if w.who.admin else [])}),
    Read("employees", "{ employees { totalCount edges { node { name } } } }", lambda w: {},
         lambda w: {"employees": {"totalCount": len(_names(w)), "edges": [{"node": {"name": n}} for n in _names(w)]}}),
    Read("employees(search: X's name, X's email)",
         """{ n: employees(search: "quuxley") { edges { node { name } } }
              e: employees(search: "xavier.quuxley@") { totalCount } }""", lambda w: {},
         lambda w: {"n": {"edges": [{"node": {"name": X_NAME}}] if w.who.sees_x else []},
                    "e": {"totalCount": int(w.who.sees_x)}}),
    Read("viewer.supervisor, Employee.supervisor",
         "query($id: ID!) { viewer { supervisor { name email } }"
         " node(id: $id) { ... on Employee { supervisor { name } } } }",
         lambda w: {"id": w.g["viewer"]},
         lambda w: {"viewer": {"supervisor": _x(w, email=X_EMAIL)}, "node": {"supervisor": _x(w)}}),
    Read("X's entry: employee, createdBy, updatedBy, editable",
         ON("TimeEntry", f"{NAMED} createdBy {{ name }} updatedBy {{ name }} editable"), X_OPEN,
         lambda w: {"node": _x_open(w, createdBy=_x(w), updatedBy=_x(w),
                                    editable=w.who.admin or (w.who.others and w.who.sees_x))}),
    Read("the viewer's entry written by X: createdBy, updatedBy",
         ON("TimeEntry", f"{NAMED} createdBy {{ name }} updatedBy {{ name }}"), lambda w: {"id": w.g["v_entry"]},
         lambda w: {"node": _v_entry(w, createdBy=_x(w), updatedBy=_x(w))}),
    Read("timeEntries, Case.timeList",
         f"""query($d: ID!, $c: ID!) {{ timeEntries(filter: {{debtorIds: [$d]}}) {{ totalCount edges {{ node {{ {NAMED}
           createdBy {{ name }} }} }} }} node(id: $c) {{ ... on Case {{ timeList {{ totalCount edges {{ node {{
           {NAMED} createdBy {{ name }} }} }} }} }} }} }}""",
         lambda w: {"d": w.g["open_debtor"], "c": w.g["open_case"]},
         lambda w: {"timeEntries": _listed(w), "node": {"timeList": _listed(w)}}),
    Read("timeReport by EMPLOYEE",
         """query($d: ID!) { timeReport(filter: {debtorIds: [$d]}, groupBy: [EMPLOYEE]) {
           rows { employee { name } employeeHidden minutes } totalMinutes } }""",
         lambda w: {"d": w.g["open_debtor"]},
         lambda w: {"timeReport": {"totalMinutes": 75, "rows": [
             {"employee": {"name": w.viewer.name}, "employeeHidden": False, "minutes": 30},
             {"employee": _x(w), "employeeHidden": not w.who.sees_x, "minutes": 45}]}}),
    Read("a filter naming X",
         """query($x: [ID!]) { timeEntries(filter: {employeeIds: $x}) { totalCount }
           timeReport(filter: {employeeIds: $x}, groupBy: [STATUS]) { totalMinutes } }""",
         lambda w: {"x": [w.g["x"]]},
         lambda w: {"timeEntries": {"totalCount": 3 * w.who.sees_x},
                    "timeReport": {"totalMinutes": 165 * w.who.sees_x}}),
    Read("node(Invoice)", ON("Invoice", "number"),
         lambda w: {"id": w.g["invoice"]}, lambda w: {"node": _inv(w, {"number": w.number})}),
    Read("TimeEntry.invoice, overLimitOf.invoice",
         """query($e: ID!, $l: ID!) { e: node(id: $e) { ... on TimeEntry { status invoice { number } } }
           l: node(id: $l) { ... on TimeEntry { status overLimitOf { status invoice { id number } } } } }""",
         lambda w: {"e": w.g["x_entry"], "l": w.g["x_line"]},
         lambda w: {"e": {"status": "INVOICED", "invoice": _inv(w, {"number": w.number})},
                    "l": {"status": "OVER_LIMIT", "overLimitOf": {
                        "status": "INVOICED", "invoice": _inv(w, {"id": w.g["invoice"], "number": w.number})}}}),
    Read("invoices", "{ invoices { totalCount edges { node { number } } } }", lambda w: {},
         lambda w: {"invoices": {"totalCount": 1, "edges": [{"node": {"number": w.number}}]}}
         if w.who.sees_invoices else FORBIDDEN),
    Read("Invoice.timeEntries.employee",
         ON("Invoice", f"timeEntries {{ edges {{ node {{ {NAMED} }} }} }}"),
         lambda w: {"id": w.g["invoice"]},
         lambda w: {"node": _inv(w, {"timeEntries": {"edges": [
             {"node": {"minutes": 100, "employeeHidden": not w.who.sees_x, "employee": _x(w)}}]}})}),
    Read("capUsage",
         ON("Case", 'capUsage(date: "2026-11-02") { limitMinutes usedMinutes }'),
         lambda w: {"id": w.g["case"]}, lambda w: {"node": {"capUsage": {"limitMinutes": 100, "usedMinutes": 100}}}),
    Read("node(Webhook), node(WebhookDelivery), Webhook.deliveries",
         """query($w: ID!, $d: ID!) { w: node(id: $w) { ... on Webhook { url deliveries { edges { node { id } } } } }
           d: node(id: $d) { ... on WebhookDelivery { status lastError } } }""",
         lambda w: {"w": w.g["webhook"], "d": w.g["delivery"]},
         lambda w: {"w": {"url": f"http://127.0.0.1:9{WEBHOOK_PATH}",
                          "deliveries": {"edges": [{"node": {"id": w.g["delivery"]}}]}},
                    "d": {"status": "FAILED", "lastError": "HTTP 500"}} if w.who.admin else {"w": None, "d": None}),
    Read("webhooks", "{ webhooks { id eventTypes } }", lambda w: {},
         lambda w: {"webhooks": [{"id": w.g["webhook"], "eventTypes": ["timer.changed"]}]}
         if w.who.admin else FORBIDDEN),
]
# fmt: on


@pytest.mark.parametrize("role", list(ROLES))
async def test_each_path_answers_the_role_exactly_and_leaks_nothing(
    client: httpx.AsyncClient, factory: Factory, role: str
) -> None:
    # given
    world = await build(factory, client, ROLES[role])
    wrong: dict[str, Any] = {}
    for read in READS:
        # when
        response = await post(client, read.query, read.variables(world), token=world.token)
        # then: exactly the expected answer (for a seer, X's name in it), and no secret anywhere in the raw body
        body, expected = _rows_by_minutes(response.json()), read.expect(world)
        if (error_codes(body) if expected == FORBIDDEN else body) != (
            [FORBIDDEN] if expected == FORBIDDEN else {"data": expected}
        ):
            wrong[read.path] = body
        if world.leaks(response.text):
            wrong[f"{read.path} leaks {world.leaks(response.text)}"] = response.text
    assert wrong == {}


# --- 2. WRITES: mutation x role x real object -> a coded refusal, nothing written; the allowed twin writes ----------

SNAPSHOT = sorted(TABLES - {"auth_tokens"})  # a request may note its token's use; anything else it writes shows


async def everything(session: AsyncSession) -> dict[str, list[str]]:
    return {table: await rows_of(session, table) for table in SNAPSHOT}


@dataclass(frozen=True)
class Write:
    mutation: str
    role: str  # the role refused
    target: str
    document: str
    variables: Vars
    code: str = FORBIDDEN  # the userErrors code; with `top`, the top-level one
    top: bool = False
    allowed: str = "admin"  # whose token makes the same request: the administrator's, or X's for his own timer


def _new_for_x(w: World) -> dict[str, Any]:
    return {"caseId": w.g["open_case"], "activityId": w.g["activity"], "workDate": "2026-11-04", "minutes": 15,
            "employeeId": w.g["x"]}  # fmt: skip


def _change(w: World, **change: Any) -> dict[str, Any]:
    return {"caseId": w.g["open_case"], "changes": [{"id": w.g["x_open"], **change}]}


def _admin(mutation: str, role: str, target: str, input_type: str, variables: Vars, with_id: bool = True) -> Write:
    return Write(mutation, role, target, _admin_doc(mutation, input_type, with_id), variables, top=True)


TO_X: Vars = lambda w: {"id": w.g["v_entry"], "input": {"employeeId": w.g["x"]}}  # noqa: E731
# fmt: off
WRITES = [
    # another's time: without canEnterTimeForOthers FORBIDDEN; naming a hidden employee NOT_FOUND; a visible entry
    # of a hidden employee FORBIDDEN, with the right too (SPEC 5a)
    *[Write("createTimeEntry", role, "for-X", ENTRY, lambda w: {"input": _new_for_x(w)}, code)
      for role, code in [("all", FORBIDDEN), ("own", NOT_FOUND), ("billing", NOT_FOUND), ("assistant", NOT_FOUND)]],
    *[Write(mutation, role, "X's-entry", doc, variables)
      for mutation, doc, variables in [("updateTimeEntry", UPDATE, lambda w: {**X_OPEN(w), "input": {"minutes": 5}}),
                                       ("deleteTimeEntry", DELETE, X_OPEN)]
      for role in ("all", "own", "assistant")],
    Write("updateTimeEntry", "all", "own-entry-moved-to-X", UPDATE, TO_X),
    Write("updateTimeEntry", "assistant", "own-entry-moved-to-X", UPDATE, TO_X, NOT_FOUND),
    Write("copyTimeEntries", "all", "X's-entry", COPY, lambda w: {"ids": [w.g["x_open"]]}),
    Write("copyTimeEntries", "own", "X's-entry", COPY, lambda w: {"ids": [w.g["x_open"]]}, NOT_FOUND),
    Write("saveCaseTimeList", "all", "edit-X's-entry", SAVE, lambda w: _change(w, entry={"minutes": 5})),
    Write("saveCaseTimeList", "assistant", "delete-X's-entry", SAVE, lambda w: _change(w, delete=True)),
    Write("saveCaseTimeList", "assistant", "new-row-for-X", SAVE, lambda w: {
        "caseId": w.g["open_case"], "changes": [{"entry": {**_new_for_x(w), "caseId": None}}]}, NOT_FOUND),
    # timers: neither field takes an ID (see the last test), so X's running timer is no one else's to stop or drop
    Write("stopTimer", "for-others", "X's-timer", STOP, lambda w: {}, "NO_TIMER", allowed="x"),
    Write("discardTimer", "all", "X's-timer", DISCARD, lambda w: {}, "NO_TIMER", allowed="x"),
    # billing needs canInvoice, whatever else a role may
    Write("createInvoice", "for-others", "open-debtor", INVOICE, lambda w: {"d": w.g["open_debtor"]}, top=True),
    Write("voidInvoice", "all", "the-invoice", VOID, lambda w: {"id": w.g["invoice"]}, top=True),
    *[Write("releaseOverLimit", role, "X's-L-line", RELEASE, lambda w: {"ids": [w.g["x_line"]]}, top=True)
      for role in ("for-others", "own")],
    # an administrator's mutation on a real row, mostly one's own: no way up
    _admin("updateRole", "all", "own-role-to-admin", "RoleInput",
           lambda w: {"id": w.g["role"], "input": {"isAdministrator": True, "canInvoice": True}}),
    _admin("updateRole", "billing", "X's-role", "RoleInput",
           lambda w: {"id": w.g["x_role"], "input": {"employeeVisibility": "OWN"}}),
    _admin("updateEmployee", "own", "self-to-admin-role", "EmployeeInput",
           lambda w: {"id": w.g["viewer"], "input": {"roleId": w.g["admin_role"], "supervisorId": None}}),
    _admin("updateEmployee", "for-others", "X-deactivated", "EmployeeInput",
           lambda w: {"id": w.g["x"], "input": {"active": False}}),
    _admin("setEmployeeRate", "assistant", "self", "EmployeeRateInput", lambda w: {"input": {
        "employeeId": w.g["viewer"], "activityId": w.g["activity"], "rate": "999.00"}}, with_id=False),
    _admin("updateCase", "billing", "lift-the-cap", "CaseInput",
           lambda w: {"id": w.g["case"], "input": {"maxPerBookYear": "NONE"}}),
    _admin("updateDebtor", "for-others", "rate", "DebtorInput",
           lambda w: {"id": w.g["open_debtor"], "input": {"adjustedRate": "1.00"}}),
    _admin("updateActivity", "selected", "rate", "ActivityInput",
           lambda w: {"id": w.g["activity"], "input": {"defaultRate": "1.00"}}),
    _admin("updateSettings", "billing", "feature-off", "SettingsInput",
           lambda w: {"input": {"timeTrackingEnabled": False}}, with_id=False),
    _admin("createRole", "subordinates", "admin-role", "RoleInput",
           lambda w: {"input": {"name": "Root", "isAdministrator": True}}, with_id=False),
    _admin("createEmployee", "for-others", "admin", "EmployeeInput", lambda w: {"input": {
        "name": "Mallory", "email": "m@example.test", "password": "long-enough-pw", "roleId": w.g["admin_role"]}},
        with_id=False),
    _admin("createDebtor", "own", "debtor", "DebtorInput", lambda w: {"input": {"code": "N", "name": "N"}}, False),
    _admin("createWebhook", "billing", "all-events", "WebhookInput", lambda w: {"input": {
        "url": "http://127.0.0.1:9/mine", "eventTypes": ["timeEntry.created"], "secret": "y" * 16}}, with_id=False),
    _admin("updateWebhook", "for-others", "redirect-it", "WebhookInput",
           lambda w: {"id": w.g["webhook"], "input": {"url": "http://127.0.0.1:9/mine", "secret": "z" * 16}}),
    Write("replayWebhookDelivery", "all", "the-delivery", REPLAY, lambda w: {"id": w.g["delivery"]}, top=True),
    _admin("createActivity", "all", "activity", "ActivityInput", lambda w: {"input": {"code": "N", "name": "A"}},
           False),
    _admin("createCase", "billing", "case", "CaseInput",
           lambda w: {"input": {"debtorId": w.g["debtor"], "code": "N"}}, with_id=False),
    _admin("importCases", "for-others", "cases", "ImportCasesInput",
           lambda w: {"input": {"debtorIds": [w.g["debtor"], w.g["open_debtor"]], "case": {"code": "N"}}}, False),
]
# fmt: on


@pytest.mark.parametrize("cell", [pytest.param(c, id=f"{c.mutation}-{c.target}-by-{c.role}") for c in WRITES])
async def test_a_write_the_role_may_not_make_is_refused_and_writes_nothing(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession, cell: Write
) -> None:
    # given
    world = await build(factory, client, ROLES[cell.role])
    variables = cell.variables(world)
    before = await everything(session)
    # when
    response = await post(client, cell.document, variables, token=world.token)
    # then: the coded refusal and nothing else, no secret in the text, nothing written
    body = response.json()
    if cell.top:
        assert (error_codes(body), body["data"]) == ([FORBIDDEN], None), body
    else:
        payload = body["data"][cell.mutation]
        assert [e["code"] for e in payload["userErrors"]] == [cell.code], body
        assert [v for k, v in payload.items() if k != "userErrors" and v not in (None, [])] == [], body
    assert world.leaks(response.text) == []
    assert await everything(session) == before
    # and the same request by one who may writes: the refusal came from the rule, not from a bad request
    allowed = await gql(
        client, cell.document, variables, token=world.admin if cell.allowed == "admin" else world.x_token
    )
    assert allowed["data"][cell.mutation]["userErrors"] == [], allowed
    assert await everything(session) != before


# --- 3. TAMPERED IDS: another type's row, a row the viewer may not see and no row at all answer alike ---------------


@dataclass(frozen=True)
class Tamper:
    name: str
    role: str
    document: str
    variables: Callable[[World, str], dict[str, Any]]
    ids: Callable[[World], list[str]]  # IDs of rows that exist but are hidden or of another type (or of none)
    verdict: Callable[[dict[str, Any]], Any]  # what of the answer must equal `expected`
    expected: Any = (NOT_FOUND,)


def _twin(global_id: str) -> str:
    """The same type with a number no row has: the answer must not tell the two apart."""
    decoded = ids.decode_any(global_id)
    assert decoded is not None, global_id
    return ids.encode(decoded[0], MISSING)


def _codes(mutation: str) -> Callable[[dict[str, Any]], Any]:
    return lambda body: tuple(e["code"] for e in body["data"][mutation]["userErrors"])


NULL_NODE = {"data": {"node": None}}
_whole: Callable[[dict[str, Any]], Any] = lambda body: body  # noqa: E731
NEW_FOR: Callable[[World, str], dict[str, Any]] = lambda w, i: {"input": {**_new_for_x(w), "employeeId": i}}  # noqa: E731
# fmt: off
TAMPERS = [
    Tamper("node(hidden employee)", "own", NODE, lambda w, i: {"id": i}, lambda w: [w.g["x"]], _whole, NULL_NODE),
    Tamper("node(invoice)", "for-others", NODE, lambda w, i: {"id": i}, lambda w: [w.g["invoice"]], _whole, NULL_NODE),
    Tamper("createTimeEntry.employeeId", "own", ENTRY, NEW_FOR,
           lambda w: [w.g["x"], w.g["mate"], w.g["case"]], _codes("createTimeEntry")),
    Tamper("createTimeEntry.employeeId", "for-others", ENTRY, NEW_FOR,
           lambda w: [ids.encode("Employee", MISSING), w.g["case"], w.g["invoice"]], _codes("createTimeEntry")),
    # without canEnterTimeForOthers any other employee's ID is refused before anything is read (SPEC 5a): one who
    # exists and one who does not answer alike, FORBIDDEN, so the answer confirms nobody
    Tamper("createTimeEntry.employeeId", "all", ENTRY, NEW_FOR,
           lambda w: [w.g["x"], ids.encode("Employee", MISSING)], _codes("createTimeEntry"), (FORBIDDEN,)),
    Tamper("filter.employeeIds", "subordinates", """query($i: ID!) { timeEntries(filter: {employeeIds: [$i]})
           { totalCount } timeReport(filter: {employeeIds: [$i]}, groupBy: [EMPLOYEE]) { rows { minutes } } }""",
           lambda w, i: {"i": i}, lambda w: [w.g["x"], w.g["case"]], _whole,
           {"data": {"timeEntries": {"totalCount": 0}, "timeReport": {"rows": []}}}),
    Tamper("updateTimeEntry.id", "all", UPDATE, lambda w, i: {"id": i, "input": {"minutes": 5}},
           lambda w: [ids.encode("TimeEntry", MISSING), w.g["invoice"], w.g["case"], w.g["x"]],
           _codes("updateTimeEntry")),
    Tamper("deleteTimeEntry.id", "own", DELETE, lambda w, i: {"id": i},
           lambda w: [ids.encode("TimeEntry", MISSING), w.g["invoice"], w.g["open_case"]], _codes("deleteTimeEntry")),
    Tamper("copyTimeEntries.ids", "all", COPY, lambda w, i: {"ids": [i]},
           lambda w: [ids.encode("TimeEntry", MISSING), w.g["invoice"], w.g["x"]], _codes("copyTimeEntries")),
    Tamper("saveCaseTimeList.caseId", "all", SAVE, lambda w, i: {"caseId": i, "changes": []},
           lambda w: [ids.encode("Case", MISSING), w.g["open_debtor"], w.g["x_open"]], _codes("saveCaseTimeList")),
    Tamper("startTimer.debtorId", "own", START, lambda w, i: {"d": i, "a": w.g["activity"]},
           lambda w: [ids.encode("Debtor", MISSING), w.g["open_case"], w.g["x"]], _codes("startTimer")),
    Tamper("voidInvoice.id", "billing", VOID, lambda w, i: {"id": i},
           lambda w: [ids.encode("Invoice", MISSING), w.g["x_entry"], w.g["debtor"]], _codes("voidInvoice")),
    Tamper("releaseOverLimit.ids", "billing", RELEASE, lambda w, i: {"ids": [i]},
           lambda w: [ids.encode("TimeEntry", MISSING), w.g["invoice"], w.g["case"]], _codes("releaseOverLimit")),
    Tamper("voidInvoice.id", "own", VOID, lambda w, i: {"id": i}, lambda w: [w.g["invoice"]],
           lambda b: (error_codes(b), b["data"]), ([FORBIDDEN], None)),
    Tamper("updateEmployee.id", "administrator", _admin_doc("updateEmployee", "EmployeeInput"),
           lambda w, i: {"id": i, "input": {"name": "Renamed"}}, lambda w: [w.g["role"], w.g["invoice"]],
           _codes("updateEmployee")),
    Tamper("node(webhook)", "billing", NODE, lambda w, i: {"id": i}, lambda w: [w.g["webhook"], w.g["delivery"]],
           _whole, NULL_NODE),
    Tamper("updateWebhook.id", "administrator", _admin_doc("updateWebhook", "WebhookInput"),
           lambda w, i: {"id": i, "input": {"active": False}}, lambda w: [w.g["delivery"], w.g["role"]],
           _codes("updateWebhook")),
    Tamper("replayWebhookDelivery.id", "administrator", REPLAY, lambda w, i: {"id": i},
           lambda w: [w.g["webhook"], w.g["x_entry"]], _codes("replayWebhookDelivery")),
]
# fmt: on


@pytest.mark.parametrize("cell", [pytest.param(c, id=f"{c.name}-by-{c.role}") for c in TAMPERS])
async def test_a_tampered_id_answers_as_an_id_of_nothing(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession, cell: Tamper
) -> None:
    # given
    world = await build(factory, client, ROLES[cell.role])
    before = await everything(session)
    answers: dict[str, Any] = {}
    for global_id in cell.ids(world):
        # when: the ID, and its twin whose number names no row
        tampered, twin = [
            await post(client, cell.document, cell.variables(world, i), token=world.token)
            for i in (global_id, _twin(global_id))
        ]
        answers[global_id] = (cell.verdict(tampered.json()), tampered.json() == twin.json(), world.leaks(tampered.text))
    # then: refused as not found, word for word as the twin, and no secret in the text; nothing written
    assert answers == {global_id: (cell.expected, True, []) for global_id in answers}
    assert await everything(session) == before


# --- 4. TOKENS: a token acts as its own employee only (gates, expiry and revocation: test_gates.py) -----------------

TIMERS = text("SELECT id, employee_id, started_at FROM timers ORDER BY id")
RUNNING = "{ viewer { name } runningTimer { id } }"


async def test_a_token_writes_and_times_for_its_own_employee_only(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    # given: X's timer runs, and the viewer may write for X
    world = await build(factory, client, ROLES["for-others"])
    x_before = await gql(client, RUNNING, token=world.x_token)
    timers_before = (await session.execute(TIMERS)).all()
    entry = {k: v for k, v in _new_for_x(world).items() if k != "employeeId"}
    # when: the viewer starts a timer, writes without naming anyone, and drops a timer
    started = await gql(client, START, {"d": world.g["open_debtor"], "a": world.g["activity"]}, token=world.token)
    mine = await gql(client, RUNNING, token=world.token)
    written = await gql(client, ENTRY, {"input": entry}, token=world.token)
    dropped = await gql(client, DISCARD, token=world.token)
    # then: each acted on the viewer alone; X's timer runs on, untouched
    timer_id = started["data"]["startTimer"]["timer"]["id"]
    assert mine["data"] == {"viewer": {"name": world.viewer.name}, "runningTimer": {"id": timer_id}}
    assert timer_id != x_before["data"]["runningTimer"]["id"]
    assert written["data"]["createTimeEntry"]["timeEntry"]["employee"]["name"] == world.viewer.name
    assert dropped["data"]["discardTimer"] == {"timer": {"id": timer_id}, "userErrors": []}
    assert await gql(client, RUNNING, token=world.x_token) == x_before
    assert (await session.execute(TIMERS)).all() == timers_before


async def test_logout_and_a_new_password_touch_the_callers_token_and_password_only(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    # given
    world = await build(factory, client, ROLES["own"])
    hashes = text("SELECT id, password_hash FROM employees WHERE id IN (:x, :v)")
    both = {"x": world.x.id, "v": world.viewer.id}
    before: dict[int, str] = dict((await session.execute(hashes, both)).all())
    change = (
        'mutation { changePassword(input: {currentPassword: "correct-horse", newPassword: "a-new-secret"}) { ok } }'
    )
    # when
    changed = await gql(client, change, token=world.token)
    out = await gql(client, "mutation { logout }", token=world.token)
    # then: the viewer's password changed and their token is gone; X's password and token are as they were
    after: dict[int, str] = dict((await session.execute(hashes, both)).all())
    assert (changed["data"], out["data"]) == ({"changePassword": {"ok": True}}, {"logout": True})
    assert (after[world.x.id], after[world.viewer.id] != before[world.viewer.id]) == (before[world.x.id], True)
    assert error_codes(await gql(client, "{ viewer { name } }", token=world.token)) == ["UNAUTHENTICATED"]
    assert (await gql(client, RUNNING, token=world.x_token))["data"]["viewer"] == {"name": X_NAME}
    assert (await gql(client, LOGIN, {"email": X_EMAIL, "password": PASSWORD}))["data"]["login"]["token"]


# --- 5. SWEEP: these answers never name X to a role that hides him, and do name him to an administrator ------------


@dataclass(frozen=True)
class Doc:
    name: str
    query: str
    variables: Vars
    names_x: bool = True  # an administrator's answer names X: the negative control


PEOPLE = "employee { name email } createdBy { name email } updatedBy { name email }"
# fmt: off
SWEEP = [
    Doc("employees", "{ employees { edges { node { name email supervisor { name email } } } } }", lambda w: {}),
    Doc("employees(search)", """{ a: employees(search: "Xavier") { edges { node { name } } }
        b: employees(search: "xavier.quuxley@example.test") { edges { node { email } } } }""", lambda w: {}),
    Doc("timeEntries", f"""{{ timeEntries {{ edges {{ node {{ {PEOPLE} overLimitOf {{ {PEOPLE} }}
        overLimitEntry {{ {PEOPLE} }} }} }} }} }}""", lambda w: {}),
    Doc("timeReport by EMPLOYEE", """{ timeReport(filter: {}, groupBy: [EMPLOYEE, CASE]) {
        rows { employee { name email supervisor { name } } employeeHidden minutes } } }""", lambda w: {}),
    Doc("Case.timeList", ON("Case", f"timeList {{ edges {{ node {{ {PEOPLE} }} }} }}"), lambda w: {"id": w.g["case"]}),
    Doc("node(X)", ON("Employee", "name email"), lambda w: {"id": w.g["x"]}),
    Doc("createdBy/updatedBy", ON("TimeEntry", PEOPLE), lambda w: {"id": w.g["v_entry"]}),
    Doc("capUsage", ON("Case", 'capUsage(date: "2026-11-02") { usedMinutes }'), lambda w: {"id": w.g["case"]},
        names_x=False),
    Doc("Invoice.timeEntries", ON("Invoice", f"timeEntries {{ edges {{ node {{ {PEOPLE} }} }} }}"),
        lambda w: {"id": w.g["invoice"]}),
    Doc("login", LOGIN, lambda w: {"email": w.viewer.email, "password": PASSWORD}),
    Doc("createTimeEntry for X", ENTRY, lambda w: {"input": _new_for_x(w)}),
    Doc("updateTimeEntry of X's", UPDATE, lambda w: {"id": w.g["x_open"], "input": {"minutes": 44}}),
    Doc("updateTimeEntry of own, by X", UPDATE, lambda w: {"id": w.g["v_entry"], "input": {"minutes": 29}}),
    Doc("copyTimeEntries of X's", COPY, lambda w: {"ids": [w.g["x_open"]]}),
    Doc("saveCaseTimeList of X's", SAVE, lambda w: _change(w, entry={"minutes": 43})),
    Doc("releaseOverLimit of X's", RELEASE, lambda w: {"ids": [w.g["x_line"]]}),
    Doc("createInvoice", INVOICE, lambda w: {"d": w.g["open_debtor"]}),
    Doc("deleteTimeEntry of X's", DELETE, X_OPEN, names_x=False),
]
# fmt: on


async def _sweep(client: httpx.AsyncClient, world: World) -> dict[str, str]:
    return {d.name: (await post(client, d.query, d.variables(world), token=world.token)).text for d in SWEEP}


@pytest.mark.parametrize("role", HIDERS)
async def test_no_answer_names_a_hidden_employee(client: httpx.AsyncClient, factory: Factory, role: str) -> None:
    # given
    world = await build(factory, client, ROLES[role])
    # when
    bodies = await _sweep(client, world)
    # then: every document ran (only billing's gate may refuse one), and none names X
    assert {n: codes for n, b in bodies.items() if (codes := set(error_codes(json.loads(b))) - {FORBIDDEN})} == {}
    assert {name: body for name, body in bodies.items() if world.leaks(body)} == {}


async def test_the_same_answers_name_him_to_an_administrator(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    world = await build(factory, client, ROLES["administrator"])
    # when
    bodies = await _sweep(client, world)
    # then: the sweep would see a leak, for these documents do reach X
    assert [d.name for d in SWEEP if d.names_x and X_NAME not in bodies[d.name]] == []
    assert [
        name for name in ("employees", "employees(search)", "node(X)", "login") if X_EMAIL not in bodies[name]
    ] == []


def test_the_matrix_covers_every_node_type_and_every_mutation() -> None:
    # given
    schema = build_schema((PROJECT_ROOT / "schema.graphql").read_text())
    assert schema.mutation_type is not None
    mutations = schema.mutation_type.fields
    # when
    nodes = {name for name, t in schema.type_map.items() if any(i.name == "Node" for i in getattr(t, "interfaces", []))}
    covered = {c.mutation for c in WRITES} | {"login", "logout", "changePassword", "startTimer"}  # sweep, tokens
    # then: no timer field but startTimer takes an argument, so none can name another's timer
    assert nodes == {*PUBLIC_NODES.values(), "Employee", "Invoice", "Webhook", "WebhookDelivery"}
    assert set(mutations) == covered
    assert {name for name, f in mutations.items() if "Timer" in name and f.args} == {"startTimer"}
