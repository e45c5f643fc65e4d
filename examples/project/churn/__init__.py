"""Local package of the churn example."""
