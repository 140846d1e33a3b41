"""events: every change recorded once, in the transaction that makes it, by triggers on the tables it changes

Revision ID: 0008
Revises: 0007

One mechanism for every write path (prebuilt statements, the ORM, bulk moves): statement-level triggers with
transition tables append the domain events of SPEC 13 to `events`, so a rolled-back write leaves none and a
committed one is never lost. `changes` holds, per column that changed, [before, after] as JSON; the API names and
formats them (services/history.py). Who did it: the row's `updated_by_id`/`created_by_id`, or, where the row cannot
say (a delete, a void, a role), the transaction's `casetime.actor` setting; `casetime.releasing` tells a release of L
time from an edit (services/events.py sets both). Readers find new events by transaction and id, below the oldest
transaction still running (services/delta_sync.py); nothing is notified at commit, as NOTIFY would queue every
writer's commit behind one lock.
"""
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# the columns of an entry whose changes its history shows (SPEC 13), in the API's order
ENTRY_COLUMNS = (
    "employee_id", "debtor_id", "case_id", "activity_id", "work_date", "minutes", "status", "rate", "amount",
    "description", "tags", "invoice_id",
)
ROLE_COLUMNS = ("name", "employee_visibility", "is_administrator", "can_enter_time_for_others", "can_invoice")


def _columns(names: tuple[str, ...]) -> str:
    return "ARRAY[" + ", ".join(f"'{name}'" for name in names) + "]"


