"""A vendor's CSV of codes: every bad line reported by its number, a re-upload imports nothing,
and an admin sees counts, never codes."""

from __future__ import annotations

import pytest

from tests.rewards_kit import csv_file


def test_a_file_with_duplicates_and_bad_rows_reports_each_by_line_number(kit):
    # given a file whose lines 3 and 6 repeat line 2, with blank, over-long, broken-expiry and strange lines
    reward = kit.reward()
    held = kit.stock(reward["id"], 1)[0]
    text = "\n".join([
        "code,expires_at,pin",            # 1
        "AAA-111,2027-12-31,1234",        # 2
        "aaa 111,,",                      # 3  the same code, typed otherwise
        ",2027-01-01,",                   # 4  blank
        "X" * 80 + ",,",                  # 5  too long
        "AAA111,,",                       # 6  the same again
        "BBB-222,31.12.2027,",            # 7  fine (Polish date)
        "CCC-333,yesterday,",             # 8  bad expiry
        "DDD-444,2020-01-01,",            # 9  expired already
        f"{held},,",                      # 10 held from an earlier upload
        "ÉCU-555,,",                      # 11 not ASCII
        '"EEE-666,,',                     # 12 an unclosed quote
        "FFF-777,2027-06-30T12:00:00+04:00,9",  # 13 fine
    ]) + "\n"

    # when
    response = kit.upload(reward["id"], text)

    # then
    assert response.status_code == 201, response.json
    report = response.json
    assert report["rows"] == 12
    assert report["imported"] == 3
    assert report["duplicates_in_file"] == [3, 6]
    assert report["already_held"] == [10]
    assert report["blank"] == [4]
    assert report["too_long"] == [5]
    assert report["bad_expiry"] == [8, 9]
    assert report["bad_characters"] == [11]
    assert report["malformed"] == [12]
    assert report["counts"] == {"duplicates_in_file": 2, "already_held": 1, "blank": 1, "too_long": 1,
                                "bad_expiry": 2, "bad_characters": 1, "malformed": 1}
    counts = kit.client.get(f"/api/v1/admin/rewards/{reward['id']}", headers=kit.admin).json["counts"]
    assert counts == {"available": 4, "issued": 0, "expired_unissued": 0}


def test_uploading_the_same_file_again_imports_nothing_and_says_why_line_by_line(kit):
    reward = kit.reward()
    text = "code\n" + "\n".join(f"CODE-{n:04d}" for n in range(250)) + "\n"
    assert kit.upload(reward["id"], text).json["imported"] == 250

    again = kit.upload(reward["id"], text).json

    assert again["imported"] == 0
    assert again["counts"]["already_held"] == 250
    assert again["already_held"] == list(range(2, 102))  # the list stops at 100 lines; the count does not
    assert again["lists_capped_at"] == 100
    admin = kit.client.get(f"/api/v1/admin/rewards/{reward['id']}", headers=kit.admin).json
    assert admin["counts"]["available"] == 250


def test_duplicates_are_found_across_batches_of_the_import(kit, app, monkeypatch):
    from wallet.rewards import code_import

    monkeypatch.setattr(code_import, "BATCH", 3)
    reward = kit.reward()
    text = "code\nA1\nA2\nA3\nA4\nA1\nA5\nA4\n"
    report = kit.upload(reward["id"], text).json
    assert (report["imported"], report["duplicates_in_file"]) == (5, [6, 8])


@pytest.mark.parametrize("text, expected", [
    ("\ufeffcode\nBOM-1\n", 1),                       # Excel's UTF-8 BOM
    ("Code;PIN\nSEMI-1;11\nSEMI-2;22\n", 2),          # a Polish spreadsheet's semicolons
    ("vendor_ref,code,amount\nr1,COL-1,50\n", 1),     # other columns are ignored
    ("code\r\nCRLF-1\r\nCRLF-2\r\n", 2),
    ("code\nLAST-1", 1),                              # no line break at the end
])
def test_the_usual_shapes_of_a_vendor_file_import(kit, text, expected):
    response = kit.upload(kit.reward()["id"], text)
    assert response.status_code == 201, response.json
    assert response.json["imported"] == expected


