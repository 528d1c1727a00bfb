"""Tables that keep what a refresh would otherwise read from the events again (issue 13).

- `flat_params`: the event params flattened into plain columns of `slim_events` (`warehouse/flat_params.py`);
- `sql_texts`: the refresh's SQL texts, by what they are built from (`warehouse/sql_texts.py`);
- `observed_days`, `observed_day_values`: each loaded day's values of the dimensions and params the KPI
  files filter or break down by (`warehouse/observed_values.py`);
- `user_ids`: every user id a load stored, with its hash, so that whether the users hash apart is read from it,
  not from every stored event (`warehouse/statements.py`); `user_id_counts` its rows and distinct hashes,
  counted on by each load, so that a refresh reads two numbers, not the table;
- `session_fact_days`: the loaded days whose session days `session_facts` keeps, with what (`warehouse/session_facts.py`;
  that table's columns follow the KPI files, so a refresh makes it).

A kept table may say in its comment what its rows were made from (`table_comment`): `session_facts` the text of
its statement, `transaction_first_seen` the loaded days it covers (`warehouse/first_seen.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb


def table_comment(con: duckdb.DuckDBPyConnection, table: str) -> str | None:
    """The comment of the store's table `table` ('' for none); None when there is no such table."""
    found = con.execute("SELECT comment FROM duckdb_tables() WHERE database_name = current_database() "
                        "AND schema_name = 'main' AND table_name = $t", {"t": table}).fetchall()
    return str(found[0][0] or "") if found else None


FLAT_PARAMS_DDL = """CREATE TABLE IF NOT EXISTS flat_params (
  key VARCHAR PRIMARY KEY,     -- the event param (case matters, as in GA4)
  column_name VARCHAR NOT NULL UNIQUE,  -- its column in slim_events: kp_1, kp_2, … (DuckDB names ignore case)
  flattened_at TIMESTAMP  -- when every stored event had it filled; NULL while it is being filled (not read yet)
)"""


OBSERVED_VALUES_DDL = (
    """CREATE TABLE IF NOT EXISTS observed_days (
      subject VARCHAR NOT NULL,      -- dimension|event|name (subject_key)
      event_date VARCHAR NOT NULL,
      loaded_at TIMESTAMP NOT NULL,  -- the day's loaded_days.loaded_at when it was read
      complete BOOLEAN NOT NULL,     -- at most MAX_VALUES values that day
      checked_at TIMESTAMP NOT NULL,
      PRIMARY KEY (subject, event_date)
    )""",
    """CREATE TABLE IF NOT EXISTS observed_day_values (
      subject VARCHAR NOT NULL,
      event_date VARCHAR NOT NULL,
      value VARCHAR
    )""",
)


SQL_TEXTS_DDL = """CREATE TABLE IF NOT EXISTS sql_texts (
  key VARCHAR PRIMARY KEY,  -- SHA-256 of the generator's code, the plan and the statement's arguments
  sql VARCHAR NOT NULL,
  used_at TIMESTAMP NOT NULL
)"""


USER_IDS_DDL = (
    """CREATE TABLE IF NOT EXISTS user_ids (
      user_key UBIGINT NOT NULL,        -- hash(user_pseudo_id)
      user_pseudo_id VARCHAR NOT NULL   -- each id once; never removed: every id of ga4_events is here
    )""",
    # a store made before: its users, once
    """INSERT INTO user_ids SELECT DISTINCT hash(user_pseudo_id), user_pseudo_id FROM ga4_events
       WHERE user_pseudo_id IS NOT NULL""",
)


USER_ID_COUNTS_DDL = (
    """CREATE TABLE IF NOT EXISTS user_id_counts (
      id_rows BIGINT NOT NULL,  -- the rows of user_ids when counted: another count says someone else wrote it
      hashes BIGINT NOT NULL    -- the distinct user_key among them
    )""",
    "INSERT INTO user_id_counts SELECT count(*), count(DISTINCT user_key) FROM user_ids",
)


FACT_DAYS = "session_fact_days"
FACT_DAYS_DDL = f"""CREATE TABLE IF NOT EXISTS {FACT_DAYS} (
  event_date VARCHAR PRIMARY KEY,
  signature VARCHAR NOT NULL,  -- the text of the statement that kept its session days (session_facts.signature)
  loads BIGINT NOT NULL        -- the newest load_id among the loaded days up to it, then
)"""
