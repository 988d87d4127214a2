"""organisations: every region model, pool and job belongs to one; tokens see theirs

Revision ID: 0002
Revises: 0001

Data from before is given to the organisation ``standaard``, and so is every token: a
service that had one user group goes on as it was.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

OWNED = ("regions", "pools", "jobs")


def upgrade() -> None:
    organisations = op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "token_organisations",
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["token_id"], ["tokens.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"]),
        sa.PrimaryKeyConstraint("token_id", "organisation_id"),
    )
    stamp = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    op.bulk_insert(
        organisations, [{"id": 1, "name": "standaard", "kind": "region", "created_at": stamp}]
    )
    op.execute(
        "INSERT INTO token_organisations (token_id, organisation_id) SELECT id, 1 FROM tokens"
    )
    for table in OWNED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("organisation_id", sa.Integer(), nullable=False, server_default="1")
            )
            batch.create_foreign_key(
                f"fk_{table}_organisation", "organisations", ["organisation_id"], ["id"]
            )
            batch.create_index(f"ix_{table}_organisation_id", ["organisation_id"])


def downgrade() -> None:
    for table in OWNED:
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_organisation_id")
            batch.drop_constraint(f"fk_{table}_organisation", type_="foreignkey")
            batch.drop_column("organisation_id")
    op.drop_table("token_organisations")
    op.drop_table("organisations")
