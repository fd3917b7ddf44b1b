"""Two PostgreSQL roles: an owner that migrates, and the app's role that cannot rewrite history.

The append-only triggers (``mat.append_only``) refuse UPDATE, DELETE and TRUNCATE of doses,
orders, screens, audit events... for every role, but a table's owner (or a superuser) can
switch them off (``ALTER TABLE ... DISABLE TRIGGER``). So the app never runs as the owner:

- **owner** (``mat_owner``): owns the schema, its tables, sequences and the trigger function;
  runs ``flask db upgrade``. Its credentials stay with the person or job that migrates, never
  on the app servers.
- **app** (``mat_app``): not a superuser, owns nothing, creates nothing. On append-only tables:
  ``SELECT`` and ``INSERT`` only (and ``UPDATE`` of the columns a partial trigger leaves open,
  if a table has one). On every other table (patients, users, roles, tokens, sessions,
  idempotency keys, the formulary...): ``SELECT``, ``INSERT``, ``UPDATE``, ``DELETE``, since
  the app changes accounts, tokens, sessions and patients' level of care. The staged reads
  (``audit_staged_reads``, whose trigger runs ``mat_seal_only()``): ``SELECT``, ``INSERT``
  and ``DELETE`` (sealing; the trigger refuses any other). Never ``TRUNCATE``,
  ``REFERENCES`` or ``TRIGGER``, anywhere. Sequences: ``USAGE`` and ``SELECT`` (ids).

Which tables are append-only is read from the database, not from a list here: every table with
a ``*_no_delete`` trigger that runs ``mat_refuse_change()`` (the one place, ``make_append_only``
in the migrations), so a table a later migration makes append-only is covered by the next
``db roles --apply``. Tables created by the owner later get ``SELECT, INSERT`` for the app by
default privileges (safe for an append-only table); re-run ``db roles --apply`` after each
upgrade so a new mutable table gets its ``UPDATE``/``DELETE`` too.

``plan_from_database`` reads; ``statements`` is pure (names and tables in, SQL out).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field

import click
from sqlalchemy import Connection, text

from mat.extensions import db

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# Alembic's bookkeeping: only the owner, migrating, writes it.
READ_ONLY_TABLES = ("alembic_version",)
# The function every append-only trigger runs (mat.append_only.PG_FUNCTION).
REFUSE_FUNCTION = "mat_refuse_change"
# The function of a table whose rows leave only by sealing (audit_staged_reads, migration 0009).
SEAL_FUNCTION = "mat_seal_only"
# The chain's lock, seal and head in one call (migration 0010): owned by the owner, so the app
# role cannot replace it with one that hands back a head of its choosing.
CHAIN_TAIL_FUNCTION = "mat_audit_chain_tail(bigint)"


@dataclass(frozen=True)
class RolePlan:
    owner: str
    app: str
    tables: list[str]
    # append-only table -> the columns its UPDATE trigger protects (empty: all of them)
    append_only: dict[str, list[str]]
    columns: dict[str, list[str]] = field(default_factory=dict)  # table -> all its columns
    # Tables read, added to and deleted from only by sealing (the trigger checks): no UPDATE.
    sealed: list[str] = field(default_factory=list)

    @property
    def mutable(self) -> list[str]:
        fixed = {*self.append_only, *self.sealed, *READ_ONLY_TABLES}
        return [t for t in self.tables if t not in fixed]

    def open_columns(self, table: str) -> list[str]:
        """Columns of an append-only table that its partial UPDATE trigger leaves open."""
        protected = self.append_only.get(table, [])
        if not protected:
            return []
        return [c for c in self.columns.get(table, []) if c not in protected]


def check_role_name(name: str) -> str:
    if not ROLE_NAME.match(name):
        raise ValueError(f"{name!r} is not a plain role name (lower-case letters, digits, _).")
    return name


def plan_from_database(conn: Connection, owner: str, app: str) -> RolePlan:
    """The tables of the current schema and which of them the append-only triggers guard."""
    tables = list(
        conn.scalars(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
        )
    )
    rows = conn.execute(
        text(
            """
            SELECT c.relname, t.tgname,
                   ARRAY(SELECT a.attname FROM pg_attribute a
                         WHERE a.attrelid = c.oid AND a.attnum = ANY (t.tgattr)
                         ORDER BY a.attnum) AS cols
            FROM pg_trigger t
            JOIN pg_class c ON c.oid = t.tgrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_proc p ON p.oid = t.tgfoid
            WHERE p.proname = :function AND n.nspname = current_schema() AND NOT t.tgisinternal
            """
        ),
        {"function": REFUSE_FUNCTION},
    ).all()
    guarded = {table for table, name, _ in rows if name == f"{table}_no_delete"}
    append_only = {table: [] for table in sorted(guarded)}
    for table, name, cols in rows:
        if table in guarded and name == f"{table}_no_update" and cols:
            append_only[table] = list(cols)
    columns: dict[str, list[str]] = {}
    for table, column in conn.execute(
        text(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
        )
    ):
        columns.setdefault(table, []).append(column)
    sealed = list(
        conn.scalars(
            text(
                "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_proc p ON p.oid = t.tgfoid "
                "WHERE p.proname = :function AND n.nspname = current_schema() ORDER BY 1"
            ),
            {"function": SEAL_FUNCTION},
        )
    )
    return RolePlan(
        check_role_name(owner), check_role_name(app), tables, append_only, columns, sealed
    )


def _q(name: str) -> str:
    """A checked role or table name, double-quoted as an SQL identifier."""
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
        raise ValueError(f"unexpected identifier {name!r}")
    return f'"{name}"'


def statements(plan: RolePlan) -> list[str]:
    """The SQL, in order, to run as a superuser (or the database's owner with CREATEROLE)
    in the app's database. Idempotent: run it again after every upgrade."""
    owner, app = _q(plan.owner), _q(plan.app)
    sql = [
        "-- Roles: created if missing; the app role can never be more than a login.",
        _create_role(plan.owner),
        _create_role(plan.app),
        f"ALTER ROLE {app} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS",
        f"REVOKE {owner} FROM {app}",
        "-- The owner owns the schema and everything in it (ALTER TABLE also moves each",
        "-- table's sequences); only an owner or a superuser can disable a trigger.",
        "DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO "
        f"{plan.owner}, {plan.app}', current_database()); END $$",
        f"ALTER SCHEMA public OWNER TO {owner}",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        f"GRANT USAGE ON SCHEMA public TO {app}",
        f"ALTER FUNCTION public.{REFUSE_FUNCTION}() OWNER TO {owner}",
        *([f"ALTER FUNCTION public.{SEAL_FUNCTION}() OWNER TO {owner}"] if plan.sealed else []),
        # Before migration 0010 there is no such function: the block does nothing then.
        f"DO $$ BEGIN IF to_regprocedure('public.{CHAIN_TAIL_FUNCTION}') IS NOT NULL THEN "
        f"ALTER FUNCTION public.{CHAIN_TAIL_FUNCTION} OWNER TO {owner}; END IF; END $$",
        *(f"ALTER TABLE public.{_q(t)} OWNER TO {owner}" for t in plan.tables),
        "-- The app role: start from nothing, then grant what the app does.",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {app}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {app}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app}",
    ]
    for table in plan.mutable:
        sql.append(f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE public.{_q(table)} TO {app}")
    for table in (t for t in READ_ONLY_TABLES if t in plan.tables):
        sql.append(f"GRANT SELECT ON TABLE public.{_q(table)} TO {app}")
    if plan.sealed:
        sql.append("-- Staged reads: read, add, and delete only by sealing (its trigger checks).")
    for table in plan.sealed:
        sql.append(f"GRANT SELECT, INSERT, DELETE ON TABLE public.{_q(table)} TO {app}")
    sql.append("-- Append-only tables: read and add, never change, delete or truncate.")
    for table in plan.append_only:
        sql.append(f"GRANT SELECT, INSERT ON TABLE public.{_q(table)} TO {app}")
        open_columns = plan.open_columns(table)
        if open_columns:
            cols = ", ".join(_q(c) for c in open_columns)
            sql.append(f"GRANT UPDATE ({cols}) ON TABLE public.{_q(table)} TO {app}")
    sql += [
        "-- Tables and sequences the owner creates later (migrations): read and add only,",
        "-- until the next `db roles --apply` gives a mutable table its UPDATE and DELETE.",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        f"GRANT SELECT, INSERT ON TABLES TO {app}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {app}",
    ]
    return sql


def _create_role(name: str) -> str:
    return (
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{name}') THEN "
        f"CREATE ROLE {_q(name)} LOGIN; END IF; END $$"
    )


def script(plan: RolePlan) -> str:
    """``statements`` as a psql script; comments stay comments."""
    lines = [s if s.startswith("--") else s + ";" for s in statements(plan)]
    lines += [
        "-- Passwords (never on a command line): in psql, \\password "
        f"{plan.owner} and \\password {plan.app}",
        "-- or run `flask --app mat db roles --apply --password-stdin`.",
    ]
    return "\n".join(lines) + "\n"


# ---- the command: flask --app mat db roles --------------------------------------------------


@click.command("roles")
@click.option(
    "--owner", default="mat_owner", show_default=True, help="Role that owns and migrates."
)
@click.option(
    "--app", "app_role", default="mat_app", show_default=True, help="Role the app runs as."
)
@click.option("--apply", is_flag=True, help="Run the SQL now (connected as a superuser).")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="With --apply: read the owner's password, then the app's, one per line from stdin.",
)
def roles(owner: str, app_role: str, apply: bool, password_stdin: bool) -> None:
    """Print (default) or apply the SQL for the owner and app database roles (PostgreSQL)."""
    try:
        check_role_name(owner)
        check_role_name(app_role)
    except ValueError as err:
        raise click.ClickException(str(err)) from err
    engine = db.engine
    if engine.dialect.name != "postgresql":
        raise click.ClickException(
            "db roles is for PostgreSQL: SQLite, the demo engine, has no roles or grants."
        )
    if owner == app_role:
        raise click.ClickException("The owner and the app must be two different roles.")
    if password_stdin and not apply:
        raise click.ClickException("--password-stdin goes with --apply.")
    passwords = _read_passwords(owner, app_role) if password_stdin else {}
    with engine.begin() as conn:
        plan = plan_from_database(conn, owner, app_role)
        if not plan.tables:
            raise click.ClickException("The database has no tables yet: run db upgrade first.")
        if not apply:
            click.echo(script(plan), nl=False)
            return
        driver = conn.connection.driver_connection
        for statement in statements(plan):
            if not statement.startswith("--"):
                driver.execute(statement)  # type: ignore[union-attr]
        for role, password in passwords.items():
            # Like psql's \password: only the SCRAM verifier reaches the server (and its log).
            verifier = driver.pgconn.encrypt_password(  # type: ignore[union-attr]
                password.encode(), role.encode(), b"scram-sha-256"
            )
            driver.execute(f"ALTER ROLE \"{role}\" PASSWORD '{verifier.decode()}'")  # type: ignore[union-attr]
    click.echo(
        f"owner {owner} owns {len(plan.tables)} tables; app {app_role} may change "
        f"{len(plan.mutable)} and only read and add to {len(plan.append_only)} append-only "
        f"tables ({', '.join(plan.append_only)})."
    )


def _read_passwords(owner: str, app_role: str) -> dict[str, str]:
    passwords = {}
    for role in (owner, app_role):
        password = sys.stdin.readline().rstrip("\r\n")
        if len(password) < 16:
            raise click.ClickException(
                f"Give {role}'s password on its own line of stdin, 16 characters or more."
            )
        passwords[role] = password
    return passwords
