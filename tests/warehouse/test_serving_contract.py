"""The serving file is a declared contract (warehouse/serving_contract.py): a freshly published file holds
exactly its tables, columns and types and records its version, and docs/architecture.md lists the same."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from kpibridge.cli import app
from warehouse.serving_contract import CONTRACT_VERSION, TABLES, VERSION_KEY, columns, serving_db

REPO = Path(__file__).resolve().parents[2]


def test_a_freshly_published_serving_file_matches_the_contract(tmp_path: Path) -> None:
    def kpi(*args: str | Path):
        return CliRunner().invoke(app, [str(a) for a in args])

    store = tmp_path / "w.db"  # a suffix of its own: the serving file keeps it (w.serving.db)
    assert kpi("load", "demo", "--events", "3000", "--days", "5", "--end-date", "2024-01-31",
               "--db", store).exit_code == 0
    refreshed = kpi("refresh", "--db", store, "--kpis", REPO / "kpis")
    assert refreshed.exit_code == 0, refreshed.output
    serving = serving_db(store)
    assert serving == tmp_path / "w.serving.db" and serving.exists()
    with duckdb.connect(str(serving), read_only=True) as con:
        found: dict[str, list[tuple[str, str]]] = {}
        for table, name, kind in con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "ORDER BY table_name, ordinal_position"
        ).fetchall():
            found.setdefault(table, []).append((name, kind))
        version = con.execute("SELECT value FROM warehouse_info WHERE key = ?", [VERSION_KEY]).fetchone()
        defined = con.execute("SELECT count(*) FROM kpi_definitions").fetchone()[0]
    assert sorted(found) == sorted(TABLES)
    for table in TABLES:
        assert found[table] == columns(table), table
    assert version == (str(CONTRACT_VERSION),)
    assert defined > 0  # a real file, not an empty shell

    # a serving file of another version (here: from before versions) is rebuilt by the next refresh
    with duckdb.connect(str(serving)) as con:
        con.execute("DELETE FROM warehouse_info WHERE key = ?", [VERSION_KEY])
    assert kpi("refresh", "--db", store, "--kpis", REPO / "kpis").exit_code == 0
    with duckdb.connect(str(serving), read_only=True) as con:
        rebuilt = con.execute("SELECT value FROM warehouse_info WHERE key = ?", [VERSION_KEY]).fetchone()
    assert rebuilt == (str(CONTRACT_VERSION),)


def _docs_tables() -> dict[str, set[str]]:
    """docs/architecture.md's "Serving database" table: each table and the backticked names outside
    parentheses and before a closing `: prose` in its columns cell."""
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("## Serving database", 1)[1].split("\n## ", 1)[0]
    tables: dict[str, set[str]] = {}
    for match in re.finditer(r"^\| `(\w+)` \| (.+) \|$", section, re.MULTILINE):
        cell = match.group(2)
        while re.search(r"\([^()]*\)", cell):
            cell = re.sub(r"\([^()]*\)", "", cell)
        cell = cell.split(": ", 1)[0]  # prose after the columns
        assert match.group(1) not in tables, f"{match.group(1)} is listed twice"
        tables[match.group(1)] = set(re.findall(r"`(\w+)`", cell))
    return tables


def test_the_architecture_docs_list_the_contracts_tables_and_columns() -> None:
    documented = _docs_tables()
    assert sorted(documented) == sorted(TABLES)
    for table in TABLES:
        assert documented[table] == {name for name, _ in columns(table)}, table
