"""The six acceptance rules of TRIGGERS.md, shared by the trigger tests."""

from __future__ import annotations

ACCEPTANCE = """
trigger churn_risk:
    when inactive for 90 days
    emit churn_risk_alert
    once per customer every 90 days

trigger detractor_follow_up:
    when survey as r where r.metric == "nps" and r.score <= 6
    emit follow_up_task(priority = "high", score = r.score)

trigger vip_opportunity:
    when purchase as p where count(purchase before p) >= 1 and p.value > max(purchase.value before p)
    emit vip_opportunity(order = p.order_id, value = p.value)

trigger browse_abandonment:
    when product_view as v then no purchase where product == v.product for 7 days
    emit limited_discount(product = v.product)
    cooldown 30 days
    requires consent marketing

trigger satisfaction_check:
    when purchase as p then after 7 days
    unless survey where order_id == p.order_id
    emit satisfaction_check(order = p.order_id)

trigger payment_escalation:
    when ticket_opened as t where t.topic == "payment"
    if count(ticket_opened where topic == "payment" within 30 days) > 3
    emit escalate(topic = t.topic)
    cooldown 30 days
"""
