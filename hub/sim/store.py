"""SQLite persistence of one simulated terminal, so a restart keeps the trading day.

The exchange keeps its state in memory and writes every change through here
(WAL, one connection guarded by the exchange lock). Loading happens once at
start-up.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import fields
from pathlib import Path
from typing import Any

from hub.sim.models import Account, Order, Position, Trade

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    account_id TEXT PRIMARY KEY, account_type INTEGER, cash REAL, frozen_cash REAL, unwithdrawable REAL);
CREATE TABLE IF NOT EXISTS positions (
    account_id TEXT, stock_code TEXT, volume INTEGER, can_use_volume INTEGER, yesterday_volume INTEGER,
    frozen_volume INTEGER, cost REAL, open_amount REAL, open_volume INTEGER,
    PRIMARY KEY (account_id, stock_code));
CREATE TABLE IF NOT EXISTS orders (
    order_id INTEGER PRIMARY KEY, account_id TEXT, stock_code TEXT, order_type INTEGER,
    order_volume INTEGER, price_type INTEGER, price REAL, order_sysid TEXT, order_time INTEGER,
    traded_volume INTEGER, traded_amount REAL, order_status INTEGER, status_msg TEXT,
    strategy_name TEXT, order_remark TEXT, limit_price REAL, frozen_cash REAL, fees_paid REAL,
    trading_day TEXT, history TEXT);
CREATE TABLE IF NOT EXISTS trades (
    traded_id TEXT PRIMARY KEY, account_id TEXT, stock_code TEXT, order_type INTEGER, traded_time INTEGER,
    traded_price REAL, traded_volume INTEGER, traded_amount REAL, order_id INTEGER, order_sysid TEXT,
    strategy_name TEXT, order_remark TEXT, commission REAL, trading_day TEXT);
CREATE TABLE IF NOT EXISTS quotes (code TEXT PRIMARY KEY, last_close REAL, last REAL, fair REAL);
"""


def _upsert(table: str, cols: list[str]) -> str:
    return f"INSERT OR REPLACE INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"


class Store:
    """Write-through SQLite tables mirroring the exchange's records."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "sim.db"
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._depth = 0  # open transaction() blocks (callers hold the exchange lock)
        # WAL checkpoints (a copy and a sync, milliseconds) on a helper thread, never inside the
        # commit of an order request
        self._db.execute("PRAGMA wal_autocheckpoint=0")
        self._ckpt_stop = threading.Event()
        self._ckpt = threading.Thread(target=self._checkpoints, name=f"sim-store-checkpoint-{folder.name}",
                                      daemon=True)
        self._ckpt.start()

    def _checkpoints(self) -> None:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=0.5)
        try:
            while not self._ckpt_stop.wait(1.0):
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    pass  # busy: the next round does it
        finally:
            db.close()

    def close(self) -> None:
        self._ckpt_stop.set()
        if self._ckpt is not threading.current_thread():
            self._ckpt.join(timeout=5)
        try:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error:
            pass
        self._db.close()

    # meta -----------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: Any) -> None:
        self._db.execute(_upsert("meta", ["key", "value"]), (key, str(value)))

    # records (flat dataclasses: a tuple of their fields, no `asdict` deep copy per write) ------
    def save_account(self, a: Account) -> None:
        self._db.execute(_ACCOUNT_SQL, _row(a, _ACCOUNT_COLS))

    def save_position(self, p: Position) -> None:
        self._db.execute(_POSITION_SQL, _row(p, _POSITION_COLS))

    def save_order(self, o: Order) -> None:
        row = list(_row(o, _ORDER_COLS))
        row[_ORDER_HISTORY] = ",".join(map(str, o.history))
        self._db.execute(_ORDER_SQL, row)

    def save_trade(self, t: Trade) -> None:
        self._db.execute(_TRADE_SQL, _row(t, _TRADE_COLS))

    def save_quote(self, code: str, last_close: float, last: float, fair: float) -> None:
        """`last` is the last trade shown; `fair` the market's own (random-walk) price."""
        self._db.execute(_upsert("quotes", ["code", "last_close", "last", "fair"]), (code, last_close, last, fair))

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    def transaction(self) -> "sqlite3.Connection":
        """Use as `with store.transaction():` to group writes atomically (nests: one commit at the outermost)."""
        return _Tx(self)  # type: ignore[return-value]

    # loading ------------------------------------------------------------------
    def load_accounts(self) -> list[Account]:
        return [Account(*r) for r in self._db.execute(f"SELECT {_cols(Account)} FROM accounts")]

    def load_positions(self) -> list[Position]:
        return [Position(*r) for r in self._db.execute(f"SELECT {_cols(Position)} FROM positions")]

    def load_orders(self) -> list[Order]:
        out = []
        for r in self._db.execute(f"SELECT {_cols(Order)} FROM orders ORDER BY order_id"):
            o = Order(*r)
            o.history = [int(x) for x in str(o.history or "").split(",") if x]
            out.append(o)
        return out

    def load_trades(self) -> list[Trade]:
        return [Trade(*r) for r in self._db.execute(f"SELECT {_cols(Trade)} FROM trades ORDER BY rowid")]

    def load_quotes(self) -> dict[str, tuple[float, float, float]]:
        return {c: (lc, last, fair) for c, lc, last, fair in
                self._db.execute("SELECT code, last_close, last, fair FROM quotes")}

    # day roll -------------------------------------------------------------------
    def clear_day(self) -> None:
        self._db.execute("DELETE FROM orders")
        self._db.execute("DELETE FROM trades")
        self._db.execute("DELETE FROM positions WHERE volume = 0")


def _cols(cls: type) -> str:
    return ", ".join(f.name for f in fields(cls))


def _row(obj: Any, cols: tuple[str, ...]) -> tuple:
    return tuple([getattr(obj, c) for c in cols])


_ACCOUNT_COLS = tuple(f.name for f in fields(Account))
_POSITION_COLS = tuple(f.name for f in fields(Position))
_ORDER_COLS = tuple(f.name for f in fields(Order))
_TRADE_COLS = tuple(f.name for f in fields(Trade))
_ORDER_HISTORY = _ORDER_COLS.index("history")
_ACCOUNT_SQL = _upsert("accounts", list(_ACCOUNT_COLS))
_POSITION_SQL = _upsert("positions", list(_POSITION_COLS))
_ORDER_SQL = _upsert("orders", list(_ORDER_COLS))
_TRADE_SQL = _upsert("trades", list(_TRADE_COLS))


class _Tx:
    def __init__(self, store: Store) -> None:
        self._store = store

    def __enter__(self) -> None:
        st = self._store
        if st._depth == 0:
            st._db.execute("BEGIN")
        st._depth += 1

    def __exit__(self, exc_type, exc, tb) -> None:
        st = self._store
        st._depth -= 1
        if st._depth == 0:
            st._db.execute("ROLLBACK" if exc_type else "COMMIT")
