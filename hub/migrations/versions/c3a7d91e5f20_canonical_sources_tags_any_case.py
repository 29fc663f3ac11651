"""canonical source keys; tags unique in any case

Issue 22.5. Sources are stored as one lowercase key ("Youzan", "youzan" and "有赞" become
``youzan``; "Tmall" becomes ``tmall``; "WeChat Mini Shop" ``wechat_shop``) in orders (source,
sales channel), products, events and customers' original source: one set-based UPDATE per
column and key. A merchant's own label that names no known source stays as written. Tags that
differ only in case are merged into the oldest one, keeping every customer's assignment, and a
unique index on (workspace_id, lower(name)) keeps them one from now on.

Downgrading drops the index; the keys and the merged tags stay (the old code reads them).

Revision ID: c3a7d91e5f20
Revises: a7c3e51f2b90
Create Date: 2026-12-07 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c3a7d91e5f20"
down_revision = "a7c3e51f2b90"
branch_labels = None
depends_on = None

# hub.core.sources at this revision: key -> its other spellings (the key always counts).
SPELLINGS = {
    "youzan": ("Youzan", "有赞"),
    "wechat_shop": ("WeChat Mini Shop", "WeChat Shop", "微信小商店", "视频号小店"),
    "shopify": ("Shopify",),
    "tmall": ("Tmall", "天猫"),
    "sobot": ("Sobot",),
    "customer_import": ("Customer import",),
    "crm": ("CRM",),
    "weimob": ("Weimob", "微盟"),
    "douyin": ("Douyin", "抖音"),
    "kuaishou": ("Kuaishou", "快手"),
    "jingdong": ("Jingdong", "京东", "JD"),
    "taobao": ("Taobao", "淘宝"),
    "vipshop": ("Vipshop", "唯品会"),
    "xiao_e_tech": ("Xiao E Tech", "小鹅通"),
    "mogu": ("Mogu", "蘑菇街"),
    "xiaohongshu": ("Xiaohongshu", "小红书"),
    "brand_mall": (
        "Brand's own mall",
        "Self-developed mall of brand",
        "品牌自有商城",
        "品牌自营商城",
    ),
}
# (table, column, unique with (workspace_id, <column>, external_id))
COLUMNS = [
    ("orders", "source", True),
    ("orders", "sales_channel", False),
    ("products", "source", True),
    ("events", "source", False),
    ("customers", "original_source", False),
]
SEPARATORS = (" ", "_", "-", ".", "'")


def _fold(text):
    text = text.lower()
    for sep in SEPARATORS:
        text = text.replace(sep, "")
    return text


def _folded_sql(column):
    sql = f"lower({column})"
    for sep in SEPARATORS:
        sql = f"replace({sql}, '{sep.replace(chr(39), chr(39) * 2)}', '')"
    return sql


def _canonical_sources(bind):
    for table, column, unique in COLUMNS:
        for key, names in SPELLINGS.items():
            spellings = sorted({_fold(key), *(_fold(n) for n in names)})
            guard = ""
            if unique:  # never two rows of one (workspace, source, external id)
                guard = (f" AND NOT EXISTS (SELECT 1 FROM {table} AS same WHERE"
                         f" same.workspace_id = {table}.workspace_id AND same.{column} = :key"
                         f" AND same.external_id = {table}.external_id)")  # fmt: skip
            stmt = sa.text(
                f"UPDATE {table} SET {column} = :key WHERE {column} <> :key"
                f" AND {_folded_sql(column)} IN :spellings{guard}"
            ).bindparams(sa.bindparam("spellings", expanding=True))
            bind.execute(stmt, {"key": key, "spellings": spellings})


KEEP = (
    "SELECT min(k.id) FROM tags AS k WHERE k.workspace_id = t.workspace_id"
    " AND lower(k.name) = lower(t.name)"
)


def _merge_case_duplicate_tags(bind):
    """Each tag whose name differs only in case from an older one: its customers get the older
    tag (once), then it goes."""
    bind.execute(sa.text(
        "INSERT INTO customer_tags (customer_id, tag_id)"
        f" SELECT DISTINCT ct.customer_id, ({KEEP}) FROM customer_tags AS ct"
        " JOIN tags AS t ON t.id = ct.tag_id"
        f" WHERE t.id <> ({KEEP})"
        " AND NOT EXISTS (SELECT 1 FROM customer_tags AS x"
        f"  WHERE x.customer_id = ct.customer_id AND x.tag_id = ({KEEP}))"
    ))  # fmt: skip
    duplicates = f"SELECT t.id FROM tags AS t WHERE t.id <> ({KEEP})"
    bind.execute(sa.text(f"DELETE FROM customer_tags WHERE tag_id IN ({duplicates})"))
    bind.execute(sa.text(f"DELETE FROM tags WHERE id IN (SELECT id FROM ({duplicates}) AS d)"))


def upgrade():
    bind = op.get_bind()
    _canonical_sources(bind)
    _merge_case_duplicate_tags(bind)
    op.create_index(
        "ux_tags_workspace_name_any_case",
        "tags",
        ["workspace_id", sa.text("lower(name)")],
        unique=True,
    )


def downgrade():
    op.drop_index("ux_tags_workspace_name_any_case", table_name="tags")
