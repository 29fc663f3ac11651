"""UI follow-ups: the web layer reaches connectors only through hub services; custom
identities/properties (I2) managed in settings and offered by the import mapping; tags and
static groups changed from the customer page."""

from __future__ import annotations

import ast
import io
from pathlib import Path

import pytest
from sqlalchemy import select

from hub.extensions import db
from hub.imports import jobs
from hub.models import Customer, CustomerTag, Group, GroupMember, Identity, IdentityType, Tag
from hub.services import customers
from tests.support.ui import csrf_token, login, make_user, seed

CUSTOMERS = "connectors.customers.connector:CustomersConnector"
WEB = Path(__file__).resolve().parents[2] / "hub" / "web"


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "CONNECTORS": [*app_config["CONNECTORS"], CUSTOMERS]}


@pytest.fixture
def admin(client, workspace):
    make_user(workspace, "admin@acme.test")
    login(client, "admin@acme.test")
    return client


@pytest.fixture
def analyst(client, workspace):
    """Signed in as an analyst (one client per test: the test's app context holds ``g``)."""
    make_user(workspace, "analyst@acme.test", role="analyst")
    login(client, "analyst@acme.test")
    return client


def fields(ws_id: int) -> list[tuple[str, str, str | None]]:
    rows = db.session.scalars(select(IdentityType).where(IdentityType.workspace_id == ws_id))
    return sorted((f.kind, f.name, f.label) for f in rows)


# --- 1. layering ------------------------------------------------------------------------------


def connector_imports(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            found += [
                f"{path.name}:{node.lineno} {n}" for n in names if n.split(".")[0] == "connectors"
            ]
    return found


def test_web_layer_never_imports_connectors():
    assert WEB.is_dir()
    assert connector_imports(WEB) == []


def test_i2_mapping_page_comes_from_the_imports_service(admin):
    csv = "Full name,Phone,WeChat openid,City\nWang Fang,13911112222,o-1,Hangzhou\n"
    upload = admin.post(
        "/imports/new",
        data={"kind": "customers", "files": (io.BytesIO(csv.encode()), "people.csv")},
        content_type="multipart/form-data",
    )
    assert upload.headers["Location"].endswith("/imports/mapping")
    page = admin.get("/imports/mapping").get_data(as_text=True)
    # suggested from the headers, with every standard target labelled by its kind
    assert '<option value="identity:wx_openid" selected>Identity: WeChat openid</option>' in page
    assert '<option value="property:city" selected>Property: City</option>' in page
    assert '<option value="mobile" selected>Mobile</option>' in page
    refused = admin.post("/imports/mapping", data={"map_0": "name"}, follow_redirects=True)
    assert "Map at least one column to Customer id, Mobile, Email or an identity" in refused.text


# --- 2. custom identities and properties (I2) -------------------------------------------------


def test_i2_admin_creates_lists_and_removes_custom_fields(admin, workspace, other_workspace):
    resp = admin.post("/settings/fields", data={"kind": "identity", "name": "member_no",
                                                "label": "Member number"})  # fmt: skip
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/settings/fields")
    admin.post("/settings/fields", data={"kind": "property", "name": "shoe_size"})
    # the same name may be an identity and a property, and exist in another workspace
    admin.post("/settings/fields", data={"kind": "property", "name": "member_no"})
    db.session.add(IdentityType(workspace_id=other_workspace.id, kind="property", name="vip_2"))
    db.session.commit()
    assert fields(workspace.id) == [("identity", "member_no", "Member number"),
                                    ("property", "member_no", None),
                                    ("property", "shoe_size", None)]  # fmt: skip
    page = admin.get("/settings/fields").get_data(as_text=True)
    assert "member_no" in page and "Member number" in page and "shoe_size" in page
    assert "vip_2" not in page
    assert 'href="/settings/fields" class="active" data-nav="fields"' in page
    shoe = db.session.scalar(select(IdentityType).where(IdentityType.name == "shoe_size"))
    theirs = db.session.scalar(select(IdentityType).where(IdentityType.name == "vip_2"))
    assert admin.post(f"/settings/fields/{theirs.id}/delete").status_code == 404
    resp = admin.post(f"/settings/fields/{shoe.id}/delete", follow_redirects=True)
    assert "“shoe_size” removed" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert ("property", "shoe_size", None) not in fields(workspace.id)
    assert fields(other_workspace.id) == [("property", "vip_2", None)]


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"kind": "identity", "name": "Member-No"}, "only hold lower-case letters, digits"),
        ({"kind": "identity", "name": "mobile"}, "“mobile” is a built-in identity type"),
        ({"kind": "property", "name": "wx_unionid"}, "“wx_unionid” is a built-in identity type"),
        ({"kind": "identity", "name": ""}, "The name needs 1 to 40 characters"),
        ({"kind": "identity", "name": "x" * 41}, "The name needs 1 to 40 characters"),
        ({"kind": "badge", "name": "level"}, "identity or a property"),
        ({"kind": "identity", "name": "vip_no"}, "A custom identity named “vip_no” already"),
    ],
)
def test_i2_custom_field_validation_names_the_rule(admin, workspace, form, message):
    db.session.add(IdentityType(workspace_id=workspace.id, kind="identity", name="vip_no"))
    db.session.commit()
    resp = admin.post("/settings/fields", data=form, follow_redirects=True)
    assert resp.status_code == 200
    assert message in resp.get_data(as_text=True)
    assert fields(workspace.id) == [("identity", "vip_no", None)]


