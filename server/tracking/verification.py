"""Check-in verification: was the rep at the customer when they checked in?

`verified` when the check-in (or, lacking one, the check-out) lies within the
tier's radius of the customer (default 150 m, per tier in the organisation's
`verification_radius_m`) plus an allowance for the fix's accuracy (up to
100 m); `unverified` without a usable fix (no position, accuracy worse than
500 m, or a customer without a location); `out_of_range` otherwise. The
distance is stored either way.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from server.geo import point_out
from server.models import Customer, Organization, Visit
from shared.enums import VerificationStatus
from shared.geo import haversine_m

DEFAULT_RADIUS_M = 150.0
MAX_ACCURACY_ALLOWANCE_M = 100.0
UNUSABLE_ACCURACY_M = 500.0


def verify_visit(session: Session, visit: Visit) -> None:
    fix, accuracy = visit.check_in_location, visit.check_in_accuracy_m
    if fix is None:
        fix, accuracy = visit.check_out_location, visit.check_out_accuracy_m
    if fix is None:
        if visit.verification_status is not VerificationStatus.pending:
            visit.verification_status, visit.verification_distance_m = VerificationStatus.pending, None
        return
    customer = session.get(Customer, visit.customer_id)
    spot, here = point_out(customer.location) if customer else None, point_out(fix)
    if spot is None or here is None or (accuracy is not None and accuracy > UNUSABLE_ACCURACY_M):
        status, distance = VerificationStatus.unverified, None
        if spot is not None and here is not None:
            distance = haversine_m(spot["lat"], spot["lon"], here["lat"], here["lon"])
    else:
        distance = haversine_m(spot["lat"], spot["lon"], here["lat"], here["lon"])
        org = session.get(Organization, visit.org_id)
        tier = str(customer.tier) if customer else ""
        radius = float((org.verification_radius_m if org else {}).get(tier, DEFAULT_RADIUS_M))
        allowance = min(accuracy or 0.0, MAX_ACCURACY_ALLOWANCE_M)
        status = VerificationStatus.verified if distance <= radius + allowance else VerificationStatus.out_of_range
    if (visit.verification_status, visit.verification_distance_m) != (status, distance):
        visit.verification_status, visit.verification_distance_m = status, distance
