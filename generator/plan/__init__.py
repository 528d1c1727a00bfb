"""The catalog → the QueryPlan (SQL's input) and the GA4 Data API plan."""