def test_i2_analysts_read_custom_fields_but_cannot_change_them(analyst, workspace):
    field = customers.create_field(workspace.id, "identity", "member_no")
    page = analyst.get("/settings/fields").get_data(as_text=True)
    assert "member_no" in page and "Only an admin can add or remove" in page
    assert 'data-test="field-form"' not in page and "/delete" not in page
    assert (
        analyst.post("/settings/fields", data={"kind": "property", "name": "x"}).status_code == 403
    )
    assert analyst.post(f"/settings/fields/{field.id}/delete").status_code == 403
    assert fields(workspace.id) == [("identity", "member_no", None)]


def test_i2_custom_field_forms_need_the_csrf_token(app, admin, workspace):
    app.config["WTF_CSRF_ENABLED"] = True
    assert admin.post("/settings/fields", data={"kind": "identity", "name": "a"}).status_code == 400
    token = csrf_token(admin.get("/settings/fields").get_data(as_text=True))
    resp = admin.post(
        "/settings/fields", data={"kind": "identity", "name": "a", "csrf_token": token}
    )
    assert resp.status_code == 302 and fields(workspace.id) == [("identity", "a", None)]


def test_i2_field_created_in_settings_becomes_a_mapping_target(admin, workspace):
    csv = "Name,Member number,Shoe,Mobile\nLi Lei,M-0042,43,13800001234\n"

    def upload():
        return admin.post(
            "/imports/new",
            data={"kind": "customers", "files": (io.BytesIO(csv.encode()), "members.csv")},
            content_type="multipart/form-data",
        )

    upload()
    before = admin.get("/imports/mapping").get_data(as_text=True)
    assert "identity:member_no" not in before
    chosen = {"map_0": "name", "map_1": "identity:member_no", "map_3": "mobile"}
    refused = admin.post("/imports/mapping", data=chosen, follow_redirects=True)
    assert "there is no custom field “member_no”" in refused.get_data(as_text=True)

    admin.post("/settings/fields", data={"kind": "identity", "name": "member_no",
                                         "label": "Member number"})  # fmt: skip
    admin.post("/settings/fields", data={"kind": "property", "name": "shoe_size", "label": "Shoe"})
    upload()
    page = admin.get("/imports/mapping").get_data(as_text=True)
    # suggested from the label, listed with it
    assert '<option value="identity:member_no" selected>Identity: Member number</option>' in page
    assert '<option value="property:shoe_size" selected>Property: Shoe</option>' in page
    resp = admin.post("/imports/mapping", data={**chosen, "map_2": "property:shoe_size"})
    assert resp.headers["Location"].endswith("/imports/settings")
    assert admin.post("/imports/settings", data={}).headers["Location"].endswith("/imports")
    from hub.models import ImportRun

    run = db.session.scalar(select(ImportRun))
    assert jobs.execute(run.id) == "succeeded"
    db.session.expire_all()
    li = db.session.scalar(select(Customer).where(Customer.name == "Li Lei"))
    assert li is not None and li.properties.get("shoe_size") == "43"
    ids = {
        (i.type, i.value)
        for i in db.session.scalars(select(Identity).where(Identity.customer_id == li.id))
    }
    assert ("member_no", "M-0042") in ids


