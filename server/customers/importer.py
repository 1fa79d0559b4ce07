"""Import customers from CRM exports (Salesforce Accounts, HubSpot Companies, plain CSV).

Every row is checked before anything is written. A file with bad rows imports
nothing unless the caller asks to skip them; either way each bad row is
reported with its line number and reason. Rows with an external id (Salesforce
`Id`, HubSpot `Record ID`) update the customer imported from it before, so a
re-import is safe.
"""

from __future__ import annotations

import csv
import io
import math
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from geoalchemy2 import WKTElement
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.access.actor import system_actor
from server.access.contact_details import normalise_phone
from server.access.policy import WriteContext
from server.api.resource import announce_write
from server.customers.geocoding import Geocoder, GeocoderUnavailable, address_query, geocode
from server.customers.leads import assign_new_lead
from server.customers.repository import territory_containing
from server.errors import AppError
from server.models import Customer, Organization
from shared.enums import CustomerStatus, GeocodeAccuracy

# normalised header -> our field. Headers are compared lowercase without
# spaces, dots, underscores, slashes or dashes.
HEADER_ALIASES: dict[str, str] = {
    # Salesforce Account export
    "id": "external_ref",
    "accountid": "external_ref",
    "name": "name",
    "accountname": "name",
    "billingstreet": "street",
    "billingcity": "city",
    "billingpostalcode": "postal_code",
    "billingstate": "region",
    "billingcountry": "country",
    "billinglatitude": "lat",
    "billinglongitude": "lon",
    "phone": "phone",
    "website": "website",
    "annualrevenue": "annual_revenue",
    "type": "status",
    "description": "notes",
    # HubSpot company export
    "recordid": "external_ref",
    "companyid": "external_ref",
    "companyname": "name",
    "street": "street",
    "streetaddress": "street",
    "streetaddress2": "street2",
    "address": "street",
    "address2": "street2",
    "city": "city",
    "postalcode": "postal_code",
    "zip": "postal_code",
    "zipcode": "postal_code",
    "postcode": "postal_code",
    "stateregion": "region",
    "state": "region",
    "region": "region",
    "countryregion": "country",
    "country": "country",
    "phonenumber": "phone",
    "websiteurl": "website",
    "companydomainname": "domain",
    "domain": "domain",
    "lifecyclestage": "status",
    "status": "status",
    "email": "email",
    # generic
    "latitude": "lat",
    "lat": "lat",
    "longitude": "lon",
    "lon": "lon",
    "lng": "lon",
    "notes": "notes",
    "externalref": "external_ref",
    "externalid": "external_ref",
}

COUNTRIES: dict[str, str] = {
    "france": "FR",
    "germany": "DE",
    "deutschland": "DE",
    "united states": "US",
    "usa": "US",
    "united states of america": "US",
    "us": "US",
    "united kingdom": "GB",
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "spain": "ES",
    "espana": "ES",
    "italy": "IT",
    "italia": "IT",
    "netherlands": "NL",
    "the netherlands": "NL",
    "belgium": "BE",
    "belgique": "BE",
    "switzerland": "CH",
    "suisse": "CH",
    "austria": "AT",
    "portugal": "PT",
    "ireland": "IE",
    "poland": "PL",
    "sweden": "SE",
    "norway": "NO",
    "denmark": "DK",
    "finland": "FI",
    "canada": "CA",
    "mexico": "MX",
    "brazil": "BR",
    "australia": "AU",
    "new zealand": "NZ",
    "japan": "JP",
    "china": "CN",
    "india": "IN",
    "luxembourg": "LU",
    "czech republic": "CZ",
    "czechia": "CZ",
    "greece": "GR",
    "south africa": "ZA",
}

STATUS_WORDS: dict[str, CustomerStatus] = {
    # HubSpot lifecycle stages
    "subscriber": CustomerStatus.lead,
    "lead": CustomerStatus.lead,
    "marketingqualifiedlead": CustomerStatus.lead,
    "salesqualifiedlead": CustomerStatus.prospect,
    "opportunity": CustomerStatus.prospect,
    "customer": CustomerStatus.customer,
    "evangelist": CustomerStatus.customer,
    "other": CustomerStatus.lead,
    # Salesforce account types
    "prospect": CustomerStatus.prospect,
    "customerdirect": CustomerStatus.customer,
    "customerchannel": CustomerStatus.customer,
    "channelpartnerreseller": CustomerStatus.customer,
    "installationpartner": CustomerStatus.customer,
    "technologypartner": CustomerStatus.customer,
    "inactive": CustomerStatus.inactive,
    "former customer": CustomerStatus.inactive,
}

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_COLUMN_LIMITS = {
    "name": 300,
    "street": 300,
    "city": 120,
    "postal_code": 20,
    "region": 120,
    "website": 500,
    "email": 254,
    "external_ref": 100,
}


def _normalise_header(header: str) -> str:
    return re.sub(r"[\s._/\-]+", "", header.strip().lower())


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    unmapped_columns: list[str] = field(default_factory=list)
    geocoded: int = 0
    # Rows imported without a location: their address was not found (never dropped silently).
    not_geocoded: list[RowError] = field(default_factory=list)