def test_a_file_that_is_not_utf8_is_refused_with_its_line_number_and_nothing_is_imported(kit):
    reward = kit.reward()
    text = "code\nGOOD-1\nGOOD-2\n".encode() + "CAFÉ-3\n".encode("latin-1")
    response = kit.upload(reward["id"], text)
    assert response.status_code == 422
    assert response.json["message"].startswith("line 4 is not UTF-8 text")
    assert response.json["details"] == {"line": 4}
    assert "file" in response.json["errors"]["json"]
    assert kit.client.get(f"/api/v1/admin/rewards/{reward['id']}", headers=kit.admin).json["counts"]["available"] == 0


@pytest.mark.parametrize("text, message", [
    ("", "the file is empty"),
    ("voucher\nA1\n", "line 1 must be the header, with a column called code"),
    ("A1\nA2\n", "line 1 must be the header"),
])
def test_a_file_without_a_code_header_is_refused(kit, text, message):
    response = kit.upload(kit.reward()["id"], text)
    assert response.status_code == 422
    assert message in response.json["message"]


def test_a_line_far_too_long_is_reported_and_the_rest_imported(kit):
    text = "code\nOK-1\n" + "Y" * 10_000 + "\nOK-2\n"
    report = kit.upload(kit.reward()["id"], text).json
    assert (report["imported"], report["too_long"]) == (2, [3])


def test_more_rows_than_allowed_is_413_and_nothing_is_imported(kit, app):
    app.config["SETTINGS"] = app.config["SETTINGS"].with_overrides(code_upload_max_rows=3)
    reward = kit.reward()
    response = kit.upload(reward["id"], "code\nA\nB\nC\nD\n")
    assert response.status_code == 413
    assert "more than 3 codes" in response.json["message"]
    assert kit.client.get(f"/api/v1/admin/rewards/{reward['id']}", headers=kit.admin).json["counts"]["available"] == 0


def test_a_file_over_the_size_limit_is_413_before_it_is_read(kit, app):
    app.config["SETTINGS"] = app.config["SETTINGS"].with_overrides(code_upload_max_bytes=1024)
    reward = kit.reward()
    body = "code\n" + "\n".join(f"C{n:08d}" for n in range(20_000))
    response = kit.upload(reward["id"], body)
    assert response.status_code == 413
    assert "over its limit" in response.json["message"]


def test_codes_go_only_to_a_pool_reward(kit):
    generated = kit.reward(code_source="generated")
    response = kit.upload(generated["id"], "code\nA\n")
    assert response.status_code == 422
    assert "made by the program" in response.json["message"]
    assert kit.upload(999_999, "code\nA\n").status_code == 404


@pytest.mark.parametrize("role", ["partner", "cashier", "marketer"])
def test_only_admins_upload_codes(kit, people, client, role):
    reward = kit.reward()
    who = people.partner() if role == "partner" else people.staff(role)
    response = client.post(f"/api/v1/admin/rewards/{reward['id']}/codes", data=csv_file("code\nA\n"),
                           headers=who["headers"], content_type="multipart/form-data")
    assert response.status_code == 403


def test_an_upload_without_the_file_field_or_as_json_is_refused(kit, client):
    reward = kit.reward()
    missing = client.post(f"/api/v1/admin/rewards/{reward['id']}/codes", data={"other": "x"}, headers=kit.admin,
                          content_type="multipart/form-data")
    assert missing.status_code == 422
    assert "file" in missing.json["errors"]["files"]
    as_json = client.post(f"/api/v1/admin/rewards/{reward['id']}/codes", json={"file": "code\nA"}, headers=kit.admin)
    assert as_json.status_code == 422 and "file" in as_json.json["errors"]["files"]
    as_text = client.post(f"/api/v1/admin/rewards/{reward['id']}/codes", data="code\nA", headers=kit.admin,
                          content_type="text/csv")
    assert as_text.status_code == 415


def test_an_admin_sees_counts_and_never_a_code(kit, client):
    reward, codes = kit.voucher_reward(3)
    partner = kit.partner(100)
    assert kit.redeem(partner, reward["id"]).status_code == 201
    for url in (f"/api/v1/admin/rewards/{reward['id']}", "/api/v1/admin/rewards",
                f"/api/v1/admin/vouchers?member_id={partner['member']['id']}"):
        body = client.get(url, headers=kit.admin).get_data(as_text=True)
        assert not any(code in body for code in codes), url
    admin = client.get(f"/api/v1/admin/rewards/{reward['id']}", headers=kit.admin).json
    assert admin["counts"] == {"available": 2, "issued": 1, "expired_unissued": 0}
    assert admin["low_stock"] is True
