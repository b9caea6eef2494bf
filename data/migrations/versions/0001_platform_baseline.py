"""platform baseline: the platform's tables as seed 004 and seed 002 §4 describe them.

On an empty database this creates them. On the platform's own database, created from its
own DDL, every table already exists and nothing is created or rewritten; only missing
indexes of the seed are added. Downgrading never drops the platform's tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 10:57:26.397577
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _create_table_if_missing(name: str, *elements, **kw) -> None:
    """Create a platform table only where the platform has not created it already."""
    if not sa.inspect(op.get_bind()).has_table(name, schema=kw.get("schema")):
        op.create_table(name, *elements, **kw)


def upgrade() -> None:
    _create_table_if_missing('platform_settings',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('platform_name', sa.String(length=255), server_default=sa.text("'My Platform'"), nullable=False),
    sa.Column('logo_url', sa.Text(), nullable=True),
    sa.Column('primary_color', sa.String(length=7), server_default=sa.text("'#3b82f6'"), nullable=False),
    sa.Column('hero_title', sa.String(length=500), nullable=True),
    sa.Column('hero_subtitle', sa.Text(), nullable=True),
    sa.Column('hero_background_url', sa.Text(), nullable=True),
    sa.Column('hero_cta_text', sa.String(length=100), nullable=True),
    sa.Column('hero_cta_link', sa.String(length=500), nullable=True),
    sa.Column('featured_content_ids', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=True),
    sa.Column('contact_email', sa.String(length=255), nullable=True),
    sa.Column('social_links', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=True),
    sa.Column('about_content', sa.Text(), nullable=True),
    sa.Column('stripe_account_id', sa.String(length=255), nullable=True),
    sa.Column('email_from_name', sa.String(length=255), nullable=True),
    sa.Column('timezone', sa.String(length=50), server_default=sa.text("'UTC'"), nullable=True),
    sa.Column('updated_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('platform_settings_pkey'))
    )
    _create_table_if_missing('referral_rewards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('type', sa.Text(), nullable=False),
    sa.Column('value', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('required_referrals', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('referral_rewards_pkey'))
    )
    _create_table_if_missing('subscription_tiers',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('price_monthly', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('price_yearly', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('category_access', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=True),
    sa.Column('full_catalog_access', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('offering_access_rules', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=True),
    sa.Column('monthly_credits', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('credit_rollover', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('created_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('subscription_tiers_pkey'))
    )
    op.create_index('idx_subscription_tiers_active', 'subscription_tiers', ['active'], unique=False, if_not_exists=True)
    _create_table_if_missing('users',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('full_name', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=50), nullable=False),
    sa.Column('profile_image_url', sa.Text(), nullable=True),
    sa.Column('bio', sa.Text(), nullable=True),
    sa.Column('email_verified_at', postgresql.TIMESTAMP(), nullable=True),
    sa.Column('email_verification_token', sa.String(length=255), nullable=True),
    sa.Column('email_verification_expires_at', postgresql.TIMESTAMP(), nullable=True),
    sa.Column('password_reset_token', sa.String(length=255), nullable=True),
    sa.Column('password_reset_expires_at', postgresql.TIMESTAMP(), nullable=True),
    sa.Column('stripe_customer_id', sa.String(length=255), nullable=True),
    sa.Column('stripe_connect_account_id', sa.String(length=255), nullable=True),
    sa.Column('created_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', postgresql.TIMESTAMP(), nullable=True),
    sa.Column('referral_count', sa.Integer(), server_default=sa.text('0'), nullable=True),
    sa.Column('was_referred', sa.Boolean(), server_default=sa.text('false'), nullable=True),
    sa.Column('referred_by', sa.UUID(), nullable=True),
    sa.CheckConstraint("role IN ('platform_creator', 'platform_owner', 'media_owner', 'customer')", name=op.f('users_role_check')),
    sa.ForeignKeyConstraint(['referred_by'], ['users.id'], name=op.f('users_referred_by_fkey')),
    sa.PrimaryKeyConstraint('id', name=op.f('users_pkey')),
    sa.UniqueConstraint('email', name=op.f('users_email_key'))
    )
    op.create_index('idx_users_deleted_at', 'users', ['deleted_at'], unique=False, if_not_exists=True)
    op.create_index('idx_users_email', 'users', ['email'], unique=False, if_not_exists=True)
    op.create_index('idx_users_role', 'users', ['role'], unique=False, if_not_exists=True)
    _create_table_if_missing('content_series',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('creator_id', sa.UUID(), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('slug', sa.String(length=500), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('thumbnail_url', sa.Text(), nullable=True),
    sa.Column('price', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('content_order', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=True),
    sa.Column('status', sa.String(length=50), server_default=sa.text("'draft'"), nullable=False),
    sa.Column('published_at', postgresql.TIMESTAMP(), nullable=True),
    sa.Column('created_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', postgresql.TIMESTAMP(), nullable=True),
    sa.ForeignKeyConstraint(['creator_id'], ['users.id'], name=op.f('content_series_creator_id_fkey')),
    sa.PrimaryKeyConstraint('id', name=op.f('content_series_pkey')),
    sa.UniqueConstraint('slug', name=op.f('content_series_slug_key'))
    )
    op.create_index('idx_series_creator_id', 'content_series', ['creator_id'], unique=False, if_not_exists=True)
    op.create_index('idx_series_slug', 'content_series', ['slug'], unique=False, if_not_exists=True)
    _create_table_if_missing('credit_balances',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('customer_id', sa.UUID(), nullable=False),
    sa.Column('current_balance', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('lifetime_earned', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('lifetime_spent', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('updated_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['users.id'], name=op.f('credit_balances_customer_id_fkey')),
    sa.PrimaryKeyConstraint('id', name=op.f('credit_balances_pkey')),
    sa.UniqueConstraint('customer_id', name=op.f('credit_balances_customer_id_key'))
    )
    op.create_index('idx_credit_balances_customer_id', 'credit_balances', ['customer_id'], unique=False, if_not_exists=True)
    _create_table_if_missing('email_logs',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('recipient_email', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=True),
    sa.Column('email_type', sa.String(length=100), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=50), server_default=sa.text("'pending'"), nullable=False),
    sa.Column('provider', sa.String(length=50), nullable=True),
    sa.Column('provider_message_id', sa.String(length=255), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('sent_at', postgresql.TIMESTAMP(), nullable=True),
    sa.Column('delivered_at', postgresql.TIMESTAMP(), nullable=True),
    sa.Column('created_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'sent', 'delivered', 'bounced', 'failed')", name=op.f('email_logs_status_check')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('email_logs_user_id_fkey')),
    sa.PrimaryKeyConstraint('id', name=op.f('email_logs_pkey'))
    )
    op.create_index('idx_email_logs_created_at', 'email_logs', ['created_at'], unique=False, if_not_exists=True)
    op.create_index('idx_email_logs_email_type', 'email_logs', ['email_type'], unique=False, if_not_exists=True)
    op.create_index('idx_email_logs_status', 'email_logs', ['status'], unique=False, if_not_exists=True)
    op.create_index('idx_email_logs_user_id', 'email_logs', ['user_id'], unique=False, if_not_exists=True)
    _create_table_if_missing('events',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=True),
    sa.Column('session_id', sa.String(length=255), nullable=True),
    sa.Column('event_type', sa.String(length=100), nullable=False),
    sa.Column('event_data', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=True),
    sa.Column('ip_address', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.Text(), nullable=True),
    sa.Column('referrer', sa.Text(), nullable=True),
    sa.Column('created_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('events_user_id_fkey')),
    sa.PrimaryKeyConstraint('id', name=op.f('events_pkey'))
    )
    op.create_index('idx_events_created_at', 'events', ['created_at'], unique=False, if_not_exists=True)
    op.create_index('idx_events_type', 'events', ['event_type'], unique=False, if_not_exists=True)
    op.create_index('idx_events_user_id', 'events', ['user_id'], unique=False, if_not_exists=True)
    _create_table_if_missing('notifications',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('action_url', sa.Text(), nullable=True),
    sa.Column('action_label', sa.String(length=100), nullable=True),
    sa.Column('read_at', postgresql.TIMESTAMP(), nullable=True),
    sa.Column('created_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('notifications_user_id_fkey')),
    sa.PrimaryKeyConstraint('id', name=op.f('notifications_pkey'))
    )
    op.create_index('idx_notifications_created_at', 'notifications', ['created_at'], unique=False, if_not_exists=True)
    op.create_index('idx_notifications_read_at', 'notifications', ['read_at'], unique=False, if_not_exists=True)
    op.create_index('idx_notifications_user_id', 'notifications', ['user_id'], unique=False, if_not_exists=True)
    _create_table_if_missing('offerings',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('creator_id', sa.UUID(), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('slug', sa.String(length=500), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('offering_type', sa.String(length=50), nullable=False),
    sa.Column('capacity_type', sa.String(length=50), nullable=False),
    sa.Column('max_participants', sa.Integer(), nullable=True),
    sa.Column('delivery_method', sa.String(length=50), nullable=False),
    sa.Column('location_details', sa.Text(), nullable=True),
    sa.Column('video_conference_provider', sa.String(length=50), nullable=True),
    sa.Column('schedule', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('price', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('credit_cost', sa.Integer(), nullable=True),
    sa.Column('payment_options', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=True),
    sa.Column('status', sa.String(length=50), server_default=sa.text("'draft'"), nullable=False),
    sa.Column('published_at', postgresql.TIMESTAMP(), nullable=True),
    sa.Column('registration_deadline', postgresql.TIMESTAMP(), nullable=True),
    sa.Column('portal_config', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=True),
    sa.Column('booking_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('created_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', postgresql.TIMESTAMP(), nullable=True),
    sa.CheckConstraint("capacity_type IN ('one_on_one', 'small_group', 'large_group', 'unlimited')", name=op.f('offerings_capacity_type_check')),
    sa.CheckConstraint("delivery_method IN ('online', 'in_person', 'hybrid', 'self_guided')", name=op.f('offerings_delivery_method_check')),
    sa.CheckConstraint("offering_type IN ('one_time_event', 'multi_day_program', 'recurring_fixed', 'recurring_bookable', 'cohort_course', 'retreat')", name=op.f('offerings_offering_type_check')),
    sa.ForeignKeyConstraint(['creator_id'], ['users.id'], name=op.f('offerings_creator_id_fkey')),
    sa.PrimaryKeyConstraint('id', name=op.f('offerings_pkey')),
    sa.UniqueConstraint('slug', name=op.f('offerings_slug_key'))
    )
    op.create_index('idx_offerings_creator_id', 'offerings', ['creator_id'], unique=False, if_not_exists=True)
    op.create_index('idx_offerings_slug', 'offerings', ['slug'], unique=False, if_not_exists=True)
    op.create_index('idx_offerings_status', 'offerings', ['status'], unique=False, if_not_exists=True)
    op.create_index('idx_offerings_type', 'offerings', ['offering_type'], unique=False, if_not_exists=True)
    _create_table_if_missing('referral_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('created_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', postgresql.TIMESTAMP(), nullable=True),
    sa.Column('is_active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('referral_codes_user_id_fkey')),
    sa.PrimaryKeyConstraint('id', name=op.f('referral_codes_pkey')),
    sa.UniqueConstraint('code', name=op.f('referral_codes_code_key')),
    sa.UniqueConstraint('user_id', name=op.f('referral_codes_user_id_key'))
    )
    _create_table_if_missing('subscriptions',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('customer_id', sa.UUID(), nullable=False),
    sa.Column('tier_id', sa.UUID(), nullable=False),
    sa.Column('stripe_subscription_id', sa.String(length=255), nullable=False),
    sa.Column('billing_period', sa.String(length=20), nullable=False),
    sa.Column('current_period_start', postgresql.TIMESTAMP(), nullable=False),
    sa.Column('current_period_end', postgresql.TIMESTAMP(), nullable=False),
    sa.Column('status', sa.String(length=50), nullable=False),
    sa.Column('cancel_at_period_end', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('trial_end', postgresql.TIMESTAMP(), nullable=True),
    sa.Column('created_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.Column('canceled_at', postgresql.TIMESTAMP(), nullable=True),
    sa.CheckConstraint("billing_period IN ('monthly', 'yearly')", name=op.f('subscriptions_billing_period_check')),
    sa.CheckConstraint("status IN ('active', 'past_due', 'canceled', 'trialing')", name=op.f('subscriptions_status_check')),
    sa.ForeignKeyConstraint(['customer_id'], ['users.id'], name=op.f('subscriptions_customer_id_fkey')),
    sa.ForeignKeyConstraint(['tier_id'], ['subscription_tiers.id'], name=op.f('subscriptions_tier_id_fkey')),
    sa.PrimaryKeyConstraint('id', name=op.f('subscriptions_pkey')),
    sa.UniqueConstraint('stripe_subscription_id', name=op.f('subscriptions_stripe_subscription_id_key'))
    )
    op.create_index('idx_subscriptions_customer_id', 'subscriptions', ['customer_id'], unique=False, if_not_exists=True)
    op.create_index('idx_subscriptions_status', 'subscriptions', ['status'], unique=False, if_not_exists=True)
    op.create_index('idx_subscriptions_stripe_subscription_id', 'subscriptions', ['stripe_subscription_id'], unique=False, if_not_exists=True)
    _create_table_if_missing('user_referral_rewards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('reward_id', sa.Integer(), nullable=False),
    sa.Column('claimed_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.Column('applied_at', postgresql.TIMESTAMP(), nullable=True),
    sa.Column('expires_at', postgresql.TIMESTAMP(), nullable=True),
    sa.ForeignKeyConstraint(['reward_id'], ['referral_rewards.id'], name=op.f('user_referral_rewards_reward_id_fkey')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('user_referral_rewards_user_id_fkey')),
    sa.PrimaryKeyConstraint('id', name=op.f('user_referral_rewards_pkey'))
    )
    _create_table_if_missing('content',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('creator_id', sa.UUID(), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('slug', sa.String(length=500), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('content_type', sa.String(length=50), nullable=False),
    sa.Column('media_url', sa.Text(), nullable=True),
    sa.Column('media_duration_seconds', sa.Integer(), nullable=True),
    sa.Column('thumbnail_url', sa.Text(), nullable=True),
    sa.Column('content_body', sa.Text(), nullable=True),
    sa.Column('category', sa.String(length=100), nullable=True),
    sa.Column('tags', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=True),
    sa.Column('series_id', sa.UUID(), nullable=True),
    sa.Column('visibility', sa.String(length=50), server_default=sa.text("'purchased_only'"), nullable=False),
    sa.Column('price', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('status', sa.String(length=50), server_default=sa.text("'draft'"), nullable=False),
    sa.Column('published_at', postgresql.TIMESTAMP(), nullable=True),
    sa.Column('view_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('purchase_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('prerequisite_content_ids', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=True),
    sa.Column('created_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', postgresql.TIMESTAMP(), nullable=True),
    sa.CheckConstraint("content_type IN ('video', 'audio', 'written')", name=op.f('content_content_type_check')),
    sa.CheckConstraint("status IN ('draft', 'published', 'archived')", name=op.f('content_status_check')),
    sa.CheckConstraint("visibility IN ('public', 'private', 'members_only', 'purchased_only')", name=op.f('content_visibility_check')),
    sa.ForeignKeyConstraint(['creator_id'], ['users.id'], name=op.f('content_creator_id_fkey')),
    sa.ForeignKeyConstraint(['series_id'], ['content_series.id'], name=op.f('content_series_id_fkey')),
    sa.PrimaryKeyConstraint('id', name=op.f('content_pkey')),
    sa.UniqueConstraint('slug', name=op.f('content_slug_key'))
    )
    op.create_index('idx_content_category', 'content', ['category'], unique=False, if_not_exists=True)
    op.create_index('idx_content_creator_id', 'content', ['creator_id'], unique=False, if_not_exists=True)
    op.create_index('idx_content_published_at', 'content', ['published_at'], unique=False, if_not_exists=True)
    op.create_index('idx_content_series_id', 'content', ['series_id'], unique=False, if_not_exists=True)
    op.create_index('idx_content_slug', 'content', ['slug'], unique=False, if_not_exists=True)
    op.create_index('idx_content_status', 'content', ['status'], unique=False, if_not_exists=True)
    _create_table_if_missing('offering_bookings',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('customer_id', sa.UUID(), nullable=False),
    sa.Column('offering_id', sa.UUID(), nullable=False),
    sa.Column('payment_method', sa.String(length=50), nullable=False),
    sa.Column('amount_paid', sa.Numeric(precision=10, scale=2), server_default=sa.text('0'), nullable=True),
    sa.Column('credits_used', sa.Integer(), server_default=sa.text('0'), nullable=True),
    sa.Column('stripe_payment_intent_id', sa.String(length=255), nullable=True),
    sa.Column('booking_details', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=True),
    sa.Column('status', sa.String(length=50), server_default=sa.text("'confirmed'"), nullable=False),
    sa.Column('canceled_at', postgresql.TIMESTAMP(), nullable=True),
    sa.Column('cancellation_reason', sa.Text(), nullable=True),
    sa.Column('created_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("payment_method IN ('purchase', 'subscription', 'credits')", name=op.f('offering_bookings_payment_method_check')),
    sa.CheckConstraint("status IN ('confirmed', 'canceled', 'completed', 'no_show')", name=op.f('offering_bookings_status_check')),
    sa.ForeignKeyConstraint(['customer_id'], ['users.id'], name=op.f('offering_bookings_customer_id_fkey')),
    sa.ForeignKeyConstraint(['offering_id'], ['offerings.id'], name=op.f('offering_bookings_offering_id_fkey')),
    sa.PrimaryKeyConstraint('id', name=op.f('offering_bookings_pkey'))
    )
    op.create_index('idx_offering_bookings_customer_id', 'offering_bookings', ['customer_id'], unique=False, if_not_exists=True)
    op.create_index('idx_offering_bookings_offering_id', 'offering_bookings', ['offering_id'], unique=False, if_not_exists=True)
    op.create_index('idx_offering_bookings_status', 'offering_bookings', ['status'], unique=False, if_not_exists=True)
    _create_table_if_missing('referrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referrer_id', sa.UUID(), nullable=False),
    sa.Column('referred_id', sa.UUID(), nullable=False),
    sa.Column('referral_code', sa.Text(), nullable=False),
    sa.Column('referred_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.Column('status', sa.Text(), server_default=sa.text("'pending'"), nullable=False),
    sa.Column('reward_claimed', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('reward_claimed_at', postgresql.TIMESTAMP(), nullable=True),
    sa.ForeignKeyConstraint(['referral_code'], ['referral_codes.code'], name=op.f('referrals_referral_code_fkey')),
    sa.ForeignKeyConstraint(['referred_id'], ['users.id'], name=op.f('referrals_referred_id_fkey')),
    sa.ForeignKeyConstraint(['referrer_id'], ['users.id'], name=op.f('referrals_referrer_id_fkey')),
    sa.PrimaryKeyConstraint('id', name=op.f('referrals_pkey')),
    sa.UniqueConstraint('referred_id', name=op.f('referrals_referred_id_key'))
    )
    _create_table_if_missing('content_access',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('content_id', sa.UUID(), nullable=False),
    sa.Column('access_type', sa.String(length=50), nullable=False),
    sa.Column('granted_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', postgresql.TIMESTAMP(), nullable=True),
    sa.Column('last_accessed_at', postgresql.TIMESTAMP(), nullable=True),
    sa.Column('created_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("access_type IN ('purchased', 'subscription', 'complimentary', 'preview')", name=op.f('content_access_access_type_check')),
    sa.ForeignKeyConstraint(['content_id'], ['content.id'], name=op.f('content_access_content_id_fkey')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('content_access_user_id_fkey')),
    sa.PrimaryKeyConstraint('id', name=op.f('content_access_pkey')),
    sa.UniqueConstraint('user_id', 'content_id', name=op.f('content_access_user_id_content_id_key'))
    )
    op.create_index('idx_content_access_content_id', 'content_access', ['content_id'], unique=False, if_not_exists=True)
    op.create_index('idx_content_access_expires_at', 'content_access', ['expires_at'], unique=False, if_not_exists=True)
    op.create_index('idx_content_access_user_id', 'content_access', ['user_id'], unique=False, if_not_exists=True)
    _create_table_if_missing('credit_transactions',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('customer_id', sa.UUID(), nullable=False),
    sa.Column('type', sa.String(length=50), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('balance_after', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.UUID(), nullable=True),
    sa.Column('offering_booking_id', sa.UUID(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('expires_at', postgresql.TIMESTAMP(), nullable=True),
    sa.Column('created_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("type IN ('earned_subscription', 'earned_purchase', 'spent_offering', 'expired', 'adjustment')", name=op.f('credit_transactions_type_check')),
    sa.ForeignKeyConstraint(['customer_id'], ['users.id'], name=op.f('credit_transactions_customer_id_fkey')),
    sa.ForeignKeyConstraint(['offering_booking_id'], ['offering_bookings.id'], name=op.f('credit_transactions_offering_booking_id_fkey')),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'], name=op.f('credit_transactions_subscription_id_fkey')),
    sa.PrimaryKeyConstraint('id', name=op.f('credit_transactions_pkey'))
    )
    op.create_index('idx_credit_transactions_created_at', 'credit_transactions', ['created_at'], unique=False, if_not_exists=True)
    op.create_index('idx_credit_transactions_customer_id', 'credit_transactions', ['customer_id'], unique=False, if_not_exists=True)
    _create_table_if_missing('offering_portal_access',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('booking_id', sa.UUID(), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('offering_id', sa.UUID(), nullable=False),
    sa.Column('granted_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', postgresql.TIMESTAMP(), nullable=True),
    sa.Column('last_accessed_at', postgresql.TIMESTAMP(), nullable=True),
    sa.Column('created_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['offering_bookings.id'], name=op.f('offering_portal_access_booking_id_fkey')),
    sa.ForeignKeyConstraint(['offering_id'], ['offerings.id'], name=op.f('offering_portal_access_offering_id_fkey')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('offering_portal_access_user_id_fkey')),
    sa.PrimaryKeyConstraint('id', name=op.f('offering_portal_access_pkey')),
    sa.UniqueConstraint('booking_id', name=op.f('offering_portal_access_booking_id_key'))
    )
    op.create_index('idx_offering_portal_access_offering_id', 'offering_portal_access', ['offering_id'], unique=False, if_not_exists=True)
    op.create_index('idx_offering_portal_access_user_id', 'offering_portal_access', ['user_id'], unique=False, if_not_exists=True)
    _create_table_if_missing('offering_resources',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('offering_id', sa.UUID(), nullable=False),
    sa.Column('resource_type', sa.String(length=50), nullable=False),
    sa.Column('content_id', sa.UUID(), nullable=True),
    sa.Column('file_url', sa.Text(), nullable=True),
    sa.Column('link_url', sa.Text(), nullable=True),
    sa.Column('text_content', sa.Text(), nullable=True),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('available_when', sa.String(length=50), server_default=sa.text("'during'"), nullable=False),
    sa.Column('unlock_at', postgresql.TIMESTAMP(), nullable=True),
    sa.Column('display_order', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('created_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("available_when IN ('before', 'during', 'after', 'always')", name=op.f('offering_resources_available_when_check')),
    sa.CheckConstraint("resource_type IN ('content', 'file', 'link', 'text')", name=op.f('offering_resources_resource_type_check')),
    sa.ForeignKeyConstraint(['content_id'], ['content.id'], name=op.f('offering_resources_content_id_fkey')),
    sa.ForeignKeyConstraint(['offering_id'], ['offerings.id'], name=op.f('offering_resources_offering_id_fkey')),
    sa.PrimaryKeyConstraint('id', name=op.f('offering_resources_pkey'))
    )
    op.create_index('idx_offering_resources_display_order', 'offering_resources', ['display_order'], unique=False, if_not_exists=True)
    op.create_index('idx_offering_resources_offering_id', 'offering_resources', ['offering_id'], unique=False, if_not_exists=True)
    _create_table_if_missing('purchases',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('customer_id', sa.UUID(), nullable=False),
    sa.Column('content_id', sa.UUID(), nullable=False),
    sa.Column('amount_paid', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), server_default=sa.text("'usd'"), nullable=False),
    sa.Column('stripe_payment_intent_id', sa.String(length=255), nullable=False),
    sa.Column('platform_fee_amount', sa.Numeric(precision=10, scale=2), server_default=sa.text('0'), nullable=False),
    sa.Column('creator_payout_amount', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('status', sa.String(length=50), server_default=sa.text("'pending'"), nullable=False),
    sa.Column('purchased_at', postgresql.TIMESTAMP(), nullable=True),
    sa.Column('refunded_at', postgresql.TIMESTAMP(), nullable=True),
    sa.Column('refund_reason', sa.Text(), nullable=True),
    sa.Column('created_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'completed', 'refunded', 'failed')", name=op.f('purchases_status_check')),
    sa.ForeignKeyConstraint(['content_id'], ['content.id'], name=op.f('purchases_content_id_fkey')),
    sa.ForeignKeyConstraint(['customer_id'], ['users.id'], name=op.f('purchases_customer_id_fkey')),
    sa.PrimaryKeyConstraint('id', name=op.f('purchases_pkey')),
    sa.UniqueConstraint('customer_id', 'content_id', 'status', name=op.f('purchases_customer_id_content_id_status_key')),
    sa.UniqueConstraint('stripe_payment_intent_id', name=op.f('purchases_stripe_payment_intent_id_key'))
    )
    op.create_index('idx_purchases_content_id', 'purchases', ['content_id'], unique=False, if_not_exists=True)
    op.create_index('idx_purchases_created_at', 'purchases', ['created_at'], unique=False, if_not_exists=True)
    op.create_index('idx_purchases_customer_id', 'purchases', ['customer_id'], unique=False, if_not_exists=True)
    op.create_index('idx_purchases_status', 'purchases', ['status'], unique=False, if_not_exists=True)
    op.create_index('idx_purchases_stripe_payment_intent_id', 'purchases', ['stripe_payment_intent_id'], unique=False, if_not_exists=True)
    _create_table_if_missing('video_playback',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('content_id', sa.UUID(), nullable=False),
    sa.Column('position_seconds', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('duration_seconds', sa.Integer(), nullable=False),
    sa.Column('completed', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('updated_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_at', postgresql.TIMESTAMP(), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['content_id'], ['content.id'], name=op.f('video_playback_content_id_fkey')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('video_playback_user_id_fkey')),
    sa.PrimaryKeyConstraint('id', name=op.f('video_playback_pkey')),
    sa.UniqueConstraint('user_id', 'content_id', name=op.f('video_playback_user_id_content_id_key'))
    )
    op.create_index('idx_video_playback_content_id', 'video_playback', ['content_id'], unique=False, if_not_exists=True)
    op.create_index('idx_video_playback_user_id', 'video_playback', ['user_id'], unique=False, if_not_exists=True)


def downgrade() -> None:
    # The platform owns these tables and their rows: the app never drops them.
    raise NotImplementedError("The platform's tables are never dropped by Platform Admin.")
