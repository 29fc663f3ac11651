"""`hub demo`: the main job on embedded defaults (SQLite, embedded Redis, sandboxes, web UI)."""
