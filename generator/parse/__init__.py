"""KPI files → documents stamped with file:line → the catalog."""
