"""The catalog → the tracking spec IT implements, its snapshot, stamp and diff."""
