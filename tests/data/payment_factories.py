"""Purchases and bookings for refund tests: real PaymentIntents on localstripe, known rows."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from data.payments import StripeGateway, to_minor_units


def _user(session: Session, role: str = "customer") -> tuple[uuid.UUID, str]:
    user_id = uuid.uuid4()
    email = f"{role.replace('_', '-')}-{user_id.hex[:10]}@example.com"
    session.execute(text(
        "INSERT INTO users (id, email, password_hash, full_name, role, email_verified_at) "
        "VALUES (:id, :email, 'x', :name, :role, now())"),
        {"id": user_id, "email": email, "name": f"Test {role.title()}", "role": role})
    return user_id, email


def insert_paid_purchase(
    session_factory: sessionmaker[Session],
    gateway: StripeGateway,
    amount: str | Decimal = "30.00",
    *,
    title: str = "Deep Work, Part 1",
    customer_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """A completed purchase paid through Stripe (a confirmed PaymentIntent), with the
    customer's ``purchased`` access to the content."""
    amount = Decimal(amount)
    intent = gateway.create_payment_intent(to_minor_units(amount, "usd"), "usd")
    purchase_id = uuid.uuid4()
    with session_factory.begin() as s:
        creator, _ = _user(s, "platform_creator")
        if customer_id is None:
            customer_id, _ = _user(s)
        content_id = uuid.uuid4()
        s.execute(text(
            "INSERT INTO content (id, creator_id, title, slug, content_type, price, status) "
            "VALUES (:id, :creator, :title, :slug, 'video', :price, 'published')"),
            {"id": content_id, "creator": creator, "title": title,
             "slug": f"c-{content_id.hex}", "price": amount})
        s.execute(text(
            "INSERT INTO purchases (id, customer_id, content_id, amount_paid, currency, "
            "stripe_payment_intent_id, creator_payout_amount, status, purchased_at) "
            "VALUES (:id, :customer, :content, :amount, 'usd', :pi, :payout, 'completed', "
            "now())"),
            {"id": purchase_id, "customer": customer_id, "content": content_id,
             "amount": amount, "pi": intent, "payout": amount * Decimal("0.8")})
        s.execute(text(
            "INSERT INTO content_access (user_id, content_id, access_type) "
            "VALUES (:u, :c, 'purchased')"), {"u": customer_id, "c": content_id})
    return purchase_id


def insert_booking(
    session_factory: sessionmaker[Session],
    gateway: StripeGateway | None,
    *,
    amount: str | Decimal | None = None,
    credits: int = 0,
    balance: int = 5,
    title: str = "Morning Breathwork",
) -> uuid.UUID:
    """A confirmed booking paid by card (``amount``, a real PaymentIntent) or with
    ``credits`` tokens (the customer keeps ``balance`` tokens after paying), with portal
    access."""
    booking_id = uuid.uuid4()
    intent = None
    if amount is not None:
        assert gateway is not None
        intent = gateway.create_payment_intent(to_minor_units(Decimal(amount), "usd"), "usd")
    with session_factory.begin() as s:
        creator, _ = _user(s, "platform_creator")
        customer, _ = _user(s)
        offering_id = uuid.uuid4()
        s.execute(text(
            "INSERT INTO offerings (id, creator_id, title, slug, offering_type, capacity_type, "
            "delivery_method, schedule, price, credit_cost, status, booking_count) "
            "VALUES (:id, :creator, :title, :slug, 'one_time_event', 'small_group', 'online', "
            "'{}'::jsonb, :price, :credits, 'published', 1)"),
            {"id": offering_id, "creator": creator, "title": title,
             "slug": f"o-{offering_id.hex}", "price": amount, "credits": credits or None})
        s.execute(text(
            "INSERT INTO offering_bookings (id, customer_id, offering_id, payment_method, "
            "amount_paid, credits_used, stripe_payment_intent_id, status) "
            "VALUES (:id, :customer, :offering, :method, :amount, :credits, :pi, 'confirmed')"),
            {"id": booking_id, "customer": customer, "offering": offering_id,
             "method": "purchase" if amount is not None else "credits",
             "amount": Decimal(amount) if amount is not None else 0, "credits": credits,
             "pi": intent})
        s.execute(text(
            "INSERT INTO offering_portal_access (booking_id, user_id, offering_id) "
            "VALUES (:b, :u, :o)"), {"b": booking_id, "u": customer, "o": offering_id})
        s.execute(text(
            "INSERT INTO credit_balances (customer_id, current_balance, lifetime_earned, "
            "lifetime_spent) VALUES (:u, :bal, :earned, :spent)"),
            {"u": customer, "bal": balance, "earned": balance + credits, "spent": credits})
    return booking_id