# --- 3. tags and static groups on the customer page -------------------------------------------


@pytest.fixture
def shop(workspace, other_workspace, tmp_path):
    mine, theirs = seed(workspace, tmp_path, tag="A"), seed(other_workspace, tmp_path, tag="B")
    return mine, theirs


def customer_tags(customer_id: int) -> list[str]:
    stmt = select(Tag.name).join(CustomerTag, CustomerTag.tag_id == Tag.id)
    return sorted(db.session.scalars(stmt.where(CustomerTag.customer_id == customer_id)))


def customer_groups(customer_id: int) -> list[str]:
    stmt = select(Group.name).join(GroupMember, GroupMember.group_id == Group.id)
    return sorted(db.session.scalars(stmt.where(GroupMember.customer_id == customer_id)))


def test_admin_adds_and_removes_tags_on_the_customer_page(admin, workspace, shop):
    mine, _theirs = shop
    url = f"/customers/{mine.customer_id}"
    resp = admin.post(f"{url}/tags", data={"tag": "  VIP   buyer "}, follow_redirects=True)
    assert "Tag “VIP buyer” added." in resp.get_data(as_text=True)
    admin.post(f"{url}/tags", data={"tag": "VIP buyer"})  # twice: still one link, one tag
    admin.post(f"{url}/tags", data={"tag": "fair"})
    assert customer_tags(mine.customer_id) == ["VIP buyer", "fair"]
    assert db.session.scalar(select(db.func.count(Tag.id))) == 2
    page = admin.get(url).get_data(as_text=True)
    vip = db.session.scalar(select(Tag).where(Tag.name == "VIP buyer"))
    assert f"{url}/tags/{vip.id}/remove" in page and 'data-test="add-tag"' in page
    resp = admin.post(f"{url}/tags/{vip.id}/remove", follow_redirects=True)
    assert "Tag “VIP buyer” removed." in resp.get_data(as_text=True)
    db.session.expire_all()
    assert customer_tags(mine.customer_id) == ["fair"]
    assert db.session.get(Tag, vip.id) is not None  # the tag itself stays in the workspace
    blank = admin.post(f"{url}/tags", data={"tag": "   "}, follow_redirects=True)
    assert "A tag name needs 1 to 100 characters." in blank.get_data(as_text=True)


def test_admin_adds_and_removes_static_groups_on_the_customer_page(admin, workspace, shop):
    mine, _theirs = shop
    url = f"/customers/{mine.customer_id}"
    spring = Group(workspace_id=workspace.id, name="Spring fair")
    db.session.add(spring)
    db.session.commit()
    page = admin.get(url).get_data(as_text=True)
    assert f'<option value="{spring.id}">Spring fair</option>' in page
    resp = admin.post(f"{url}/groups", data={"group_id": spring.id}, follow_redirects=True)
    assert "Added to the group “Spring fair”." in resp.get_data(as_text=True)
    admin.post(f"{url}/groups", data={"group_id": spring.id})
    assert customer_groups(mine.customer_id) == ["Spring fair"]
    assert db.session.scalar(select(db.func.count()).select_from(GroupMember)) == 1
    page = admin.get(url).get_data(as_text=True)
    assert f"{url}/groups/{spring.id}/remove" in page
    assert f'<option value="{spring.id}">' not in page  # already a member: not offered again
    admin.post(f"{url}/groups/{spring.id}/remove")
    db.session.expire_all()
    assert customer_groups(mine.customer_id) == []
    missing = admin.post(f"{url}/groups", data={}, follow_redirects=True)
    assert "Choose a group to add the customer to." in missing.get_data(as_text=True)


