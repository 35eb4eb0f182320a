"""Example rules: six rules that together use every clause of the trigger language."""

from __future__ import annotations

__all__ = ["EXAMPLE_RULES"]

EXAMPLE_RULES = """
# 90 days without any interaction -> churn-risk alert, at most once per 90 days
trigger churn_risk:
    when inactive for 90 days
    emit churn_risk_alert
    once per customer every 90 days

# an NPS answer of 6 or less -> a follow-up task, now
trigger detractor_follow_up:
    when survey as r where r.metric == "nps" and r.score <= 6
    emit follow_up_task(priority = "high", score = r.score)

# a purchase worth more than every earlier purchase of this customer -> VIP opportunity
trigger vip_opportunity:
    when purchase as p where count(purchase before p) >= 1 and p.value > max(purchase.value before p)
    emit vip_opportunity(order = p.order_id, value = p.value)

# viewed a product and did not buy it within 7 days -> a discount on that product
trigger browse_abandonment:
    when product_view as v then no purchase where product == v.product for 7 days
    emit limited_discount(product = v.product)
    cooldown 30 days
    requires consent marketing

# 7 days after a purchase, ask how it went, unless a survey about that order came in meanwhile
trigger satisfaction_check:
    when purchase as p then after 7 days
    unless survey where order_id == p.order_id
    emit satisfaction_check(order = p.order_id)

# more than 3 payment tickets within 30 days -> escalate
trigger payment_escalation:
    when ticket_opened as t where t.topic == "payment"
    if count(ticket_opened where topic == "payment" within 30 days) > 3
    emit escalate(topic = t.topic)
    cooldown 30 days
"""
"""Six rules covering every clause of the language (inactivity, conditions, aggregates over
earlier purchases, absence, delays with ``unless``, trailing windows) and every policy. Use them
as a starting point: ``cxmodel.triggers.parse(EXAMPLE_RULES)``."""
