"""`kpi edit`: a local form editor that writes the KPI files (never part of the read-only dashboard)."""
