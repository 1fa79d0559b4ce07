"""Customer analytics: the Pareto curve of revenue, RFM segments, churn risk, next best actions."""
