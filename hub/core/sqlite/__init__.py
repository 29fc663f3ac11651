"""The SQLite fast path: driver-level statements with bulk conversions (``sql``), the
write-behind thread (``behind``), the snapshot reader (``snapshot``) and the background WAL
checkpoint (``checkpoint``). What it changes process-wide is scoped to a batch and restored."""
