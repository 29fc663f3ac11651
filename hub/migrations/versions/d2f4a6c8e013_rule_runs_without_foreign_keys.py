"""rule_runs: no foreign keys

A batch writes a run per rule fired on each of its events (three per order in bench/rules.py).
PostgreSQL checks a foreign key per inserted row with a trigger that locks the referenced rule
and workspace rows (``FOR KEY SHARE``): two lock updates per run, half the time of the batch's
runs statement. A run's rule and workspace are the batch's own (read in its transaction), and
deleting a rule deletes its runs (``hub.services.rules.remove``), so the keys guarded nothing.

Revision ID: d2f4a6c8e013
Revises: c9e1f3a5b702
Create Date: 2026-12-07 23:55:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "d2f4a6c8e013"
down_revision = "c9e1f3a5b702"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("rule_runs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_rule_runs_rule_id_rules"), type_="foreignkey")
        batch_op.drop_constraint(
            batch_op.f("fk_rule_runs_workspace_id_workspaces"), type_="foreignkey"
        )


def downgrade():
    with op.batch_alter_table("rule_runs", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_rule_runs_rule_id_rules"), "rules", ["rule_id"], ["id"],
            ondelete="CASCADE",
        )  # fmt: skip
        batch_op.create_foreign_key(
            batch_op.f("fk_rule_runs_workspace_id_workspaces"), "workspaces", ["workspace_id"],
            ["id"],
        )  # fmt: skip
