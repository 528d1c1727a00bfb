"""Arrow without pandas in the commands that write the warehouse (`kpi load demo`, `kpi load ga4-export`, `kpi refresh`).

The first time pyarrow builds an array from Python objects (`pa.array`, `pa.table` of lists), it asks whether
the object is a pandas one, and to know it imports pandas: 0.24 CPU s of a `kpi refresh` or `kpi load`, which
never hand pandas anything (a one-new-day refresh costs 4.7–8.8 CPU s). `skip_pandas_probe` lets that first
probe meet a pandas too old for pyarrow, which pyarrow then treats as absent, so no later probe imports it.
pandas itself stays importable: pyarrow imports it when asked for pandas by name (`Table.to_pandas`,
`Table.from_pandas` try the import again), and so does any other library.
"""

from __future__ import annotations

import sys
import types
import warnings


def skip_pandas_probe() -> None:
    """Make pyarrow's "is this a pandas object?" probe answer no without importing pandas (see the module's
    docstring); nothing where pandas is imported already, and no harm where pyarrow works otherwise (its probe
    then imports pandas, as it would have)."""
    if "pandas" in sys.modules:
        return
    import pyarrow as pa

    too_old = types.ModuleType("pandas")
    too_old.__version__ = "0"  # type: ignore[attr-defined]  # pyarrow needs 2.2.2: it notes pandas as absent
    sys.modules["pandas"] = too_old
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pyarrow's note that it will not use this pandas
            pa.array([0])
    except Exception:  # noqa: BLE001, S110 - another pyarrow: its probe runs as it would have
        pass
    finally:
        del sys.modules["pandas"]