def test_tag_and_group_writes_are_scoped_to_the_workspace(admin, workspace, other_workspace, shop):
    mine, theirs = shop
    their_group = Group(workspace_id=other_workspace.id, name="Theirs")
    their_tag = Tag(workspace_id=other_workspace.id, name="their-tag")
    db.session.add_all([their_group, their_tag])
    db.session.commit()
    db.session.add(CustomerTag(customer_id=theirs.customer_id, tag_id=their_tag.id))
    db.session.commit()
    other = f"/customers/{theirs.customer_id}"
    assert admin.post(f"{other}/tags", data={"tag": "x"}).status_code == 404
    assert admin.post(f"{other}/tags/{their_tag.id}/remove").status_code == 404
    assert admin.post(f"{other}/groups", data={"group_id": their_group.id}).status_code == 404
    mine_url = f"/customers/{mine.customer_id}"
    assert admin.post(f"{mine_url}/groups", data={"group_id": their_group.id}).status_code == 404
    assert admin.post(f"{mine_url}/groups/{their_group.id}/remove").status_code == 404
    assert admin.post(f"{mine_url}/tags/{their_tag.id}/remove").status_code == 404
    assert customer_tags(theirs.customer_id) == ["their-tag"]
    assert customer_groups(mine.customer_id) == [] and customer_tags(mine.customer_id) == []
    assert db.session.scalar(select(Tag.id).where(Tag.name == "x")) is None


def test_analysts_cannot_change_tags_or_groups(analyst, workspace, shop):
    mine, _theirs = shop
    group = Group(workspace_id=workspace.id, name="G")
    db.session.add(group)
    db.session.commit()
    url = f"/customers/{mine.customer_id}"
    page = analyst.get(url).get_data(as_text=True)
    assert 'data-test="add-tag"' not in page and 'data-test="add-group"' not in page
    assert analyst.post(f"{url}/tags", data={"tag": "x"}).status_code == 403
    assert analyst.post(f"{url}/groups", data={"group_id": group.id}).status_code == 403
    assert analyst.post(f"{url}/groups/{group.id}/remove").status_code == 403
    assert customer_tags(mine.customer_id) == [] and customer_groups(mine.customer_id) == []


def test_tag_and_group_forms_need_the_csrf_token(app, admin, workspace, shop):
    mine, _theirs = shop
    url = f"/customers/{mine.customer_id}"
    app.config["WTF_CSRF_ENABLED"] = True
    assert admin.post(f"{url}/tags", data={"tag": "vip"}).status_code == 400
    token = csrf_token(admin.get(url).get_data(as_text=True))
    assert admin.post(f"{url}/tags", data={"tag": "vip", "csrf_token": token}).status_code == 302
    assert customer_tags(mine.customer_id) == ["vip"]


def test_x4_merged_away_customer_tags_are_refused_with_where_to_go(admin, workspace, tmp_path):
    from hub.core import merge as ledger

    keep = seed(workspace, tmp_path, tag="A")
    seed(workspace, tmp_path, tag="B")
    gone = db.session.scalar(select(Customer.id).where(Customer.id != keep.customer_id))
    assert gone and gone != keep.customer_id
    ledger.merge(db.session, workspace.id, keep.customer_id, gone,
                 reason="same person", actor="test")  # fmt: skip
    db.session.commit()
    url = f"/customers/{gone}"
    assert 'data-test="add-tag"' not in admin.get(url).get_data(as_text=True)
    resp = admin.post(f"{url}/tags", data={"tag": "vip"}, follow_redirects=True)
    assert f"merged into #{keep.customer_id}; change that customer instead" in resp.get_data(
        as_text=True
    )
    assert customer_tags(gone) == [] and customer_tags(keep.customer_id) == []
