"""Whether the store's users hash apart, read from the user ids its loads kept (`warehouse/statements.py`).

The KPI statements key users and sessions by `hash(user_pseudo_id)` only when no two stored user ids share a
hash. That was a read of every stored event's id on each refresh after a load (0.70 CPU s at 10M events); now
each load adds its new ids to `user_ids` and counts them on in `user_id_counts`, and the check reads those two
numbers. The tests recount the ids from the events and the table in plain SQL, make two ids share a hash in the
table (no real pair of ids can be found for a test), and write events around the loads to see the check fall
back to the events.
"""

from __future__ import annotations

from pathlib import Path

from stored_events import old_store

from generator.compile import compile_paths
from warehouse.connection import connect_store
from warehouse.schema import MIGRATIONS
from warehouse.schema.migrations import apply_migrations
from warehouse.statements import plan_sql, store_users, users_hash_apart

KPIS = Path(__file__).resolve().parents[2] / "kpis"


def _load(kpi, db, days: int, end: str, events: int = 3000) -> None:
    result = kpi("load", "demo", "--events", events, "--days", days, "--end-date", end, "--db", db)
    assert result.exit_code == 0, result.output


def test_each_load_keeps_every_user_id_it_stores_once_and_a_reload_loses_none(kpi, db, query):
    _load(kpi, db, 5, "2024-03-10")
    stored = set(query(db, "SELECT DISTINCT user_pseudo_id FROM ga4_events WHERE user_pseudo_id IS NOT NULL"))
    kept = query(db, "SELECT user_pseudo_id, user_key = hash(user_pseudo_id) FROM user_ids")
    assert {(u,) for u, _ in kept} == stored and len(kept) == len(stored) > 50  # each id once
    assert all(same for _, same in kept)
    _load(kpi, db, 3, "2024-03-12", events=2000)  # two days again (other users) and one new day
    now = set(query(db, "SELECT DISTINCT user_pseudo_id FROM ga4_events WHERE user_pseudo_id IS NOT NULL"))
    ids = [u for (u,) in query(db, "SELECT user_pseudo_id FROM user_ids")]
    assert len(ids) == len(set(ids))
    assert set(map(tuple, ((u,) for u in ids))) >= now | stored  # the reloaded days' former users stay


def test_each_load_counts_on_the_ids_and_hashes_the_check_reads(kpi, db, query):
    _load(kpi, db, 5, "2024-03-10")
    _load(kpi, db, 3, "2024-03-12", events=2000)  # two days again and one new day
    recount = query(db, "SELECT count(*), count(DISTINCT user_key) FROM user_ids")
    assert query(db, "SELECT id_rows, hashes FROM user_id_counts") == recount
    assert recount[0][0] == len(query(db, "SELECT DISTINCT user_pseudo_id FROM user_ids")) > 50
    with connect_store(db) as con:
        assert store_users(con) == recount[0][0] and users_hash_apart(con)
        # the kept numbers are what is read: say one hash is shared, in another loaded state
        con.execute("UPDATE user_id_counts SET hashes = hashes - 1")
        con.execute("UPDATE loaded_days SET loaded_at = loaded_at + INTERVAL 1 SECOND")
        assert not users_hash_apart(con)
        # and a load counts on from a table someone else wrote, by counting it again
        con.execute("INSERT INTO user_ids SELECT user_key, user_pseudo_id || '-twin' FROM user_ids LIMIT 1")
    _load(kpi, db, 1, "2024-03-13", events=1000)
    recount = query(db, "SELECT count(*), count(DISTINCT user_key) FROM user_ids")
    assert query(db, "SELECT id_rows, hashes FROM user_id_counts") == recount
    assert recount[0][0] == recount[0][1] + 1


def test_two_ids_sharing_a_hash_make_the_statements_key_users_by_id(kpi, db, query):
    _load(kpi, db, 4, "2024-03-10")
    plan = compile_paths([KPIS]).plan
    with connect_store(db) as con:
        assert users_hash_apart(con)
        assert "HASH(user_pseudo_id)" in plan_sql(con, plan)
        users = store_users(con)
        # an id whose hash another id has: the table is what is read
        con.execute("INSERT INTO user_ids SELECT user_key, user_pseudo_id || '-twin' FROM user_ids LIMIT 1")
        con.execute("UPDATE loaded_days SET loaded_at = loaded_at + INTERVAL 1 SECOND")  # another loaded state
        assert not users_hash_apart(con)
        assert store_users(con) == users + 1
        assert "HASH(user_pseudo_id)" not in plan_sql(con, plan)


def test_events_written_around_the_loads_are_counted_from_the_events(kpi, db, query):
    _load(kpi, db, 4, "2024-03-10")
    with connect_store(db) as con:
        before = store_users(con)
        # a writer that is no load: its rows are in no loaded day's count, so the check reads the events
        con.execute("INSERT INTO slim_events BY NAME SELECT * REPLACE ('someone-new' AS user_pseudo_id) "
                    "FROM slim_events LIMIT 1")
        con.execute("UPDATE loaded_days SET loaded_at = loaded_at + INTERVAL 1 SECOND")
        (expected,) = con.execute("SELECT count(DISTINCT user_pseudo_id) FROM slim_events").fetchall()[0]
        assert store_users(con) == expected == before + 1
        assert users_hash_apart(con)


def test_a_store_made_before_gets_its_users_kept_when_it_is_opened(kpi, db, query, tmp_path):
    _load(kpi, db, 3, "2024-03-10")
    old = tmp_path / "v15.duckdb"
    with old_store(old, 15, db) as con:  # a store of version 15 (its events in a table) with the same events
        assert apply_migrations(con, MIGRATIONS) == MIGRATIONS[-1][0]
        kept = set(con.execute("SELECT user_pseudo_id FROM user_ids").fetchall())
        assert con.execute("SELECT id_rows, hashes FROM user_id_counts").fetchall() == [(len(kept), len(kept))]
        stored = set(con.execute("SELECT DISTINCT user_pseudo_id FROM ga4_events "
                                 "WHERE user_pseudo_id IS NOT NULL").fetchall())
    assert kept == stored and len(kept) > 20