class GeocoderFailed(AppError):
    status, code, title = 503, "GEOCODER_UNAVAILABLE", "Geocoder unavailable"


class CustomerImportFailed(AppError):
    status, code, title = 422, "IMPORT_HAS_BAD_ROWS", "Import rejected"

    def __init__(self, report: ImportReport) -> None:
        super().__init__(
            f"{len(report.errors)} of {report.rows} rows are invalid; nothing was imported "
            "(fix them, or skip them with --skip-bad-rows)",
            extra={"errors": [{"line": e.line, "reason": e.reason} for e in report.errors[:1000]]},
        )
        self.report = report


class _RowInvalid(ValueError):
    pass


def _float(value: str, what: str, low: float, high: float) -> float:
    try:
        number = float(value.replace(",", ".")) if value.count(",") == 1 and "." not in value else float(value)
    except ValueError:
        raise _RowInvalid(f"{what} {value!r} is not a number") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise _RowInvalid(f"{what} {value!r} is outside [{low:g}, {high:g}]")
    return number


def _money(value: str) -> Decimal:
    cleaned = re.sub(r"[^\d.,\-]", "", value)
    if cleaned.count(",") and cleaned.count("."):
        cleaned = cleaned.replace(",", "")  # 1,234.50
    elif cleaned.count(",") == 1 and len(cleaned.split(",")[1]) != 3:
        cleaned = cleaned.replace(",", ".")  # 1234,50
    else:
        cleaned = cleaned.replace(",", "")  # 1,234,567
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise _RowInvalid(f"annual revenue {value!r} is not an amount") from None
    if amount < 0 or amount >= Decimal("1e14"):
        raise _RowInvalid(f"annual revenue {value!r} is out of range")
    return amount.quantize(Decimal("0.01"))


def _country(value: str) -> str:
    text = value.strip()
    if re.fullmatch(r"[A-Za-z]{2}", text):
        return text.upper()
    code = COUNTRIES.get(text.lower())
    if code is None:
        raise _RowInvalid(f"country {value!r} is not recognised (use an ISO code such as FR)")
    return code


def _status(value: str) -> CustomerStatus:
    key = _normalise_header(value)
    if key in STATUS_WORDS:
        return STATUS_WORDS[key]
    if value.strip().lower() in STATUS_WORDS:
        return STATUS_WORDS[value.strip().lower()]
    try:
        return CustomerStatus(value.strip().lower())
    except ValueError:
        raise _RowInvalid(f"status {value!r} is not one of lead, prospect, customer, inactive") from None


def parse_row(raw: dict[str, str], default_country: str) -> dict[str, Any]:
    """One CSV row (already mapped to our field names) -> customer values."""
    values: dict[str, Any] = {}
    text = {k: (v or "").strip() for k, v in raw.items()}
    if not text.get("name"):
        raise _RowInvalid("name is empty")
    for key, limit in _COLUMN_LIMITS.items():
        if len(text.get(key, "")) > limit:
            raise _RowInvalid(f"{key} is longer than {limit} characters")
    values["name"] = text["name"]
    street = ", ".join(part for part in (text.get("street", ""), text.get("street2", "")) if part)
    for key, value in (
        ("street", street),
        ("city", text.get("city")),
        ("postal_code", text.get("postal_code")),
        ("region", text.get("region")),
        ("external_ref", text.get("external_ref")),
    ):
        if value:
            values[key] = value
    if text.get("country"):
        values["country"] = _country(text["country"])
    lat, lon = text.get("lat", ""), text.get("lon", "")
    if bool(lat) != bool(lon):
        raise _RowInvalid("latitude and longitude must both be given or both be empty")
    if lat:
        values["lat"] = _float(lat, "latitude", -90, 90)
        values["lon"] = _float(lon, "longitude", -180, 180)
    if text.get("phone"):
        try:
            values["phone"] = normalise_phone(text["phone"], values.get("country", default_country))
        except AppError as exc:
            raise _RowInvalid(exc.detail) from None
    if text.get("email"):
        if not _EMAIL.match(text["email"]):
            raise _RowInvalid(f"email {text['email']!r} is not an email address")
        values["email"] = text["email"].lower()
    website = text.get("website") or text.get("domain")
    if website:
        values["website"] = website if re.match(r"^https?://", website, re.I) else f"https://{website}"
    if text.get("annual_revenue"):
        values["annual_revenue"] = _money(text["annual_revenue"])
    if text.get("status"):
        values["status"] = _status(text["status"])
    if text.get("notes"):
        values["notes"] = text["notes"]
    return values


