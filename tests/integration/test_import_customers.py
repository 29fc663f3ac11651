"""Customer import (I1-I6, X1, X5) end to end: files -> job -> ingest -> database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from hub.core.errors import ValidationFailed
from hub.extensions import db
from hub.imports import service
from hub.models import (
    Customer,
    CustomerTag,
    Group,
    GroupMember,
    Identity,
    IdentityType,
    ImportRun,
    Tag,
)
from tests.support.spreadsheets import IMPORT_CONNECTORS, read_csv, read_xlsx, write_csv, write_xlsx

HEADER = ["Name", "Mobile", "Email", "WeChat openid", "Gender", "Tags"]


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "CONNECTORS": list(IMPORT_CONNECTORS), "INGEST_BATCH_SIZE": 3}


def run(ws, path: Path, **kw) -> ImportRun:
    return service.start(ws.id, "customers", [(path.name, path)], enqueue=False, **kw)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def identities(type_: str) -> dict[str, int]:
    rows = db.session.execute(
        select(Identity.value, Identity.customer_id).where(Identity.type == type_)
    )
    return dict(rows.all())


def test_i1_xlsx_identities_properties_and_tags(workspace, tmp_path):
    path = write_xlsx(
        tmp_path / "c.xlsx",
        [
            HEADER,
            ["Li Lei", 13800139000, "LI@Example.cn", "oA1", "male", "VIP, 茶友"],
            ["Han Mei", "+86 139-0013-9001", None, None, "female", "VIP"],
        ],
    )
    result = run(workspace, path)
    assert (result.status, result.created, result.failed) == ("succeeded", 2, 0)
    li = db.session.scalar(select(Customer).where(Customer.name == "Li Lei"))
    assert li.mobile == "13800139000" and li.email == "li@example.cn"
    assert li.properties == {"gender": "male"}
    assert identities("wx_openid") == {"oA1": li.id}
    assert set(identities("mobile")) == {"13800139000", "13900139001"}
    tags = set(db.session.scalars(select(Tag.name)))
    assert tags == {"VIP", "茶友"}  # static tags created when missing
    assert count(CustomerTag) == 3


def test_i2_custom_identity_must_exist_first(workspace, tmp_path):
    path = write_csv(tmp_path / "c.csv", [["Mobile", "Member card"], ["13800139000", "M-1"]])
    mapping = {"Mobile": "mobile", "Member card": "identity:member_card"}
    with pytest.raises(ValidationFailed, match="there is no custom field “member_card”"):
        run(workspace, path, settings={"mapping": mapping})
    assert count(Customer) == 0
    db.session.add(
        IdentityType(
            workspace_id=workspace.id, kind="identity", name="member_card", label="Member card"
        )
    )
    db.session.commit()
    result = run(workspace, path)  # auto-suggested from the label now that it exists
    assert result.created == 1 and identities("member_card") == {"M-1": 1}


def test_i2_row_without_any_key_fails_and_columns_may_be_left_out(workspace, tmp_path):
    path = write_csv(
        tmp_path / "c.csv",
        [["Name", "Mobile", "Ignored"], ["A", "", "x"], ["B", "13800139000", "y"]],
    )
    result = run(workspace, path, settings={"mapping": {"Name": "name", "Mobile": "mobile"}})
    assert (result.created, result.failed) == (1, 1)
    failures = read_csv(Path(result.failure_path))
    assert failures[0] == ["Name", "Mobile", "Ignored", "reason"]
    assert failures[1][:3] == ["A", "", "x"] and "fill in at least one" in failures[1][3]
    assert db.session.scalar(select(Customer.properties)) == {}


def test_i3_mobile_normalised_or_rejected_with_reason(workspace, tmp_path):
    path = write_csv(
        tmp_path / "c.csv",
        [["Mobile"], ["+86 138 0013 9000"], ["0139-0013-9001"], ["23800139000"], ["1380013"]],
    )
    result = run(workspace, path)
    assert (result.created, result.failed) == (2, 2)
    assert set(identities("mobile")) == {"13800139000", "13900139001"}
    reasons = [r[-1] for r in read_csv(Path(result.failure_path))[1:]]
    assert all("11 digits starting with 1" in r and r.startswith("Mobile:") for r in reasons)


def _customer(ws, **ids) -> Customer:
    c = Customer(workspace_id=ws.id, name=ids.pop("name", None))
    db.session.add(c)
    db.session.flush()
    for t, v in ids.items():
        db.session.add(Identity(workspace_id=ws.id, customer_id=c.id, type=t, value=v))
    db.session.commit()
    return c


def test_i4_unknown_customer_id_fails(workspace, tmp_path):
    known = _customer(workspace, mobile="13800139000")
    path = write_csv(
        tmp_path / "c.csv", [["Customer ID", "Name"], [known.id, "Known"], ["99999", "Ghost"]]
    )
    result = run(workspace, path)
    assert (result.updated, result.failed, result.created) == (1, 1, 0)
    assert db.session.get(Customer, known.id).name == "Known"
    assert "customer id: 99999 does not exist" in read_csv(Path(result.failure_path))[1][-1]


def test_bad_customer_ids_and_mobiles_fail_their_row(workspace, tmp_path):
    """'²' (a digit to str.isdigit(), not to int()) and ids beyond the database's integers
    failed the whole import; each now fails its row."""
    known = _customer(workspace, mobile="13800139000")
    path = write_csv(tmp_path / "c.csv", [
        ["Customer ID", "Mobile", "Name"], [known.id, "", "Known"], ["²", "", "Square"],
        ["99999999999999999999999", "", "Huge"], ["3000000000", "", "Big"],
        ["", "1²800139001", "Odd mobile"], ["", "１３９００１３９００２", "Full width"],
    ])  # fmt: skip
    result = run(workspace, path)
    assert (result.status, result.updated, result.created, result.failed) == (
        "succeeded", 1, 1, 4)  # fmt: skip
    reasons = {r[2]: r[-1] for r in read_csv(Path(result.failure_path))[1:]}
    assert reasons == {
        "Square": "Customer ID: customer id '²' is not a number",
        "Huge": "Customer ID: customer id '99999999999999999999999' is not a number",
        "Big": "customer id: 3000000000 does not exist in this workspace",
        "Odd mobile": "Mobile: mobile '1²800139001' is not 11 digits starting with 1 after "
        "removing +86, leading 0, spaces and punctuation",
    }
    assert set(identities("mobile")) == {"13800139000", "13900139002"}


def test_i4_identity_matching_several_customers_fails(workspace, tmp_path):
    a = _customer(workspace, wx_openid="oA")
    b = _customer(workspace, wx_unionid="uB")
    path = write_csv(
        tmp_path / "c.csv",
        [["WeChat openid", "WeChat unionid", "Name"], ["oA", "uB", "Both"], ["", "uB2", "New"]],
    )
    result = run(
        workspace,
        path,
        settings={
            "mapping": {
                "WeChat openid": "identity:wx_openid",
                "WeChat unionid": "identity:wx_unionid",
                "Name": "name",
            }
        },
    )
    assert (result.failed, result.created) == (1, 1)
    reason = read_csv(Path(result.failure_path))[1][-1]
    assert "identities match several customers" in reason
    assert db.session.get(Customer, a.id).name is None
    assert db.session.get(Customer, b.id).name is None


def test_i4_conflicting_identity_is_dropped_for_that_row(workspace, tmp_path):
    a = _customer(workspace, wx_openid="oA")
    other = _customer(workspace, mobile="13800139000")
    path = write_csv(
        tmp_path / "c.csv", [["WeChat openid", "Mobile", "Name"], ["oA", "13800139000", "A again"]]
    )
    result = run(workspace, path)
    assert (result.updated, result.failed) == (1, 0)
    assert identities("mobile") == {"13800139000": other.id}  # not moved to a
    assert db.session.get(Customer, a.id).name == "A again"


def test_i4_rows_sharing_a_key_all_fail_same_customer(workspace, tmp_path):
    path = write_csv(
        tmp_path / "c.csv",
        [
            ["Name", "Mobile", "Email"],
            ["A", "13800139000", "a@x.cn"],
            ["B", "+8613800139000", "b@x.cn"],  # same mobile as A
            ["C", "13900139001", "B@X.cn"],  # same email as B
            ["D", "13700139002", "d@x.cn"],
        ],
    )
    result = run(workspace, path)
    assert (result.created, result.failed) == (1, 3)
    rows = read_csv(Path(result.failure_path))[1:]
    assert [r[0] for r in rows] == ["A", "B", "C"]
    assert all(
        r[-1].startswith("same customer found in the file: another row has the same") for r in rows
    )
    assert db.session.scalar(select(Customer.name)) == "D"


def test_i5_original_source_new_only_and_static_group(workspace, tmp_path):
    old = _customer(workspace, mobile="13800139000")
    old.original_source = "shop"
    db.session.commit()
    path = write_csv(tmp_path / "c.csv", [["Mobile"], ["13800139000"], ["13900139001"]])
    settings = {"original_source": "fair 2024", "group": "Fair visitors", "tags": ["fair"]}
    result = run(workspace, path, settings=settings)
    assert (result.created, result.updated) == (1, 0) or result.created == 1
    sources = dict(db.session.execute(select(Customer.id, Customer.original_source)).all())
    assert sources[old.id] == "shop" and sorted(sources.values()) == ["fair 2024", "shop"]
    group = db.session.scalar(select(Group).where(Group.name == "Fair visitors"))
    assert count(GroupMember) == 2 and group is not None
    result = run(workspace, path, settings={**settings, "original_source_policy": "all"})
    assert db.session.get(Customer, old.id).original_source == "fair 2024"
    assert count(Group) == 1  # the existing group is reused


def test_i6_failure_file_neutralises_formulas_and_history(workspace, tmp_path):
    path = write_csv(
        tmp_path / "c.csv", [["Name", "Mobile"], ["=HYPERLINK(1)", "12"], ["@cmd", "13800139000"]]
    )
    result = run(workspace, path)
    rows = read_csv(Path(result.failure_path))
    assert rows[1][0] == "'=HYPERLINK(1)" and rows[1][1] == "12"
    runs = service.history(workspace.id)
    assert [r.id for r in runs] == [result.id]
    assert Path(runs[0].files[0]["path"]).read_bytes() == path.read_bytes()
    assert runs[0].created_by is None and runs[0].finished_at is not None


def test_x5_dry_run_reports_and_writes_nothing(workspace, tmp_path):
    _customer(workspace, mobile="13800139000")
    path = write_csv(
        tmp_path / "c.csv",
        [["Mobile", "Name"], ["13800139000", "Old"], ["13900139001", "New"], ["bad", "Bad"]],
    )
    before = (count(Customer), count(Identity))
    result = run(workspace, path, dry_run=True, settings={"group": "G", "tags": ["t"]})
    assert (result.created, result.updated, result.failed) == (1, 1, 1)
    assert (count(Customer), count(Identity), count(Group), count(Tag)) == (*before, 0, 0)
    assert result.failure_path and result.dry_run


def test_x1_reimport_changes_nothing(workspace, tmp_path):
    path = write_csv(
        tmp_path / "c.csv",
        [["Mobile", "Name", "Tags"], ["13800139000", "A", "x"], ["13900139001", "B", "y"]],
    )
    first = run(workspace, path)
    snapshot = (count(Customer), count(Identity), count(CustomerTag))
    second = run(workspace, path)
    assert first.created == 2 and (second.created, second.updated) == (0, 0)
    assert second.skipped == 2
    assert (count(Customer), count(Identity), count(CustomerTag)) == snapshot


def test_workspaces_are_isolated(workspace, other_workspace, tmp_path):
    _customer(other_workspace, mobile="13800139000")
    path = write_csv(tmp_path / "c.csv", [["Mobile"], ["13800139000"]])
    result = run(workspace, path)
    assert result.created == 1
    with pytest.raises(Exception, match="not found"):
        service.get_run(other_workspace.id, result.id)


def test_every_kind_of_bad_row_fails_alone_in_an_xlsx_failure_file(workspace, tmp_path):
    known = _customer(workspace, wx_openid="oK")
    _customer(workspace, wx_unionid="uOther")
    header = ["Customer ID", "Name", "Mobile", "Email", "WeChat openid", "WeChat unionid"]
    rows = [
        ["", "good 1", "13800139000", "", "", ""],
        ["", "no key", "", "", "", ""],
        ["", "bad mobile", "2345", "", "", ""],
        ["", "bad email", "", "x@", "", ""],
        ["abc", "bad id", "", "", "", ""],
        ["424242", "unknown id", "", "", "", ""],
        [str(known.id), "other's identity", "", "", "", "uOther"],
        ["", "several", "", "", "oK", "uOther"],
        ["", "dup 1", "13900139001", "", "", ""],
        ["", "dup 2", "+86 139 0013 9001", "", "", ""],
        ["", "good 2", "", "g2@shop.cn", "oNew", ""],
    ]
    result = run(workspace, write_xlsx(tmp_path / "c.xlsx", [header, *rows]))
    assert (result.created, result.failed) == (2, 9)
    failed = read_xlsx(Path(result.failure_path))
    assert Path(result.failure_path).suffix == ".xlsx" and failed[0] == [*header, "reason"]
    assert [r[1] for r in failed[1:]] == [r[1] for r in rows[1:10]]
    assert all(r[-1] for r in failed[1:])
    names = set(db.session.scalars(select(Customer.name).where(Customer.name.is_not(None))))
    assert names == {"good 1", "good 2"}
    assert count(Identity) == 2 + 3  # the two seeded + mobile, email and openid of the good rows


def test_a_csv_row_with_a_shop_buyers_consignee_mobile_updates_that_buyer(workspace, tmp_path):
    """Issue 22.2: a Youzan buyer's consignee mobile is a mobile identity, so the import finds
    the buyer: 0 created, 1 updated (it created a second customer before)."""
    from hub.core import ingest
    from tests.support.orders import order

    sold = order("Y1", identities=[("yz_open_id", "yz-li")])
    sold.buyer.mobile = "+86 139-1234-5678"
    ingest.apply(db.session, workspace.id, [sold])
    path = write_csv(tmp_path / "c.csv", [HEADER, ["Li Lei", "13912345678", "li@shop.cn"]])
    result = run(workspace, path)
    assert (result.status, result.created, result.updated) == ("succeeded", 0, 1)
    assert count(Customer) == 1
    assert db.session.scalar(select(Customer.email)) == "li@shop.cn"
