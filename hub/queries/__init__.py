"""The read layer: one module per entity, each with a filter dataclass read from query arguments
and one function returning the matching SELECT. The UI and the JSON API both call these and
differ only in how they render the page; every query is scoped to a workspace."""