ENTRY, ROLE = _columns(ENTRY_COLUMNS), _columns(ROLE_COLUMNS)


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE events (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
            at timestamptz NOT NULL DEFAULT now(),
            type text NOT NULL,
            record_type text NOT NULL,
            record_id bigint NOT NULL,
            action text,
            by_id integer,
            employee_id integer,
            left_employee_id integer,
            case_id integer,
            changes jsonb NOT NULL DEFAULT '{}',
            data jsonb NOT NULL DEFAULT '{}'
        )
        """
    )
    op.execute("CREATE INDEX ix_events_record ON events (record_type, record_id, id)")
    # delta sync reads an employee's entries' events by transaction, then id (services/delta_sync.py)
    op.execute("CREATE INDEX ix_events_entry_owner ON events (employee_id, xid, id) WHERE record_type = 'TimeEntry'")
    op.execute("CREATE INDEX ix_events_entry_left ON events (left_employee_id, xid, id) WHERE left_employee_id IS NOT NULL")
    op.execute(
        "ALTER TABLE cases ADD COLUMN cap_thresholds smallint[] NOT NULL DEFAULT '{50,80,100}'"
        " CONSTRAINT ck_cases_cap_thresholds CHECK (cardinality(cap_thresholds) <= 10"
        " AND 0 < ALL(cap_thresholds) AND 100 >= ALL(cap_thresholds))"
    )
    op.execute(
        """
        CREATE FUNCTION event_actor() RETURNS integer LANGUAGE sql STABLE
        RETURN nullif(current_setting('casetime.actor', true), '')::integer
        """
    )
    op.execute(
        """
        CREATE FUNCTION row_changes(before jsonb, after jsonb, columns text[]) RETURNS jsonb LANGUAGE sql IMMUTABLE
        RETURN (
            SELECT coalesce(jsonb_object_agg(name, jsonb_build_array(before -> name, after -> name)), '{}')
            FROM unnest(columns) AS name
            -- a column absent (no row before or after) is null, as a null column is
            WHERE coalesce(before -> name, 'null') <> coalesce(after -> name, 'null')
        )
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION entries_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO events (type, record_type, record_id, action, by_id, employee_id, case_id, changes)
            SELECT 'timeEntry.created', 'TimeEntry', n.id, 'CREATED', n.created_by_id, n.employee_id, n.case_id,
                   row_changes('{{}}', to_jsonb(n), {ENTRY})
            FROM new_rows n ORDER BY n.id;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION entries_updated() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO events (type, record_type, record_id, action, by_id, employee_id, left_employee_id, case_id,
                                changes)
            SELECT 'timeEntry.updated', 'TimeEntry', n.id,
                   CASE
                       WHEN o.status <> 'F' AND n.status = 'F' THEN 'INVOICED'
                       WHEN o.status = 'F' AND n.status <> 'F' THEN 'VOIDED'
                       WHEN o.status = 'L' AND n.status <> 'L'
                            AND current_setting('casetime.releasing', true) = 'on' THEN 'RELEASED'
                       ELSE 'UPDATED'
                   END,
                   n.updated_by_id, n.employee_id, nullif(o.employee_id, n.employee_id), n.case_id, changed.changes
            FROM new_rows n JOIN old_rows o ON o.id = n.id
            CROSS JOIN LATERAL (SELECT row_changes(to_jsonb(o), to_jsonb(n), {ENTRY}) AS changes) changed
            WHERE changed.changes <> '{{}}'
            ORDER BY n.id;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION entries_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO events (type, record_type, record_id, action, by_id, employee_id, case_id, changes)
            SELECT 'timeEntry.deleted', 'TimeEntry', o.id, 'DELETED', event_actor(), o.employee_id, o.case_id,
                   row_changes(to_jsonb(o), '{{}}', {ENTRY})
            FROM old_rows o ORDER BY o.id;
            RETURN NULL;
        END $$
        """
    )
    for event, function in (("INSERT", "entries_inserted"), ("DELETE", "entries_deleted")):
        rows = "NEW TABLE AS new_rows" if event == "INSERT" else "OLD TABLE AS old_rows"
        op.execute(
            f"CREATE TRIGGER {function} AFTER {event} ON time_entries REFERENCING {rows}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
    op.execute(
        "CREATE TRIGGER entries_updated AFTER UPDATE ON time_entries"
        " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION entries_updated()"
    )
    # a case's counted time crossing one of its thresholds upwards, as every write path moves its totals row; a
    # totals row is always made empty (services/totals.py, services/writing.py), so only an update can cross
    op.execute(
        """
        CREATE FUNCTION cap_used(kind text, basis text, j_minutes numeric, f_minutes numeric, n_minutes numeric,
                                 j_amount numeric, f_amount numeric, n_amount numeric) RETURNS numeric
        LANGUAGE sql IMMUTABLE
        RETURN CASE WHEN basis = 'BILLABLE' AND kind = 'TIME' THEN j_minutes + f_minutes
                    WHEN basis = 'BILLABLE' THEN j_amount + f_amount
                    WHEN kind = 'TIME' THEN n_minutes
                    ELSE n_amount END
        """
    )
    op.execute(
        """
        CREATE FUNCTION caps_crossed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO events (type, record_type, record_id, case_id, by_id, data)
            SELECT 'cap.threshold', 'Case', c.id, c.id, event_actor(),
                   jsonb_build_object('percent', t.percent, 'yearStart', n.year_start)
            FROM new_rows n
            JOIN old_rows o USING (case_id, year_start)
            JOIN cases c ON c.id = n.case_id AND c.max_per_book_year <> 'NONE'
            CROSS JOIN LATERAL (
                SELECT cap_used(c.max_per_book_year::text, c.max_based_on::text, o.j_minutes, o.f_minutes,
                                o.n_minutes, o.j_amount, o.f_amount, o.n_amount) AS before,
                       cap_used(c.max_per_book_year::text, c.max_based_on::text, n.j_minutes, n.f_minutes,
                                n.n_minutes, n.j_amount, n.f_amount, n.n_amount) AS after,
                       CASE c.max_per_book_year WHEN 'TIME' THEN c.max_minutes ELSE c.max_amount END AS maximum
            ) used
            CROSS JOIN LATERAL unnest(c.cap_thresholds) AS t(percent)
            WHERE used.after > used.before AND used.maximum > 0
              AND used.before * 100 < t.percent * used.maximum AND used.after * 100 >= t.percent * used.maximum
            ORDER BY c.id, n.year_start, t.percent;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER caps_crossed AFTER UPDATE ON case_year_totals"
        " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION caps_crossed()"
    )
    op.execute(
        """
        CREATE FUNCTION timers_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                INSERT INTO events (type, record_type, record_id, by_id, employee_id, case_id, data)
                SELECT 'timer.changed', 'Timer', o.id, o.employee_id, o.employee_id, o.case_id, '{"running": false}'
                FROM old_rows o ORDER BY o.id;
            ELSE
                INSERT INTO events (type, record_type, record_id, by_id, employee_id, case_id, data)
                SELECT 'timer.changed', 'Timer', n.id, n.employee_id, n.employee_id, n.case_id, '{"running": true}'
                FROM new_rows n ORDER BY n.id;
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER timers_started AFTER INSERT ON timers REFERENCING NEW TABLE AS new_rows"
        " FOR EACH STATEMENT EXECUTE FUNCTION timers_changed()"
    )
    op.execute(
        "CREATE TRIGGER timers_ended AFTER DELETE ON timers REFERENCING OLD TABLE AS old_rows"
        " FOR EACH STATEMENT EXECUTE FUNCTION timers_changed()"
    )
    op.execute(
        """
        CREATE FUNCTION invoices_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO events (type, record_type, record_id, action, by_id, changes)
                SELECT 'invoice.created', 'Invoice', n.id, 'CREATED', n.created_by_id,
                       jsonb_build_object('number', jsonb_build_array(NULL, n.number),
                                          'total', jsonb_build_array(NULL, n.total),
                                          'invoice_date', jsonb_build_array(NULL, n.invoice_date))
                FROM new_rows n ORDER BY n.id;
            ELSE
                INSERT INTO events (type, record_type, record_id, action, by_id, changes)
                SELECT 'invoice.voided', 'Invoice', n.id, 'VOIDED', event_actor(),
                       jsonb_build_object('voided', jsonb_build_array(o.voided, n.voided))
                FROM new_rows n JOIN old_rows o ON o.id = n.id
                WHERE n.voided AND NOT o.voided ORDER BY n.id;
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER invoices_created AFTER INSERT ON invoices REFERENCING NEW TABLE AS new_rows"
        " FOR EACH STATEMENT EXECUTE FUNCTION invoices_changed()"
    )
    op.execute(
        "CREATE TRIGGER invoices_voided AFTER UPDATE ON invoices REFERENCING OLD TABLE AS old_rows"
        " NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION invoices_changed()"
    )
    op.execute(
        f"""
        CREATE FUNCTION roles_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            -- every updateRole raises the version, its visible roles (another table) included
            INSERT INTO events (type, record_type, record_id, action, by_id, changes)
            SELECT 'role.changed', 'Role', n.id, 'UPDATED', event_actor(), row_changes(to_jsonb(o), to_jsonb(n), {ROLE})
            FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE n.version <> o.version
            ORDER BY n.id;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER roles_changed AFTER UPDATE ON roles REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
        " FOR EACH STATEMENT EXECUTE FUNCTION roles_changed()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER roles_changed ON roles")
    op.execute("DROP TRIGGER invoices_voided ON invoices")
    op.execute("DROP TRIGGER invoices_created ON invoices")
    op.execute("DROP TRIGGER timers_ended ON timers")
    op.execute("DROP TRIGGER timers_started ON timers")
    op.execute("DROP TRIGGER caps_crossed ON case_year_totals")
    for trigger in ("entries_inserted", "entries_updated", "entries_deleted"):
        op.execute(f"DROP TRIGGER {trigger} ON time_entries")
    for function in (
        "roles_changed", "invoices_changed", "timers_changed", "caps_crossed", "entries_deleted",
        "entries_updated", "entries_inserted",
    ):
        op.execute(f"DROP FUNCTION {function}()")
    op.execute("DROP FUNCTION cap_used(text, text, numeric, numeric, numeric, numeric, numeric, numeric)")
    op.execute("DROP FUNCTION row_changes(jsonb, jsonb, text[])")
    op.execute("DROP FUNCTION event_actor()")
    op.execute("ALTER TABLE cases DROP COLUMN cap_thresholds")
    op.execute("DROP TABLE events")
