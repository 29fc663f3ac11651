"""Customer spreadsheet import (MISSION I1-I6)."""
