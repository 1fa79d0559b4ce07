"""CSV import of CRM exports: header mapping, validation with line numbers, all-or-nothing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from server.customers.importer import CustomerImportFailed, import_customers
from server.models import Customer
from shared.enums import CustomerStatus

DATA = Path(__file__).resolve().parents[1] / "data"  # tests/server/data


def org_customers(db, org_id):
    return {c.name: c for c in db.scalars(select(Customer).where(Customer.org_id == org_id))}


def test_salesforce_account_export(db, world):
    report = import_customers(db, world.org_a, DATA / "salesforce_accounts.csv")
    assert (report.rows, report.created, report.updated, report.errors) == (3, 3, 0, [])
    assert "Industry" in report.unmapped_columns
    customers = org_customers(db, world.org_a)
    bakery = customers["Boulangerie Martin"]
    assert bakery.external_ref == "0015g00000AbCdEAA1"
    assert bakery.status is CustomerStatus.customer
    assert (bakery.street, bakery.city, bakery.postal_code, bakery.country) == (
        "12 Rue Merciere",
        "Lyon",
        "69002",
        "FR",
    )
    assert bakery.phone == "+33472410001"
    assert bakery.website == "https://www.boulangerie-martin.fr"
    assert bakery.annual_revenue == Decimal("250000.00")
    assert customers["Garage Dupont"].annual_revenue == Decimal("1200000.50")
    assert customers["Garage Dupont"].status is CustomerStatus.prospect
    assert customers["Pharmacie Centrale"].location is None


def test_hubspot_company_export(db, world):
    report = import_customers(db, world.org_b, DATA / "hubspot_companies.csv")
    assert (report.created, report.errors) == (2, [])
    customers = org_customers(db, world.org_b)
    acme = customers["Acme Supplies"]
    assert acme.external_ref == "9001"
    assert acme.street == "100 Market St, Suite 5"
    assert acme.country == "US" and acme.region == "CA"
    assert acme.phone == "+14155550100"
    assert acme.website == "https://acme.example.com"
    assert acme.status is CustomerStatus.customer
    assert customers["Globex"].status is CustomerStatus.prospect


def test_reimport_updates_instead_of_duplicating(db, world):
    import_customers(db, world.org_a, DATA / "salesforce_accounts.csv")
    again = import_customers(db, world.org_a, DATA / "salesforce_accounts.csv")
    assert (again.created, again.updated) == (0, 3)
    count = db.scalar(
        select(func.count())
        .select_from(Customer)
        .where(Customer.org_id == world.org_a, Customer.external_ref.like("0015g%"))
    )
    assert count == 3


def test_imported_customer_lands_in_the_territory_containing_it(db, world):
    csv_file = DATA.parent / "data" / "_located.csv"
    csv_file.write_text("Name,Latitude,Longitude\nIn T2,45.755,4.815\n")
    try:
        import_customers(db, world.org_a, csv_file)
    finally:
        csv_file.unlink()
    assert org_customers(db, world.org_a)["In T2"].territory_id == world.t2


def test_bad_rows_reject_the_whole_file_with_line_numbers(db, world):
    before = db.scalar(select(func.count()).select_from(Customer))
    with pytest.raises(CustomerImportFailed) as failure:
        import_customers(db, world.org_a, DATA / "bad_rows.csv")
    errors = {e.line: e.reason for e in failure.value.report.errors}
    assert set(errors) == {3, 4, 5, 6, 7}
    assert "name is empty" in errors[3]
    assert "latitude" in errors[4] or "longitude" in errors[4]
    assert "both" in errors[5]
    assert "phone" in errors[6]
    assert "country" in errors[7]
    assert db.scalar(select(func.count()).select_from(Customer)) == before


def test_skip_bad_rows_imports_the_good_ones(db, world):
    report = import_customers(db, world.org_a, DATA / "bad_rows.csv", skip_bad_rows=True)
    assert (report.created, report.skipped) == (2, 5)
    assert {"Good One", "Good Two"} <= set(org_customers(db, world.org_a))


def test_file_without_a_name_column_is_refused(db, world, tmp_path):
    bad = tmp_path / "no_name.csv"
    bad.write_text("City,Phone\nLyon,0472000000\n")
    from server.errors import AppError

    with pytest.raises(AppError) as failure:
        import_customers(db, world.org_a, bad)
    assert failure.value.code == "MISSING_NAME_COLUMN"
