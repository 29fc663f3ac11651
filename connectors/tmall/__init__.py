"""Tmall order report + product report import (MISSION I7, PLATFORMS.md §7)."""
