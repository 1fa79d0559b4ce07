"""RFM segments and churn risk from purchase history, recomputed by a job.

Per customer, set-based in one statement:
- recency: days since the last order; frequency: orders in the last 12 months;
  monetary: revenue in the last 12 months;
- scores 1..5 by quintile among the organisation's customers who bought in the last
  24 months (5 = most recent, most frequent, most revenue; ties by id);
- segment from R and FM = round((F + M) / 2):
  champions R>=4, FM>=4; loyal R>=3, FM>=3; new R>=4; needs_attention R=3;
  at_risk R<=2, FM>=3; hibernating R=2; lost R=1 or no order for 24 months;
  no_purchases: never ordered;
- usual interval: the mean gap between consecutive order days over 24 months, known
  once a customer has ordered on three different days: (last - first) / (days - 1);
- churn risk: days since the last order > usual interval x the organisation's margin.

Everything goes to `customer_analytics`, beside the customer row rather than on it: a night
that moves many segments must not make every phone download its territory again. The
API shows the segment and risk with each customer and filters on them.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

SEGMENTS = ("champions", "loyal", "new", "needs_attention", "at_risk", "hibernating", "lost", "no_purchases")

RECOMPUTE = text(
    """
WITH org AS (
    SELECT churn_margin FROM organizations WHERE id = :org_id
), per AS (
    SELECT c.id AS customer_id,
           max(o.order_date) AS last_order_date,
           count(o.id) FILTER (WHERE o.order_date > :today - 365) AS orders_12m,
           coalesce(sum(o.amount) FILTER (WHERE o.order_date > :today - 365), 0) AS revenue_12m,
           count(DISTINCT o.order_date) FILTER (WHERE o.order_date > :today - 730) AS days_24m,
           min(o.order_date) FILTER (WHERE o.order_date > :today - 730) AS first_24m,
           max(o.order_date) FILTER (WHERE o.order_date > :today - 730) AS last_24m
      FROM customers c
      LEFT JOIN orders o
        ON o.org_id = c.org_id AND o.customer_id = c.id AND o.deleted_at IS NULL AND o.order_date <= :today
     WHERE c.org_id = :org_id AND c.deleted_at IS NULL
     GROUP BY c.id
), scored AS (
    SELECT p.*,
           ntile(5) OVER (ORDER BY p.last_order_date, p.customer_id) AS r,
           ntile(5) OVER (ORDER BY p.orders_12m, p.customer_id) AS f,
           ntile(5) OVER (ORDER BY p.revenue_12m, p.customer_id) AS m
      FROM per p
     WHERE p.last_24m IS NOT NULL
), labelled AS (
    SELECT p.customer_id, p.last_order_date, p.orders_12m, p.revenue_12m,
           s.r, s.f, s.m,
           CASE WHEN p.days_24m >= 3
                THEN (p.last_24m - p.first_24m)::float / (p.days_24m - 1) END AS usual_interval,
           CASE
               WHEN p.last_order_date IS NULL THEN 'no_purchases'
               WHEN s.r IS NULL THEN 'lost'
               WHEN s.r >= 4 AND round((s.f + s.m) / 2.0) >= 4 THEN 'champions'
               WHEN s.r >= 3 AND round((s.f + s.m) / 2.0) >= 3 THEN 'loyal'
               WHEN s.r >= 4 THEN 'new'
               WHEN s.r = 3 THEN 'needs_attention'
               WHEN round((s.f + s.m) / 2.0) >= 3 THEN 'at_risk'
               WHEN s.r = 2 THEN 'hibernating'
               ELSE 'lost'
           END AS segment
      FROM per p LEFT JOIN scored s USING (customer_id)
), final AS (
    SELECT l.*,
           (:today - l.last_order_date) AS recency_days,
           coalesce(l.usual_interval IS NOT NULL
                    AND (:today - l.last_order_date) > l.usual_interval * (SELECT churn_margin FROM org), false)
               AS churn_risk
      FROM labelled l
), before AS (
    -- The snapshot before this run's writes: what changed is counted against it.
    SELECT customer_id, segment, churn_risk FROM customer_analytics WHERE org_id = :org_id
), stored AS (
    INSERT INTO customer_analytics AS ca (customer_id, org_id, last_order_date, recency_days, orders_12m,
                                          revenue_12m, r_score, f_score, m_score, segment,
                                          usual_interval_days, churn_risk, computed_at)
    SELECT customer_id, :org_id, last_order_date, recency_days, orders_12m, revenue_12m, r, f, m, segment,
           usual_interval, churn_risk, now()
      FROM final
    ON CONFLICT (customer_id) DO UPDATE SET
        last_order_date = EXCLUDED.last_order_date, recency_days = EXCLUDED.recency_days,
        orders_12m = EXCLUDED.orders_12m, revenue_12m = EXCLUDED.revenue_12m,
        r_score = EXCLUDED.r_score, f_score = EXCLUDED.f_score, m_score = EXCLUDED.m_score,
        segment = EXCLUDED.segment, usual_interval_days = EXCLUDED.usual_interval_days,
        churn_risk = EXCLUDED.churn_risk, computed_at = EXCLUDED.computed_at
    RETURNING customer_id
)
-- (a data-modifying CTE runs whether or not it is read)
SELECT count(*) FROM final f LEFT JOIN before b USING (customer_id)
 WHERE (b.customer_id IS NULL OR b.segment IS DISTINCT FROM f.segment OR b.churn_risk IS DISTINCT FROM f.churn_risk)
"""
)


def recompute_customer_analytics(session: Session, org_id: uuid.UUID, *, today: date | None = None) -> dict[str, int]:
    """One organisation; returns how many customers changed segment or risk."""
    changed = session.execute(RECOMPUTE, {"org_id": org_id, "today": today or date.today()}).scalar_one()
    return {"changed": int(changed)}
