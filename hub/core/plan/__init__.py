"""Planning, in memory: buyers resolved to customers, orders planned with their events, event
settings, and the row sets they produce. Nothing here reads or writes the database: what it
needs to know is asked through functions the store provides."""