def read_rows(stream: Iterable[str]) -> tuple[list[str], Iterable[tuple[int, dict[str, str]]], list[str]]:
    """Headers mapped to our fields, the rows with their line numbers, and unmapped headers."""
    lines = list(stream)
    sample = "".join(lines[:20])
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO("".join(lines)), dialect)
    try:
        headers = next(reader)
    except StopIteration:
        raise AppError("The file is empty", code="EMPTY_FILE") from None
    mapped = [HEADER_ALIASES.get(_normalise_header(h), "") for h in headers]
    if "name" not in mapped:
        raise AppError("No name column found (expected Name, Account Name or Company name)", code="MISSING_NAME_COLUMN")
    unmapped = [h for h, m in zip(headers, mapped, strict=True) if not m]

    def rows() -> Iterable[tuple[int, dict[str, str]]]:
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            line = reader.line_num
            if len(record) != len(headers):
                yield line, {"__error__": f"has {len(record)} fields, the header has {len(headers)}"}
                continue
            row: dict[str, str] = {}
            for key, cell in zip(mapped, record, strict=True):
                if key and not row.get(key):
                    row[key] = cell
            yield line, row

    return mapped, rows(), unmapped


def import_customers(
    session: Session,
    org_id: uuid.UUID,
    path: Path,
    *,
    skip_bad_rows: bool = False,
    progress: Callable[[int], None] | None = None,
    geocoder: Geocoder | None = None,
    geocode_progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Validate every row, geocode the addresses without coordinates (when a geocoder is
    given), then write all good rows in the caller's transaction."""
    org = session.get(Organization, org_id)
    if org is None:
        raise AppError(f"Organisation {org_id} not found", code="ORG_NOT_FOUND", status=404)
    report = ImportReport()
    good: list[tuple[int, dict[str, Any]]] = []
    seen_refs: dict[str, int] = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        _, rows, report.unmapped_columns = read_rows(handle)
        for line, raw in rows:
            report.rows += 1
            if progress:
                progress(1)
            try:
                if "__error__" in raw:
                    raise _RowInvalid(raw["__error__"])
                values = parse_row(raw, org.default_country)
                ref = values.get("external_ref")
                if ref is not None:
                    if ref in seen_refs:
                        raise _RowInvalid(f"id {ref!r} appears again (first on line {seen_refs[ref]})")
                    seen_refs[ref] = line
                good.append((line, values))
            except _RowInvalid as exc:
                report.errors.append(RowError(line, str(exc)))
    if report.errors and not skip_bad_rows:
        raise CustomerImportFailed(report)
    report.skipped = len(report.errors)
    if geocoder is not None:
        _geocode(session, geocoder, good, org.default_country, report, geocode_progress)
    _write(session, org_id, [values for _, values in good], report)
    return report


def _geocode(
    session: Session,
    geocoder: Geocoder,
    rows: list[tuple[int, dict[str, Any]]],
    default_country: str,
    report: ImportReport,
    progress: Callable[[int, int], None] | None,
) -> None:
    """Coordinates for the rows that have an address and none of their own."""
    wanted = [
        (line, values, query) for line, values in rows if "lat" not in values and (query := address_query(values))
    ]
    for done, (line, values, query) in enumerate(wanted, start=1):
        try:
            found = geocode(session, geocoder, query, values.get("country") or default_country)
        except GeocoderUnavailable as error:
            raise GeocoderFailed(
                f"line {line}: the geocoder could not be asked ({error}); nothing was imported, try again"
            ) from error
        if found is None:
            report.not_geocoded.append(RowError(line, f"address not found: {query}"))
        else:
            values["lat"], values["lon"], values["geocode_accuracy"] = found.lat, found.lon, found.accuracy
            report.geocoded += 1
        if progress is not None:
            progress(done, len(wanted))


def _write(session: Session, org_id: uuid.UUID, rows: list[dict[str, Any]], report: ImportReport) -> None:
    refs = [r["external_ref"] for r in rows if "external_ref" in r]
    existing: dict[str, uuid.UUID] = {}
    for start in range(0, len(refs), 5000):
        found = session.execute(
            select(Customer.external_ref, Customer.id).where(
                Customer.org_id == org_id, Customer.external_ref.in_(refs[start : start + 5000])
            )
        )
        existing.update({ref: customer_id for ref, customer_id in found if ref is not None})
    created: list[Customer] = []
    for values in rows:
        lat, lon = values.pop("lat", None), values.pop("lon", None)
        if lat is not None and lon is not None:
            values["location"] = WKTElement(f"POINT({lon!r} {lat!r})", srid=4326)
            values.setdefault("geocode_accuracy", GeocodeAccuracy.manual)
            values["territory_id"] = territory_containing(session, org_id, lat, lon)
        customer_id = existing.get(values.get("external_ref", ""))
        if customer_id is None:
            values["org_id"] = org_id
            assign_new_lead(session, None, values)
            customer = Customer(**values)
            session.add(customer)
            created.append(customer)
            report.created += 1
        else:
            values["id"] = customer_id
            report.updated += 1
            _update_existing(session, values)
    session.flush()
    # Imported leads fire the organisation's rules like any other new lead.
    ctx = WriteContext(session, system_actor(org_id))
    for customer in created:
        announce_write(ctx, "customer", customer, None)


def _update_existing(session: Session, values: dict[str, Any]) -> None:
    customer = session.get(Customer, values.pop("id"))
    assert customer is not None
    for key, value in values.items():
        setattr(customer, key, value)
